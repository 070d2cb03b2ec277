"""Task entry points: decode the versioned payload, apply it with the database, done.

Every task is idempotent (a revision is applied at most once, a job ends once), so
they run with `acks_late` and `reject_on_worker_lost`: a message is acknowledged only after its
transaction committed or its failure was recorded, and a worker that dies mid-task gives it back.
Task names are the contract in core.messages and must not change.
"""
import functools
import logging
import time

from celery.exceptions import Reject

from core import messages
from core import settings as settings_module
from models import database
from workers import clipboard_store, paste
from workers.app import app
from workers import queue_drain as queue_drain_module
from workers.batching import BatchTask
from workers.payloads import DROPPED, decode

log = logging.getLogger(__name__)
_settings = settings_module.load()

_AT_LEAST_ONCE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


class StoreClipboards(BatchTask):
    """clipboards.store, consumed in batches: one transaction stores many revisions."""

    name = messages.STORE_CLIPBOARD
    acks_late = True
    reject_on_worker_lost = True
    ignore_result = True
    batch_size = _settings.store_batch_size

    maintenance_interval = max(1, min(10, _settings.visibility_timeout // 10))

    def run_batch(self, bodies):
        taken = queue_drain().take(self.batch_size - len(bodies))
        bodies = list(bodies) + [body for body in map(_readable_body, (raw for _tag, raw in taken)) if body]
        decoded = [decode(messages.StoreClipboard, kwargs, args) for args, kwargs, _embed in bodies]
        readable = [message for message in decoded if message is not None]
        outcomes = iter(clipboard_store.apply_many(database, readable, _settings.retry_max_delay))
        results = [DROPPED if message is None else next(outcomes) for message in decoded]
        queue_drain().done([tag for tag, _raw in taken])
        return results[: len(bodies) - len(taken)]

    def maintain(self):
        restored = queue_drain().restore_expired()
        if restored:
            log.warning("restored store messages a worker took but did not finish count=%d", restored)


def _readable_body(raw):
    try:
        return queue_drain_module.task_body(raw)
    except (ValueError, KeyError, TypeError) as error:
        log.error("unreadable message dropped task=%s error=%s", messages.STORE_CLIPBOARD, error)
        return None


@functools.lru_cache(maxsize=1)
def queue_drain():
    client = queue_drain_module.redis_client(_settings.redis_url)
    return queue_drain_module.QueueDrain(client, _settings.visibility_timeout, time.time)


store_clipboard = app.register_task(StoreClipboards())


@app.task(name=messages.DELETE_CLIPBOARD, **_AT_LEAST_ONCE)
def delete_clipboard(*args, **payload):
    message = decode(messages.DeleteClipboard, payload, args)
    if message is None:
        return DROPPED
    return clipboard_store.apply(database, clipboard_store.delete, message, _settings.retry_max_delay)


@app.task(name=messages.PASTE_CLIPBOARD, **_AT_LEAST_ONCE)
def paste_clipboard(*args, **payload):
    message = decode(messages.PasteClipboard, payload, args)
    if message is None:
        return DROPPED
    outcome = paste.run(database, message, _settings.retry_max_delay)
    if outcome == paste.Outcome.BEHIND:
        # Back to the queue, behind the store it waits for; the broker keeps it if this fails.
        raise Reject("clipboard store not caught up yet", requeue=True)
    return outcome
