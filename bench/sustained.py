"""Sustained bench: API and worker together at a fixed offered rate, queue depth kept bounded.

`python -m bench.sustained [--duration 60] [--rate R] [--smoke] [--profile]`

The real app (Procfile web) and worker (Procfile worker) run side by side with Redis and
PostgreSQL on this machine. Without --rate, short steps of rising offered rate find the highest
at which the queue stays bounded (less than a second of backlog at the step's end); the main run
holds that rate for --duration seconds, then a run at half of it measures latency. wrk paces the
requests (bench/wrk/post_clipboard.lua, open loop per wrk thread). Accept-to-persisted latency is
the row's updated_at (the worker's commit time) minus its created_at, which is the API's claim time
returned in the response's created_at (every request is a new id, so the two are the same instant).
Afterwards the synchronous peer (bench/reference_sync.py) runs alone at its maximum.
"""
import threading
import time

import psycopg2
import redis

from bench.common import (
    BenchError, connect, drop_database, fresh_database, log_dir, parse, parser, print_table, ratio,
    redis_database, scalar, seed_tenant, service_env, start_web, start_worker, write_result,
)
from bench.load import post_clipboards
from bench.profiling import Profile
from core import messages

STEPS = (25, 50, 75, 100, 150, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200)
SAMPLE_SECONDS = 1.0
COUNT = "SELECT count(*) FROM clipboards WHERE revision >= 1"
# Bounded: at the end of a step the queue holds less than this many seconds of the offered rate.
BOUNDED_BACKLOG_SECONDS = 1.0
SYNC_CONNECTIONS = (8, 32)


class Sampler(threading.Thread):
    """Record (seconds, queue depth, persisted clipboards) every second until stopped."""

    def __init__(self, redis_url, database_url):
        super().__init__(daemon=True)
        self._redis = redis.Redis.from_url(redis_url)
        self._database_url = database_url
        self._db = connect(database_url)
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.started = time.monotonic()
        self.samples = []

    def sample(self):
        with self._lock:
            return (round(time.monotonic() - self.started, 2), self._redis.llen(messages.QUEUE), self._persisted())

    def _persisted(self):
        # Other sessions on a shared machine may terminate backends (outage tests): reconnect once.
        try:
            return scalar(self._db, COUNT)
        except psycopg2.Error:
            self._db.close()
            self._db = connect(self._database_url)
            return scalar(self._db, COUNT)

    def run(self):
        while not self._done.wait(SAMPLE_SECONDS):
            self.samples.append(self.sample())

    def stop(self):
        self._done.set()
        self.join(5)
        self._redis.close()
        self._db.close()


def wait_drained(sampler, worker, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        worker.check_alive()
        _, depth, _ = sampler.sample()
        if depth == 0:
            time.sleep(0.5)  # the last tasks delivered are committing
            return True
        time.sleep(0.2)
    return False


def latency(database_url, since, until):
    """p50/p99/max accept-to-persisted (ms) of clipboards claimed in [since, until) (epoch s)."""
    connection = connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), percentile_disc(0.5) WITHIN GROUP (ORDER BY lag), "
            "percentile_disc(0.99) WITHIN GROUP (ORDER BY lag), max(lag) FROM ("
            " SELECT extract(epoch FROM updated_at - created_at) * 1000 AS lag FROM clipboards"
            " WHERE revision >= 1 AND created_at >= to_timestamp(%s) AND created_at < to_timestamp(%s)) l",
            (since, until),
        )
        count, p50, p99, worst = cursor.fetchone()
    connection.close()
    return {"persisted": count, "latency_p50_ms": _num(p50), "latency_p99_ms": _num(p99), "latency_max_ms": _num(worst)}


def _num(value):
    return round(float(value), 1) if value is not None else None


def run_at(label, rate, duration, web, worker, token, sampler, database_url, drain_timeout, profile=None):
    """Offer `rate` req/s for `duration` s; return accepted/s, persisted/s, queue depth and latency."""
    start_wall, (t0, depth0, count0) = time.time(), sampler.sample()
    load = post_clipboards(web.url, token, connections=max(4, min(64, int(rate / 50) + 4)), duration=duration,
                           rate=rate)
    t1, depth1, count1 = sampler.sample()
    end_wall = time.time()
    window = [s for s in sampler.samples if t0 <= s[0] <= t1]
    if profile:
        profile.finish()
    drained = wait_drained(sampler, worker, drain_timeout)
    result = {
        "run": label,
        "offered_rate": rate,
        "accepted_rate": load["rps"],
        "persisted_rate": round((count1 - count0) / (t1 - t0), 1),
        "queue_start": depth0,
        "queue_end": depth1,
        "queue_max": max([d for _, d, _ in window] + [depth0, depth1]),
        "api_p50_ms": load["p50_ms"],
        "api_p99_ms": load["p99_ms"],
        "failed": sum(load["errors"].values()),
        "drained_after": drained,
        "queue_depth": [(round(t - t0, 1), d) for t, d, _ in window],
    }
    result.update(latency(database_url, start_wall, end_wall))
    result["bounded"] = depth1 - depth0 <= max(10, rate * BOUNDED_BACKLOG_SECONDS) and drained
    return result


