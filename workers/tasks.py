"""Task entry points: decode the versioned payload, apply it with the database, done.

Both tasks are idempotent (a revision is applied at most once, see workers.clipboard_store), so
they run with `acks_late` and `reject_on_worker_lost`: a message is acknowledged only after its
transaction committed or its failure was recorded, and a worker that dies mid-task gives it back.
Task names are the contract in core.messages and must not change.
"""
from core import messages
from core import settings as settings_module
from models import database
from workers import clipboard_store
from workers.app import app
from workers.payloads import DROPPED, decode

_settings = settings_module.load()

_AT_LEAST_ONCE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@app.task(name=messages.STORE_CLIPBOARD, **_AT_LEAST_ONCE)
def store_clipboard(*args, **payload):
    message = decode(messages.StoreClipboard, payload, args)
    if message is None:
        return DROPPED
    return clipboard_store.apply(database, clipboard_store.store, message, _settings.retry_max_delay)


@app.task(name=messages.DELETE_CLIPBOARD, **_AT_LEAST_ONCE)
def delete_clipboard(*args, **payload):
    message = decode(messages.DeleteClipboard, payload, args)
    if message is None:
        return DROPPED
    return clipboard_store.apply(database, clipboard_store.delete, message, _settings.retry_max_delay)
