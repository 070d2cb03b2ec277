"""gunicorn's gevent worker, with keep-alive connections shared evenly between the web processes.

All web processes accept from one listening socket, and whichever is awake first takes most of a
burst of new connections: `ss` counted 7/1, 2/6 and 6/2 splits of 8 keep-alive connections
between two processes (docs/PERFORMANCE.md). Each connection then stays with its process, so
one process queues its requests while the other idles. Here each process publishes how many
connections it holds, and one that holds more than another live process does leaves a waiting
connection to the others for up to DEFER_LIMIT before it takes it anyway (so a stuck or busy
sibling never leaves connections unaccepted).
"""
import multiprocessing
import os
import time
from functools import partial

from gevent.server import StreamServer
from gunicorn.workers.ggevent import GeventWorker

from core.processes import pid_alive

SLOTS = 64  # more than any web process count we run
DEFER_STEP = 0.001  # seconds between looks at the other processes' counts
DEFER_LIMIT = 0.005  # the longest a waiting connection is left to the others
DEFER_EPISODE = 0.05  # a deferral older than this was for a connection another process took

# Created when gunicorn's arbiter imports this module (it loads the worker class before it forks),
# so every web process shares them.
_pids = multiprocessing.RawArray("i", SLOTS)
_open = multiprocessing.RawArray("i", SLOTS)
_claiming = multiprocessing.Lock()


def may_accept(mine, others):
    """Whether a process holding `mine` connections takes the next one: unless another holds fewer."""
    return not others or mine <= min(others)


class ConnectionCounts:
    """This process's slot in the shared table of open connections per web process."""

    def __init__(self, pids=_pids, counts=_open, lock=_claiming, pid=None, alive=pid_alive):
        pid = pid or os.getpid()
        with lock:
            free = next((i for i in range(len(pids)) if pids[i] == 0 or not alive(pids[i])), None)
            if free is not None:
                pids[free], counts[free] = pid, 0
        if free is None:  # every slot held: a table of its own, so this process takes every connection
            pids, counts, free = [pid], [0], 0
        self._pids, self._counts, self._alive = pids, counts, alive
        self.slot = free

    def opened(self):
        self._counts[self.slot] += 1

    def closed(self):
        self._counts[self.slot] -= 1

    def mine(self):
        return self._counts[self.slot]

    def others(self):
        return [self._counts[i] for i in range(len(self._pids))
                if i != self.slot and self._pids[i] != 0 and self._alive(self._pids[i])]


class EvenServer(StreamServer):
    """A StreamServer that defers an accept while its process holds more connections than another."""

    def __init__(self, listener, counts, handle, spawn, clock=time.monotonic, **ssl_args):
        super().__init__(listener, handle=handle, spawn=spawn, **ssl_args)
        self.max_accept = 1  # as gunicorn sets it when several processes share the socket
        self._counts = counts
        self._clock = clock
        self._deferred_since = None
        self._resume_timer = None

    def do_read(self):
        if not may_accept(self._counts.mine(), self._counts.others()):
            now = self._clock()
            if self._deferred_since is None or now - self._deferred_since > DEFER_EPISODE:
                self._deferred_since = now  # a new connection: the last deferral ended long ago
            if now - self._deferred_since < DEFER_LIMIT:
                self._defer()
                return None  # gevent's server then waits for the next call
        self._deferred_since = None
        return super().do_read()

    def _defer(self):
        self.stop_accepting()
        self._resume_timer = self.loop.timer(DEFER_STEP)
        self._resume_timer.start(self._resume)

    def _resume(self):
        if self.started:
            self.start_accepting()

    def stop_accepting(self):
        super().stop_accepting()
        if self._resume_timer is not None:
            self._resume_timer.close()
            self._resume_timer = None


class EvenGeventWorker(GeventWorker):
    """gunicorn's gevent worker serving through EvenServer (gunicorn's own HTTP handling)."""

    connection_counts = None

    def init_process(self):
        # gunicorn builds each listener's server as server_class(socket, application=..., spawn=...,
        # log=..., handler_class=..., environ=..., **ssl_args); only the socket, the pool and TLS
        # matter here: requests go to this worker's handle, as with gunicorn's plain StreamServer.
        self.server_class = self._even_server
        super().init_process()

    def _even_server(self, listener, spawn, application=None, log=None, handler_class=None, environ=None,
                     **ssl_args):
        if self.connection_counts is None:
            # Taken only now, once the app is loaded: a process still starting is no sibling to wait for.
            self.connection_counts = ConnectionCounts()
        return EvenServer(listener, self.connection_counts, partial(self.handle, listener), spawn, **ssl_args)

    def handle(self, listener, client, addr):
        self.connection_counts.opened()
        try:
            super().handle(listener, client, addr)
        finally:
            self.connection_counts.closed()
