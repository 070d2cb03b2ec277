"""GET /metrics: the pipeline's state in Prometheus text format, read from Redis on each scrape.

These are gauges of shared state (the same from every web process), so they need no
multi-process collection: how many messages wait in the queue (scale workers on this), how many
are delivered but unacknowledged, and how many a worker took in a batch and has not finished;
and whether Redis runs with the persistence the docs prescribe (alert when it does not).
"""
import redis

from api import redis_durability
from core import messages

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_GAUGES = (
    ("clipboard_queue_depth", "Messages waiting in the clipboards queue.", "llen", messages.QUEUE),
    ("clipboard_unacked_messages", "Messages delivered to a worker and not yet acknowledged.", "hlen", "unacked"),
    ("clipboard_inflight_messages", "Store messages a worker took in a batch and has not finished.", "hlen",
     f"{messages.QUEUE}.inflight"),
)


class Metrics:
    public = True

    def __init__(self, redis_client):
        self._redis = redis_client

    def on_get(self, req, resp):
        lines = []
        try:
            pipe = self._redis.pipeline(transaction=False)
            for _name, _help, command, key in _GAUGES:
                getattr(pipe, command)(key)
            values = pipe.execute()
            up = 1
        except redis.RedisError:
            values, up = [None] * len(_GAUGES), 0
        lines += ["# HELP clipboard_redis_up Whether Redis answered this scrape.", "# TYPE clipboard_redis_up gauge",
                  f"clipboard_redis_up {up}"]
        for (name, help_text, _command, _key), value in zip(_GAUGES, values):
            if value is not None:
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
        durable = self._durable() if up else None
        if durable is not None:
            lines += ["# HELP clipboard_redis_durable Whether Redis runs with appendonly yes, appendfsync always"
                      " and maxmemory-policy noeviction (absent when Redis does not say).",
                      "# TYPE clipboard_redis_durable gauge", f"clipboard_redis_durable {durable}"]
        resp.text = "\n".join(lines) + "\n"
        resp.content_type = CONTENT_TYPE

    def _durable(self):
        try:
            found = redis_durability.read_settings(self._redis)
        except redis.RedisError:
            return None
        return None if found is None else int(not redis_durability.shortfalls(found))
