"""`python manage.py` as operators run it: a subprocess, JSON on stdout, exit codes, no tracebacks."""
import uuid

import pytest

from core import tokens
from models import Image, Organization, Secret, User
from tests.admin.cli import SIGNING_KEY, assert_error, manage

ORG_ID = "4d69a649-135c-44c7-a918-31dc119513cb"
SECRET_ID = "55980758-e728-4138-ae45-724df75070f6"


@pytest.fixture
def org(database_url):
    code, document, stderr = manage(database_url, "create-organization", "--name", "Acme", "--id", ORG_ID.upper())
    assert code == 0, stderr
    return document


def test_create_organization(database_url, db):
    code, document, _ = manage(database_url, "create-organization", "--name", "Acme", "--id", ORG_ID.upper())
    assert code == 0
    assert set(document) == {"id", "name", "created_at"}
    assert (document["id"], document["name"]) == (ORG_ID, "Acme")
    assert document["created_at"].endswith("+00:00") and len(document["created_at"]) == 29
    assert Organization.get_by_id(ORG_ID).name == "Acme"


def test_create_organization_renders_in_the_configured_time_zone(database_url):
    code, document, _ = manage(database_url, "create-organization", "--name", "Acme", TZ="Asia/Kolkata")
    assert code == 0
    assert document["created_at"].endswith("+05:30")


def test_create_organization_bad_input(database_url, org):
    assert_error(manage(database_url, "create-organization", "--name", "Again", "--id", ORG_ID), 1, "already exists")
    assert_error(manage(database_url, "create-organization", "--name", "X", "--id", "nope"), 2, "--id must be a UUID")
    assert_error(manage(database_url, "create-organization"), 2, "--name")


def test_create_secret(database_url, db, org):
    code, document, _ = manage(database_url, "create-secret", "--organization", ORG_ID.upper(), "--name", "crm")
    assert code == 0
    assert set(document) == {"id", "key", "organization_id"}
    assert document["organization_id"] == ORG_ID
    assert len(document["key"]) >= 43
    stored = Secret.get_by_id(document["id"])
    assert (stored.key, stored.name) == (document["key"], "crm")

    code, kept, _ = manage(
        database_url, "create-secret", "--organization", ORG_ID, "--id", SECRET_ID.upper(), "--key", "kept-key-from-the-reference"
    )
    assert code == 0
    assert kept == {"id": SECRET_ID, "key": "kept-key-from-the-reference", "organization_id": ORG_ID}


def test_create_secret_bad_input(database_url, org):
    manage(database_url, "create-secret", "--organization", ORG_ID, "--id", SECRET_ID)
    assert_error(manage(database_url, "create-secret", "--organization", ORG_ID, "--id", SECRET_ID), 1, "already exists")
    assert_error(manage(database_url, "create-secret", "--organization", str(uuid.uuid4())), 1, "no organization")
    assert_error(manage(database_url, "create-secret", "--organization", "acme"), 2, "--organization must be a UUID")
    assert_error(manage(database_url, "create-secret"), 2, "--organization")


def test_revoke_secret(database_url, db, org):
    manage(database_url, "create-secret", "--organization", ORG_ID, "--id", SECRET_ID)
    code, first, _ = manage(database_url, "revoke-secret", "--id", SECRET_ID.upper())
    assert code == 0
    assert set(first) == {"id", "revoked_at"} and first["id"] == SECRET_ID
    code, second, _ = manage(database_url, "revoke-secret", "--id", SECRET_ID)
    assert (code, second) == (0, first)
    assert Secret.get_by_id(SECRET_ID).revoked_at is not None


def test_revoke_secret_bad_input(database_url):
    assert_error(manage(database_url, "revoke-secret", "--id", str(uuid.uuid4())), 1, "no secret")
    assert_error(manage(database_url, "revoke-secret", "--id", "x"), 2, "--id must be a UUID")
    assert_error(manage(database_url, "revoke-secret"), 2, "--id")


def test_create_user(database_url, db, org):
    code, document, _ = manage(
        database_url, "create-user", "--organization", ORG_ID, "--email", "ada@example.org", "--name", "Ada",
        "--id", "E71DE0CC-FEE9-41F7-A300-C9AA07448402",
    )
    assert code == 0
    created_at = document.pop("created_at")
    assert created_at.endswith("+00:00")
    assert document == {
        "id": "e71de0cc-fee9-41f7-a300-c9aa07448402",
        "organization_id": ORG_ID,
        "email": "ada@example.org",
        "name": "Ada",
    }
    assert User.get_by_id(document["id"]).email == "ada@example.org"


def test_create_user_bad_input(database_url, org):
    manage(database_url, "create-user", "--organization", ORG_ID, "--email", "ada@example.org")
    assert_error(manage(database_url, "create-user", "--organization", ORG_ID, "--email", "ada@example.org"), 1, "already has a user")
    assert_error(manage(database_url, "create-user", "--organization", ORG_ID, "--email", "ada.example.org"), 2, "--email")
    assert_error(manage(database_url, "create-user", "--organization", ORG_ID, "--email", "a@b@c"), 2, "--email")
    assert_error(manage(database_url, "create-user", "--organization", str(uuid.uuid4()), "--email", "x@y.z"), 1, "no organization")
    assert_error(manage(database_url, "create-user", "--organization", ORG_ID), 2, "--email")


