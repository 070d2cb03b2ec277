"""The admin command functions, called directly against the test database."""
import datetime
import time
import uuid

import peewee
import pytest

from admin import commands
from core import tokens
from models import Image, Organization, Secret, User, database

SIGNING_KEY = "admin-test-signing-key-0123456789abcdef"


def _parse_time(text):
    # ISO 8601 with milliseconds and a numeric offset, as core.timefmt renders it.
    assert len(text.split("T")[1].split("+")[0].split(".")[1]) == 3, text
    return datetime.datetime.fromisoformat(text)


@pytest.fixture
def org(db):
    return commands.create_organization("Acme")


# --- organizations ------------------------------------------------------------------------------

def test_create_organization_returns_its_json(db):
    document = commands.create_organization("Acme")
    assert set(document) == {"id", "name", "created_at"}
    assert document["name"] == "Acme"
    assert str(uuid.UUID(document["id"])) == document["id"]
    assert _parse_time(document["created_at"]).utcoffset() == datetime.timedelta(0)
    assert Organization.get_by_id(document["id"]).name == "Acme"


def test_create_organization_keeps_a_given_id_in_lower_case(db):
    document = commands.create_organization("Acme", id="4D69A649-135C-44C7-A918-31DC119513CB")
    assert document["id"] == "4d69a649-135c-44c7-a918-31dc119513cb"
    assert Organization.get_or_none(Organization.id == document["id"]) is not None


def test_create_organization_renders_times_in_the_given_zone(db):
    document = commands.create_organization("Acme", zone_name="Europe/Berlin")
    assert document["created_at"][-6:] in ("+01:00", "+02:00")


def test_create_organization_rejects_a_duplicate_id(db):
    commands.create_organization("Acme", id="4d69a649-135c-44c7-a918-31dc119513cb")
    with pytest.raises(commands.Conflict, match="already exists"):
        commands.create_organization("Other", id="4D69A649-135C-44C7-A918-31DC119513CB")
    assert Organization.select().count() == 1


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "4d69a649135c44c7a91831dc119513cb", "{4d69a649-135c-44c7-a918-31dc119513cb}"])
def test_create_organization_rejects_a_malformed_id(db, bad):
    with pytest.raises(commands.InvalidInput, match="--id must be a UUID"):
        commands.create_organization("Acme", id=bad)


def test_create_organization_needs_a_name(db):
    with pytest.raises(commands.InvalidInput, match="--name"):
        commands.create_organization("   ")


# --- secrets ------------------------------------------------------------------------------------

def test_create_secret_generates_a_256_bit_key(org):
    first = commands.create_secret(org["id"], name="integration")
    second = commands.create_secret(org["id"])
    assert set(first) == {"id", "key", "organization_id"}
    assert first["organization_id"] == org["id"]
    assert len(first["key"]) >= 43  # token_urlsafe(32): 32 random bytes in base64url
    assert first["key"] != second["key"]
    stored = Secret.get_by_id(first["id"])
    assert (stored.key, stored.name, stored.revoked_at) == (first["key"], "integration", None)


def test_create_secret_keeps_a_given_id_and_key(org):
    document = commands.create_secret(org["id"], id="55980758-E728-4138-AE45-724DF75070F6", key="kept-key")
    assert document == {
        "id": "55980758-e728-4138-ae45-724df75070f6",
        "key": "kept-key",
        "organization_id": org["id"],
    }


def test_create_secret_accepts_the_organization_id_in_any_case(org):
    document = commands.create_secret(org["id"].upper())
    assert document["organization_id"] == org["id"]


def test_create_secret_rejects_an_unknown_organization(db):
    with pytest.raises(commands.NotFound, match="no organization"):
        commands.create_secret(str(uuid.uuid4()))


def test_create_secret_rejects_a_duplicate_id(org):
    secret_id = str(uuid.uuid4())
    commands.create_secret(org["id"], id=secret_id, key="first")
    with pytest.raises(commands.Conflict):
        commands.create_secret(org["id"], id=secret_id, key="second")
    assert Secret.get_by_id(secret_id).key == "first"


def test_create_secret_rejects_an_empty_key(org):
    with pytest.raises(commands.InvalidInput, match="--key"):
        commands.create_secret(org["id"], key=" ")


def test_revoke_secret_keeps_the_first_revocation_time(org):
    secret = commands.create_secret(org["id"])
    first = commands.revoke_secret(secret["id"].upper())
    assert first["id"] == secret["id"]
    _parse_time(first["revoked_at"])
    time.sleep(0.01)
    assert commands.revoke_secret(secret["id"]) == first
    assert Secret.get_by_id(secret["id"]).revoked_at is not None


