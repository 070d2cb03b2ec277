"""Tokens: the accepted forms, every way a token is refused, and the refreshed X-token."""
import base64
import json
import time
import uuid

import jwt
import pytest

from core import tokens
from core.timefmt import utcnow
from tests.support.factories import auth, grants, raw_hs256, user_token

ALBUM = "00100000123BB236"
ABILITIES = {ALBUM: ["image_copy"]}


def post(client, headers):
    return client.simulate_post("/api/v1/clipboards", headers=headers)


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Token realm="Application"'
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["code"] == "invalid_token"
    assert "X-token" not in response.headers


@pytest.mark.parametrize("template", ['Token token="{}"', "Token token={}", "Token {}", "Bearer {}", "bearer {}"])
def test_accepted_header_forms(client, tenant, template):
    response = post(client, {"Authorization": template.format(tenant.token(ABILITIES))})
    assert response.status_code == 200


def _unsigned(claims, alg):
    def segment(document):
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{segment({'typ': 'JWT', 'alg': alg})}.{segment(claims)}."


@pytest.mark.parametrize(
    "make_header",
    [
        lambda t: None,
        lambda t: "",
        lambda t: "Token",
        lambda t: 'Token token=""',
        lambda t: "Basic dXNlcjpwYXNz",
        lambda t: "Token garbage",
        lambda t: "Token a.b.c",
        lambda t: f"Token {_unsigned({'abilities': grants(ABILITIES), 'iss': str(t.secret.id)}, 'none')}",
        lambda t: "Token " + jwt.encode({"abilities": grants(ABILITIES), "iss": str(t.secret.id)}, t.secret.key, algorithm="HS512"),
        lambda t: "Token " + jwt.encode({"abilities": grants(ABILITIES), "iss": str(t.secret.id)}, "wrong-key-wrong-key-wrong-key-wrong", algorithm="HS256"),
        lambda t: "Token " + t.token(ABILITIES, exp=int(time.time()) - 3600),
        lambda t: "Token " + t.token(ABILITIES, nbf=int(time.time()) + 3600),
        lambda t: "Token " + t.token(ABILITIES, exp="tomorrow"),
        lambda t: "Token " + t.token(ABILITIES, iss=str(uuid.uuid4())),
        lambda t: "Token " + t.token(ABILITIES, iss="not-a-uuid"),
        lambda t: "Token " + raw_hs256({"abilities": grants(ABILITIES), "iss": 12}, t.secret.key),
        lambda t: "Token " + raw_hs256({"abilities": grants(ABILITIES), "user_id": ["x"]}, t.secret.key),
        lambda t: "Token " + raw_hs256([1, 2], t.secret.key),
        lambda t: "Token " + tokens.sign({"abilities": grants(ABILITIES)}, t.secret.key),
    ],
    ids=[
        "missing", "empty", "scheme-only", "empty-token", "basic", "garbage", "three-garbage-segments",
        "alg-none", "hs512", "bad-signature", "expired", "not-yet-valid", "exp-not-a-number",
        "unknown-issuer", "issuer-not-uuid", "issuer-not-string", "user-not-string", "claims-not-object", "no-issuer-no-user",
    ],
)
def test_refused_tokens_are_401(client, tenant, make_header):
    header = make_header(tenant)
    response = post(client, {} if header is None else {"Authorization": header})
    assert_unauthorized(response)


def test_revoked_secret_is_401(client, tenant):
    token = tenant.token(ABILITIES)
    assert post(client, auth(token)).status_code == 200
    tenant.secret.revoked_at = utcnow()
    tenant.secret.save()
    assert_unauthorized(post(client, auth(token)))


def test_another_tenants_secret_cannot_sign_for_this_issuer(client, tenant, other_tenant):
    forged = tokens.sign({"abilities": grants(ABILITIES), "iss": str(tenant.secret.id)}, other_tenant.secret.key)
    assert_unauthorized(post(client, auth(forged)))


def test_user_token_signed_with_the_service_key(client, tenant, settings):
    user = tenant.user()
    assert post(client, auth(user_token(user, settings.signing_key, ABILITIES))).status_code == 200


def test_user_token_with_another_key_is_401(client, tenant):
    user = tenant.user()
    assert_unauthorized(post(client, auth(user_token(user, tenant.secret.key, ABILITIES))))


def test_unknown_user_is_401(client, settings, db):
    token = tokens.sign({"user_id": str(uuid.uuid4()), "abilities": grants(ABILITIES)}, settings.signing_key)
    assert_unauthorized(post(client, auth(token)))


def test_x_token_refreshes_the_session(client, tenant, settings):
    original = {"abilities": grants(ABILITIES), "iss": str(tenant.secret.id), "custom": [1, 2]}
    before = int(time.time())
    response = post(client, auth(tokens.sign(original, tenant.secret.key)))
    refreshed = tokens.verify(response.headers["X-token"], tenant.secret.key)
    assert before <= refreshed["iat"] <= int(time.time())
    assert refreshed["exp"] == refreshed["iat"] + settings.token_ttl_seconds
    assert {k: v for k, v in refreshed.items() if k not in ("exp", "iat")} == original


def test_x_token_of_a_user_is_signed_with_the_service_key(client, tenant, settings):
    user = tenant.user()
    response = post(client, auth(user_token(user, settings.signing_key, ABILITIES, exp=int(time.time()) + 60)))
    refreshed = tokens.verify(response.headers["X-token"], settings.signing_key)
    assert refreshed["user_id"] == str(user.id)
    assert refreshed["exp"] == refreshed["iat"] + settings.token_ttl_seconds


def test_health_needs_no_token(client):
    response = client.simulate_get("/healthz")
    assert response.status_code == 200
    assert "X-token" not in response.headers


def test_unknown_route_is_problem_404(client):
    response = client.simulate_get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
