"""Liveness and readiness probes for operators and orchestrators."""
import falcon

from api.rendering import send_json


class Health:
    """GET /healthz: the process serves requests. It checks nothing else, on purpose."""

    public = True

    def on_get(self, req, resp):
        send_json(resp, {"status": "ok"})


class Readiness:
    """GET /readyz: Redis answers (the clipboard path needs nothing else) and PostgreSQL's state."""

    public = True

    def __init__(self, redis_client, database_ping):
        self._redis = redis_client
        self._database_ping = database_ping

    def on_get(self, req, resp):
        checks = {"redis": _probe(self._redis.ping), "postgresql": _probe(self._database_ping)}
        ready = checks["redis"] == "ok"
        send_json(resp, {"status": "ok" if ready else "unavailable", "checks": checks})
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503


def _probe(check):
    try:
        check()
    except Exception as error:  # any failure means "not ok"; the text goes to the operator
        return f"error: {error.__class__.__name__}"
    return "ok"
