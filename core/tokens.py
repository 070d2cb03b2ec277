"""Sign, verify and refresh the service's JWTs (HS256 only).

Two kinds of caller sign tokens: an organization's integration signs with one of its secrets and
names it in `iss`; the service signs user tokens (`user_id`, no `iss`) with its own key.
"""
import jwt

ALGORITHMS = ["HS256"]
# Clock skew tolerated between the signer and this service for exp, nbf and iat.
LEEWAY_SECONDS = 10
_LEADING_CLAIMS = ("iss", "user_id")  # the reference's order: exp, iat, iss, then the rest
_HEADER_ORDER_OPTIONS = {"sort_headers": False}  # {"typ":"JWT","alg":"HS256"}, as the reference


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, for logs (never for the client)."""


def peek(token):
    """Return the unverified claims, after checking the token is a well-formed HS256 JWT."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        claims = jwt.decode(token, options={"verify_signature": False}, algorithms=ALGORITHMS)
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    return claims


def verify(token, key):
    """Return the claims if `key` signed `token` and its exp/nbf/iat hold; else InvalidToken."""
    try:
        return jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            leeway=LEEWAY_SECONDS,
            options={"require": [], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None


def check_times(claims, now):
    """Raise InvalidToken unless exp, nbf and iat (where present) hold at `now`, with the leeway."""
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if exp is not None and now > exp + LEEWAY_SECONDS:
        raise InvalidToken("the token has expired")
    if nbf is not None and now < nbf - LEEWAY_SECONDS:
        raise InvalidToken("the token is not yet valid")
    if iat is not None and now < iat - LEEWAY_SECONDS:
        raise InvalidToken("the token was issued in the future")


def sign(claims, key):
    return jwt.encode(claims, key, algorithm="HS256", headers=None, **_HEADER_ORDER_OPTIONS)


def refresh(claims, key, now, ttl_seconds):
    """Return the sliding-session token: the same claims with iat=now and exp=now+ttl."""
    renewed = {"exp": now + ttl_seconds, "iat": now}
    for name in _LEADING_CLAIMS:
        if name in claims:
            renewed[name] = claims[name]
    renewed.update((name, value) for name, value in claims.items() if name not in renewed)
    return sign(renewed, key)


def albums_with(claims, ability):
    """Return, in token order, the album ids whose `Access` grants `ability`."""
    abilities = claims.get("abilities")
    if not isinstance(abilities, dict):
        return []
    granted = []
    for album_id, grants in abilities.items():
        access = grants.get("Access") if isinstance(grants, dict) else None
        if isinstance(access, dict) and access.get(ability) is True:
            granted.append(album_id)
    return granted
