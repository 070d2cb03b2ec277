"""Whether Redis keeps what it acknowledges, as docs/OPERATIONS.md prescribes.

A 200 means the clipboard's claim and its message are in Redis. Without `appendonly yes` and
`appendfsync always` a crash or a restart can lose them, and with an evicting
`maxmemory-policy` Redis may drop them when memory runs short. Redis reports these settings
itself, so the service can tell its operators when they are not as prescribed.
"""
import logging

import redis

log = logging.getLogger(__name__)

PRESCRIBED = (("appendonly", "yes"), ("appendfsync", "always"), ("maxmemory-policy", "noeviction"))


def read_settings(client):
    """The prescribed settings as Redis reports them, or None when CONFIG GET is refused.

    (Managed Redis services often rename or forbid CONFIG.) Connection errors propagate.
    """
    pipe = client.pipeline(transaction=False)
    for name, _wanted in PRESCRIBED:
        pipe.config_get(name)
    try:
        replies = pipe.execute()
    except redis.ResponseError:
        return None
    found = {}
    for reply in replies:
        found.update({_text(name): _text(value) for name, value in reply.items()})
    return found


def shortfalls(found):
    """What differs from the prescription, one sentence per setting (empty: as prescribed)."""
    return [
        f"{name} is {found.get(name)!r}, must be {wanted!r}"
        for name, wanted in PRESCRIBED
        if found.get(name) != wanted
    ]


def warn_unless_durable(client):
    """Log a warning when Redis's persistence is not as prescribed (the web process, at start)."""
    try:
        found = read_settings(client)
    except redis.RedisError as error:
        log.warning("cannot check Redis persistence now error=%s", error)
        return
    if found is None:
        log.warning("cannot check Redis persistence: Redis refused CONFIG GET")
    elif missing := shortfalls(found):
        log.warning("Redis persistence is not as docs/OPERATIONS.md prescribes; a crash can lose accepted"
                    " clipboards: %s", "; ".join(missing))


def _text(value):
    return value.decode() if isinstance(value, bytes) else value
