"""The embedded development servers start, answer, are reused, stop, and keep their data."""
import pathlib
import shutil
import socket
import tempfile

import psycopg2
import pytest
import redis

from dev import embedded


def _free_port():
    with socket.socket() as probe:
        probe.bind((embedded.HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def profile():
    """A profile of our own on free ports, so the dev and test servers stay untouched.

    Not under tmp_path: run as root, PostgreSQL runs as the `pgserver` user, which cannot pass
    pytest's root-only base temporary directory (and pytest takes back any bit we add whenever
    another session starts). The files go to a directory of their own, removed afterwards.
    """
    root = pathlib.Path(tempfile.mkdtemp(prefix="clipboard-embedded-test-"))
    profile = embedded.Profile(
        "pytest", root, _free_port(), _free_port(), record=root / "embedded.json"
    )
    try:
        yield profile
    finally:
        try:
            embedded.stop_servers(profile)
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def urls(profile):
    return embedded.ensure_servers(profile)


def _select_one(database_url):
    connection = psycopg2.connect(database_url, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def test_servers_start_and_answer(profile, urls):
    assert urls == {"database_url": profile.database_url, "redis_url": profile.redis_url}
    assert urls["database_url"].endswith(f":{profile.postgres_port}/clipboard")
    assert _select_one(urls["database_url"]) == 1
    assert redis.Redis.from_url(urls["redis_url"]).ping()


def test_urls_are_recorded(profile, urls):
    import json

    assert json.loads(profile.record.read_text()) == urls


def test_redis_persists_every_write(urls):
    client = redis.Redis.from_url(urls["redis_url"])
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("appendfsync") == {"appendfsync": "always"}


def test_second_call_reuses_the_running_servers(profile, urls):
    postmaster = embedded._postmaster_pid(profile.postgres_data)
    redis_pid = embedded._read_pid(profile.redis_pidfile)

    assert embedded.ensure_servers(profile) == urls

    assert embedded._postmaster_pid(profile.postgres_data) == postmaster
    assert embedded._read_pid(profile.redis_pidfile) == redis_pid


def test_data_survives_a_restart(profile, urls):
    connection = psycopg2.connect(urls["database_url"])
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kept (value text)")
        cursor.execute("INSERT INTO kept VALUES ('still here')")
    connection.close()
    redis.Redis.from_url(urls["redis_url"]).set("kept", "still here")

    embedded.stop_servers(profile)
    assert not embedded._port_answers(profile.postgres_port)
    assert not embedded._port_answers(profile.redis_port)
    embedded.stop_servers(profile)  # stopping what is stopped is harmless

    assert embedded.ensure_servers(profile) == urls
    connection = psycopg2.connect(urls["database_url"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM kept")
        assert cursor.fetchall() == [("still here",)]
    connection.close()
    assert redis.Redis.from_url(urls["redis_url"]).get("kept") == b"still here"


def test_a_port_held_by_another_program_is_named(tmp_path):
    with socket.socket() as squatter:
        squatter.bind((embedded.HOST, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        profile = embedded.Profile("squatted", tmp_path, port, port)

        with pytest.raises(embedded.EmbeddedServerError, match=f"{port} is in use by a program"):
            embedded.ensure_servers(profile, redis=False)
        with pytest.raises(embedded.EmbeddedServerError, match=f"{port} is in use by a program"):
            embedded.ensure_servers(profile, postgres=False)


def test_a_server_that_does_not_start_fails_with_its_output(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "_redis_config", lambda profile: "no-such-directive yes\n")
    profile = embedded.Profile("broken", tmp_path, _free_port(), _free_port())

    with pytest.raises(embedded.EmbeddedServerError, match="redis-server failed") as failure:
        embedded.ensure_servers(profile, postgres=False)
    assert "no-such-directive" in str(failure.value)


def test_up_starts_nothing_when_both_urls_are_set(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("ensure_servers must not run when both URLs are set")

    monkeypatch.setattr(embedded, "ensure_servers", refuse)
    environ = {"DATABASE_URL": "postgresql://db.example/app", "REDIS_URL": "redis://cache.example/1"}

    assert embedded.main(["up"], environ) == 0
    assert capsys.readouterr().out.strip() == (
        '{"database_url": "postgresql://db.example/app", "redis_url": "redis://cache.example/1"}'
    )
    assert embedded.main(["env"], environ) == 0
    assert capsys.readouterr().out.splitlines() == [
        "export DATABASE_URL=postgresql://db.example/app",
        "export REDIS_URL=redis://cache.example/1",
    ]


def test_up_starts_only_what_is_unset(monkeypatch, capsys):
    calls = []

    def ensure(profile, postgres=True, redis=True):
        calls.append((profile, postgres, redis))
        return {"redis_url": "redis://127.0.0.1:1/0"}

    monkeypatch.setattr(embedded, "ensure_servers", ensure)

    assert embedded.main(["up"], {"DATABASE_URL": "postgresql://db.example/app"}) == 0
    assert calls == [(embedded.DEV_PROFILE, False, True)]
    assert '"redis_url": "redis://127.0.0.1:1/0"' in capsys.readouterr().out


def test_a_server_that_dies_after_daemonizing_fails_fast(tmp_path, monkeypatch):
    real_config = embedded._redis_config
    # 192.0.2.1 (TEST-NET-1) is no address of this machine: redis-server forks, then cannot bind.
    monkeypatch.setattr(
        embedded, "_redis_config",
        lambda profile: real_config(profile).replace(f"bind {embedded.HOST}", "bind 192.0.2.1"),
    )
    monkeypatch.setattr(embedded, "START_TIMEOUT", 30.0)
    profile = embedded.Profile("unbindable", tmp_path, _free_port(), _free_port())

    with pytest.raises(embedded.EmbeddedServerError, match="exited while starting") as failure:
        embedded.ensure_servers(profile, postgres=False)
    assert "192.0.2.1" in str(failure.value)