def find_rate(web, worker, token, sampler, database_url, step_seconds, steps):
    tried, best = [], None
    for rate in steps:
        result = run_at(f"step {rate}/s", rate, step_seconds, web, worker, token, sampler, database_url,
                        drain_timeout=max(30, step_seconds * 4))
        tried.append(result)
        if not result["bounded"] or result["accepted_rate"] < 0.9 * rate:
            break
        best = rate
    if best is None:
        raise BenchError(f"the queue grew even at {steps[0]} req/s: {tried[0]}")
    return best, tried


def sync_maximum(env, logs, token, duration):
    runs = []
    with start_web("sync", "bench.reference_sync:get_app()", env, logs) as web:
        post_clipboards(web.url, token, 8, 1)  # warm up
        for connections in SYNC_CONNECTIONS:
            runs.append({"app": "sync", **post_clipboards(web.url, token, connections, duration)})
    return max(runs, key=lambda r: r["rps"]), runs


def main(argv=None):
    p = parser(__doc__.splitlines()[0], duration=60, smoke_duration=2)
    p.add_argument("--rate", type=float, help="offered req/s for the main run (default: found by steps)")
    p.add_argument("--step-seconds", type=float, default=8, help="seconds per search step (default 8)")
    args = parse(p, argv)
    step_seconds = 1 if args.smoke else args.step_seconds
    steps = STEPS[1:3] if args.smoke else STEPS
    logs = log_dir("sustained")
    with redis_database() as redis_url:
        database_url = fresh_database("sustained")
        try:
            _, token, _ = seed_tenant(database_url)
            env = service_env(database_url, redis_url)
            sampler = Sampler(redis_url, database_url)
            sampler.start()
            try:
                with start_web("api", "api.app:get_app()", env, logs) as web, start_worker("worker", env, logs) as worker:
                    tried = []
                    rate = args.rate
                    if rate is None:
                        rate, tried = find_rate(web, worker, token, sampler, database_url, step_seconds, steps)
                    profile = None
                    if args.profile:
                        profile = Profile("sustained", web.pid, min(20, args.duration), idle=True)
                        worker_profile = Profile("sustained-worker", worker.pid, min(20, args.duration), idle=True)
                    main_run = run_at("main", rate, args.duration, web, worker, token, sampler, database_url,
                                      drain_timeout=max(60, args.duration), profile=profile)
                    if args.profile:
                        worker_profile.finish()
                    half = run_at("half", rate / 2, max(1, args.duration / 2), web, worker, token, sampler,
                                  database_url, drain_timeout=max(60, args.duration))
            finally:
                sampler.stop()
            sync_best, sync_runs = sync_maximum(env, logs, token, max(1, min(20, args.duration / 3)))
        finally:
            drop_database(database_url)
    runs = tried + [main_run, half]
    print_table(
        "API + worker together at a fixed offered rate (all on this machine)",
        [("run", "run"), ("offered_rate", "offered/s"), ("accepted_rate", "accepted/s"),
         ("persisted_rate", "persisted/s"), ("queue_end", "queue end"), ("queue_max", "queue max"),
         ("latency_p50_ms", "lat p50 ms"), ("latency_p99_ms", "lat p99 ms"), ("api_p99_ms", "api p99 ms"),
         ("bounded", "bounded")],
        runs,
    )
    depth = main_run["queue_depth"]
    print("\nqueue depth during the main run (s: depth): "
          + ", ".join(f"{t:g}: {d}" for t, d in depth[:: max(1, len(depth) // 12)]))
    print_table("synchronous peer alone, closed loop", [("connections", "c"), ("rps", "req/s"), ("p50_ms", "p50 ms"),
                                                        ("p99_ms", "p99 ms")], sync_runs)
    summary = {
        "sustained_persisted_rate": main_run["persisted_rate"],
        "sync_max_rate": sync_best["rps"],
        "persisted_over_sync": ratio(main_run["persisted_rate"], sync_best["rps"]),
        "half_load_latency_p99_ms": half["latency_p99_ms"],
    }
    print(f"\npersisted/s over the synchronous peer's maximum: {summary['persisted_over_sync']} (target >= 1.25); "
          f"accept->persisted p99 at half load: {summary['half_load_latency_p99_ms']} ms (target <= 250)")
    write_result("sustained", args, {"rate": rate, "steps": tried, "main": main_run, "half": half,
                                     "sync": sync_runs, "summary": summary})


if __name__ == "__main__":
    main()
