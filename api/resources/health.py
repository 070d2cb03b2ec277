"""Liveness and readiness probes for operators and orchestrators."""
import falcon
import redis

from api import redis_durability
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
        if ready:
            # Reported, not required: a Redis without persistence still serves (development
            # runs on one), but operators must know that a crash would lose what it holds.
            checks["redis_persistence"] = _persistence(self._redis)
        send_json(resp, {"status": "ok" if ready else "unavailable", "checks": checks})
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503


def _probe(check):
    try:
        check()
    except Exception as error:  # any failure means "not ok"; the text goes to the operator
        return f"error: {error.__class__.__name__}"
    return "ok"


def _persistence(client):
    try:
        found = redis_durability.read_settings(client)
    except redis.RedisError as error:
        return f"error: {error.__class__.__name__}"
    if found is None:
        return "unknown: Redis refused CONFIG GET"
    return "; ".join(redis_durability.shortfalls(found)) or "ok"
