"""The image catalog: register, fetch, list an album with a cursor; abilities and tenants."""
import uuid

import pytest

from tests.support.factories import auth

ALBUM = "album-1"


@pytest.fixture
def uploader(tenant):
    return auth(tenant.token({ALBUM: ["image_upload", "image_list"]}))


def register(client, headers, **fields):
    fields.setdefault("album_id", ALBUM)
    return client.simulate_post("/api/v1/images", headers=headers, json=fields)


def test_register_returns_201_with_the_image(client, uploader):
    image_id = str(uuid.uuid4())
    response = register(
        client, uploader, id=image_id.upper(), filename="a.png", format="png", width=640, height=480,
        bytes=12345, url="https://cdn.example.org/a.png", title="A", description="An image",
        metadatas={"camera": "x100"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/images/{image_id}"
    body = response.json
    assert list(body) == ["id", "public_id", "album_id", "filename", "format", "width", "height", "size",
                          "title", "description", "metadatas", "tags", "source_image_id", "created_at",
                          "updated_at", "url"]
    assert (body["id"], body["public_id"], body["size"], body["metadatas"]) == (image_id, image_id, 12345, {"camera": "x100"})
    assert body["source_image_id"] is None and body["tags"] == []


def test_register_with_a_form_body(client, uploader):
    response = client.simulate_post(
        "/api/v1/images",
        headers={**uploader, "Content-Type": "application/x-www-form-urlencoded"},
        body=f"album_id={ALBUM}&width=10&metadatas[a]=1&metadatas[b]=two",
    )
    assert response.status_code == 201
    assert response.json["width"] == 10
    assert response.json["metadatas"] == {"a": "1", "b": "two"}


def test_register_needs_image_upload_on_the_album(client, tenant):
    headers = auth(tenant.token({ALBUM: ["image_list"], "other": ["image_upload"]}))
    assert register(client, headers).status_code == 403


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"album_id": None}, "album_id"),
        ({"album_id": "bad album!"}, "album_id"),
        ({"album_id": "x" * 256}, "album_id"),
        ({"width": -1}, "width"),
        ({"height": "tall"}, "height"),
        ({"bytes": 1.5}, "bytes"),
        ({"metadatas": [1]}, "metadatas"),
        ({"id": "nope"}, "id"),
        ({"filename": 7}, "filename"),
    ],
)
def test_invalid_image_fields_are_422(client, uploader, fields, field):
    response = register(client, uploader, **fields)
    assert response.status_code == 422
    assert response.json["field"] == field


def test_duplicate_id_is_409(client, uploader):
    image_id = str(uuid.uuid4())
    assert register(client, uploader, id=image_id).status_code == 201
    assert register(client, uploader, id=image_id).status_code == 409


def test_get_an_image(client, uploader, tenant):
    image = tenant.image(ALBUM)
    response = client.simulate_get(f"/api/v1/images/{image.id}", headers=uploader)
    assert response.status_code == 200
    assert response.json["id"] == str(image.id)


def test_get_needs_image_list_and_hides_other_tenants(client, tenant, other_tenant):
    image = tenant.image(ALBUM)
    no_list = auth(tenant.token({ALBUM: ["image_upload"]}))
    assert client.simulate_get(f"/api/v1/images/{image.id}", headers=no_list).status_code == 403
    foreign = auth(other_tenant.token({ALBUM: ["image_list"]}))
    assert client.simulate_get(f"/api/v1/images/{image.id}", headers=foreign).status_code == 404
    assert client.simulate_get("/api/v1/images/not-a-uuid", headers=foreign).status_code == 404


def test_album_listing_is_newest_first_and_paginated(client, uploader, tenant, other_tenant):
    created = [tenant.image(ALBUM, filename=f"{n}.png") for n in range(5)]
    tenant.image("another-album")
    other_tenant.image(ALBUM)
    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = client.simulate_get(f"/api/v1/albums/{ALBUM}/images", headers=uploader, query_string=query)
        assert response.status_code == 200
        seen += [image["id"] for image in response.json["images"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(image.id) for image in reversed(created)]


def test_album_listing_needs_image_list(client, tenant):
    headers = auth(tenant.token({ALBUM: ["image_upload"]}))
    assert client.simulate_get(f"/api/v1/albums/{ALBUM}/images", headers=headers).status_code == 403


@pytest.mark.parametrize("query", ["cursor=%%%", "cursor=bm90LWEtY3Vyc29y", "limit=0x", "limit=1000"])
def test_bad_listing_parameters_are_422(client, uploader, query):
    response = client.simulate_get(f"/api/v1/albums/{ALBUM}/images", headers=uploader, query_string=query)
    assert response.status_code == 422
