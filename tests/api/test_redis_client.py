"""The web process's redis-py client (reads, /readyz, /metrics): how often it tries."""
import pytest
import redis as redis_module

from api.app import redis_client
from core import settings as settings_module


def client_for(server):
    settings = settings_module.load({"REDIS_URL": server.url, "CLIPBOARD_ENV": "test",
                                     "DATABASE_URL": "postgresql://unused/unused", "REDIS_TIMEOUT": "0.3"})
    return redis_client(settings)


def test_a_closed_connection_is_tried_once_more(fake_redis):
    server = fake_redis("close")
    with pytest.raises(redis_module.ConnectionError):
        client_for(server).hgetall("clipboard:x")
    assert len(server.accepted) == 2


def test_a_timeout_is_not_retried(fake_redis):
    server = fake_redis("silent")
    with pytest.raises(redis_module.TimeoutError):
        client_for(server).hgetall("clipboard:x")
    assert len(server.accepted) == 1
