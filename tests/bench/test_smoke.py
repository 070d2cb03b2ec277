"""Smoke of each benchmark: `python -m bench.<name> --smoke` exits 0 and writes its JSON.

Not a performance test: the figures are not checked. The benches use their own PostgreSQL
database and Redis db (see bench/common.py), on the machine's servers at 127.0.0.1 (or
BENCH_DATABASE_SERVER / BENCH_REDIS_SERVER); wrk is needed by the API and sustained benches.
"""
import json
import shutil
import subprocess
import sys
import time

import pytest

from bench.common import RESULTS, ROOT

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install -y wrk)")


def _servers_answer():
    import psycopg2
    import redis

    from bench.common import PG_URL, REDIS_SERVER

    try:
        psycopg2.connect(PG_URL, connect_timeout=2).close()
        redis.Redis.from_url(f"{REDIS_SERVER}/0", socket_timeout=2).ping()
    except Exception:  # noqa: BLE001 - any failure: the servers are not there
        return False
    return True


pytestmark = pytest.mark.skipif(not _servers_answer(),
                                reason="the benches need PostgreSQL and Redis at 127.0.0.1 (BENCH_*_SERVER)")


def run_smoke(name, timeout=90):
    started = time.time()
    completed = subprocess.run([sys.executable, "-m", f"bench.{name}", "--smoke"], cwd=ROOT, capture_output=True,
                               text=True, timeout=timeout)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    written = [p for p in RESULTS.glob(f"{name}-*-smoke.json") if p.stat().st_mtime >= started - 1]
    assert written, f"no bench/results/{name}-*-smoke.json written:\n{completed.stdout[-2000:]}"
    document = json.loads(max(written, key=lambda p: p.stat().st_mtime).read_text())
    assert document["bench"] == name and document["smoke"] is True
    return document


@needs_wrk
def test_api_smoke():
    document = run_smoke("api")
    assert {run["app"] for run in document["runs"]} == {"ceiling", "api", "sync"}


def test_workers_smoke():
    document = run_smoke("workers")
    assert document["worker"]["clipboards"] == document["n"]


@needs_wrk
def test_sustained_smoke():
    document = run_smoke("sustained")
    assert document["main"]["persisted"] > 0


def test_scale_smoke():
    document = run_smoke("scale")
    assert document["cells"]