def test_revoke_secret_rejects_an_unknown_or_malformed_id(db):
    with pytest.raises(commands.NotFound, match="no secret"):
        commands.revoke_secret(str(uuid.uuid4()))
    with pytest.raises(commands.InvalidInput):
        commands.revoke_secret("nope")


# --- users --------------------------------------------------------------------------------------

def test_create_user_returns_its_json(org):
    document = commands.create_user(org["id"], "ada@example.org", name="Ada", id="E71DE0CC-FEE9-41F7-A300-C9AA07448402")
    assert document["id"] == "e71de0cc-fee9-41f7-a300-c9aa07448402"
    assert document["organization_id"] == org["id"]
    assert (document["email"], document["name"]) == ("ada@example.org", "Ada")
    _parse_time(document["created_at"])
    assert User.get_by_id(document["id"]).email == "ada@example.org"


@pytest.mark.parametrize("bad", ["", "ada", "@example.org", "ada@", "a@b@c", "ada @example.org"])
def test_create_user_rejects_a_bad_email(org, bad):
    with pytest.raises(commands.InvalidInput, match="--email"):
        commands.create_user(org["id"], bad)


def test_create_user_rejects_a_duplicate_email_in_the_organization(org):
    commands.create_user(org["id"], "ada@example.org")
    with pytest.raises(commands.Conflict, match="already has a user"):
        commands.create_user(org["id"], "ada@example.org")
    with pytest.raises(commands.Conflict, match="already has a user"):
        commands.create_user(org["id"], "Ada@Example.org")
    # The same address in another organization is another user.
    other = commands.create_organization("Other")
    commands.create_user(other["id"], "ada@example.org")
    assert User.select().count() == 2


def test_the_database_itself_refuses_an_address_differing_only_in_case(org):
    commands.create_user(org["id"], "ada@example.org")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        User.insert(id=uuid.uuid4(), organization=org["id"], email="ADA@example.org").execute()


def test_create_user_rejects_a_duplicate_id_or_unknown_organization(org):
    user = commands.create_user(org["id"], "ada@example.org")
    with pytest.raises(commands.Conflict, match="already exists"):
        commands.create_user(org["id"], "bob@example.org", id=user["id"])
    with pytest.raises(commands.NotFound):
        commands.create_user(str(uuid.uuid4()), "ada@example.org")


# --- images -------------------------------------------------------------------------------------

def test_add_image_returns_its_json(org):
    document = commands.add_image(
        org["id"], "00100000123BB236", id="94F5AFC7-6715-4860-ACD6-C226500F459F", filename="cat.png",
        format="png", width=640, height=480, bytes=12345, url="https://cdn.example.org/cat.png",
    )
    created_at = document.pop("created_at")
    _parse_time(created_at)
    assert document == {
        "id": "94f5afc7-6715-4860-acd6-c226500f459f",
        "album_id": "00100000123BB236",
        "organization_id": org["id"],
        "filename": "cat.png",
        "format": "png",
        "width": 640,
        "height": 480,
        "bytes": 12345,
        "url": "https://cdn.example.org/cat.png",
    }
    image = Image.get_by_id(document["id"])
    assert (image.album_id, image.width, image.bytes) == ("00100000123BB236", 640, 12345)


def test_add_image_needs_only_organization_and_album(org):
    document = commands.add_image(org["id"], "a-b_c.d")
    assert document["filename"] is None and document["width"] is None


@pytest.mark.parametrize("album", ["", "has space", "slash/y", "colon:x", "ü", "x" * 256])
def test_add_image_rejects_a_bad_album_id(org, album):
    with pytest.raises(commands.InvalidInput, match="--album"):
        commands.add_image(org["id"], album)


def test_add_image_accepts_a_255_character_album_id(org):
    assert commands.add_image(org["id"], "x" * 255)["album_id"] == "x" * 255


@pytest.mark.parametrize("field", ["width", "height", "bytes"])
def test_add_image_rejects_negative_sizes(org, field):
    with pytest.raises(commands.InvalidInput, match=f"--{field} must not be negative"):
        commands.add_image(org["id"], "album", **{field: -1})
    assert Image.select().count() == 0


def test_add_image_rejects_sizes_beyond_the_columns(org):
    with pytest.raises(commands.InvalidInput, match="--width must be at most"):
        commands.add_image(org["id"], "album", width=2**31)


def test_add_image_rejects_a_duplicate_id_or_unknown_organization(org):
    image = commands.add_image(org["id"], "album")
    with pytest.raises(commands.Conflict):
        commands.add_image(org["id"], "album", id=image["id"])
    with pytest.raises(commands.NotFound):
        commands.add_image(str(uuid.uuid4()), "album")


# --- tokens -------------------------------------------------------------------------------------

