"""A PostgreSQL server of a test's own, under its tmp_path, that the test may stop and start.

Uses the system's binaries (/usr/lib/postgresql/<version>/bin) or, failing those, the pgserver
wheel's. PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system
user through `runuser`, and the directories above the data directory are made traversable
(search permission only) so that user can reach it.
"""
import contextlib
import glob
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import psycopg2

from models.db import make_database
from models.migrate import migrate

SERVER_USER = "postgres"


def _pgserver_binaries():
    try:
        import pgserver
    except ImportError:
        return []
    return [str(pathlib.Path(pgserver.__file__).parent / "pginstall" / "bin")]


def find_binaries():
    """Return the directory holding initdb, pg_ctl and postgres (the system's first, then pgserver's)."""
    for candidates in (lambda: sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True), _pgserver_binaries):
        for directory in candidates():
            if all(os.access(os.path.join(directory, name), os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
                return pathlib.Path(directory)
    raise RuntimeError("no PostgreSQL binaries found (looked in /usr/lib/postgresql/*/bin and pgserver)")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _make_reachable(path, stop_at):
    """Give others search (x) permission on `path` and its parents below `stop_at`."""
    path, stop_at = pathlib.Path(path).resolve(), pathlib.Path(stop_at).resolve()
    while path != stop_at and path != path.parent:
        os.chmod(path, os.stat(path).st_mode | 0o001)
        path = path.parent


class PrivatePostgres:
    """initdb + pg_ctl on 127.0.0.1:<free port>, trust authentication, no Unix socket."""

    def __init__(self, base_dir, binaries=None):
        self.base_dir = pathlib.Path(base_dir)
        self.binaries = binaries or find_binaries()
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_root = os.geteuid() == 0

    def _run(self, name, *args, timeout=120, check=True):
        command = [str(self.binaries / name), *args]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.base_dir)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{name} failed with {result.returncode}:\n{result.stdout}\n{result.stderr}\n{self.log_tail()}"
            )
        return result

    def log_tail(self, characters=4000):
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return ""

    def init(self):
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            _make_reachable(self.base_dir, "/tmp" if str(self.base_dir).startswith("/tmp/") else "/")
            shutil.chown(self.base_dir, user=SERVER_USER)
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "--no-locale",
                  "--encoding=UTF8", "--no-sync")
        return self

    def start(self, timeout=60):
        """Start the server and wait until it accepts connections; fail with its log if it does not."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                   "-c fsync=off -c max_connections=50")
        self._run("pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_path), "-w",
                  "-t", str(timeout), "-o", options, timeout=timeout + 30)
        self.wait_accepting(timeout)
        return self

    def wait_accepting(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url, connect_timeout=5).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL on port {self.port} not accepting:\n{self.log_tail()}") from None
                time.sleep(0.1)

    def stop(self, mode="fast", timeout=60):
        """Stop the server (`pg_ctl stop -m <mode>`) and wait until it is down."""
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", str(timeout),
                  timeout=timeout + 30)

    def is_running(self):
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def migrate(self):
        """Create the service's tables, through a database of its own (the models' binding is untouched)."""
        migrate(make_database(self.url))

    def destroy(self):
        """Stop the server however it can be stopped; never raise (runs in test cleanup)."""
        with contextlib.suppress(Exception):
            if self.is_running():
                self.stop(mode="immediate", timeout=30)
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(Exception):
            pid = int(pid_file.read_text().splitlines()[0])
            os.kill(pid, signal.SIGKILL)
