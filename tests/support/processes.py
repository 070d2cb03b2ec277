"""Start real service processes (Celery workers) for integration tests."""
import os
import pathlib
import signal
import subprocess
import sys
import time

from core.processes import child_pids

ROOT = pathlib.Path(__file__).resolve().parents[2]


class WorkerProcess:
    """A `celery -A workers worker` subprocess whose output goes to a log file under tmp_path."""

    def __init__(self, env, log_path, concurrency=1, extra_args=()):
        self.log_path = pathlib.Path(log_path)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "-l", "INFO",
             "-c", str(concurrency), "--without-mingle", "--without-gossip", "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
             *extra_args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            if " ready." in self.log():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.log()[-4000:]}")

    def pool_pids(self):
        """The pids of the worker's pool processes."""
        return child_pids(self.process.pid)

    def kill(self):
        """SIGKILL the whole process group: the main process and its pool children, no cleanup."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout=15.0):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def stop_process(process, log=None, timeout=15.0):
    """SIGTERM a subprocess, SIGKILL it if it lingers, and close its log file."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if log is not None:
        log.close()


def worker_env(database_url, redis_url, **overrides):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CLIPBOARD_ENV="test",
        RETRY_MAX_DELAY="1",
        PYTHONUNBUFFERED="1",
    )
    env.update({name: str(value) for name, value in overrides.items()})
    return env
