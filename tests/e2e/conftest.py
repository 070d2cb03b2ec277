"""End-to-end fixtures: the real app (Falcon test client) and real worker processes."""
import pytest
import redis as redis_module
from falcon import testing

from api.app import create_app


@pytest.fixture
def client(settings, redis_url, db):
    return testing.TestClient(create_app(settings, redis_module.Redis.from_url(redis_url)))
