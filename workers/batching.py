"""Consume a task's messages in batches.

The default Celery strategy hands each message to a pool process on its own, which costs more
than storing a clipboard does. A BatchTask's strategy instead gathers the messages in the
worker's main process and hands them to a pool process together, at most `batch_size` at a
time and after at most `batch_interval` seconds. Each message is acknowledged only after the
batch returned (acks late); if the pool process dies, every message of the batch goes back to
the queue. `run_batch` must be idempotent per message, like any acks-late task.
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
    pool = consumer.pool
    timer = consumer.timer
    connection_errors = consumer.connection_errors
    pending = []  # (raw body, ack, reject) of messages not yet handed to the pool
    scheduled = []  # the timer entry that flushes a batch that did not fill up

    def flush():
        for entry in scheduled:
            entry.cancel()
        scheduled.clear()
        if not pending:
            return
        batch = list(pending)
        pending.clear()

        def done(_outcomes):
            for _body, ack, _reject in batch:
                ack(log, connection_errors)

        def failed(exc_info):
            log.error("batch failed, its messages go back to the queue task=%s size=%d error=%r",
                      task.name, len(batch), getattr(exc_info, "exception", exc_info))
            for _body, _ack, reject in batch:
                reject(log, connection_errors, requeue=True)

        bodies = [body for body, _ack, _reject in batch]
        pool.apply_async(run_batch, args=(task.name, bodies), callback=done, error_callback=failed)

    if task.maintenance_interval:
        timer.call_repeatedly(task.maintenance_interval, _guarded(task.maintain))

    def handle(message, body, ack, reject, callbacks, **_kwargs):
        pending.append((message.body, ack, reject))
        if len(pending) >= task.batch_size:
            flush()
        elif not scheduled:
            scheduled.append(timer.call_after(task.batch_interval, flush))

    return handle


def _guarded(function):
    def call():
        try:
            function()
        except Exception:  # noqa: BLE001 - upkeep must never stop the consumer; try next time
            log.exception("periodic upkeep failed")

    return call
