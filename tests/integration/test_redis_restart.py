"""What the API answered 200 to survives a Redis crash, with the persistence the docs prescribe."""
import redis as redis_module
from falcon import testing

from api.app import create_app
from core import settings as settings_module
from models import Clipboard, ClipboardState
from tests.integration.conftest import ALBUM, persisted, stored_images
from tests.support.factories import auth
from tests.support.waiting import wait_for

TIMEOUT = 90


def test_queued_clipboards_and_their_claims_survive_a_redis_crash(db, database_url, private_redis, tenant,
                                                                  start_worker):
    settings = settings_module.load({"DATABASE_URL": database_url, "REDIS_URL": private_redis.url,
                                     "CLIPBOARD_ENV": "test"})
    client = testing.TestClient(create_app(settings, redis_module.Redis.from_url(private_redis.url)))
    headers = auth(tenant.token({ALBUM: ["image_copy"]}))
    image = tenant.image(ALBUM)
    answered = [
        client.simulate_post("/api/v1/clipboards", headers=headers, json={"image_ids": [str(image.id)]}).json
        for _ in range(5)
    ]
    first = answered[0]

    private_redis.kill()  # no worker ran: everything answered is only in Redis
    private_redis.start()

    again = client.simulate_post("/api/v1/clipboards", headers=headers, json={"id": first["id"], "image_ids": []})
    assert again.status_code == 200
    assert again.json["created_at"] == first["created_at"]  # the claim survived: same clipboard

    start_worker(REDIS_URL=private_redis.url)
    for document in answered[1:]:
        row = wait_for(lambda: persisted(document["id"], 1), TIMEOUT, message=f"clipboard {document['id']}")
        assert row.state == ClipboardState.READY
        assert stored_images(document["id"]) == [str(image.id)]
    row = wait_for(lambda: persisted(first["id"], 2), TIMEOUT, message="the second revision of the first")
    assert (row.revision, stored_images(first["id"])) == (2, [])
    assert Clipboard.select().count() == 5
