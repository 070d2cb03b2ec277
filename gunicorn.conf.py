"""gunicorn settings for the `web` process (Procfile). The service's own settings come from core.settings.

Environment (besides core.settings'): WEB_CONCURRENCY (processes, default 2), WEB_THREADS (threads
per process, default 8), WEB_TIMEOUT (seconds, default 30), ACCESS_LOG (a path, or `-` for
stdout; unset: no access log).
"""
import os

from core.settings import load

_settings = load()  # fail here, before forking, on a configuration that may not start

bind = f"0.0.0.0:{_settings.port}"

# One process per core of the 2-core machines we run on.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# A clipboard request waits mostly on Redis, so threads keep a process busy while one request
# waits. 8 is a first guess, not a measurement: the web tuning work will replace these numbers
# (see docs/PERFORMANCE.md).
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))

# A request that takes this long is stuck (Redis answers in milliseconds, and REDIS_TIMEOUT bounds
# each call): the worker is killed and replaced.
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5

# Off by default: one line per request costs throughput, and X-Request-Id plus the application's
# own logs identify requests. Set ACCESS_LOG=- to log to stdout.
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"

# gunicorn 27's control socket (for gunicornc) defaults to one path per user, which every gunicorn
# on the machine would share; we do not use it.
control_socket_disable = True
loglevel = _settings.log_level.lower()
