"""The real web process: gunicorn with gunicorn.conf.py, as the Procfile runs it.

A request long-polling a job must not stop the process from serving others.
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.support.factories import auth
from core.processes import child_pids
from tests.support.processes import ROOT, stop_process
from tests.support.waiting import wait_for


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start_web(database_url, redis_url, tmp_path):
    """Start gunicorn as the Procfile does with `concurrency` processes; return (base URL, master)."""
    started = []

    def start(concurrency):
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "CLIPBOARD_ENV": "test",
               "WEB_CONCURRENCY": str(concurrency), "PORT": str(port)}
        log_path = tmp_path / f"web-{len(started)}.log"
        log = open(log_path, "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
             "api.app:get_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        started.append((process, log))
        base = f"http://127.0.0.1:{port}"

        def healthy():
            if process.poll() is not None:
                raise AssertionError(log_path.read_text())
            try:
                return urllib.request.urlopen(base + "/healthz", timeout=1).status == 200
            except OSError:
                return False

        wait_for(healthy, 30, message="gunicorn answering /healthz")
        return base, process

    yield start
    for process, log in started:
        stop_process(process, log)


@pytest.fixture
def web(start_web):
    return start_web(1)[0]


def call(method, url, headers, body=None):
    request = urllib.request.Request(url, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read() or b"null")


def test_a_long_poll_does_not_hold_up_other_requests(web, tenant):
    headers = {**auth(tenant.token({"A": ["image_copy"], "B": ["paste"]})), "Content-Type": "application/json"}
    _, clipboard = call("POST", web + "/api/v1/clipboards", headers, {"image_ids": []})
    status, job = call("POST", f"{web}/api/v1/clipboards/{clipboard['id']}/paste", headers, {"album_id": "B"})
    assert status == 202

    waited = {}

    def long_poll():
        started = time.monotonic()
        waited["status"], waited["job"] = call("GET", f"{web}/api/v1/jobs/{job['id']}?wait=10", headers)
        waited["seconds"] = time.monotonic() - started

    polls = [threading.Thread(target=long_poll) for _ in range(3)]
    for poll in polls:
        poll.start()
    for _ in range(20):  # no worker runs: every paste stays queued, every wait runs its full time
        assert call("POST", web + "/api/v1/clipboards", headers, {"image_ids": []})[0] == 200
    assert all(poll.is_alive() for poll in polls), "the other requests were served only after the waits"
    for poll in polls:
        poll.join(30)
    assert waited["status"] == 200 and waited["job"]["state"] == "queued"
    assert waited["seconds"] >= 9


def test_a_connection_with_requests_always_waiting_does_not_starve_the_others(web):
    """gevent runs a greenlet until it must wait, and a connection whose next request is already
    buffered never has to: without a yield after each request it would hold the process."""
    address = web.removeprefix("http://").split(":")
    address = (address[0], int(address[1]))
    request = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
    total = 4000
    answered = {"burst": 0}

    burst = socket.create_connection(address, timeout=60)

    def read_burst():
        status_line, pending = b"HTTP/1.1 200", b""
        while answered["burst"] < total:
            data = burst.recv(65536)
            if not data:
                return
            pending += data
            answered["burst"] += pending.count(status_line)
            pending = pending[-(len(status_line) - 1):]  # a status line split across reads

    reader = threading.Thread(target=read_burst)
    reader.start()
    threading.Thread(target=burst.sendall, args=(request * total,), daemon=True).start()
    wait_for(lambda: answered["burst"] >= 50, 30, message="the burst being served")

    with socket.create_connection(address, timeout=60) as single:
        single.sendall(request)
        assert single.recv(65536).startswith(b"HTTP/1.1 200")
        answered_before_single = answered["burst"]
    reader.join(60)
    burst.close()
    assert answered["burst"] == total
    assert answered_before_single < total // 2


def _socket_inodes(pid):
    inodes = set()
    for fd in pathlib.Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:["):-1]))
    return inodes


def _serving_pid(client, server_port, pids):
    """The pid of the web process holding the server end of `client` (from /proc/net/tcp)."""
    client_port = client.getsockname()[1]
    for line in pathlib.Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local_port, remote_port) == (server_port, client_port):
            inode = int(fields[9])
            return next((pid for pid in pids if inode in _socket_inodes(pid)), None)
    return None


def _serving_pids(port, pids, count):
    """Open `count` connections, ask /healthz on each, return the pids that served them."""
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        for connection in connections:
            assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        return [_serving_pid(connection, port, pids) for connection in connections]
    finally:
        for connection in connections:
            connection.close()


def test_keep_alive_connections_are_shared_evenly_between_the_web_processes(start_web):
    base, master = start_web(2)
    port = int(base.rsplit(":", 1)[1])
    workers = wait_for(lambda: len(child_pids(master.pid)) == 2 and child_pids(master.pid), 30,
                       message="two web processes")
    # two connections at once: with both processes serving, each takes one
    wait_for(lambda: set(_serving_pids(port, workers, 2)) == set(workers), 30, message="both processes serving")
    held = _serving_pids(port, workers, 24)
    counts = sorted(held.count(pid) for pid in workers)
    assert sum(counts) == 24, held
    assert counts[0] >= 8, f"connections per process: {counts}"  # 12/12 when both keep up

