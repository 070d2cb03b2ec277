"""What every benchmark shares: its own database and Redis db, the seed's tenant and token,
services started with the production settings (and waited for), percentiles, tables and JSON.

Benchmarks touch nothing but a PostgreSQL database of their own (`bench_clipboard_<name>_<pid>`,
created for the run and dropped after it) and one Redis database they claim (14, else 15) with the same marker
key the test harness uses, so a concurrent test run never picks it and the bench never picks one
a test run holds. Services listen on 127.0.0.1 only and are stopped when the bench ends.
"""
import argparse
import contextlib
import datetime
import json
import os
import pathlib
import platform
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

from core.processes import pid_alive
from models.server_admin import run_admin, with_database

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = pathlib.Path(sys.executable).parent

PG_URL = os.environ.get("BENCH_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_SERVER = os.environ.get("BENCH_REDIS_SERVER", "redis://127.0.0.1:6379")
REDIS_DBS = (14, 15)
# The key tests/conftest.py sets on the Redis database a test run holds; we hold ours the same way.
REDIS_MARKER = "clipboard-test-run"
REDIS_MARKER_SECONDS = 3 * 3600

# The seed (/work/shared/seed/000_d50d87d4260afa31.txt): its organization, secret (the token's
# `iss`), album, images and clipboard id. Its token is signed with a key we do not have, so we
# sign the same claims with the bench secret's key.
SEED_ORGANIZATION = "4d69a649-135c-44c7-a918-31dc119513cb"
SEED_SECRET = "55980758-e728-4138-ae45-724df75070f6"
SEED_ALBUM = "00100000123BB236"
SEED_IMAGES = (
    "e71de0cc-fee9-41f7-a300-c9aa07448402",
    "94f5afc7-6715-4860-acd6-c226500f459f",
    "8cbac8ee-ae1a-4ecb-862f-9d8682621381",
)
SEED_CLIPBOARD = "4d595b76-a3a8-437a-95ca-6ebc1a244d69"
SEED_RESPONSE = (
    b'{"id":"4d595b76-a3a8-437a-95ca-6ebc1a244d69","user_id":null,'
    b'"organization_id":"4d69a649-135c-44c7-a918-31dc119513cb","created_at":"2019-04-08T19:39:02.815+02:00"}'
)
CLIPBOARDS_PATH = "/api/v1/clipboards"
BENCH_SIGNING_KEY = "bench-signing-key-" + "x" * 32


class BenchError(SystemExit):
    """The bench cannot run or a service misbehaved: exit non-zero with the reason."""

    def __init__(self, message):
        super().__init__(f"bench: {message}")


# --- command line, tables, results ---------------------------------------------------------------

def parser(description, duration, smoke_duration):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--duration", type=float, default=duration, help=f"seconds per measurement (default {duration})")
    p.add_argument("--smoke", action="store_true",
                   help=f"a ~5 s run that only checks the bench works ({smoke_duration} s measurements, small sizes)")
    p.add_argument("--profile", action="store_true", help="also record py-spy profiles (bench/results/*.txt)")
    p.set_defaults(smoke_duration=smoke_duration)
    return p


def parse(p, argv=None):
    args = p.parse_args(argv)
    args.git_head = git_head()  # the code the services start with, before anyone commits more
    if args.smoke:
        args.duration = args.smoke_duration
    return args


def percentile(values, fraction):
    """Nearest-rank percentile of `values` (any order); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def print_table(title, columns, rows):
    """Print rows (dicts) under `columns` [(key, header)], numbers right-aligned."""
    def cell(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    table = [[header for _, header in columns]] + [[cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    print(f"\n{title}")
    for n, line in enumerate(table):
        print("  " + "  ".join(text.rjust(width) if n and i else text.ljust(width)
                               for i, (text, width) in enumerate(zip(line, widths))))
        if n == 0:
            print("  " + "  ".join("-" * width for width in widths))
    sys.stdout.flush()


def git_head():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _dirty():
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "api", "workers", "models", "core", "celeryconfig.py",
                              "gunicorn.conf.py"], cwd=ROOT, capture_output=True, text=True, timeout=5).stdout
        return bool(out.strip())
    except (OSError, subprocess.SubprocessError):
        return None


def write_result(name, args, data):
    """Write bench/results/<name>-<timestamp>.json; return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}{'-smoke' if args.smoke else ''}.json"
    document = {
        "bench": name,
        "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_head": getattr(args, "git_head", None),
        "worktree_dirty": _dirty(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "smoke": args.smoke,
        "duration": args.duration,
        **data,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nresults: {path.relative_to(ROOT)}")
    return path


def log_dir(name):
    directory = RESULTS / "logs" / f"{name}-{os.getpid()}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


# --- PostgreSQL ----------------------------------------------------------------------------------

def _drop_abandoned():
    """Drop bench databases left by bench processes that died (their pid is in the name)."""
    rows = run_admin(PG_URL, "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_clipboard\\_%%'")
    for (name,) in rows:
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            run_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(name):
    """Create database `bench_clipboard_<name>_<pid>` and migrate it; return its URL.

    The pid keeps concurrent benches (two smoke runs) apart; databases of dead bench processes
    are dropped first.
    """
    database = f"bench_clipboard_{name}_{os.getpid()}"
    try:
        _drop_abandoned()
        run_admin(PG_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        run_admin(PG_URL, f'CREATE DATABASE "{database}"')
    except Exception as error:  # noqa: BLE001 - any failure here means the bench cannot run
        raise BenchError(f"cannot create database {database} on {PG_URL}: {error}") from None
    url = with_database(PG_URL, database)
    from models.db import bind
    from models.migrate import migrate

    db = bind(url)
    migrate(db)
    return url


def drop_database(url):
    from models import database

    database.close()
    run_admin(PG_URL, f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


def connect(url):
    """A raw psycopg2 connection (autocommit) for counting and preloading."""
    import psycopg2

    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def scalar(connection, statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


# --- Redis ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def redis_database():
    """Claim Redis database 14 (else 15) with the test harness's marker; yield its URL; empty it after."""
    import redis

    mine = f"bench:{os.getpid()}"
    for number in REDIS_DBS:
        url = f"{REDIS_SERVER}/{number}"
        client = redis.Redis.from_url(url, socket_timeout=5)
        try:
            holder = client.get(REDIS_MARKER)
        except redis.RedisError as error:
            raise BenchError(f"cannot reach Redis at {REDIS_SERVER}: {error}") from None
        if holder is not None:
            text = holder.decode()
            if not (text.startswith("bench:") and not pid_alive(int(text.split(":")[1]))):
                client.close()
                continue  # a test run or a live bench holds it
            client.delete(REDIS_MARKER)  # a bench that died holding it
        if client.set(REDIS_MARKER, mine, nx=True, ex=REDIS_MARKER_SECONDS):
            client.flushdb()
            client.set(REDIS_MARKER, mine, ex=REDIS_MARKER_SECONDS)
            try:
                yield url
            finally:
                if client.get(REDIS_MARKER) == mine.encode():
                    client.flushdb()
                client.close()
            return
        client.close()
    raise BenchError(f"Redis databases {REDIS_DBS} are all held by test runs or other benches")


def clear_redis(url):
    """Empty our claimed database but keep the claim."""
    import redis

    client = redis.Redis.from_url(url)
    holder = client.get(REDIS_MARKER)
    client.flushdb()
    if holder is not None:
        client.set(REDIS_MARKER, holder, ex=REDIS_MARKER_SECONDS)
    client.close()


# --- the tenant ----------------------------------------------------------------------------------

@contextlib.contextmanager
def bench_bindings(url):
    from models import database
    from models.db import bind

    bind(url)
    with database.connection_context():
        yield database


def seed_tenant(database_url, extra_images=0):
    """Create the seed's organization, a secret with the seed's id, the seed's three images (and
    `extra_images` more in the same album); return (secret key, token, all image ids)."""
    from core import tokens
    from models import Image, Organization, Secret

    key = secrets.token_hex(32)
    with bench_bindings(database_url) as db:
        with db.atomic():
            Organization.insert(id=SEED_ORGANIZATION, name="bench").execute()
            Secret.insert(id=SEED_SECRET, organization=SEED_ORGANIZATION, name="bench", key=key).execute()
            Image.insert_many(
                [{"id": image_id, "organization": SEED_ORGANIZATION, "album_id": SEED_ALBUM, "filename": f"{n}.png"}
                 for n, image_id in enumerate(SEED_IMAGES)]
            ).execute()
            if extra_images:
                db.execute_sql(
                    "INSERT INTO images (id, organization_id, album_id, filename) "
                    "SELECT gen_random_uuid(), %s, %s, 'extra-' || n || '.png' FROM generate_series(1, %s) n",
                    (SEED_ORGANIZATION, SEED_ALBUM, extra_images),
                )
        ordered = [str(i) for (i,) in db.execute_sql(
            "SELECT id FROM images ORDER BY filename NOT LIKE 'extra-%%', created_at, id").fetchall()]
    # The seed's claims, in the seed's order.
    token = tokens.sign({"abilities": {SEED_ALBUM: {"Access": {"image_copy": True}}}, "iss": SEED_SECRET}, key)
    seed_first = list(SEED_IMAGES) + [i for i in ordered if i not in SEED_IMAGES]
    return key, token, seed_first


def form_body(clipboard_id, image_ids=SEED_IMAGES):
    return f"id={clipboard_id}" + "".join(f"&image_ids[]={i}" for i in image_ids)


# --- services ------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(database_url, redis_url, **extra):
    env = dict(os.environ)
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CLIPBOARD_ENV="production",
        CLIPBOARD_SIGNING_KEY=BENCH_SIGNING_KEY,
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def procfile_command(process):
    """The Procfile's command for `process`, as argv."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() == process:
            return shlex.split(command)
    raise BenchError(f"Procfile has no `{process}` process")


def web_argv(app_spec, port):
    """The Procfile's web command (gunicorn with gunicorn.conf.py), serving `app_spec` on loopback.

    The command line's -b wins over the config file's bind (0.0.0.0:$PORT).
    """
    argv = procfile_command("web") if (ROOT / "gunicorn.conf.py").exists() else [
        "gunicorn", "-w", "2", "-k", "gthread", "--threads", "8"]
    if argv[0] != "gunicorn":
        raise BenchError(f"Procfile's web process is not gunicorn: {argv}")
    argv = [str(VENV_BIN / "gunicorn")] + [a for a in argv[1:] if ":" not in a or a.startswith("-")]
    return argv + ["-b", f"127.0.0.1:{port}", app_spec]


def worker_argv(name):
    argv = procfile_command("worker")
    if argv[0] != "celery":
        raise BenchError(f"Procfile's worker process is not celery: {argv}")
    return [str(VENV_BIN / "celery")] + argv[1:] + ["-n", f"{name}-{os.getpid()}@%h"]


class Service:
    """A subprocess in its own process group, output to a log file, stopped on exit."""

    def __init__(self, name, argv, env, logs):
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def pid(self):
        return self.process.pid

    def log_tail(self, chars=3000):
        return self.log_path.read_text(errors="replace")[-chars:]

    def check_alive(self):
        if self.process.poll() is not None:
            raise BenchError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def wait_for_log(self, text, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if text in self.log_path.read_text(errors="replace"):
                return self
            time.sleep(0.05)
        raise BenchError(f"{self.name} did not log {text!r} within {timeout}s:\n{self.log_tail()}")

    def wait_for_http(self, url, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.name} did not answer {url} within {timeout}s:\n{self.log_tail()}")

    def children(self):
        import psutil

        try:
            return [c.pid for c in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout=20.0):
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_web(name, app_spec, env, logs, health_path="/healthz"):
    port = free_port()
    service = Service(name, web_argv(app_spec, port), dict(env, PORT=str(port)), logs)
    try:
        service.wait_for_http(f"http://127.0.0.1:{port}{health_path}")
    except BaseException:
        service.stop()
        raise
    service.url = f"http://127.0.0.1:{port}"
    return service


def start_worker(name, env, logs):
    service = Service(name, worker_argv(name), env, logs)
    try:
        service.wait_for_log(" ready.", timeout=60)
    except BaseException:
        service.stop()
        raise
    return service


def new_uuid():
    return str(uuid.uuid4())


def now_ms():
    return int(time.time() * 1000)


def post_once(base_url, token, clipboard_id, image_ids=SEED_IMAGES):
    """POST one clipboard with urllib; return (status, parsed JSON body). For sanity checks."""
    request = urllib.request.Request(
        base_url + CLIPBOARDS_PATH,
        data=form_body(clipboard_id, image_ids).encode(),
        headers={"Authorization": f'Token token="{token}"', "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