def test_add_image(database_url, db, org):
    code, document, _ = manage(
        database_url, "add-image", "--organization", ORG_ID, "--album", "00100000123BB236",
        "--id", "8CBAC8EE-AE1A-4ECB-862F-9D8682621381", "--filename", "cat.png", "--format", "png",
        "--width", "640", "--height", "480", "--bytes", "12345", "--url", "https://cdn.example.org/cat.png",
    )
    assert code == 0
    assert document.pop("created_at").endswith("+00:00")
    assert document == {
        "id": "8cbac8ee-ae1a-4ecb-862f-9d8682621381",
        "album_id": "00100000123BB236",
        "organization_id": ORG_ID,
        "filename": "cat.png",
        "format": "png",
        "width": 640,
        "height": 480,
        "bytes": 12345,
        "url": "https://cdn.example.org/cat.png",
    }
    assert Image.get_by_id(document["id"]).album_id == "00100000123BB236"


def test_add_image_bad_input(database_url, db, org):
    add = ("add-image", "--organization", ORG_ID)
    assert_error(manage(database_url, *add, "--album", "no/slashes"), 2, "--album")
    assert_error(manage(database_url, *add, "--album", "x" * 256), 2, "--album")
    assert_error(manage(database_url, *add, "--album", "a", "--width", "-1"), 2, "--width must not be negative")
    assert_error(manage(database_url, *add, "--album", "a", "--bytes", "-10"), 2, "--bytes must not be negative")
    assert_error(manage(database_url, *add, "--album", "a", "--height", "tall"), 2, "--height")
    assert_error(manage(database_url, *add, "--album", "a", "--id", "x"), 2, "--id must be a UUID")
    assert_error(manage(database_url, "add-image", "--organization", str(uuid.uuid4()), "--album", "a"), 1, "no organization")
    assert_error(manage(database_url, *add), 2, "--album")
    assert Image.select().count() == 0


def test_mint_token_for_a_secret(database_url, org):
    manage(database_url, "create-secret", "--organization", ORG_ID, "--id", SECRET_ID, "--key", "k" * 32)
    code, document, _ = manage(
        database_url, "mint-token", "--secret-id", SECRET_ID.upper(),
        "--ability", "00100000123BB236:image_copy", "--ability", "00100000123BB236:paste", "--ability", "other:image_list",
    )
    assert code == 0
    assert set(document) == {"token"}
    claims = tokens.verify(document["token"], "k" * 32)
    assert list(claims) == ["abilities", "iss"]
    assert claims == {
        "abilities": {
            "00100000123BB236": {"Access": {"image_copy": True, "paste": True}},
            "other": {"Access": {"image_list": True}},
        },
        "iss": SECRET_ID,
    }


def test_mint_token_for_a_user_with_ttl(database_url, org):
    _, user, _ = manage(database_url, "create-user", "--organization", ORG_ID, "--email", "ada@example.org")
    code, document, _ = manage(
        database_url, "mint-token", "--user-id", user["id"], "--ability", "album:image_upload", "--ttl", "3600"
    )
    assert code == 0
    claims = tokens.verify(document["token"], SIGNING_KEY)
    assert list(claims) == ["user_id", "abilities", "iat", "exp"]
    assert claims["user_id"] == user["id"]
    assert claims["abilities"] == {"album": {"Access": {"image_upload": True}}}
    assert claims["exp"] - claims["iat"] == 3600


def test_mint_token_bad_input(database_url, org):
    manage(database_url, "create-secret", "--organization", ORG_ID, "--id", SECRET_ID)
    mint = ("mint-token", "--secret-id", SECRET_ID)
    assert_error(manage(database_url, *mint, "--ability", "album:delete"), 2, "unknown ability")
    assert_error(manage(database_url, *mint, "--ability", "album"), 2, "ALBUM:ABILITY")
    assert_error(manage(database_url, *mint, "--ttl", "0"), 2, "--ttl")
    assert_error(manage(database_url, *mint, "--ttl", "soon"), 2, "--ttl")
    assert_error(manage(database_url, "mint-token"), 2, "--secret-id")
    assert_error(manage(database_url, *mint, "--user-id", str(uuid.uuid4())), 2, "not allowed with")
    assert_error(manage(database_url, "mint-token", "--secret-id", str(uuid.uuid4())), 1, "no secret")
    assert_error(manage(database_url, "mint-token", "--user-id", str(uuid.uuid4())), 1, "no user")
    manage(database_url, "revoke-secret", "--id", SECRET_ID)
    assert_error(manage(database_url, *mint), 1, "revoked")


def test_unknown_command_is_a_usage_error(database_url):
    assert_error(manage(database_url, "drop-everything"), 2, "invalid choice")
    assert_error(manage(database_url), 2, "required")


def test_unreachable_database_is_a_clear_error():
    # A port nothing listens on: bind one, then close it before the command connects.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{port}/clipboard"
    for args in (("migrate",), ("create-organization", "--name", "Acme")):
        error = assert_error(manage(url, *args), 1, "cannot use the database")
        assert str(port) in error


def test_a_database_url_that_is_not_postgresql_is_a_clear_error():
    assert_error(manage("mysql://root@127.0.0.1/clipboard", "migrate"), 1, "DATABASE_URL")
