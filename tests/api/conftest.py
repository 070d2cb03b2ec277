"""API test fixtures: the real app on the test Redis and PostgreSQL, through Falcon's test client."""
import json

import pytest
import redis as redis_module
from falcon import testing

from api.app import create_app
from core import messages


@pytest.fixture
def make_client(settings, redis_url, db):
    def make(settings=settings, redis_url=redis_url):
        client = redis_module.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        return testing.TestClient(create_app(settings, client))

    return make


@pytest.fixture
def client(make_client):
    return make_client()




@pytest.fixture
def queued(redis_client):
    """Return the task messages waiting in the queue, oldest first, as (headers, kwargs)."""

    def read():
        found = []
        for raw in reversed(redis_client.lrange(messages.QUEUE, 0, -1)):
            envelope = json.loads(raw)
            args, kwargs, _embed = json.loads(envelope["body"])
            found.append((envelope["headers"], kwargs))
        return found

    return read
