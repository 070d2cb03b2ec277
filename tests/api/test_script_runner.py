"""ScriptRunner against the test Redis: replies, script loading, errors and connection reuse."""
import socket
import subprocess
import sys
import threading

import pytest
import redis as redis_module

from api.script_runner import Script, ScriptRunner
from tests.support.processes import ROOT

ECHO = Script("return {KEYS[1], ARGV[1]}")
INCREMENT = Script("return redis.call('INCR', KEYS[1])")


@pytest.fixture
def runner(redis_url):
    runner = ScriptRunner(redis_module.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2))
    yield runner
    runner.close()


def test_runs_a_script_redis_does_not_know_yet_then_by_its_sha(runner, redis_client):
    redis_client.script_flush()
    assert runner.run(ECHO, ["key"], ["value"]) == [b"key", b"value"]
    assert redis_client.script_exists(ECHO.sha) == [True]
    assert runner.run(ECHO, ["key"], [42]) == [b"key", b"42"]


def test_sequential_calls_share_one_connection(runner):
    assert runner.run(INCREMENT, ["counter"], []) == 1
    (first,) = runner._idle
    for expected in range(2, 51):
        assert runner.run(INCREMENT, ["counter"], []) == expected
    assert runner._idle == [first]


def test_an_error_reply_is_raised_and_the_connection_stays_usable(runner):
    with pytest.raises(redis_module.ResponseError):
        runner.run(Script("return redis.call('INCR', KEYS[1], 'too', 'many')"), ["k"], [])
    assert runner.run(INCREMENT, ["counter"], []) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_failed_call(runner, redis_client):
    assert runner.run(INCREMENT, ["counter"], []) == 1
    (line,) = runner._idle
    host, port = line.connection._sock.getsockname()[:2]
    assert redis_client.client_kill(f"{host}:{port}")
    assert runner.run(INCREMENT, ["counter"], []) == 2  # ran once: the dead connection was not used
    assert int(redis_client.get("counter")) == 2


def test_concurrent_calls_each_get_their_own_reply(runner):
    failures = []

    def call(n):
        for i in range(100):
            reply = runner.run(ECHO, [f"k{n}"], [f"{n}-{i}"])
            if reply != [f"k{n}".encode(), f"{n}-{i}".encode()]:
                failures.append(reply)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert 1 <= len(runner._idle) <= 8


def test_unreachable_redis_raises_a_redis_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once closed
    runner = ScriptRunner(redis_module.Redis(port=port, socket_connect_timeout=1, socket_timeout=1))
    with pytest.raises(redis_module.ConnectionError):
        runner.run(ECHO, ["k"], ["v"])


def test_a_server_that_does_not_answer_times_out_and_the_connection_is_dropped():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        runner = ScriptRunner(redis_module.Redis(port=silent.getsockname()[1], socket_timeout=0.2,
                                                 socket_connect_timeout=1))
        with pytest.raises(redis_module.TimeoutError):
            runner.run(ECHO, ["k"], ["v"])
        assert runner._idle == []  # its reply might still come: never reuse it


GEVENT_PROBE = """
from gevent import monkey; monkey.patch_all()
import sys, redis
from api.script_runner import Script, ScriptRunner
runner = ScriptRunner(redis.Redis.from_url(sys.argv[1], socket_timeout=0.3, socket_connect_timeout=1))
assert runner._readable is not None, "gevent's wait is not in use"
try:
    print(runner.run(Script("return {KEYS[1], ARGV[1]}"), ["key"], ["value"]))
except redis.RedisError as error:
    print(type(error).__name__)
"""


@pytest.mark.parametrize("server, printed", [("test", "[b'key', b'value']"), ("silent", "TimeoutError")])
def test_under_gevent_replies_are_awaited_cooperatively_and_time_out(redis_url, fake_redis, server, printed):
    url = redis_url if server == "test" else fake_redis(server).url
    completed = subprocess.run([sys.executable, "-c", GEVENT_PROBE, url], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == printed
