"""Run the ledger's Lua scripts with as little client work per call as redis-py allows.

redis-py's general call path (packing each argument in Python, the pool checkout with its
liveness poll, the retry wrapper, observability hooks) cost ~146 µs of CPU per EVALSHA in a
gevent web process here, against ~48 µs for sending a command packed by hiredis on an open
socket and parsing the reply with hiredis (docs/PERFORMANCE.md). A POST is one such call, so
this keeps its own idle connections and does its own socket reads and writes. The connections
are opened by redis-py from the client's own pool settings, so the URL, AUTH, SELECT and the
finite timeouts are redis-py's; every failure is raised as a `redis.RedisError`. (With
`rediss://` the same calls go to redis-py's TLS socket; the tests do not exercise TLS.)

Under gevent, the calls that requests make in the same turn of the event loop go to Redis in
one write and come back in one read (`_GeventGathering`).

A call is never retried once its command may have reached Redis: a script that ran but whose
reply was lost must surface as an error, not run twice.
"""
import hashlib
import select
import socket
import sys

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Idle connections kept for reuse; more are closed when they come back (after a burst).
MAX_IDLE = 64
READ_BUFFER_BYTES = 16 * 1024


class Script:
    def __init__(self, source):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class _Line:
    """A redis-py connection (it connects, authenticates and selects the database) whose socket
    this module reads and writes itself, with a hiredis reader of its own, a poll object for its
    socket, and under gevent a read watcher of its own (`readable`)."""

    def __init__(self, connection, poll, readable=None):
        self.connection = connection
        self.reader = hiredis.Reader(protocolError=redis.InvalidResponse, replyError=redis.ResponseError)
        self.buffer = bytearray(READ_BUFFER_BYTES)
        self._poll = poll()
        self._poll.register(connection._sock.fileno(), select.POLLIN)
        self.readable = readable(connection._sock) if readable is not None else None

    def in_step(self):
        """Whether nothing is waiting to be read: an idle connection with data or EOF is unusable."""
        return self.connection._sock is not None and not self._poll.poll(0)

    def close(self):
        if self.readable is not None:
            self.readable.close()
        self.connection.disconnect()


class ScriptRunner:
    def __init__(self, client):
        pool = client.connection_pool
        self._connection_class = pool.connection_class
        # One attempt to connect: a request waiting on backoff is worse than a prompt 503.
        self._connection_kwargs = {**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
        self._poll = _os_poll()
        self._readable = _gevent_readable()
        self._idle = []  # _Lines; list.append and list.pop are atomic
        self._gathering = _GeventGathering(self._round_trip) if self._readable is not None else None

    def run(self, script, keys, args):
        """EVALSHA `script` (EVAL when Redis does not know it yet); return the reply."""
        try:
            return self._call(hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args)))
        except redis.exceptions.NoScriptError:
            return self._call(hiredis.pack_command(("EVAL", script.source, len(keys), *keys, *args)))

    def close(self):
        while self._idle:
            self._idle.pop().close()

    def _call(self, packed):
        if self._gathering is not None:
            reply = self._gathering.call(packed)
        else:
            reply = self._round_trip([packed])[0]
        if isinstance(reply, redis.ResponseError):  # an error reply: the connection is in step
            if str(reply).startswith("NOSCRIPT"):
                raise redis.exceptions.NoScriptError(str(reply))
            raise reply
        return reply

    def _round_trip(self, commands):
        """Send the packed commands in one write on one line; return their replies, in order."""
        line = self._checkout()
        try:
            replies = _exchange(line, b"".join(commands), len(commands))  # one command: joined is itself
        except BaseException:
            line.close()
            raise
        self._checkin(line)
        return replies

    def _checkout(self):
        """An idle line that is still open and in step, else a new one.

        A command is only sent on a connection known to be good, so a Redis restart between two
        requests costs no failed request and nothing is ever sent twice.
        """
        while self._idle:
            line = self._idle.pop()
            if line.in_step():
                return line
            line.close()
        connection = self._connection_class(**self._connection_kwargs)
        connection.connect()  # raises redis-py's ConnectionError or TimeoutError
        return _Line(connection, self._poll, self._readable)

    def _checkin(self, line):
        if len(self._idle) < MAX_IDLE:
            self._idle.append(line)
        else:
            line.close()


