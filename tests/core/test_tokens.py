"""core.tokens: HS256 only, time claims enforced, refresh keeps every claim in the reference's order."""
import time

import jwt
import pytest

from core import tokens

KEY = "a-key-that-is-long-enough-for-hs256-signatures"


def test_sign_uses_the_references_header():
    header = tokens.sign({"iss": "x"}, KEY).split(".")[0]
    assert header == "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"  # {"typ":"JWT","alg":"HS256"}, as in the seed


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_algorithms_are_refused(algorithm):
    token = jwt.encode({"iss": "x"}, KEY, algorithm=algorithm)
    with pytest.raises(tokens.InvalidToken):
        tokens.peek(token)
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(token, KEY)


def test_time_claims_are_enforced_with_the_leeway():
    now = int(time.time())
    assert tokens.verify(tokens.sign({"exp": now - tokens.LEEWAY_SECONDS + 2}, KEY), KEY)
    for claims in ({"exp": now - tokens.LEEWAY_SECONDS - 5}, {"nbf": now + tokens.LEEWAY_SECONDS + 5},
                   {"iat": now + tokens.LEEWAY_SECONDS + 5}):
        with pytest.raises(tokens.InvalidToken):
            tokens.verify(tokens.sign(claims, KEY), KEY)
        with pytest.raises(tokens.InvalidToken):
            tokens.check_times(claims, now)


def test_refresh_keeps_every_claim_and_slides_the_expiry():
    claims = {"abilities": {"A": {"Access": {"image_copy": True}}}, "iss": "secret-id", "exp": 1, "iat": 1, "x": [1]}
    refreshed = tokens.peek(tokens.refresh(claims, KEY, 1000, 60))
    assert list(refreshed) == ["exp", "iat", "iss", "abilities", "x"]
    assert (refreshed["exp"], refreshed["iat"]) == (1060, 1000)
    assert {k: v for k, v in refreshed.items() if k not in ("exp", "iat")} == {
        k: v for k, v in claims.items() if k not in ("exp", "iat")
    }


@pytest.mark.parametrize(
    "claims, expected",
    [
        ({"abilities": {"A": {"Access": {"image_copy": True}}, "B": {"Access": {"paste": True}}}}, ["A"]),
        ({"abilities": {"A": {"Access": {"image_copy": "yes"}}}}, []),
        ({"abilities": {"A": {"Access": ["image_copy"]}}}, []),
        ({"abilities": ["A"]}, []),
        ({}, []),
    ],
)
def test_albums_with_an_ability(claims, expected):
    assert tokens.albums_with(claims, "image_copy") == expected
