"""One function per admin command; each takes explicit arguments and returns a JSON-safe dict.

The models must already be bound to a database (`models.db.bind`). Bad input raises
`InvalidInput`; a missing or conflicting row raises `NotFound` or `Conflict`. The caller turns
these into a message and an exit code; nothing here prints or exits.
"""
import secrets as random_secrets
import time
import uuid

from peewee import IntegrityError, fn

from core import albums, timefmt, tokens
from core.ids import CANONICAL_UUID
from models import Image, Organization, Secret, User, database
from models.migrate import migrate as apply_migrations

# The abilities this service reads from a token (see DESIGN.md, "Tokens and abilities").
ABILITIES = ("image_copy", "paste", "image_upload", "image_list")
# 32 random bytes: 256 bits, the HS256 key size RFC 7518 asks for.
GENERATED_KEY_BYTES = 32
# Column limits of models/migrations/0001_initial.py, checked here so bad input is a clear error.
EMAIL_MAX_LENGTH = 320
FORMAT_MAX_LENGTH = 32
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


class CommandError(Exception):
    """The command cannot do what was asked; the message is for the operator."""

    exit_code = 1


class InvalidInput(CommandError):
    exit_code = 2


class NotFound(CommandError):
    exit_code = 1


class Conflict(CommandError):
    exit_code = 1


# --- validation ---------------------------------------------------------------------------------

def parse_uuid(value, option):
    """Return the canonical lower-case form of a UUID given in any case; InvalidInput otherwise."""
    if not isinstance(value, str) or not CANONICAL_UUID.fullmatch(value.strip()):
        raise InvalidInput(f"{option} must be a UUID like 4d595b76-a3a8-437a-95ca-6ebc1a244d69, got {value!r}")
    return str(uuid.UUID(value.strip()))


def _optional_uuid(value, option):
    return None if value is None else parse_uuid(value, option)


def parse_album_id(value, option="--album"):
    if not albums.is_album_id(value):
        raise InvalidInput(f"{option} must be {albums.DESCRIPTION}, got {value!r}")
    return value


def parse_email(value):
    email = (value or "").strip()
    local, at, domain = email.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in email):
        raise InvalidInput(f"--email must be one address like name@example.org, got {value!r}")
    if len(email) > EMAIL_MAX_LENGTH:
        raise InvalidInput(f"--email must be at most {EMAIL_MAX_LENGTH} characters")
    return email


def _required_text(value, option):
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{option} must not be empty")
    return text


def _optional_text(value, option):
    if value is None:
        return None
    return _required_text(value, option)


def _size(value, option, maximum):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{option} must be a whole number, got {value!r}")
    if value < 0:
        raise InvalidInput(f"{option} must not be negative, got {value}")
    if value > maximum:
        raise InvalidInput(f"{option} must be at most {maximum}, got {value}")
    return value


def parse_ability(value):
    """Split `ALBUM:ABILITY` (the album may not contain ':'); InvalidInput when either is wrong."""
    album_id, colon, ability = (value or "").rpartition(":")
    if not colon:
        raise InvalidInput(f"--ability must look like ALBUM:ABILITY, got {value!r}")
    parse_album_id(album_id, "--ability's album")
    if ability not in ABILITIES:
        raise InvalidInput(f"--ability {value!r}: unknown ability {ability!r}; known: {', '.join(ABILITIES)}")
    return album_id, ability


def abilities_claim(abilities):
    """Build `{album: {"Access": {ability: true}}}` from `ALBUM:ABILITY` strings, merging albums."""
    claim = {}
    for value in abilities or ():
        album_id, ability = parse_ability(value)
        claim.setdefault(album_id, {"Access": {}})["Access"][ability] = True
    return claim


# --- rendering ----------------------------------------------------------------------------------

def organization_json(organization, zone_name="UTC"):
    return {
        "id": str(organization.id),
        "name": organization.name,
        "created_at": timefmt.render(organization.created_at, zone_name),
    }


def user_json(user, zone_name="UTC"):
    return {
        "id": str(user.id),
        "organization_id": str(user.organization_id),
        "email": user.email,
        "name": user.name,
        "created_at": timefmt.render(user.created_at, zone_name),
    }


def image_json(image, zone_name="UTC"):
    return {
        "id": str(image.id),
        "album_id": image.album_id,
        "organization_id": str(image.organization_id),
        "filename": image.filename,
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "bytes": image.bytes,
        "url": image.url,
        "created_at": timefmt.render(image.created_at, zone_name),
    }


# --- commands -----------------------------------------------------------------------------------

def migrate(db):
    """Apply pending migrations to `db` (an unproxied database); running it again applies none."""
    return {"applied": list(apply_migrations(db))}


def _organization(organization_id, option="--organization"):
    organization_id = parse_uuid(organization_id, option)
    organization = Organization.get_or_none(Organization.id == organization_id)
    if organization is None:
        raise NotFound(f"no organization with id {organization_id}")
    return organization


