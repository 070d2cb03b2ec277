"""Optional py-spy profiles of services under load (`--profile`): where the time goes, as text.

py-spy is an investigation tool, not a requirement: `.venv/bin/pip install py-spy`. A profile
records the process and its children (gunicorn's workers, Celery's pool) and is summarised as
the functions with the most samples on top of the stack (self) and anywhere on it (inclusive).
"""
import collections
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import RESULTS, VENV_BIN, BenchError


def py_spy():
    path = shutil.which("py-spy", path=f"{VENV_BIN}:{shutil.os.environ.get('PATH', '')}")
    if path is None:
        raise BenchError("--profile needs py-spy: `.venv/bin/pip install py-spy`")
    return path


class Profile:
    """`py-spy record` of pid and its subprocesses for `seconds`, in collapsed-stack form.

    idle: also sample threads waiting (wall-clock view: where a task's time goes, waits included).
    gil: only sample the thread holding the GIL (CPU view: what keeps a busy process busy).
    """

    def __init__(self, name, pid, seconds, rate=200, idle=False, gil=False):
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.raw = RESULTS / f"profile-{name}.collapsed"
        self.summary = RESULTS / f"profile-{name}.txt"
        self.process = subprocess.Popen(
            [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", str(rate),
             "--duration", str(max(1, int(seconds))), "--nonblocking", "--output", str(self.raw),
             *(["--idle"] if idle else []), *(["--gil"] if gil else [])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def finish(self, top=30):
        _, stderr = self.process.communicate(timeout=120)
        if not self.raw.exists():
            print(f"py-spy produced no profile: {stderr.decode(errors='replace')[-500:]}", file=sys.stderr)
            return None
        text = summarise(self.raw, top)
        self.summary.write_text(text)
        return self.summary


def _short(frame):
    # "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit("/", 1)[-1].split(":")[0]
    for marker in ("site-packages/", "lib/python3"):
        if marker in where:
            package = where.split(marker, 1)[1].split("/")[0 if marker == "site-packages/" else 1]
            return f"{name} ({package}/{file})"
    return f"{name} ({where.split('/work/main/', 1)[-1].split(':')[0] or file})"


def summarise(path, top=30):
    """Return a text report of a collapsed-stack file: totals, self and inclusive top lists."""
    self_counts, inclusive = collections.Counter(), collections.Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        short = [_short(f) for f in frames]
        self_counts[short[-1]] += count
        for frame in set(short):
            inclusive[frame] += count
    lines = [f"profile {Path(path).name}: {total} samples over all threads and processes", ""]
    lines.append(f"top {top} by self samples (% of all samples)")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in self_counts.most_common(top)]
    lines.append("")
    lines.append(f"top {top} by inclusive samples")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(summarise(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30))
