"""POST /api/v1/clipboards: accepted bodies, validation, claim rules and publishing."""
import json
import re
import uuid

import pytest

from core import settings as settings_module
from tests.support.factories import auth

ALBUM = "00100000123BB236"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def headers(tenant):
    return {**auth(tenant.token({ALBUM: ["image_copy"]})), **FORM}


def post_form(client, headers, body):
    return client.simulate_post("/api/v1/clipboards", headers=headers, body=body)


def post_json(client, headers, document):
    return client.simulate_post(
        "/api/v1/clipboards", headers={**headers, "Content-Type": "application/json"}, body=json.dumps(document)
    )


def ids(n):
    return [str(uuid.uuid4()) for _ in range(n)]


def payload_of(queued):
    return [kwargs for _headers, kwargs in queued()]


@pytest.mark.parametrize(
    "body_of",
    [
        lambda cid, images: f"id={cid}&" + "&".join(f"image_ids[]={i}" for i in images),
        lambda cid, images: f"id={cid}&" + "&".join(f"image_ids={i}" for i in images),
        lambda cid, images: f"image_ids%5B%5D={images[0]}&id={cid}&" + "&".join(f"image_ids%5B%5D={i}" for i in images[1:]),
    ],
    ids=["rails-brackets", "repeated-plain", "percent-encoded-brackets"],
)
def test_form_bodies_queue_the_images_in_order(client, headers, queued, body_of):
    clipboard_id, images = str(uuid.uuid4()), ids(3)
    response = post_form(client, headers, body_of(clipboard_id, images))
    assert response.status_code == 200, response.text
    assert response.json["id"] == clipboard_id
    assert response.headers["Location"] == f"/api/v1/clipboards/{clipboard_id}"
    [payload] = payload_of(queued)
    assert payload["image_ids"] == images


def test_single_bracketed_image_is_a_list(client, headers, queued):
    image = str(uuid.uuid4())
    assert post_form(client, headers, f"image_ids[]={image}").status_code == 200
    assert payload_of(queued)[0]["image_ids"] == [image]


def test_json_body(client, headers, queued):
    clipboard_id, images = str(uuid.uuid4()), ids(2)
    response = post_json(client, headers, {"id": clipboard_id, "image_ids": images, "unknown": 1})
    assert response.status_code == 200
    assert payload_of(queued)[0]["image_ids"] == images


def test_json_content_type_with_charset(client, headers, queued):
    response = client.simulate_post(
        "/api/v1/clipboards",
        headers={**headers, "Content-Type": "application/json; charset=utf-8"},
        body=json.dumps({"image_ids": ids(1)}),
    )
    assert response.status_code == 200


@pytest.mark.parametrize("body", ["", "id=", "image_ids[]="])
def test_empty_requests_create_an_empty_clipboard_with_a_generated_id(client, headers, queued, body):
    response = post_form(client, headers, body)
    assert response.status_code == 200
    assert uuid.UUID(response.json["id"]).version == 4
    assert payload_of(queued)[0]["image_ids"] == []


def test_no_body_and_no_content_type(client, tenant, queued):
    response = client.simulate_post("/api/v1/clipboards", headers=auth(tenant.token({ALBUM: ["image_copy"]})))
    assert response.status_code == 200
    assert payload_of(queued)[0]["image_ids"] == []


def test_ids_are_lower_cased_and_duplicates_dropped_keeping_the_first(client, headers, queued):
    first, second = ids(2)
    clipboard_id = str(uuid.uuid4())
    body = f"id={clipboard_id.upper()}&image_ids[]={second.upper()}&image_ids[]={first}&image_ids[]={second}"
    response = post_form(client, headers, body)
    assert response.json["id"] == clipboard_id
    assert payload_of(queued)[0]["image_ids"] == [second, first]


def test_too_many_images_is_422_and_nothing_is_queued(make_client, settings, headers, queued):
    limited = settings_module.load(
        {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url, "MAX_CLIPBOARD_IMAGES": "3"}
    )
    client = make_client(settings=limited)
    assert post_json(client, headers, {"image_ids": ids(3)}).status_code == 200
    response = post_json(client, headers, {"image_ids": ids(4)})
    assert response.status_code == 422
    assert response.json["field"] == "image_ids"
    assert len(queued()) == 1


