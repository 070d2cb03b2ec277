"""PostgreSQL down while clipboards arrive: the API keeps answering 200, the worker keeps retrying,
and every clipboard is persisted once PostgreSQL is back.

The test runs a PostgreSQL of its own (tests/support/private_postgres.py) so it can stop it; the
models are bound to that server for the test and rebound to the shared test database after it.
"""
import contextlib
import uuid
from urllib.parse import urlencode

import pytest
import redis as redis_module
from falcon import testing

from api.app import create_app
from core import settings as settings_module
from models import ClipboardState, database
from models.db import bind
from tests.integration.conftest import ALBUM, OTHER_ALBUM, persisted, queue_drained, stored_images
from tests.support.factories import Tenant, auth
from tests.support.waiting import wait_for

TIMEOUT = 90  # seconds; generous for a loaded machine, and only reached on failure
RETRY_LOGGED = "transient database error, retrying"


@contextlib.contextmanager
def models_bound_to(url, restore_url):
    bind(url)
    try:
        yield
    finally:
        database.close()
        bind(restore_url)


@pytest.fixture
def api_client(private_postgres, redis_url):
    settings = settings_module.load({
        "DATABASE_URL": private_postgres.url,
        "REDIS_URL": redis_url,
        "CLIPBOARD_ENV": "test",
        "SECRET_CACHE_SECONDS": "3600",  # the token's secret stays known while PostgreSQL is down
    })
    client = redis_module.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    yield testing.TestClient(create_app(settings, client))
    client.close()


def post_clipboard(client, token, image_ids):
    clipboard_id = str(uuid.uuid4())
    body = urlencode([("id", clipboard_id)] + [("image_ids[]", str(image_id)) for image_id in image_ids])
    response = client.simulate_post(
        "/api/v1/clipboards",
        headers={**auth(token), "Content-Type": "application/x-www-form-urlencoded"},
        body=body,
    )
    assert response.status_code == 200, response.text
    assert response.json["id"] == clipboard_id
    return clipboard_id


def test_clipboards_accepted_during_an_outage_are_persisted_when_postgres_returns(
    database_url, redis_client, private_postgres, api_client, start_worker
):
    with models_bound_to(private_postgres.url, database_url):
        tenant = Tenant("acme")
        first, second = tenant.image(ALBUM), tenant.image(ALBUM)
        not_granted = tenant.image(OTHER_ALBUM)
        token = tenant.token({ALBUM: ["image_copy"]})
        requested = [second.id, not_granted.id, first.id]
        worker = start_worker(DATABASE_URL=private_postgres.url)

        # While PostgreSQL is up: the API learns the token's secret, the worker persists.
        before = post_clipboard(api_client, token, requested)
        wait_for(lambda: persisted(before, 1), TIMEOUT, message="the clipboard posted before the outage")
        database.close()

        private_postgres.stop(mode="fast")
        during = [post_clipboard(api_client, token, requested) for _ in range(4)]
        wait_for(lambda: worker.log().count(RETRY_LOGGED) >= 3, TIMEOUT, message="the worker retrying")
        # Nothing was acknowledged: one message is held by the retrying worker, the rest wait.
        assert redis_client.llen("clipboards") + redis_client.hlen("unacked") == len(during)
        assert worker.process.poll() is None

        private_postgres.start()
        for clipboard_id in during:
            row = wait_for(lambda: persisted(clipboard_id, 1), TIMEOUT, message=f"clipboard {clipboard_id}")
            assert row.state == ClipboardState.READY
            assert stored_images(clipboard_id) == [str(second.id), str(first.id)]
            assert row.rejected_images == [{"id": str(not_granted.id), "reason": "forbidden"}]
        wait_for(lambda: queue_drained(redis_client), TIMEOUT, message="every message acknowledged")
        assert worker.log().count("outcome=applied") == 1 + len(during)
