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

# gevent: `GET /api/v1/jobs/:id?wait=N` holds a request for up to 30 s, and with gevent a waiting
# request is a parked greenlet, not a thread or a process, so thousands can wait while the
# process goes on serving. It also measured best for the POST path here (docs/PERFORMANCE.md:
# ~3,300 req/s and p99 4.7 ms at c=8, against ~3,100 and 9.6 ms for gthread 2x8). psycopg2 is
# made cooperative in post_worker_init below; redis-py and time.sleep are by monkey-patching.
# "gevent" is gunicorn's gevent worker that also shares keep-alive connections evenly between
# the processes (api/gevent_worker.py); any other value is passed to gunicorn as it is.
_worker_kind = os.environ.get("WEB_WORKER_CLASS", "gevent")
worker_class = "api.gevent_worker.EvenGeventWorker" if _worker_kind == "gevent" else _worker_kind
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("WEB_THREADS", "8"))  # used only with WEB_WORKER_CLASS=gthread

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


def post_worker_init(worker):
    """Under gevent, make psycopg2 wait cooperatively instead of blocking the whole process."""
    if _worker_kind == "gevent":
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()


def post_request(worker, req, environ, resp):
    """Under gevent, let the other connections' greenlets run after every request.

    gevent switches greenlets only when one must wait, and a keep-alive connection whose next
    request is already buffered never has to, so without this a busy client holds the whole
    process: the bare-Falcon bench app's p99 at c=8 was ~1 s, with this ~8 ms
    (docs/PERFORMANCE.md). It costs one trip through the hub per request.
    """
    if _worker_kind == "gevent":
        import gevent

        gevent.sleep(0)