def _insert(model, what, id, **fields):
    """Insert one row with an optional explicit id; Conflict if that id is taken."""
    if id is not None:
        fields["id"] = id
    try:
        with database.atomic():
            if id is not None and model.get_or_none(model.id == id) is not None:
                raise Conflict(f"{what} {id} already exists")
            return model.create(**fields)
    except IntegrityError:
        # Another process inserted the same id between the check and the insert; any other
        # constraint (a user's email) is the caller's to explain.
        if id is not None and model.get_or_none(model.id == id) is not None:
            raise Conflict(f"{what} {id} already exists") from None
        raise


def create_organization(name, id=None, zone_name="UTC"):
    name = _required_text(name, "--name")
    id = _optional_uuid(id, "--id")
    return organization_json(_insert(Organization, "organization", id, name=name), zone_name)


def create_secret(organization, name=None, id=None, key=None):
    """Create a secret; without `key`, generate one with 256 bits of randomness."""
    id = _optional_uuid(id, "--id")
    name = _optional_text(name, "--name")
    if key is None:
        key = random_secrets.token_urlsafe(GENERATED_KEY_BYTES)
    elif not key.strip():
        raise InvalidInput("--key must not be empty")
    owner = _organization(organization)
    secret = _insert(Secret, "secret", id, organization=owner, name=name, key=key)
    return {"id": str(secret.id), "key": secret.key, "organization_id": str(owner.id)}


def revoke_secret(id, zone_name="UTC"):
    """Revoke a secret; revoking it again keeps the first revoked_at."""
    id = parse_uuid(id, "--id")
    with database.atomic():
        Secret.update(revoked_at=timefmt.utcnow(), updated_at=timefmt.utcnow()).where(
            (Secret.id == id) & Secret.revoked_at.is_null()
        ).execute()
        secret = Secret.get_or_none(Secret.id == id)
    if secret is None:
        raise NotFound(f"no secret with id {id}")
    return {"id": str(secret.id), "revoked_at": timefmt.render(secret.revoked_at, zone_name)}


def create_user(organization, email, id=None, name=None, zone_name="UTC"):
    id = _optional_uuid(id, "--id")
    email = parse_email(email)
    name = _optional_text(name, "--name")
    owner = _organization(organization)
    duplicate = Conflict(f"organization {owner.id} already has a user with email {email}")
    try:
        with database.atomic():
            # Addresses differing only in case reach the same mailbox in practice: one user each.
            taken = User.select().where(
                (User.organization == owner) & (fn.LOWER(User.email) == email.lower())
            ).exists()
            if taken:
                raise duplicate
            user = _insert(User, "user", id, organization=owner, email=email, name=name)
    except IntegrityError:
        raise duplicate from None
    return user_json(user, zone_name)


def add_image(organization, album, id=None, filename=None, format=None, width=None, height=None,
              bytes=None, url=None, zone_name="UTC"):
    id = _optional_uuid(id, "--id")
    album = parse_album_id(album)
    filename = _optional_text(filename, "--filename")
    url = _optional_text(url, "--url")
    if format is not None:
        format = _required_text(format, "--format").lower()
        if len(format) > FORMAT_MAX_LENGTH:
            raise InvalidInput(f"--format must be at most {FORMAT_MAX_LENGTH} characters")
    fields = dict(
        album_id=album,
        filename=filename,
        format=format,
        width=_size(width, "--width", INTEGER_MAX),
        height=_size(height, "--height", INTEGER_MAX),
        bytes=_size(bytes, "--bytes", BIGINT_MAX),
        url=url,
    )
    owner = _organization(organization)
    image = _insert(Image, "image", id, organization=owner, **fields)
    return image_json(image, zone_name)


def mint_token(signing_key, secret_id=None, user_id=None, abilities=(), ttl=None, now=None):
    """Sign a token for a secret (with its key) or a user (with `signing_key`).

    Claims follow the reference's order: `abilities` then `iss` for a secret, `user_id` then
    `abilities` for a user; with `ttl`, `iat`=now and `exp`=now+ttl follow. No ttl, no exp.
    """
    if (secret_id is None) == (user_id is None):
        raise InvalidInput("give exactly one of --secret-id and --user-id")
    claim = abilities_claim(abilities)
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
        raise InvalidInput(f"--ttl must be a positive number of seconds, got {ttl!r}")
    if secret_id is not None:
        secret_id = parse_uuid(secret_id, "--secret-id")
        secret = Secret.get_or_none(Secret.id == secret_id)
        if secret is None:
            raise NotFound(f"no secret with id {secret_id}")
        if secret.revoked_at is not None:
            raise Conflict(f"secret {secret_id} was revoked at {timefmt.render(secret.revoked_at)}")
        claims, key = {"abilities": claim, "iss": secret_id}, secret.key
    else:
        user_id = parse_uuid(user_id, "--user-id")
        if User.get_or_none(User.id == user_id) is None:
            raise NotFound(f"no user with id {user_id}")
        claims, key = {"user_id": user_id, "abilities": claim}, signing_key
    if ttl is not None:
        issued = int(time.time()) if now is None else int(now)
        claims["iat"] = issued
        claims["exp"] = issued + ttl
    return {"token": tokens.sign(claims, key)}
