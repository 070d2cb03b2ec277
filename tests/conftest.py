"""Fixtures on real PostgreSQL and Redis.

TEST_DATABASE_URL and TEST_REDIS_URL name the servers (CI points them at the machine's own);
unset, the embedded development servers of dev/embedded.py are started. Each run creates a fresh
database, migrates it once, and every test starts with empty tables and an empty Redis database.
"""
import os
import uuid

import pytest
import redis as redis_module

from core import settings as settings_module
from models import database as database_proxy
from models.db import bind
from models.migrate import migrate
from tests.support.factories import Tenant
from tests.support.fake_redis import FakeRedis
from tests.support.private_redis import PrivateRedis
from models.server_admin import run_admin, with_database
from tests.support.processes import WorkerProcess, worker_env

# Concurrent test runs on one Redis each take a database of their own, marked by this key.
RUN_MARKER = "clipboard-test-run"


def _server_urls():
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if database_url and redis_url:
        return database_url, redis_url
    from dev import embedded

    urls = embedded.ensure_servers(embedded.TEST_PROFILE)
    return database_url or urls["database_url"], redis_url or urls["redis_url"]


@pytest.fixture(scope="session")
def server_urls():
    return _server_urls()


@pytest.fixture(scope="session")
def database_url(server_urls):
    name = f"clipboard_test_{uuid.uuid4().hex[:12]}"
    run_admin(server_urls[0], f'CREATE DATABASE "{name}"')
    url = with_database(server_urls[0], name)
    migrate(bind(url))
    yield url
    database_proxy.close()
    run_admin(server_urls[0], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url(server_urls):
    run_id = uuid.uuid4().hex
    for number in range(1, 16):
        url = with_database(server_urls[1], str(number))
        client = redis_module.Redis.from_url(url)
        if client.set(RUN_MARKER, run_id, nx=True, ex=6 * 3600):
            client.flushdb()
            client.set(RUN_MARKER, run_id, ex=6 * 3600)
            yield url
            client.delete(RUN_MARKER)
            client.close()
            return
        client.close()
    raise RuntimeError("every Redis database 1-15 is taken by another test run")


@pytest.fixture(scope="session")
def settings(database_url, redis_url):
    return settings_module.load(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "CLIPBOARD_ENV": "test", "SECRET_CACHE_SECONDS": "0"}
    )


@pytest.fixture
def redis_client(redis_url):
    client = redis_module.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty the tables and the test Redis database before every test that uses them."""
    if "database_url" in request.fixturenames or "db" in request.fixturenames:
        url = request.getfixturevalue("database_url")
        bind(url)
        with database_proxy.connection_context():
            database_proxy.execute_sql(
                "TRUNCATE organizations, secrets, users, images, clipboards, clipboard_images, jobs CASCADE"
            )
    if "redis_url" in request.fixturenames:
        client = redis_module.Redis.from_url(request.getfixturevalue("redis_url"))
        marker = client.get(RUN_MARKER)
        client.flushdb()
        client.set(RUN_MARKER, marker, ex=6 * 3600)
        client.close()
    yield


@pytest.fixture
def db(database_url):
    """The bound test database, with a connection open for the test's own queries."""
    with database_proxy.connection_context():
        yield database_proxy


@pytest.fixture
def start_worker(database_url, redis_url, tmp_path):
    """Start real Celery worker processes on the test servers; all are stopped after the test."""
    started = []

    def start(concurrency=1, **env_overrides):
        worker = WorkerProcess(
            worker_env(database_url, redis_url, **env_overrides),
            tmp_path / f"worker-{len(started)}.log",
            concurrency=concurrency,
        )
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def tenant(db):
    return Tenant("acme")


@pytest.fixture
def other_tenant(db):
    return Tenant("globex")


@pytest.fixture
def fake_redis():
    """Start FakeRedis servers ("close" or "silent"); all are closed after the test."""
    started = []

    def start(behaviour):
        server = FakeRedis(behaviour)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of the test's own with the persistence the docs prescribe; it may restart."""
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.destroy()