@pytest.mark.parametrize(
    "document, field",
    [
        ({"id": "not-a-uuid"}, "id"),
        ({"id": 12}, "id"),
        ({"image_ids": ["nope"]}, "image_ids"),
        ({"image_ids": "nope"}, "image_ids"),
        ({"image_ids": {"a": 1}}, "image_ids"),
        ({"image_ids": [1, 2]}, "image_ids"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(client, headers, queued, document, field):
    response = post_json(client, headers, document)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["field"] == field
    assert response.json["code"] == "invalid_parameter"
    assert response.json["status"] == 422
    assert queued() == []


@pytest.mark.parametrize("body", ["{", "[1, 2]", '"text"', "\xff"])
def test_malformed_json_is_400(client, headers, queued, body):
    response = client.simulate_post(
        "/api/v1/clipboards", headers={**headers, "Content-Type": "application/json"}, body=body.encode("latin-1")
    )
    assert response.status_code == 400
    assert response.json["code"] == "malformed_body"
    assert queued() == []


def test_form_body_that_is_not_utf8_is_400(client, headers, queued):
    response = client.simulate_post("/api/v1/clipboards", headers=headers, body=b"id=\xff\xfe")
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml"])
def test_other_content_types_are_415(client, headers, queued, content_type):
    response = client.simulate_post(
        "/api/v1/clipboards", headers={**headers, "Content-Type": content_type}, body="id=x"
    )
    assert response.status_code == 415
    assert queued() == []


def test_body_over_the_limit_is_413(client, headers, queued):
    body = "image_ids[]=" + "a" * (1024 * 1024)
    response = post_form(client, headers, body)
    assert response.status_code == 413
    assert response.json["code"] == "body_too_large"
    assert queued() == []


def test_token_without_image_copy_is_403(client, tenant, queued):
    token = tenant.token({ALBUM: ["paste", "image_list"]})
    response = post_form(client, {**auth(token), **FORM}, f"image_ids[]={uuid.uuid4()}")
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert "X-token" in response.headers
    assert queued() == []


def test_only_image_copy_albums_travel_with_the_message(client, tenant, queued):
    token = tenant.token({"A": ["image_copy"], "B": ["paste"], "C": ["image_copy", "paste"]})
    assert post_form(client, {**auth(token), **FORM}, "").status_code == 200
    assert payload_of(queued)[0]["albums"] == ["A", "C"]


def test_existing_id_keeps_created_at_and_takes_the_next_revision(client, headers, queued):
    clipboard_id = str(uuid.uuid4())
    first = post_form(client, headers, f"id={clipboard_id}&image_ids[]={uuid.uuid4()}")
    second = post_form(client, headers, f"id={clipboard_id}")
    assert first.status_code == second.status_code == 200
    assert first.json == second.json
    revisions = [payload["revision"] for payload in payload_of(queued)]
    created = {payload["created_at_ms"] for payload in payload_of(queued)}
    assert revisions == [1, 2]
    assert len(created) == 1


def test_id_held_by_another_organization_is_404_and_nothing_is_queued(client, headers, other_tenant, queued):
    clipboard_id = str(uuid.uuid4())
    assert post_form(client, headers, f"id={clipboard_id}").status_code == 200
    foreign = {**auth(other_tenant.token({ALBUM: ["image_copy"]})), **FORM}
    response = post_form(client, foreign, f"id={clipboard_id}&image_ids[]={uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    assert len(queued()) == 1


def test_user_token_answers_with_the_user(client, tenant, settings, queued):
    from tests.support.factories import user_token

    user = tenant.user()
    token = user_token(user, settings.signing_key, {ALBUM: ["image_copy"]})
    response = post_form(client, {**auth(token), **FORM}, "")
    assert response.status_code == 200
    assert response.json["user_id"] == str(user.id)
    assert response.json["organization_id"] == tenant.id
    assert payload_of(queued)[0]["user_id"] == str(user.id)


def test_broker_down_is_503_with_retry_after(make_client, headers, db):
    client = make_client(redis_url="redis://127.0.0.1:1/0")
    response = post_form(client, headers, f"id={uuid.uuid4()}")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.json["code"] == "unavailable"
    assert response.headers["Cache-Control"] == "no-cache, no-store"


def test_retry_after_publish_failure_gets_a_consistent_answer(make_client, client, headers, queued):
    clipboard_id = str(uuid.uuid4())
    down = make_client(redis_url="redis://127.0.0.1:1/0")
    assert post_form(down, headers, f"id={clipboard_id}").status_code == 503
    retried = post_form(client, headers, f"id={clipboard_id}")
    again = post_form(client, headers, f"id={clipboard_id}")
    assert retried.status_code == 200 and retried.json == again.json
    assert [payload["revision"] for payload in payload_of(queued)] == [1, 2]


def test_incoming_request_id_is_echoed_and_carried(client, headers, queued):
    response = post_form(client, {**headers, "X-Request-Id": "abc-123"}, "")
    assert response.headers["X-Request-Id"] == "abc-123"
    assert payload_of(queued)[0]["request_id"] == "abc-123"


def test_unsafe_incoming_request_id_is_replaced(client, headers):
    response = post_form(client, {**headers, "X-Request-Id": "bad id\"<>"}, "")
    uuid.UUID(response.headers["X-Request-Id"])


def test_errors_carry_the_security_and_no_cache_headers(client, headers):
    response = post_json(client, headers, {"id": "x"})
    assert response.status_code == 422
    for name in ("Cache-Control", "Pragma", "Expires", "X-Frame-Options", "X-Content-Type-Options",
                 "X-Request-Id", "X-Runtime", "Referrer-Policy"):
        assert name in response.headers
    assert re.fullmatch(r"urn:problem:clipboard:[a-z_]+", response.json["type"])


def test_messages_carry_the_clipboards_creator_whoever_posts_later(client, tenant, settings, queued):
    from tests.support.factories import user_token

    creator, editor = tenant.user(), tenant.user()
    clipboard_id = str(uuid.uuid4())
    for user in (creator, editor):
        token = user_token(user, settings.signing_key, {ALBUM: ["image_copy"]})
        response = post_form(client, {**auth(token), **FORM}, f"id={clipboard_id}")
        assert response.json["user_id"] == str(creator.id)
    assert [payload["user_id"] for payload in payload_of(queued)] == [str(creator.id)] * 2
