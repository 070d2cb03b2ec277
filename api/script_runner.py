"""Run the ledger's Lua scripts with as little client work per call as redis-py allows.

redis-py's general call path (packing each argument in Python, the pool checkout with its
liveness poll, the retry wrapper, observability hooks) cost ~146 µs of CPU per EVALSHA in a
gevent web process here, against ~50 µs for sending a command packed by hiredis on an open
connection and reading its reply (docs/PERFORMANCE.md). A POST is one such call, so this keeps
its own idle connections and sends pre-packed commands. The connections are redis-py's, made from
the client's own pool settings, so the URL, AUTH, SELECT, TLS and the finite timeouts are
redis-py's, and so are the errors (every failure is a `redis.RedisError`).

A call is never retried once its command may have reached Redis: a script that ran but whose
reply was lost must surface as an error, not run twice.
"""
import hashlib
import select
import sys

import hiredis
import redis

# Idle connections kept for reuse; more are closed when they come back (after a burst).
MAX_IDLE = 64


class Script:
    def __init__(self, source):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class ScriptRunner:
    def __init__(self, client):
        pool = client.connection_pool
        self._connection_class = pool.connection_class
        self._connection_kwargs = pool.connection_kwargs
        self._poll = _os_poll()
        self._idle = []  # list.append and list.pop are atomic

    def run(self, script, keys, args):
        """EVALSHA `script` (EVAL when Redis does not know it yet); return the reply."""
        try:
            return self._call(hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args)))
        except redis.exceptions.NoScriptError:
            return self._call(hiredis.pack_command(("EVAL", script.source, len(keys), *keys, *args)))

    def close(self):
        while self._idle:
            self._idle.pop().disconnect()

    def _call(self, packed):
        connection = self._checkout()
        try:
            connection.send_packed_command((packed,), check_health=False)
            reply = connection.read_response()
        except redis.ResponseError:
            self._checkin(connection)  # an error reply: the connection is in step
            raise
        except BaseException:
            connection.disconnect()
            raise
        self._checkin(connection)
        return reply

    def _checkout(self):
        """An idle connection that is still open and in step, else a new one (it connects on use).

        A command is only sent on a connection known to be good, so a Redis restart between two
        requests costs no failed request and nothing is ever sent twice.
        """
        while self._idle:
            connection = self._idle.pop()
            if self._in_step(connection):
                return connection
            connection.disconnect()
        return self._connection_class(**self._connection_kwargs)

    def _in_step(self, connection):
        """Whether nothing is waiting to be read: an idle connection with data or EOF is unusable."""
        sock = connection._sock  # redis-py's open socket (None once disconnected)
        if sock is None:
            return False
        poll = self._poll()
        poll.register(sock.fileno(), select.POLLIN)
        return not poll.poll(0)

    def _checkin(self, connection):
        if len(self._idle) < MAX_IDLE:
            self._idle.append(connection)
        else:
            connection.disconnect()


def _os_poll():
    """select.poll as the OS gives it, also under gevent's monkey-patching.

    A zero-timeout poll never waits, so it needs no cooperative scheduling, and gevent's version
    costs ~17 µs here against ~0.7 µs (redis-py's own liveness check costs the same 17 µs).
    """
    if "gevent.monkey" in sys.modules:
        from gevent.monkey import get_original

        return get_original("select", "poll")
    return select.poll
