"""Drive the seed's POST with wrk (Debian's `wrk` package), closed loop or at a fixed rate."""
import json
import os
import secrets
import shutil
import subprocess

from bench.common import CLIPBOARDS_PATH, ROOT, SEED_IMAGES, BenchError

SCRIPT = ROOT / "bench" / "wrk" / "post_clipboard.lua"
WRK_THREADS = 2  # one per core; wrk shares the machine with the server under test


def require_wrk():
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed; install it with `apt-get install -y wrk` (Debian/Ubuntu)")
    return path


def post_clipboards(base_url, token, connections, duration, image_ids=SEED_IMAGES, fixed_id=None, rate=0,
                    threads=WRK_THREADS):
    """Run wrk against POST /api/v1/clipboards; return its summary (req/s, latency ms, errors).

    Every request carries a new clipboard id unless `fixed_id` is given. `rate` > 0 paces the
    requests at that many per second in total (open loop per wrk thread).
    """
    threads = max(1, min(threads, connections))
    prefix = secrets.token_hex(4)
    image_part = "".join(f"&image_ids[]={i}" for i in image_ids)
    argv = [require_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", "10s", "-s", str(SCRIPT), base_url + CLIPBOARDS_PATH,
            "--", token, prefix, image_part, fixed_id or "-"]
    env = dict(os.environ, BENCH_WRK_RATE=str(rate), BENCH_WRK_THREADS=str(threads))
    completed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=duration + 60)
    line = next((l for l in completed.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if completed.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    raw = json.loads(line[len("BENCH_JSON "):])
    seconds = raw["duration_us"] / 1e6
    errors = {k[len("errors_"):]: v for k, v in raw.items() if k.startswith("errors_") and v}
    return {
        "connections": connections,
        "threads": threads,
        "offered_rate": rate or None,
        "id_prefix": prefix,
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": round(raw["mean_us"] / 1000, 3),
        "errors": errors,
    }
