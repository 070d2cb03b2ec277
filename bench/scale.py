"""Scale bench: the cost of one store (workers.clipboard_store.store in its own transaction) with
1,000 and with 1,000,000 clipboards already stored, at 1, 10, 100 and 1,000 images per clipboard.

`python -m bench.scale [--n 300] [--sizes 1000,1000000] [--rounds 3] [--smoke]`

Called in this process on one open connection per database (no Celery, no connect per task):
this is the database work of a store and nothing else. Each size has its own database, preloaded
with INSERT ... SELECT generate_series (3 images per preloaded clipboard), VACUUM ANALYZE and a
CHECKPOINT; the cells are then measured in turn, size after size, `--rounds` times, so that a
drift of the machine's speed falls on both sizes alike (run one after the other, the 1,000 cells
of unchanged code varied by up to 40% between runs). WAL KiB per store is the WAL the stores
wrote, divided by their number.
"""
import time

from bench.common import (
    SEED_ALBUM, SEED_IMAGES, SEED_ORGANIZATION, drop_database, fresh_database, new_uuid, now_ms, parse, parser,
    percentile, print_table, ratio, seed_tenant, write_result,
)
from core import messages

IMAGES_PER_CLIPBOARD = (1, 10, 100, 1000)
PRELOAD_CHUNK = 250_000


def preload(db, target):
    """Store `target` clipboards (3 seed images each) in an empty database; return seconds."""
    started = time.perf_counter()
    have = 0
    while have < target:
        chunk = min(PRELOAD_CHUNK, target - have)
        with db.atomic():
            db.execute_sql(
                "WITH made AS (INSERT INTO clipboards (id, organization_id, revision, state, created_at, updated_at)"
                " SELECT gen_random_uuid(), %s, 1, 'ready', now(), now() FROM generate_series(1, %s) RETURNING id)"
                " INSERT INTO clipboard_images (clipboard_id, position, image_id)"
                " SELECT made.id, p, (%s::uuid[])[p + 1] FROM made, generate_series(0, 2) p",
                (SEED_ORGANIZATION, chunk, list(SEED_IMAGES)),
            )
        have += chunk
    db.execute_sql("VACUUM ANALYZE clipboards")
    db.execute_sql("VACUUM ANALYZE clipboard_images")
    # Write out what the preload dirtied now, so that the checkpoint it would otherwise trigger
    # does not compete with the measured commits for the disk (the preload's after-effect, not
    # the cost of a store with this many rows).
    db.execute_sql("CHECKPOINT")
    return time.perf_counter() - started


def wal_position(db):
    return db.execute_sql("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()[0]


def measure(db, images, image_count, n):
    """Store `n` new clipboards of `image_count` images, one transaction each; return timings (ms)."""
    from workers.clipboard_store import Outcome, store

    timings = []
    for _ in range(n):
        message = messages.StoreClipboard(
            clipboard_id=new_uuid(), organization_id=SEED_ORGANIZATION, user_id=None,
            image_ids=images[:image_count], albums=[SEED_ALBUM], revision=1, created_at_ms=now_ms(),
            request_id=new_uuid(),
        )
        started = time.perf_counter()
        with db.atomic():
            outcome = store(message)
        timings.append((time.perf_counter() - started) * 1000)
        if outcome != Outcome.APPLIED:
            raise SystemExit(f"bench: store returned {outcome}")
    return timings


def main(argv=None):
    from models import database
    from models.db import make_database

    p = parser(__doc__.splitlines()[0], duration=0, smoke_duration=0)
    p.add_argument("--n", type=int, default=300, help="stores per cell at <= 10 images (fewer, at least 50, above; default 300)")
    p.add_argument("--sizes", default="1000,1000000", help="clipboards preloaded (default 1000,1000000)")
    p.add_argument("--rounds", type=int, default=3, help="measure the sizes in turn this many times (default 3)")
    args = parse(p, argv)
    sizes = [1000, 5000] if args.smoke else [int(s) for s in args.sizes.split(",")]
    per_cell = 20 if args.smoke else args.n
    counts = IMAGES_PER_CLIPBOARD[:3] if args.smoke else IMAGES_PER_CLIPBOARD
    rounds = 1 if args.smoke else max(1, args.rounds)
    urls, opened, images, preload_seconds = {}, {}, {}, {}
    timings = {(size, count): [] for size in sizes for count in counts}
    wal = {key: 0 for key in timings}
    try:
        for size in sizes:
            urls[size] = fresh_database(f"scale{len(urls)}")
            _, _, images[size] = seed_tenant(urls[size], extra_images=max(IMAGES_PER_CLIPBOARD) - len(SEED_IMAGES))
            opened[size] = make_database(urls[size])
            database.initialize(opened[size])
            opened[size].connect()
            preload_seconds[size] = preload(opened[size], size)
        for _ in range(rounds):
            for image_count in counts:
                # At least 50 per cell: with 10 a single slow commit moved the p50 by 20%.
                n = max(50 if not args.smoke else 10, per_cell // max(1, image_count // 10))
                for size in sizes:
                    db = opened[size]
                    database.initialize(db)
                    measure(db, images[size], image_count, min(10, n // rounds))  # warm caches and plans
                    before = wal_position(db)
                    timings[(size, image_count)] += measure(db, images[size], image_count, max(1, n // rounds))
                    wal[(size, image_count)] += int(wal_position(db) - before)
    finally:
        for db in opened.values():
            db.close()
        for url in urls.values():
            drop_database(url)
    rows = []
    for (size, image_count), cell in timings.items():
        mean = sum(cell) / len(cell)
        rows.append({"preloaded": size, "images": image_count, "n": len(cell), "mean_ms": round(mean, 3),
                     "p50_ms": round(percentile(cell, 0.5), 3), "p99_ms": round(percentile(cell, 0.99), 3),
                     "ms_per_image": round(mean / image_count, 4),
                     "wal_kb": round(wal[(size, image_count)] / len(cell) / 1024, 1),
                     "preload_seconds": round(preload_seconds[size], 1)})
    rows.sort(key=lambda r: (r["preloaded"], r["images"]))
    print_table(f"store cost: one transaction per clipboard, one connection, no Celery ({rounds} rounds)",
                [("preloaded", "preloaded"), ("images", "images"), ("n", "n"), ("mean_ms", "mean ms"),
                 ("p50_ms", "p50 ms"), ("p99_ms", "p99 ms"), ("ms_per_image", "ms/image"),
                 ("wal_kb", "WAL KiB/store")], rows)
    by = {(r["preloaded"], r["images"]): r for r in rows}
    growth = [{"images": c, "large_over_small": ratio(by[(sizes[-1], c)]["p50_ms"], by[(sizes[0], c)]["p50_ms"])}
              for c in counts]
    print_table(f"p50 with {sizes[-1]:,} preloaded over p50 with {sizes[0]:,} (target <= 1.10)",
                [("images", "images"), ("large_over_small", "ratio")], growth)
    write_result("scale", args, {"sizes": sizes, "rounds": rounds, "cells": rows, "growth": growth})


if __name__ == "__main__":
    main()