def _exchange(line, packed, count):
    """Send packed commands and return their `count` replies (error replies as ResponseError values).

    socket.send rather than sendall: a command fits the socket buffer, and gevent's sendall
    asks the kernel for the buffer size (a getsockopt) on every call. Under gevent the reply is
    waited for before it is read (`line.readable`), where a read would first find nothing: the
    same throughput, and a p99 of 3.9-4.9 ms at c=8 against 5.7-6.5 ms in three runs each.
    """
    sock = line.connection._sock
    try:
        sent = sock.send(packed)
        if sent < len(packed):
            sock.sendall(memoryview(packed)[sent:])
        replies = []
        while len(replies) < count:
            reply = line.reader.gets()
            if reply is not False:
                replies.append(reply)
                continue
            if line.readable is not None:
                line.readable.wait(sock.gettimeout())
            received = sock.recv_into(line.buffer)
            if not received:
                raise redis.ConnectionError("Redis closed the connection.")
            line.reader.feed(line.buffer, 0, received)
        return replies
    except socket.timeout as error:
        raise redis.TimeoutError(f"Redis did not answer in time: {error}") from error
    except OSError as error:
        raise redis.ConnectionError(f"Error talking to Redis: {error}") from error


class _GeventReadable:
    """Waits, cooperatively, until a socket has something to read, on one watcher for its life.

    gevent's wait_read makes a new watcher on every call, which costs the event loop an
    epoll_ctl and an fcntl each time (strace: two of the fourteen system calls a POST cost); a
    watcher kept for the connection's life is registered once.
    """

    def __init__(self, sock):
        from gevent import get_hub
        from gevent.socket import wait  # raises socket.timeout when `timeout` passes

        self._watcher = get_hub().loop.io(sock.fileno(), 1)
        self._wait = wait

    def wait(self, timeout):
        self._wait(self._watcher, timeout)

    def close(self):
        self._watcher.close()


class _GeventGathering:
    """Under gevent, the calls made in one turn of the event loop share one round trip to Redis.

    The first call of a turn (the leader) yields once, so that the other requests made ready by
    the same turn reach their call and join it; it then sends all their commands in one write
    and hands each its reply. No call ever waits for another round trip to finish, and Redis
    and the web process wake up once for the lot (at c=8, 2 to 5 calls shared a turn).
    """

    def __init__(self, round_trip):
        import gevent
        from gevent import get_hub
        from gevent.hub import Waiter

        self._round_trip = round_trip
        self._sleep = gevent.sleep
        self._get_hub = get_hub
        self._waiter_class = Waiter
        self._joining = None  # [(packed, Waiter or None for the leader)] while a leader yields

    def call(self, packed):
        if self._joining is not None:
            waiter = self._waiter_class()
            self._joining.append((packed, waiter))
            return waiter.get()
        batch = self._joining = [(packed, None)]
        try:
            try:
                self._sleep(0)
            finally:
                self._joining = None
            replies = self._round_trip([command for command, _ in batch])
        except BaseException as error:
            shared = _error_for_others(error)
            for _, waiter in batch[1:]:
                self._from_hub(waiter.throw, type(shared), type(shared)(*shared.args))
            raise
        for (_, waiter), reply in zip(batch[1:], replies[1:]):
            self._from_hub(waiter.switch, reply)
        return replies[0]

    def _from_hub(self, function, *args):
        """Wake a caller that joined: Waiter.switch and Waiter.throw must be called by the hub."""
        self._get_hub().loop.run_callback(function, *args)


def _error_for_others(error):
    """What the leader's fellow callers raise when its round trip failed."""
    if isinstance(error, redis.RedisError):
        return error
    return redis.ConnectionError(f"The shared round trip to Redis was interrupted: {error!r}")


def _gevent_readable():
    """_GeventReadable when gevent has patched sockets (the gevent web worker), else None."""
    if "gevent.monkey" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return _GeventReadable
    return None


def _os_poll():
    """select.poll as the OS gives it, also under gevent's monkey-patching.

    A zero-timeout poll never waits, so it needs no cooperative scheduling, and gevent's version
    costs ~17 µs here against ~0.7 µs (redis-py's own liveness check costs the same 17 µs).
    """
    if "gevent.monkey" in sys.modules:
        from gevent.monkey import get_original

        return get_original("select", "poll")
    return select.poll
