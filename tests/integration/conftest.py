"""Fixtures for tests that run the real worker process against real Redis and PostgreSQL."""
import time
import uuid

import pytest

from api.clipboard_ledger import ClipboardLedger
from models import Clipboard, ClipboardImage
from tests.support.factories import Tenant
from tests.support.private_postgres import PrivatePostgres

ALBUM = "00100000123BB236"  # the seed's album
OTHER_ALBUM = "00100000123BB999"


@pytest.fixture
def ledger(redis_client):
    return ClipboardLedger(redis_client)


@pytest.fixture
def tenant(db):
    return Tenant("acme")


@pytest.fixture
def private_postgres(tmp_path):
    """A migrated PostgreSQL of this test's own, which the test may stop and start; always removed."""
    server = PrivatePostgres(tmp_path / "postgres")
    try:
        server.init()
        server.start()
        server.migrate()
        yield server
    finally:
        server.destroy()


def enqueue(ledger, tenant, image_ids, clipboard_id=None, albums=(ALBUM,), user_id=None):
    """Claim a revision and queue its store exactly as the API does; return (clipboard_id, Claim)."""
    clipboard_id = clipboard_id or str(uuid.uuid4())
    claim = ledger.store(
        clipboard_id, tenant.id, user_id, [str(image_id) for image_id in image_ids], list(albums),
        int(time.time() * 1000), f"req-{uuid.uuid4().hex[:8]}",
    )
    assert claim is not None
    return clipboard_id, claim


def persisted(clipboard_id, revision):
    """The clipboard row once `revision` (or a newer one) is in PostgreSQL, else None."""
    row = Clipboard.get_or_none(Clipboard.id == clipboard_id)
    return row if row is not None and row.revision >= revision else None


def stored_images(clipboard_id):
    query = (
        ClipboardImage.select(ClipboardImage.image_id, ClipboardImage.position)
        .where(ClipboardImage.clipboard == clipboard_id)
        .order_by(ClipboardImage.position)
    )
    rows = list(query.tuples())
    assert [position for _, position in rows] == list(range(len(rows)))
    return [str(image_id) for image_id, _ in rows]


def queue_drained(redis_client):
    """True once no message waits in the queue and none is delivered but unacknowledged."""
    return (
        redis_client.llen("clipboards") == 0
        and redis_client.hlen("unacked") == 0
        and redis_client.hlen("clipboards.inflight") == 0
    )
