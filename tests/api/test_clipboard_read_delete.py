"""GET and DELETE /api/v1/clipboards/:id as the API sees them (the worker's part is simulated
by writing the rows the worker would write; end-to-end tests run the real worker)."""
import re
import uuid

import pytest

from models import Clipboard, ClipboardImage
from tests.support.factories import auth

ALBUM = "A1"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


@pytest.fixture
def headers(tenant):
    return auth(tenant.token({ALBUM: ["image_copy"]}))


def create(client, headers, clipboard_id=None, image_ids=()):
    document = {"image_ids": list(image_ids)}
    if clipboard_id:
        document["id"] = clipboard_id
    response = client.simulate_post("/api/v1/clipboards", headers=headers, json=document)
    assert response.status_code == 200, response.text
    return response.json


def persist(clipboard_id, organization_id, revision, image_ids, state="ready", rejected=(), error=None):
    """Write what the worker would have written for `revision`."""
    Clipboard.insert(
        id=clipboard_id, organization=organization_id, revision=revision, state=state,
        rejected_images=list(rejected), error=error,
    ).on_conflict(
        conflict_target=[Clipboard.id],
        update={Clipboard.revision: revision, Clipboard.state: state, Clipboard.error: error},
    ).execute()
    ClipboardImage.delete().where(ClipboardImage.clipboard == clipboard_id).execute()
    for position, image_id in enumerate(image_ids):
        ClipboardImage.create(clipboard=clipboard_id, position=position, image_id=image_id)


def test_get_is_pending_until_the_revision_is_persisted(client, headers, tenant):
    created = create(client, headers)
    response = client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["state"] == "pending"
    assert body["revision"] == 1
    assert body["created_at"] == created["created_at"]
    assert body["image_ids"] == []
    assert list(body) == ["id", "user_id", "organization_id", "created_at", "updated_at", "state",
                          "revision", "image_ids", "rejected_image_ids"]
    assert "X-token" in response.headers


def test_get_shows_the_persisted_images_in_order_when_ready(client, headers, tenant):
    images = [str(uuid.uuid4()) for _ in range(3)]
    rejected = [{"id": str(uuid.uuid4()), "reason": "not_found"}]
    created = create(client, headers, image_ids=images)
    persist(created["id"], tenant.id, 1, images, rejected=rejected)
    body = client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers).json
    assert body["state"] == "ready"
    assert body["image_ids"] == images
    assert body["rejected_image_ids"] == rejected
    assert re.fullmatch(ISO, body["updated_at"])


def test_get_is_pending_while_a_newer_revision_is_on_its_way(client, headers, tenant):
    created = create(client, headers)
    persist(created["id"], tenant.id, 1, [])
    create(client, headers, clipboard_id=created["id"])
    body = client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers).json
    assert (body["state"], body["revision"]) == ("pending", 2)


def test_get_shows_a_failed_revision_with_its_error(client, headers, tenant):
    created = create(client, headers)
    persist(created["id"], tenant.id, 1, [], state="failed", error="boom")
    body = client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers).json
    assert (body["state"], body["error"]) == ("failed", "boom")


def test_any_token_of_the_organization_may_read(client, headers, tenant):
    created = create(client, headers)
    reader = auth(tenant.token({"elsewhere": ["image_list"]}))
    assert client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=reader).status_code == 200


def test_other_tenants_get_404(client, headers, other_tenant):
    created = create(client, headers)
    response = client.simulate_get(
        f"/api/v1/clipboards/{created['id']}", headers=auth(other_tenant.token({ALBUM: ["image_copy"]}))
    )
    assert response.status_code == 404


@pytest.mark.parametrize("clipboard_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_ids_get_404(client, headers, clipboard_id):
    assert client.simulate_get(f"/api/v1/clipboards/{clipboard_id}", headers=headers).status_code == 404
    assert client.simulate_delete(f"/api/v1/clipboards/{clipboard_id}", headers=headers).status_code == 404


def test_get_without_token_is_401(client, headers):
    created = create(client, headers)
    assert client.simulate_get(f"/api/v1/clipboards/{created['id']}").status_code == 401


def test_delete_is_204_and_the_clipboard_is_gone_at_once(client, headers, queued):
    created = create(client, headers)
    response = client.simulate_delete(f"/api/v1/clipboards/{created['id']}", headers=headers)
    assert response.status_code == 204
    assert response.text == ""
    assert "X-token" in response.headers
    assert client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers).status_code == 404
    assert client.simulate_delete(f"/api/v1/clipboards/{created['id']}", headers=headers).status_code == 404
    delete_headers, delete_payload = queued()[-1]
    assert delete_headers["task"] == "clipboards.delete"
    assert delete_payload["revision"] == 2


def test_other_tenants_cannot_delete(client, headers, other_tenant, queued):
    created = create(client, headers)
    response = client.simulate_delete(
        f"/api/v1/clipboards/{created['id']}", headers=auth(other_tenant.token({ALBUM: ["image_copy"]}))
    )
    assert response.status_code == 404
    assert client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers).status_code == 200
    assert len(queued()) == 1


def test_post_after_delete_starts_a_new_clipboard_with_later_revisions(client, headers, queued):
    created = create(client, headers)
    client.simulate_delete(f"/api/v1/clipboards/{created['id']}", headers=headers)
    reborn = create(client, headers, clipboard_id=created["id"])
    assert reborn["created_at"] >= created["created_at"]
    assert [payload["revision"] for _h, payload in queued()] == [1, 2, 3]
    body = client.simulate_get(f"/api/v1/clipboards/{created['id']}", headers=headers).json
    assert (body["state"], body["revision"]) == ("pending", 3)


def test_deleted_id_stays_with_its_organization(client, headers, other_tenant):
    created = create(client, headers)
    client.simulate_delete(f"/api/v1/clipboards/{created['id']}", headers=headers)
    foreign = auth(other_tenant.token({ALBUM: ["image_copy"]}))
    response = client.simulate_post("/api/v1/clipboards", headers=foreign, json={"id": created["id"]})
    assert response.status_code == 404


def test_delete_with_broker_down_is_503(make_client, client, headers):
    created = create(client, headers)
    down = make_client(redis_url="redis://127.0.0.1:1/0")
    response = down.simulate_delete(f"/api/v1/clipboards/{created['id']}", headers=headers)
    assert response.status_code == 503
