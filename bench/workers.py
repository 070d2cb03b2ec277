"""Worker bench: N queued `clipboards.store` messages drained by the production worker, against
the raw database ceiling (the same rows written with multi-row INSERTs from one connection).

`python -m bench.workers [--n 20000] [--smoke] [--profile]`

The messages are queued exactly as the API queues them (api.clipboard_ledger.ClipboardLedger,
the same Lua script), 3 existing images each, before the worker starts; the worker is the
Procfile's `celery -A workers worker` with the production settings. Persisted clipboards are
counted every 0.2 s (`revision >= 1`).
"""
import time

import psycopg2.extras
import redis

from api.clipboard_ledger import ClipboardLedger
from bench.common import (
    SEED_ALBUM, SEED_IMAGES, SEED_ORGANIZATION, BenchError, connect, drop_database, fresh_database, log_dir,
    new_uuid, now_ms, parse, parser, print_table, ratio, redis_database, scalar, seed_tenant, service_env,
    start_worker, write_result,
)
from bench.profiling import Profile
from core import messages

POLL_SECONDS = 0.2
BATCH = 500  # clipboards per multi-row INSERT in the reference


def enqueue(redis_url, count, image_ids=SEED_IMAGES):
    """Queue `count` store messages for new clipboard ids through the API's ledger; return seconds."""
    client = redis.Redis.from_url(redis_url)
    ledger = ClipboardLedger(client)
    started = time.perf_counter()
    for _ in range(count):
        ledger.store(new_uuid(), SEED_ORGANIZATION, None, list(image_ids), [SEED_ALBUM], now_ms(), new_uuid())
    seconds = time.perf_counter() - started
    queued = client.llen(messages.QUEUE)
    client.close()
    if queued != count:
        raise BenchError(f"queued {queued} messages, expected {count}")
    return seconds


def persisted(connection):
    return scalar(connection, "SELECT count(*) FROM clipboards WHERE revision >= 1")


def wait_drained(connection, count, worker, timeout):
    """Poll until `count` clipboards are persisted; return [(seconds since start, persisted)]."""
    started = time.monotonic()
    samples = [(0.0, persisted(connection))]
    while samples[-1][1] < count:
        if time.monotonic() - started > timeout:
            raise BenchError(f"only {samples[-1][1]} of {count} clipboards persisted after {timeout:.0f}s")
        worker.check_alive()
        time.sleep(POLL_SECONDS)
        samples.append((round(time.monotonic() - started, 3), persisted(connection)))
    return samples


def steady_rate(samples, count, low=0.1, high=0.9):
    """Clipboards per second between 10% and 90% of the total (no start-up, no tail)."""
    first = next(s for s in samples if s[1] >= low * count)
    last = next(s for s in samples if s[1] >= high * count)
    return (last[1] - first[1]) / (last[0] - first[0]) if last[0] > first[0] else None


def reference_insert(database_url, count, images_per=len(SEED_IMAGES)):
    """Write `count` clipboards and their image rows with multi-row INSERTs, a commit per batch."""
    connection = connect(database_url)
    connection.autocommit = False
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for offset in range(0, count, BATCH):
            ids = [new_uuid() for _ in range(min(BATCH, count - offset))]
            psycopg2.extras.execute_values(
                cursor,
                "INSERT INTO clipboards (id, organization_id, user_id, revision, state, created_at, updated_at) VALUES %s",
                [(i, SEED_ORGANIZATION, None, 1, "ready") for i in ids],
                template="(%s, %s, %s, %s, %s, now(), now())", page_size=BATCH,
            )
            psycopg2.extras.execute_values(
                cursor,
                "INSERT INTO clipboard_images (clipboard_id, position, image_id) VALUES %s",
                [(i, n, SEED_IMAGES[n % len(SEED_IMAGES)]) for i in ids for n in range(images_per)],
                page_size=BATCH * images_per,
            )
            connection.commit()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def main(argv=None):
    p = parser(__doc__.splitlines()[0], duration=0, smoke_duration=0)
    p.add_argument("--n", type=int, default=20000, help="messages to drain (default 20000; --smoke: 300)")
    p.add_argument("--profile-seconds", type=float, default=3, help="py-spy window from the worker's start (default 3)")
    args = parse(p, argv)
    count = 300 if args.smoke else args.n
    logs = log_dir("workers")
    with redis_database() as redis_url:
        database_url = fresh_database("workers")
        try:
            seed_tenant(database_url)
            enqueue_seconds = enqueue(redis_url, count)
            connection = connect(database_url)
            env = service_env(database_url, redis_url)
            with start_worker("worker", env, logs) as worker:
                # Wall-clock (--idle): a task's time is mostly spent waiting on PostgreSQL.
                profile = Profile("worker-drain", worker.pid, args.profile_seconds, idle=True) if args.profile else None
                samples = wait_drained(connection, count, worker, timeout=max(60, count / 50))
                if profile:
                    profile.finish()
            drain_seconds = samples[-1][0]
            images = scalar(connection, "SELECT count(*) FROM clipboard_images")
            if images != count * len(SEED_IMAGES):
                raise BenchError(f"{images} clipboard images persisted, expected {count * len(SEED_IMAGES)}")
            connection.cursor().execute("TRUNCATE clipboards CASCADE")
            reference_seconds = reference_insert(database_url, count)
            connection.close()
        finally:
            drop_database(database_url)
    worker_rate = count / drain_seconds
    reference_rate = count / reference_seconds
    rows = [
        {"what": "worker (Procfile, production settings)", "clipboards": count, "seconds": drain_seconds,
         "rate": worker_rate, "steady": steady_rate(samples, count)},
        {"what": f"reference: multi-row INSERTs ({BATCH}/commit)", "clipboards": count,
         "seconds": reference_seconds, "rate": reference_rate},
    ]
    print_table(f"drain of {count:,} clipboards.store messages, 3 images each "
                f"(queued in {enqueue_seconds:.1f} s; target: worker >= 3,000/s)",
                [("what", "what"), ("clipboards", "clipboards"), ("seconds", "seconds"), ("rate", "clipboards/s"),
                 ("steady", "10-90% /s")], rows)
    print(f"\nworker / reference: {ratio(worker_rate, reference_rate)}")
    write_result("workers", args, {
        "n": count, "images_per_clipboard": len(SEED_IMAGES), "enqueue_seconds": enqueue_seconds,
        "worker": rows[0], "reference": rows[1], "worker_over_reference": ratio(worker_rate, reference_rate),
        "samples": samples,
    })


if __name__ == "__main__":
    main()
