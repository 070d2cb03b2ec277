"""Reading Redis's persistence settings, on a Redis with the prescribed ones and after changing them."""
import logging

import pytest
import redis as redis_module

from api import redis_durability


@pytest.fixture
def durable_client(private_redis):
    client = redis_module.Redis.from_url(private_redis.url)
    yield client
    client.close()


def test_the_prescribed_settings_have_no_shortfalls(durable_client, caplog):
    found = redis_durability.read_settings(durable_client)
    assert found == {"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction"}
    assert redis_durability.shortfalls(found) == []
    with caplog.at_level(logging.WARNING):
        redis_durability.warn_unless_durable(durable_client)
    assert caplog.records == []


def test_each_setting_that_differs_is_named_and_logged(durable_client, caplog):
    durable_client.config_set("appendfsync", "everysec")
    durable_client.config_set("maxmemory-policy", "allkeys-lru")
    assert redis_durability.shortfalls(redis_durability.read_settings(durable_client)) == [
        "appendfsync is 'everysec', must be 'always'",
        "maxmemory-policy is 'allkeys-lru', must be 'noeviction'",
    ]
    with caplog.at_level(logging.WARNING):
        redis_durability.warn_unless_durable(durable_client)
    assert "appendfsync is 'everysec', must be 'always'" in caplog.text


def test_a_setting_redis_does_not_report_is_a_shortfall():
    assert redis_durability.shortfalls({"appendonly": "yes", "appendfsync": "always"}) == [
        "maxmemory-policy is None, must be 'noeviction'"
    ]


def test_a_refused_config_get_reads_as_unknown(durable_client, caplog):
    durable_client.execute_command("ACL", "SETUSER", "default", "-config")
    with caplog.at_level(logging.WARNING):
        assert redis_durability.read_settings(durable_client) is None
        redis_durability.warn_unless_durable(durable_client)
    assert "refused CONFIG GET" in caplog.text


def test_an_unreachable_redis_is_logged_not_raised(caplog):
    with caplog.at_level(logging.WARNING):
        redis_durability.warn_unless_durable(redis_module.Redis.from_url("redis://127.0.0.1:1/0"))
    assert "cannot check Redis persistence now" in caplog.text
