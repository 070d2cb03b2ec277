"""API bench: the seed's POST under gunicorn against a bare-Falcon ceiling and a synchronous peer.

`python -m bench.api [--duration S] [--rounds R] [--connections 8,64] [--smoke] [--profile]`

Each app is served by the Procfile's web command (gunicorn -c gunicorn.conf.py, production
settings) on loopback and driven by wrk at each concurrency, every request a new clipboard id.
All apps run side by side and are measured in turn, `--rounds` times, each time for
duration / rounds seconds, so a drift of the machine's speed during the run (seen here: the
ceiling 7,200 and 8,700 req/s in two runs a minute apart) falls on every app alike. A row is
the rounds together: their requests over their seconds. The real app queues a message per
request and no worker runs: the queue is emptied (our Redis db flushed) after each measurement.
"""
import contextlib
import statistics

import redis

from bench.common import (
    BenchError, clear_redis, drop_database, fresh_database, log_dir, new_uuid, parse, parser, post_once,
    print_table, ratio, redis_database, seed_tenant, service_env, start_web, write_result,
)
from bench.cpu import CpuMeter
from bench.load import post_clipboards, require_wrk
from bench.profiling import Profile
from core import messages

APPS = (
    ("ceiling", "bench.reference_ceiling:app"),
    ("api", "api.app:get_app()"),
    ("sync", "bench.reference_sync:get_app()"),
)
# More failed requests than this makes a measurement worthless: the bench fails.
MAX_ERROR_FRACTION = 0.001


def check_app(label, web, token):
    status, body = post_once(web.url, token, new_uuid())
    if status != 200 or not isinstance(body, dict) or "created_at" not in body:
        raise BenchError(f"{label}: POST answered {status}: {body}")


def measure(label, web, token, connections, duration, redis_client, profile_name=None):
    # GIL holders only: under load the web processes are CPU-bound, and threads waiting for the
    # GIL would otherwise show up as time in whatever line they wait at (socket reads, sends).
    profile = Profile(profile_name, web.pid, duration * 0.8, gil=True) if profile_name else None
    cpu = CpuMeter(web.pid, redis_client)
    result = post_clipboards(web.url, token, connections, duration)
    result.update(cpu.per_request_us(result["requests"]))
    if profile:
        result["profile"] = str(profile.finish() or "")
    failed = sum(result["errors"].get(k, 0) for k in ("status", "connect", "read", "write", "timeout"))
    if failed > MAX_ERROR_FRACTION * max(1, result["requests"]):
        raise BenchError(f"{label} c={connections}: {failed} failed requests of {result['requests']}: {result['errors']}")
    if label == "api":
        result["queued_messages"] = redis_client.llen(messages.QUEUE)
    return {"app": label, **result}


def combine_rounds(samples):
    """One row per (app, connections) from the rounds' samples, in first-seen order.

    req/s is all requests over all seconds; CPU per request is weighted by requests; p50 and
    p99 are the median of the rounds' (wrk reports percentiles, not its samples); max is the max.
    """
    groups = {}
    for sample in samples:
        groups.setdefault((sample["app"], sample["connections"]), []).append(sample)
    rows = []
    for (app, connections), group in groups.items():
        requests = sum(s["requests"] for s in group)
        seconds = sum(s["seconds"] for s in group)
        row = {
            "app": app,
            "connections": connections,
            "rounds": len(group),
            "requests": requests,
            "seconds": round(seconds, 3),
            "rps": round(requests / seconds, 1) if seconds else 0.0,
            "p50_ms": statistics.median(s["p50_ms"] for s in group),
            "p99_ms": statistics.median(s["p99_ms"] for s in group),
            "max_ms": max(s["max_ms"] for s in group),
        }
        for key in ("cpu_web_us", "cpu_redis_us", "cpu_load_us", "cpu_total_us"):
            if all(key in s for s in group):
                row[key] = round(sum(s[key] * s["requests"] for s in group) / max(1, requests), 1)
        rows.append(row)
    return rows


