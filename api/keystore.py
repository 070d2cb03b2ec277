"""Find the key that verifies a token, through a small in-process cache in front of PostgreSQL.

A found secret is trusted for `ttl` seconds, so a revocation takes effect within that time. When
PostgreSQL cannot be reached, an entry past its time is still served: a database outage must not
stop requests whose secret is already known. A miss is remembered briefly, so a flood of tokens
naming unknown secrets does not become a flood of queries.
"""
import logging
import time
import uuid
from dataclasses import dataclass

import peewee

from core.ids import CANONICAL_UUID
from models import Secret, User, database

log = logging.getLogger(__name__)
MISS_TTL_SECONDS = 5
MAX_ENTRIES = 100_000


class KeyStoreUnavailable(Exception):
    """PostgreSQL is unreachable and the answer is not cached."""


@dataclass(frozen=True)
class SecretRecord:
    key: str
    organization_id: str


def find_secret(secret_id):
    """Return the live secret with that id, or None (unknown or revoked)."""
    row = (
        Secret.select(Secret.key, Secret.organization)
        .where((Secret.id == secret_id) & Secret.revoked_at.is_null())
        .tuples()
        .first()
    )
    return SecretRecord(key=row[0], organization_id=str(row[1])) if row else None


def find_user_organization(user_id):
    """Return the organization id of that user, or None."""
    row = User.select(User.organization).where(User.id == user_id).tuples().first()
    return str(row[0]) if row else None


class CachedLookup:
    """Memoise a database lookup by key, with a time to live and stale service on outage."""

    def __init__(self, lookup, ttl, clock=time.monotonic):
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._entries = {}

    def get(self, key):
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now < entry[1]:
            return entry[0]
        try:
            with database.connection_context():
                value = self._lookup(key)
        except peewee.DatabaseError as error:
            if entry is not None and entry[0] is not None:
                log.warning("key lookup failed, serving cached entry key=%s error=%s", key, error)
                return entry[0]
            raise KeyStoreUnavailable(str(error)) from error
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (value, now + (self._ttl if value is not None else min(self._ttl, MISS_TTL_SECONDS)))
        return value


def is_uuid(text):
    if isinstance(text, str) and CANONICAL_UUID.fullmatch(text):
        return True  # the form tokens carry; checked on every request, so without parsing
    try:
        uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


class KeyStore:
    """Secrets by id and users' organizations by user id, each through a CachedLookup."""

    def __init__(self, ttl, find_secret=find_secret, find_user_organization=find_user_organization):
        self._secrets = CachedLookup(find_secret, ttl)
        self._users = CachedLookup(find_user_organization, ttl)

    def secret(self, secret_id):
        return self._secrets.get(secret_id.lower()) if is_uuid(secret_id) else None

    def user_organization(self, user_id):
        return self._users.get(user_id.lower()) if is_uuid(user_id) else None
