"""POST /api/v1/clipboards/:id/paste and GET /api/v1/jobs/:id as the API sees them."""
import uuid

import pytest

from models import Job
from tests.support.factories import auth

SOURCE, TARGET = "source-album", "target-album"


@pytest.fixture
def headers(tenant):
    return auth(tenant.token({SOURCE: ["image_copy"], TARGET: ["paste"]}))


@pytest.fixture
def clipboard_id(client, headers):
    response = client.simulate_post("/api/v1/clipboards", headers=headers, json={"image_ids": [str(uuid.uuid4())]})
    return response.json["id"]


def paste(client, headers, clipboard_id, album_id=TARGET, key=None, form=False):
    if key:
        headers = {**headers, "Idempotency-Key": key}
    if form:
        return client.simulate_post(
            f"/api/v1/clipboards/{clipboard_id}/paste",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            body=f"album_id={album_id}",
        )
    return client.simulate_post(f"/api/v1/clipboards/{clipboard_id}/paste", headers=headers, json={"album_id": album_id})


@pytest.mark.parametrize("form", [False, True])
def test_paste_is_accepted_at_once_as_a_queued_job(client, headers, clipboard_id, queued, form):
    response = paste(client, headers, clipboard_id, form=form)
    assert response.status_code == 202, response.text
    job = response.json
    assert (job["kind"], job["state"]) == ("paste", "queued")
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    task_headers, payload = queued()[-1]
    assert task_headers["task"] == "clipboards.paste"
    assert (payload["job_id"], payload["album_id"], payload["min_revision"]) == (job["id"], TARGET, 1)
    assert Job.select().count() == 0  # the web process writes no PostgreSQL


def test_queued_job_is_readable_before_any_worker_ran(client, headers, clipboard_id):
    job = paste(client, headers, clipboard_id).json
    response = client.simulate_get(f"/api/v1/jobs/{job['id']}", headers=headers)
    assert response.status_code == 200
    assert response.json == job


def test_paste_needs_the_paste_ability_on_the_album(client, headers, clipboard_id, queued):
    before = len(queued())
    response = paste(client, headers, clipboard_id, album_id=SOURCE)
    assert response.status_code == 403
    assert len(queued()) == before


def test_paste_of_another_tenants_clipboard_is_404(client, clipboard_id, other_tenant):
    foreign = auth(other_tenant.token({TARGET: ["paste"]}))
    assert paste(client, foreign, clipboard_id).status_code == 404


@pytest.mark.parametrize("target", [str(uuid.uuid4()), "not-a-uuid"])
def test_paste_of_an_unknown_clipboard_is_404(client, headers, target):
    assert paste(client, headers, target).status_code == 404


def test_paste_of_a_deleted_clipboard_is_404(client, headers, clipboard_id):
    client.simulate_delete(f"/api/v1/clipboards/{clipboard_id}", headers=headers)
    assert paste(client, headers, clipboard_id).status_code == 404


@pytest.mark.parametrize("body", [{}, {"album_id": ""}, {"album_id": "bad album"}, {"album_id": 5}])
def test_paste_needs_a_valid_album_id(client, headers, clipboard_id, body):
    response = client.simulate_post(f"/api/v1/clipboards/{clipboard_id}/paste", headers=headers, json=body)
    assert response.status_code == 422
    assert response.json["field"] == "album_id"


def test_same_idempotency_key_and_body_returns_the_same_job(client, headers, clipboard_id, queued):
    first = paste(client, headers, clipboard_id, key="k-1")
    second = paste(client, headers, clipboard_id, key="k-1")
    assert first.status_code == second.status_code == 202
    assert first.json["id"] == second.json["id"]
    assert [h["task"] for h, _ in queued()].count("clipboards.paste") == 1


def test_same_idempotency_key_with_another_body_is_422(client, tenant, clipboard_id):
    headers = auth(tenant.token({SOURCE: ["image_copy"], TARGET: ["paste"], "third": ["paste"]}))
    assert paste(client, headers, clipboard_id, key="k-2").status_code == 202
    response = paste(client, headers, clipboard_id, album_id="third", key="k-2")
    assert response.status_code == 422
    assert response.json["field"] == "Idempotency-Key"


def test_idempotency_keys_are_per_organization(client, headers, clipboard_id, other_tenant):
    paste(client, headers, clipboard_id, key="shared")
    other_headers = auth(other_tenant.token({SOURCE: ["image_copy"], TARGET: ["paste"]}))
    other_clipboard = client.simulate_post("/api/v1/clipboards", headers=other_headers, json={}).json["id"]
    response = paste(client, other_headers, other_clipboard, key="shared")
    assert response.status_code == 202


def test_different_keys_make_different_jobs(client, headers, clipboard_id):
    assert paste(client, headers, clipboard_id, key="a").json["id"] != paste(client, headers, clipboard_id, key="b").json["id"]


def test_jobs_of_other_tenants_are_404(client, headers, clipboard_id, other_tenant):
    job = paste(client, headers, clipboard_id).json
    foreign = auth(other_tenant.token({TARGET: ["paste"]}))
    assert client.simulate_get(f"/api/v1/jobs/{job['id']}", headers=foreign).status_code == 404
    assert client.simulate_get(f"/api/v1/jobs/{uuid.uuid4()}", headers=headers).status_code == 404
    assert client.simulate_get("/api/v1/jobs/nope", headers=headers).status_code == 404


@pytest.mark.parametrize("wait", ["31", "-1", "soon"])
def test_wait_above_30_or_not_a_number_is_422(client, headers, clipboard_id, wait):
    job = paste(client, headers, clipboard_id).json
    response = client.simulate_get(f"/api/v1/jobs/{job['id']}", headers=headers, query_string=f"wait={wait}")
    assert response.status_code == 422


def test_wait_returns_the_queued_job_when_time_runs_out(client, headers, clipboard_id):
    job = paste(client, headers, clipboard_id).json
    response = client.simulate_get(f"/api/v1/jobs/{job['id']}", headers=headers, query_string="wait=1")
    assert response.status_code == 200
    assert response.json["state"] == "queued"
