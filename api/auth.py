"""Authenticate a request from its Authorization header into a Caller."""
import functools
import re
import time
from dataclasses import dataclass

from api import errors
from api.keystore import KeyStoreUnavailable
from core import tokens

# `Token token="<jwt>"` (the Rails form), `Token token=<jwt>`, `Token <jwt>` and `Bearer <jwt>`.
_AUTHORIZATION = re.compile(r'^\s*(?:Token\s+token="([^"]*)"|Token\s+token=(\S+)|(?:Token|Bearer)\s+(\S+))\s*$', re.I)


@dataclass(frozen=True)
class Caller:
    organization_id: str
    user_id: str | None
    claims: dict
    key: str  # the key that verified the token; it also signs the refreshed X-token

    def albums_with(self, ability):
        """The token's albums granting `ability`, worked out once per caller (do not modify)."""
        albums = self._albums_by_ability.get(ability)
        if albums is None:
            albums = self._albums_by_ability[ability] = tokens.albums_with(self.claims, ability)
        return albums

    def may(self, ability, album_id):
        return album_id in self.albums_with(ability)

    def refreshed_token(self, now, ttl_seconds):
        """The X-token for this caller at `now` (whole seconds); made once per second."""
        made = self._refreshed.get("made")
        if made is None or made[0] != now:
            made = (now, tokens.refresh(self.claims, self.key, now, ttl_seconds))
            self._refreshed["made"] = made
        return made[1]

    @functools.cached_property
    def _albums_by_ability(self):
        return {}

    @functools.cached_property
    def _refreshed(self):
        return {}


def extract_token(authorization):
    if not authorization:
        return None
    match = _AUTHORIZATION.match(authorization)
    if not match:
        return None
    return next(group for group in match.groups() if group is not None) or None


class Authenticator:
    """Verify tokens, remembering the ones already verified.

    Clients send the same token many times. A remembered token is trusted again only while its
    time claims hold and the key store still gives the same key for its issuer (or the same
    organization for its user), so revocation works exactly as without the memory.
    """

    MAX_REMEMBERED = 10_000

    def __init__(self, keystore, signing_key, clock=time.time):
        self._keystore = keystore
        self._signing_key = signing_key
        self._clock = clock
        self._verified = {}

    def authenticate(self, authorization):
        """Return the Caller the header proves, or raise a 401 (or 503 if keys are unreachable)."""
        # Remembered by the whole header, so a known client's header is not parsed again.
        caller = self._verified.get(authorization) if authorization else None
        try:
            if caller is not None and self._still_valid(caller):
                return caller
            token = extract_token(authorization)
            if token is None:
                raise errors.unauthorized("An Authorization header with a token is required.")
            caller = self._verify(token)
        except tokens.InvalidToken:
            self._verified.pop(authorization, None)
            raise errors.unauthorized() from None
        except KeyStoreUnavailable:
            raise errors.unavailable("Token keys cannot be looked up right now.") from None
        if len(self._verified) >= self.MAX_REMEMBERED:
            self._verified.clear()
        self._verified[authorization] = caller
        return caller

    def _still_valid(self, caller):
        tokens.check_times(caller.claims, self._clock())
        if caller.user_id is None:
            secret = self._keystore.secret(caller.claims["iss"])
            return secret is not None and secret.key == caller.key
        return self._keystore.user_organization(caller.user_id) == caller.organization_id

    def _verify(self, token):
        unverified = tokens.peek(token)
        issuer = unverified.get("iss")
        if issuer is not None:
            return self._as_integration(token, issuer)
        user_id = unverified.get("user_id")
        if user_id is not None:
            return self._as_user(token, user_id)
        raise tokens.InvalidToken("the token names neither an issuer nor a user")

    def _as_integration(self, token, issuer):
        secret = self._keystore.secret(issuer) if isinstance(issuer, str) else None
        if secret is None:
            raise tokens.InvalidToken("unknown or revoked issuer")
        claims = tokens.verify(token, secret.key)
        return Caller(secret.organization_id, None, claims, secret.key)

    def _as_user(self, token, user_id):
        claims = tokens.verify(token, self._signing_key)
        organization_id = self._keystore.user_organization(user_id) if isinstance(user_id, str) else None
        if organization_id is None:
            raise tokens.InvalidToken("unknown user")
        return Caller(organization_id, user_id.lower(), claims, self._signing_key)