def test_mint_token_for_a_secret_has_the_reference_claims(org):
    secret = commands.create_secret(org["id"], id="55980758-e728-4138-ae45-724df75070f6", key="seed-key")
    token = commands.mint_token(
        SIGNING_KEY, secret_id=secret["id"].upper(), abilities=["00100000123BB236:image_copy"]
    )["token"]
    claims = tokens.verify(token, "seed-key")
    assert list(claims) == ["abilities", "iss"]
    assert claims == {
        "abilities": {"00100000123BB236": {"Access": {"image_copy": True}}},
        "iss": "55980758-e728-4138-ae45-724df75070f6",
    }
    # The seed's token: same claims, same key order, same header, so the same first two parts.
    seed_token = (
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhYmlsaXRpZXMiOnsiMDAxMDAwMDAxMjNCQjIzNiI6eyJBY2Nlc3MiOnsi"
        "aW1hZ2VfY29weSI6dHJ1ZX19fSwiaXNzIjoiNTU5ODA3NTgtZTcyOC00MTM4LWFlNDUtNzI0ZGY3NTA3MGY2In0"
    )
    assert token.rsplit(".", 1)[0] == seed_token
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(token, SIGNING_KEY)


def test_mint_token_for_a_user_is_signed_with_the_service_key(org):
    user = commands.create_user(org["id"], "ada@example.org")
    token = commands.mint_token(
        SIGNING_KEY, user_id=user["id"], abilities=["album-1:paste", "album-1:image_list", "album-2:image_upload"]
    )["token"]
    claims = tokens.verify(token, SIGNING_KEY)
    assert list(claims) == ["user_id", "abilities"]
    assert claims == {
        "user_id": user["id"],
        "abilities": {
            "album-1": {"Access": {"paste": True, "image_list": True}},
            "album-2": {"Access": {"image_upload": True}},
        },
    }


def test_mint_token_with_a_ttl_has_iat_and_exp(org):
    secret = commands.create_secret(org["id"])
    token = commands.mint_token(SIGNING_KEY, secret_id=secret["id"], ttl=600, now=1554745142)["token"]
    claims = tokens.peek(token)
    assert claims == {"abilities": {}, "iss": secret["id"], "iat": 1554745142, "exp": 1554745742}
    fresh = commands.mint_token(SIGNING_KEY, secret_id=secret["id"], ttl=600)["token"]
    verified = tokens.verify(fresh, secret["key"])
    assert verified["exp"] - verified["iat"] == 600
    assert abs(verified["iat"] - time.time()) < 60


def test_mint_token_without_ttl_has_no_exp(org):
    secret = commands.create_secret(org["id"])
    claims = tokens.verify(commands.mint_token(SIGNING_KEY, secret_id=secret["id"])["token"], secret["key"])
    assert "exp" not in claims and "iat" not in claims


def test_mint_token_refuses_a_revoked_or_unknown_secret(org):
    secret = commands.create_secret(org["id"])
    commands.revoke_secret(secret["id"])
    with pytest.raises(commands.Conflict, match="revoked"):
        commands.mint_token(SIGNING_KEY, secret_id=secret["id"])
    with pytest.raises(commands.NotFound, match="no secret"):
        commands.mint_token(SIGNING_KEY, secret_id=str(uuid.uuid4()))


def test_mint_token_refuses_an_unknown_user(db):
    with pytest.raises(commands.NotFound, match="no user"):
        commands.mint_token(SIGNING_KEY, user_id=str(uuid.uuid4()))


@pytest.mark.parametrize(
    "ability, message",
    [
        ("album", "ALBUM:ABILITY"),
        ("album:delete", "unknown ability"),
        ("album:", "unknown ability"),
        (":paste", "album"),
        ("bad album:paste", "album"),
    ],
)
def test_mint_token_rejects_bad_abilities(org, ability, message):
    secret = commands.create_secret(org["id"])
    with pytest.raises(commands.InvalidInput, match=message):
        commands.mint_token(SIGNING_KEY, secret_id=secret["id"], abilities=[ability])


@pytest.mark.parametrize("ttl", [0, -5])
def test_mint_token_rejects_a_ttl_that_is_not_positive(org, ttl):
    secret = commands.create_secret(org["id"])
    with pytest.raises(commands.InvalidInput, match="--ttl"):
        commands.mint_token(SIGNING_KEY, secret_id=secret["id"], ttl=ttl)


def test_mint_token_needs_exactly_one_subject(db):
    with pytest.raises(commands.InvalidInput):
        commands.mint_token(SIGNING_KEY)
    with pytest.raises(commands.InvalidInput):
        commands.mint_token(SIGNING_KEY, secret_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()))
