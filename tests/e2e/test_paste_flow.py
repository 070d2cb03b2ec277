"""Paste end to end: API → Redis → real Celery worker → PostgreSQL → API."""
import json

import pytest

from core import messages
from models import Image, Job
from tests.support.factories import auth
from tests.support.waiting import wait_for

SOURCE, TARGET, PRIVATE = "00100000123BB236", "00100000999ZZ999", "private-album"


@pytest.fixture
def headers(tenant):
    return auth(tenant.token({SOURCE: ["image_copy"], TARGET: ["paste", "image_list"]}))


@pytest.fixture
def images(tenant):
    return [tenant.image(SOURCE, filename=f"{n}.png", width=10 + n, metadata={"n": n}) for n in range(3)]


def copy_to_clipboard(client, headers, image_ids):
    response = client.simulate_post("/api/v1/clipboards", headers=headers, json={"image_ids": image_ids})
    assert response.status_code == 200
    return response.json["id"]


def paste(client, headers, clipboard_id, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    response = client.simulate_post(
        f"/api/v1/clipboards/{clipboard_id}/paste", headers={**headers, **extra}, json={"album_id": TARGET}
    )
    assert response.status_code == 202, response.text
    return response.json


def finished(client, headers, job_id, wait=20):
    response = client.simulate_get(f"/api/v1/jobs/{job_id}", headers=headers, query_string=f"wait={wait}")
    assert response.status_code == 200
    return response.json


def test_paste_copies_the_clipboard_into_the_album_with_provenance(client, headers, images, tenant, start_worker):
    start_worker(concurrency=2)
    other = tenant.image(PRIVATE)
    clipboard_id = copy_to_clipboard(client, headers, [str(images[2].id), str(other.id), str(images[0].id)])
    job = finished(client, headers, paste(client, headers, clipboard_id)["id"])
    assert job["state"] == "succeeded", job
    assert job["started_at"] and job["finished_at"] and job["error"] is None
    pasted = job["result"]
    assert [image["source_image_id"] for image in pasted] == [str(images[2].id), str(images[0].id)]
    for copy, source in zip(pasted, (images[2], images[0])):
        assert copy["album_id"] == TARGET and copy["tags"] == [TARGET]
        assert copy["id"] != str(source.id)
        assert (copy["filename"], copy["width"], copy["metadatas"]) == (source.filename, source.width, source.metadata)
    listing = client.simulate_get(f"/api/v1/albums/{TARGET}/images", headers=headers).json["images"]
    assert sorted(image["id"] for image in listing) == sorted(image["id"] for image in pasted)


def test_same_idempotency_key_pastes_once(client, headers, images, start_worker):
    start_worker()
    clipboard_id = copy_to_clipboard(client, headers, [str(images[0].id)])
    first = paste(client, headers, clipboard_id, key="once")
    second = paste(client, headers, clipboard_id, key="once")
    assert first["id"] == second["id"]
    assert finished(client, headers, first["id"])["state"] == "succeeded"
    assert paste(client, headers, clipboard_id, key="once")["state"] == "succeeded"
    assert Image.select().where(Image.album_id == TARGET).count() == 1


def test_redelivered_paste_message_creates_no_second_copy(client, headers, images, redis_client, start_worker):
    clipboard_id = copy_to_clipboard(client, headers, [str(image.id) for image in images])
    job = paste(client, headers, clipboard_id)
    raw_paste = redis_client.lindex(messages.QUEUE, 0)
    redis_client.lpush(messages.QUEUE, raw_paste)  # the broker hands the same message out twice
    worker = start_worker()
    assert finished(client, headers, job["id"])["state"] == "succeeded"
    wait_for(lambda: redis_client.llen(messages.QUEUE) == 0 and worker.log().count("paste ") >= 2,
             message="both deliveries handled")
    assert Image.select().where(Image.album_id == TARGET).count() == 3
    assert "paste duplicate" in worker.log()


def test_paste_accepted_before_the_store_finished_waits_for_it(client, headers, images, redis_client, start_worker):
    clipboard_id = copy_to_clipboard(client, headers, [str(images[1].id)])
    job = paste(client, headers, clipboard_id)
    # Hand the paste to the worker before the store it depends on (BRPOP takes the right end).
    queued = redis_client.lrange(messages.QUEUE, 0, -1)
    tasks = [json.loads(raw)["headers"]["task"] for raw in queued]
    assert tasks == ["clipboards.paste", "clipboards.store"]
    redis_client.delete(messages.QUEUE)
    redis_client.rpush(messages.QUEUE, queued[1], queued[0])
    worker = start_worker(concurrency=1)
    done = finished(client, headers, job["id"], wait=30)
    assert done["state"] == "succeeded", done
    assert [image["source_image_id"] for image in done["result"]] == [str(images[1].id)]
    assert "paste behind" in worker.log()


def test_paste_of_a_clipboard_deleted_before_the_paste_ran_fails_the_job(
    client, headers, images, redis_client, start_worker
):
    clipboard_id = copy_to_clipboard(client, headers, [str(images[0].id)])
    job = paste(client, headers, clipboard_id)
    assert client.simulate_delete(f"/api/v1/clipboards/{clipboard_id}", headers=headers).status_code == 204
    # Deliver store, delete, then paste: the delete overtakes the paste (two workers could do this).
    delete, queued_paste, store = redis_client.lrange(messages.QUEUE, 0, -1)
    redis_client.delete(messages.QUEUE)
    redis_client.rpush(messages.QUEUE, queued_paste, delete, store)
    start_worker()
    done = finished(client, headers, job["id"])
    assert done["state"] == "failed"
    assert "deleted" in done["error"]
    assert Image.select().where(Image.album_id == TARGET).count() == 0


def test_jobs_are_not_visible_to_other_tenants_after_they_ran(client, headers, images, other_tenant, start_worker):
    start_worker()
    clipboard_id = copy_to_clipboard(client, headers, [str(images[0].id)])
    job = paste(client, headers, clipboard_id)
    assert finished(client, headers, job["id"])["state"] == "succeeded"
    assert Job.select().count() == 1
    foreign = auth(other_tenant.token({TARGET: ["paste"]}))
    assert client.simulate_get(f"/api/v1/jobs/{job['id']}", headers=foreign).status_code == 404
