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


GATHERING_PROBE = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent, redis
from api.script_runner import Script, ScriptRunner

url, mode = sys.argv[1], sys.argv[2]
trips = []
round_trip = ScriptRunner._round_trip
ScriptRunner._round_trip = lambda self, commands: trips.append(len(commands)) or round_trip(self, commands)
runner = ScriptRunner(redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3))
script = Script("if ARGV[1] == 'fail' then return redis.error_reply('refused ' .. KEYS[1]) end "
                "return {KEYS[1], ARGV[1]}")

def call(n):
    try:
        return runner.run(script, [f"key{n}"], ["fail" if mode == "errors" and n % 3 == 0 else f"value{n}"])
    except redis.RedisError as error:
        return type(error).__name__ + ": " + str(error)

calls = [gevent.spawn(call, n) for n in range(12)]
if mode == "leader_killed":
    gevent.sleep(0.3)
    calls[0].kill()
started = time.monotonic()
gevent.joinall(calls, timeout=10)
print(repr([c.value for c in calls[1:]] if mode == "leader_killed" else [c.value for c in calls]))
print(repr(trips))
print(time.monotonic() - started)
"""


def _gathering(url, mode):
    completed = subprocess.run([sys.executable, "-c", GATHERING_PROBE, url, mode], cwd=ROOT, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    values, trips, seconds = completed.stdout.strip().splitlines()
    return eval(values), eval(trips), float(seconds)  # noqa: S307 - our own probe's repr output


def test_under_gevent_calls_made_together_share_round_trips_and_each_gets_its_own_reply(redis_url):
    values, trips, _ = _gathering(redis_url, "replies")
    assert values == [[f"key{n}".encode(), f"value{n}".encode()] for n in range(12)]
    # the first round trip of the run loads the script (NOSCRIPT, then EVAL); all are shared
    assert sum(trips) >= 12 and len(trips) < 12


def test_under_gevent_an_error_reply_fails_only_its_own_call(redis_url):
    values, _, _ = _gathering(redis_url, "errors")
    for n, value in enumerate(values):
        if n % 3 == 0:
            assert value == f"ResponseError: refused key{n}"
        else:
            assert value == [f"key{n}".encode(), f"value{n}".encode()]


def test_under_gevent_when_a_shared_round_trip_times_out_every_call_fails(fake_redis):
    values, trips, _ = _gathering(fake_redis("silent").url, "timeout")
    assert len(values) == 12 and all(value.startswith("TimeoutError") for value in values), values
    assert len(trips) < 12


def test_under_gevent_a_killed_leader_fails_the_calls_sharing_its_round_trip_at_once(fake_redis):
    values, _, seconds = _gathering(fake_redis("silent").url, "leader_killed")
    assert all(value.startswith("ConnectionError") for value in values), values
    assert seconds < 2  # not the 3 s socket timeout: they were told, not left waiting
