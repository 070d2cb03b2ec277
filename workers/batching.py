"""Consume a task's messages in batches.

The default Celery strategy hands each message to a pool process on its own, which costs more
than storing a clipboard does. A BatchTask's strategy instead gathers the messages in the
worker's main process and hands them to a pool process together: at most `batch_size` at a
time, `batch_interval` seconds after the first or as soon as a pool process is free, and never
more batches at once than there are pool processes (`Batches`). Each message is acknowledged
only after its batch returned (acks late); if the pool process dies, every message of the batch
goes back to the queue. `run_batch` must be idempotent per message, like any acks-late task.
"""
import json
import logging

from celery import Task

log = logging.getLogger(__name__)


class BatchTask(Task):
    Strategy = "workers.batching:batch_strategy"
    batch_size = 200
    batch_interval = 0.005
    maintenance_interval = None  # seconds between calls of `maintain` in the main process

    def maintain(self):
        """Periodic upkeep in the worker's main process (see maintenance_interval)."""

    def run_batch(self, bodies):
        """Apply the decoded message bodies `[args, kwargs, embed]`; runs in a pool process."""
        raise NotImplementedError

    def run(self, *args, **kwargs):
        """Called when a message is executed on its own (e.g. `apply`): a batch of one."""
        return self.run_batch([[list(args), kwargs, {}]])[0]


def run_batch(task_name, bodies):
    """Entry point in the pool process (a module-level function, so the pool can pickle it)."""
    decoded = []
    for body in bodies:
        try:
            args, kwargs, _embed = json.loads(body)
        except (ValueError, TypeError) as error:
            # Redelivering an unreadable body could never make it readable: drop it, loudly.
            log.error("unreadable message body dropped task=%s error=%s", task_name, error)
            continue
        decoded.append([args, kwargs, _embed])
    from workers.app import app  # the worker's app, whichever app is current in this process

    return app.tasks[task_name].run_batch(decoded)


def batch_strategy(task, app, consumer, **_options):
    """Return the message handler that batches `task`'s messages (a Celery task Strategy)."""
    batches = Batches(task, consumer.pool, consumer.timer, consumer.connection_errors)
    if task.maintenance_interval:
        consumer.timer.call_repeatedly(task.maintenance_interval, _guarded(task.maintain))
    return batches.handle


class Batches:
    """Gather a task's messages and hand them to the pool, at most one batch per pool process.

    A batch goes when it is full, `batch_interval` after its first message, or, when every pool
    process already holds one, as soon as one of them returns. Handing over more batches than
    there are processes only queued them inside the worker, out of sight of the queue depth:
    under the sustained bench that queue held messages for 0.2 to 2 s at half load.
    """

    def __init__(self, task, pool, timer, connection_errors):
        self._task = task
        self._pool = pool
        self._timer = timer
        self._connection_errors = connection_errors
        self._pending = []  # (raw body, ack, reject) of messages not yet handed to the pool
        self._scheduled = None  # the timer entry that hands over a batch that did not fill up
        self.in_flight = 0

    def handle(self, message, body, ack, reject, callbacks, **_kwargs):
        self._pending.append((message.body, ack, reject))
        if len(self._pending) >= self._task.batch_size:
            self.flush()
        elif self._scheduled is None:
            self._scheduled = self._timer.call_after(self._task.batch_interval, self.flush)

    def flush(self):
        if self._scheduled is not None:
            self._scheduled.cancel()
            self._scheduled = None
        if not self._pending or self.in_flight >= self._capacity():
            return  # nothing to send, or it goes when a batch returns
        batch = self._pending[:self._task.batch_size]
        del self._pending[:len(batch)]
        self.in_flight += 1
        bodies = [body for body, _ack, _reject in batch]
        self._pool.apply_async(run_batch, args=(self._task.name, bodies),
                               callback=lambda _outcomes: self._returned(batch, True),
                               error_callback=lambda exc_info: self._returned(batch, False, exc_info))

    def _capacity(self):
        """The pool's process count, read each time (a prefork pool knows it once started)."""
        try:
            return max(1, self._pool.num_processes or 1)
        except AttributeError:
            return 1

    def _returned(self, batch, succeeded, exc_info=None):
        self.in_flight -= 1
        if succeeded:
            for _body, ack, _reject in batch:
                ack(log, self._connection_errors)
        else:
            log.error("batch failed, its messages go back to the queue task=%s size=%d error=%r",
                      self._task.name, len(batch), getattr(exc_info, "exception", exc_info))
            for _body, _ack, reject in batch:
                reject(log, self._connection_errors, requeue=True)
        self.flush()


def _guarded(function):
    def call():
        try:
            function()
        except Exception:  # noqa: BLE001 - upkeep must never stop the consumer; try next time
            log.exception("periodic upkeep failed")

    return call
