"""API bench: the seed's POST under gunicorn against a bare-Falcon ceiling and a synchronous peer.

`python -m bench.api [--duration S] [--connections 8,64] [--smoke] [--profile]`

Each app is served by the Procfile's web command (gunicorn -c gunicorn.conf.py, production
settings) on loopback and driven by wrk at each concurrency for a fixed duration, every request
a new clipboard id. The real app queues a message per request and no worker runs: the queue is
emptied (our Redis db flushed) after each measurement.
"""
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


def main(argv=None):
    p = parser(__doc__.splitlines()[0], duration=20, smoke_duration=1)
    p.add_argument("--connections", default="8,64", help="comma-separated wrk concurrencies (default 8,64)")
    p.add_argument("--apps", default=",".join(a for a, _ in APPS), help="which of ceiling,api,sync to run (default all)")
    args = parse(p, argv)
    levels = [int(c) for c in args.connections.split(",")]
    require_wrk()
    logs = log_dir("api")
    rows = []
    with redis_database() as redis_url:
        database_url = fresh_database("api")
        redis_client = redis.Redis.from_url(redis_url)
        try:
            _, token, _ = seed_tenant(database_url)
            env = service_env(database_url, redis_url)
            for label, spec in [(a, s) for a, s in APPS if a in args.apps.split(",")]:
                with start_web(label, spec, env, logs) as web:
                    check_app(label, web, token)
                    post_clipboards(web.url, token, 8, 1 if args.smoke else 2)  # warm up
                    clear_redis(redis_url)
                    for connections in levels:
                        profile = f"{label}-c{connections}" if args.profile and connections == max(levels) and label != "ceiling" else None
                        rows.append(measure(label, web, token, connections, args.duration, redis_client, profile))
                        if label == "api":
                            clear_redis(redis_url)  # drain: no worker runs in this bench
        finally:
            redis_client.close()
            drop_database(database_url)
    print_table(
        f"POST /api/v1/clipboards, {args.duration:g} s per row (wrk, new id per request)",
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
    for connections in levels if all((a, levels[0]) in by for a in ("api", "ceiling", "sync")) else ():
        api, ceiling, sync = (by[(a, connections)] for a in ("api", "ceiling", "sync"))
        ratios.append({
            "connections": connections,
            "api_over_ceiling": ratio(api["rps"], ceiling["rps"]),
            "api_over_sync": ratio(api["rps"], sync["rps"]),
            "api_p99_ms": api["p99_ms"],
        })
    print_table("ratios (targets at c=8: api/ceiling >= 0.5, api/sync >= 2, api p99 <= 5 ms)",
                [("connections", "c"), ("api_over_ceiling", "api/ceiling"), ("api_over_sync", "api/sync"),
                 ("api_p99_ms", "api p99 ms")], ratios)
    write_result("api", args, {"runs": rows, "ratios": ratios})


if __name__ == "__main__":
    main()
