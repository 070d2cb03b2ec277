"""Task entry points: decode the versioned payload, run the unit of work in one transaction."""
import logging

from core import messages
from core import settings as settings_module
from models import database
from workers import clipboard_store
from workers.app import app
from workers.retrying import until_committed

log = logging.getLogger(__name__)
_settings = settings_module.load()


def _in_transaction(function, *args):
    def unit():
        with database.connection_context():
            with database.atomic():
                return function(*args)

    return unit


def _apply(apply, message):
    """Run `apply(message)` in a transaction until it commits; a permanent error fails the revision."""
    try:
        outcome = until_committed(_in_transaction(apply, message), _settings.retry_max_delay, message.task_name)
    except Exception as error:  # anything that is not transient will not pass by retrying
        reason = str(error).strip().splitlines()[0] if str(error) else type(error).__name__
        log.error("revision failed task=%s clipboard_id=%s revision=%s reason=%s",
                  message.task_name, message.clipboard_id, message.revision, reason)
        until_committed(
            _in_transaction(clipboard_store.mark_failed, message.clipboard_id, message.organization_id,
                            message.revision, reason),
            _settings.retry_max_delay,
            "mark_failed",
        )
        return "failed"
    log.info("clipboard revision done task=%s clipboard_id=%s revision=%s outcome=%s request_id=%s",
             message.task_name, message.clipboard_id, message.revision, outcome, message.request_id)
    return outcome


@app.task(name=messages.STORE_CLIPBOARD, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def store_clipboard(**payload):
    return _apply(clipboard_store.store, messages.StoreClipboard.from_dict(payload))


@app.task(name=messages.DELETE_CLIPBOARD, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def delete_clipboard(**payload):
    return _apply(clipboard_store.delete, messages.DeleteClipboard.from_dict(payload))
