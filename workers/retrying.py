"""Run a unit of work until it commits, waiting out errors that pass.

Transient database errors (connection refused or lost, serialization failures, deadlocks) are
retried in the worker process itself, with capped exponential backoff and full jitter, for as
long as it takes. The message stays unacknowledged meanwhile: if the worker dies, Redis hands
it to another worker after the visibility timeout. We do not use `Task.retry`, because it
publishes a new message and acknowledges the old one; if Redis is down as well at that moment
the publish fails and the work would be lost.
"""
import logging
import random
import time

import peewee

log = logging.getLogger(__name__)

# OperationalError covers connection failures, serialization failures and deadlocks
# (psycopg2's TransactionRollbackError); InterfaceError a connection closed under us.
TRANSIENT_ERRORS = (peewee.OperationalError, peewee.InterfaceError)
BASE_DELAY_SECONDS = 0.1


def backoff_delay(attempt, max_delay, rng=random.random):
    """Full-jitter exponential backoff: uniform in [0, min(max_delay, base * 2**attempt)]."""
    return rng() * min(max_delay, BASE_DELAY_SECONDS * (2 ** min(attempt, 32)))


def until_committed(work, max_delay, describe="", sleep=time.sleep):
    """Call `work()` until it returns without a transient error; return its result."""
    attempt = 0
    while True:
        try:
            return work()
        except TRANSIENT_ERRORS as error:
            delay = backoff_delay(attempt, max_delay)
            log.warning(
                "transient database error, retrying work=%s attempt=%d delay=%.2f error=%s",
                describe, attempt + 1, delay, str(error).strip().splitlines()[0] if str(error) else type(error).__name__,
            )
            attempt += 1
            sleep(delay)


def in_transaction(db, function, *args):
    """Return a unit of work: `function(*args)` in one transaction on the process's connection.

    The connection stays open between units (opening one costs more than most units), but one
    that failed (the server restarted, the backend was terminated) is thrown away, so the next
    attempt always starts on a fresh connection.
    """

    def unit():
        try:
            db.connect(reuse_if_open=True)
            with db.atomic():
                return function(*args)
        except TRANSIENT_ERRORS:
            _discard_connection(db)
            raise

    return unit


def _discard_connection(db):
    """Forget a connection that failed; closing a dead one may fail too, and that is fine."""
    try:
        db.close()
    except peewee.DatabaseError:
        db.dispose()
