"""Replay the reference API's documented request and compare the answer with its document.

The seed's token was signed with the reference platform's secret key, which we do not have: the
test creates a secret whose id is the seed's `iss` and re-signs the seed's header and claims
segments, byte for byte, with that secret's key. Everything else is sent as written.
"""
import base64
import hashlib
import hmac
import html
import json
import pathlib
import re
import uuid

import pytest

from core import messages, tokens
from models import Organization, Secret

SEED = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "seed_create_clipboard.txt"
SECRET_KEY = "conformance-secret-key-of-at-least-32-bytes"


def _blocks(text):
    return [html.unescape(block) for block in re.findall(r"<pre>(.*?)</pre>", text, re.S)]


def _headers(block):
    return [tuple(part.strip() for part in line.split(":", 1)) for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def seed():
    request_headers, route, body, response_headers, status, response_body = _blocks(SEED.read_text())
    return {
        "request_headers": _headers(request_headers),
        "method": route.split()[0],
        "path": route.split()[1],
        "body": body,
        "response_headers": _headers(response_headers),
        "status": status,
        "response_body": json.loads(response_body),
    }


def _resign(token, key):
    header, claims, _signature = token.split(".")
    signature = hmac.new(key.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.fixture
def seed_request(seed, db):
    authorization = dict(seed["request_headers"])["Authorization"]
    token = re.fullmatch(r'Token token="(.+)"', authorization).group(1)
    issuer = tokens.peek(token)["iss"]
    organization = Organization.create(name="seed organization")
    Secret.create(id=issuer, organization=organization, key=SECRET_KEY)
    headers = dict(seed["request_headers"])
    headers["Authorization"] = f'Token token="{_resign(token, SECRET_KEY)}"'
    return organization, headers


def test_seed_request_gets_the_documented_response(seed, seed_request, client, queued):
    organization, headers = seed_request
    response = client.simulate_request(seed["method"], seed["path"], headers=headers, body=seed["body"])

    assert f"{response.status_code} {response.status.split(' ', 1)[1]}" == seed["status"]
    body = response.json
    assert list(body) == list(seed["response_body"])
    assert body["id"] == seed["response_body"]["id"]
    assert body["user_id"] is None
    assert body["organization_id"] == str(organization.id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", body["created_at"])
    assert response.text == json.dumps(body, separators=(",", ":"))

    per_request = {"X-token", "X-Request-Id", "X-Runtime", "Content-Length"}
    for name, value in seed["response_headers"]:
        assert response.headers.get(name) is not None, f"missing header {name}"
        if name not in per_request:
            assert response.headers[name] == value, name
    assert response.headers["Content-Length"] == str(len(response.content))
    assert response.headers["Content-Length"] == dict(seed["response_headers"])["Content-Length"]
    uuid.UUID(response.headers["X-Request-Id"])
    assert re.fullmatch(r"\d+\.\d{6}", response.headers["X-Runtime"])

    refreshed = tokens.verify(response.headers["X-token"], SECRET_KEY)
    assert list(refreshed) == ["exp", "iat", "iss", "abilities"]  # the reference's claim order
    assert refreshed["exp"] - refreshed["iat"] == 14400
    seed_refreshed = tokens.peek(dict(seed["response_headers"])["X-token"])
    assert {k: v for k, v in refreshed.items() if k not in ("exp", "iat")} == {
        k: v for k, v in seed_refreshed.items() if k not in ("exp", "iat")
    }
    assert response.headers["X-token"].split(".")[0] == dict(seed["response_headers"])["X-token"].split(".")[0]

    [(task_headers, payload)] = queued()
    assert task_headers["task"] == messages.STORE_CLIPBOARD
    assert payload == {
        "v": messages.PAYLOAD_VERSION,
        "clipboard_id": "4d595b76-a3a8-437a-95ca-6ebc1a244d69",
        "organization_id": str(organization.id),
        "user_id": None,
        "image_ids": [
            "e71de0cc-fee9-41f7-a300-c9aa07448402",
            "94f5afc7-6715-4860-acd6-c226500f459f",
            "8cbac8ee-ae1a-4ecb-862f-9d8682621381",
        ],
        "albums": ["00100000123BB236"],
        "request_id": response.headers["X-Request-Id"],
        "revision": 1,
        "created_at_ms": payload["created_at_ms"],
    }
    messages.StoreClipboard.from_dict(payload)
