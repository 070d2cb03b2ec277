"""Authenticator unit tests: remembered tokens are re-checked for time and revocation."""
import time

import pytest

from api import errors
from api.auth import Authenticator, extract_token
from api.keystore import KeyStoreUnavailable, SecretRecord
from core import tokens

SECRET_ID = "55980758-e728-4138-ae45-724df75070f6"
KEY = "a-secret-key-that-is-long-enough-for-hs256"


class FakeKeyStore:
    def __init__(self):
        self.secrets = {SECRET_ID: SecretRecord(KEY, "org-1")}
        self.users = {}
        self.lookups = 0
        self.down = False

    def secret(self, secret_id):
        self.lookups += 1
        if self.down:
            raise KeyStoreUnavailable("down")
        return self.secrets.get(secret_id)

    def user_organization(self, user_id):
        return self.users.get(user_id)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def header(claims, key=KEY):
    return f'Token token="{tokens.sign(claims, key)}"'


@pytest.mark.parametrize(
    "value, expected",
    [('Token token="abc"', "abc"), ("Token token=abc", "abc"), ("Token abc", "abc"), ("Bearer abc", "abc"),
     ("Basic abc", None), ("", None), (None, None), ('Token token=""', None)],
)
def test_extract_token(value, expected):
    assert extract_token(value) == expected


def test_a_remembered_token_expires_on_time():
    clock = Clock(int(time.time()))
    authenticator = Authenticator(FakeKeyStore(), "service-key", clock=clock)
    value = header({"iss": SECRET_ID, "exp": clock.now + 100})
    assert authenticator.authenticate(value).organization_id == "org-1"
    clock.now += 100 + tokens.LEEWAY_SECONDS + 1
    with pytest.raises(errors.Problem) as refused:
        authenticator.authenticate(value)
    assert refused.value.status_code == 401


def test_a_remembered_token_stops_working_when_its_secret_is_revoked():
    keystore = FakeKeyStore()
    authenticator = Authenticator(keystore, "service-key", clock=Clock(1_000_000))
    value = header({"iss": SECRET_ID})
    authenticator.authenticate(value)
    del keystore.secrets[SECRET_ID]
    with pytest.raises(errors.Problem) as refused:
        authenticator.authenticate(value)
    assert refused.value.status_code == 401


def test_a_remembered_token_stops_working_when_its_secret_key_changes():
    keystore = FakeKeyStore()
    authenticator = Authenticator(keystore, "service-key", clock=Clock(1_000_000))
    value = header({"iss": SECRET_ID})
    authenticator.authenticate(value)
    keystore.secrets[SECRET_ID] = SecretRecord("another-key-another-key-another-key", "org-1")
    with pytest.raises(errors.Problem):
        authenticator.authenticate(value)


def test_a_remembered_user_token_stops_working_when_the_user_is_gone():
    keystore = FakeKeyStore()
    keystore.users["u-1"] = "org-1"
    authenticator = Authenticator(keystore, "service-key-service-key-service-key", clock=Clock(1_000_000))
    value = header({"user_id": "u-1"}, key="service-key-service-key-service-key")
    assert authenticator.authenticate(value).user_id == "u-1"
    del keystore.users["u-1"]
    with pytest.raises(errors.Problem):
        authenticator.authenticate(value)


def test_unreachable_key_store_is_503():
    keystore = FakeKeyStore()
    keystore.down = True
    with pytest.raises(errors.Problem) as refused:
        Authenticator(keystore, "k").authenticate(header({"iss": SECRET_ID}))
    assert refused.value.status_code == 503


def test_refreshed_token_is_made_once_per_second():
    authenticator = Authenticator(FakeKeyStore(), "k", clock=Clock(1_000_000))
    caller = authenticator.authenticate(header({"iss": SECRET_ID}))
    first = caller.refreshed_token(1_000_000, 60)
    assert caller.refreshed_token(1_000_000, 60) is first
    later = caller.refreshed_token(1_000_001, 60)
    assert tokens.peek(later)["iat"] == 1_000_001
