"""core.settings: defaults, coercion, and refusing to start without a signing key in production."""
import pytest

from core.settings import DEVELOPMENT_SIGNING_KEY, ConfigurationError, load


def test_defaults():
    settings = load({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r/1"})
    assert (settings.database_url, settings.redis_url) == ("postgresql://db/x", "redis://r/1")
    assert settings.token_ttl_seconds == 14400
    assert settings.time_zone == "UTC"
    assert settings.port == 8000
    assert settings.max_clipboard_images == 1000
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.signing_key == DEVELOPMENT_SIGNING_KEY
    assert settings.visibility_timeout == 300


def test_production_refuses_to_start_without_a_signing_key():
    with pytest.raises(ConfigurationError, match="CLIPBOARD_SIGNING_KEY"):
        load({"CLIPBOARD_ENV": "production"})
    assert load({"CLIPBOARD_ENV": "production", "CLIPBOARD_SIGNING_KEY": "k" * 40}).signing_key == "k" * 40


@pytest.mark.parametrize("name, value", [("PORT", "eighty"), ("TOKEN_TTL_SECONDS", "0"), ("MAX_CLIPBOARD_IMAGES", "-1"),
                                         ("REDIS_TIMEOUT", "soon")])
def test_bad_numbers_are_refused_with_the_variable_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        load({name: value})


def test_time_zone_from_clipboard_time_zone_then_tz():
    assert load({"TZ": "Europe/Paris"}).time_zone == "Europe/Paris"
    assert load({"TZ": "Europe/Paris", "CLIPBOARD_TIME_ZONE": "Asia/Kolkata"}).time_zone == "Asia/Kolkata"