def round_ratios(samples, app, reference, connections):
    """app/reference req/s in each round at `connections` (the rounds where both were measured)."""
    by_round = {(s["round"], s["app"]): s["rps"] for s in samples if s["connections"] == connections}
    rounds = sorted({r for r, _ in by_round})
    return [ratio(by_round[(r, app)], by_round[(r, reference)]) for r in rounds
            if (r, app) in by_round and (r, reference) in by_round]


def _spread(values):
    return f"{min(values):.2f}-{max(values):.2f}" if values else None


def main(argv=None):
    p = parser(__doc__.splitlines()[0], duration=20, smoke_duration=1)
    p.add_argument("--connections", default="8,64", help="comma-separated wrk concurrencies (default 8,64)")
    p.add_argument("--apps", default=",".join(a for a, _ in APPS), help="which of ceiling,api,sync to run (default all)")
    p.add_argument("--rounds", type=int, default=3,
                   help="measure the apps in turn this many times, duration/rounds s each (default 3; 1 with --smoke)")
    args = parse(p, argv)
    levels = [int(c) for c in args.connections.split(",")]
    rounds = 1 if args.smoke else max(1, args.rounds)
    round_seconds = max(1, round(args.duration / rounds))
    require_wrk()
    logs = log_dir("api")
    samples = []
    with redis_database() as redis_url:
        database_url = fresh_database("api")
        redis_client = redis.Redis.from_url(redis_url)
        try:
            _, token, _ = seed_tenant(database_url)
            env = service_env(database_url, redis_url)
            with contextlib.ExitStack() as running:
                webs = {}
                for label, spec in [(a, s) for a, s in APPS if a in args.apps.split(",")]:
                    web = webs[label] = running.enter_context(start_web(label, spec, env, logs))
                    check_app(label, web, token)
                    post_clipboards(web.url, token, 8, 1 if args.smoke else 2)  # warm up
                clear_redis(redis_url)
                for number in range(1, rounds + 1):
                    for connections in levels:
                        for label, web in webs.items():
                            profile = (f"{label}-c{connections}" if args.profile and number == 1
                                       and connections == max(levels) and label != "ceiling" else None)
                            sample = measure(label, web, token, connections, round_seconds, redis_client, profile)
                            samples.append({"round": number, **sample})
                            if label == "api":
                                clear_redis(redis_url)  # drain: no worker runs in this bench
        finally:
            redis_client.close()
            drop_database(database_url)
    rows = combine_rounds(samples)
    print_table(
        f"POST /api/v1/clipboards, {rounds} x {round_seconds} s per row, apps in turn (wrk, new id per request)",
        [("app", "app"), ("connections", "c"), ("rps", "req/s"), ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"),
         ("max_ms", "max ms"), ("requests", "requests")],
        rows,
    )
    print_table(
        "CPU per request, µs (web: the gunicorn process group; load: wrk)",
        [("app", "app"), ("connections", "c"), ("cpu_web_us", "web"), ("cpu_redis_us", "redis"),
         ("cpu_load_us", "load"), ("cpu_total_us", "total")],
        rows,
    )
    by = {(r["app"], r["connections"]): r for r in rows}
    ratios = []
    for connections in levels:
        api, ceiling, sync = (by.get((a, connections)) for a in ("api", "ceiling", "sync"))
        if api is None or (ceiling is None and sync is None):
            continue
        per_round = round_ratios(samples, "api", "ceiling", connections)
        ratios.append({
            "connections": connections,
            "api_over_ceiling": ratio(api["rps"], ceiling["rps"]) if ceiling else None,
            "api_over_ceiling_rounds": per_round,
            "api_over_ceiling_spread": _spread(per_round),
            "api_over_sync": ratio(api["rps"], sync["rps"]) if sync else None,
            "api_p99_ms": api["p99_ms"],
        })
    print_table("ratios (targets at c=8: api/ceiling >= 0.5, api/sync >= 2, api p99 <= 5 ms)",
                [("connections", "c"), ("api_over_ceiling", "api/ceiling"),
                 ("api_over_ceiling_spread", "per round"), ("api_over_sync", "api/sync"),
                 ("api_p99_ms", "api p99 ms")], ratios)
    write_result("api", args, {"rounds": rounds, "samples": samples, "runs": rows, "ratios": ratios})


if __name__ == "__main__":
    main()
