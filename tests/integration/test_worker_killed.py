"""A worker SIGKILLed in the middle of a store: the message comes back and is applied once."""
import os
import signal

import psycopg2
import pytest

from models import Clipboard, ClipboardState
from tests.integration.conftest import ALBUM, enqueue, persisted, queue_drained, stored_images
from tests.support.waiting import wait_for

TIMEOUT = 90  # seconds; generous for a loaded machine, and only reached on failure


@pytest.fixture
def row_lock(database_url):
    """Hold `SELECT ... FOR UPDATE` on a clipboard row from the test's own connection."""
    connection = psycopg2.connect(database_url)
    holder = {}

    def lock(clipboard_id):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            holder["pid"] = cursor.fetchone()[0]
            cursor.execute("SELECT id FROM clipboards WHERE id = %s FOR UPDATE", (clipboard_id,))
            assert cursor.rowcount == 1
        return holder["pid"]

    def release():
        connection.rollback()

    yield lock, release
    connection.rollback()
    connection.close()


def backends_blocked_by(db, pid):
    with db.execute_sql(
        "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (pid,)
    ) as cursor:
        return cursor.fetchone()[0]


def locked_clipboard(tenant, lock):
    """A stored clipboard (revision 0) whose row the test holds locked: (its id, the lock holder's pid)."""
    row = Clipboard.create(organization=tenant.organization, revision=0, state=ClipboardState.READY)
    return str(row.id), lock(str(row.id))


def wait_until_blocked(db, holder):
    wait_for(lambda: backends_blocked_by(db, holder) == 1, TIMEOUT, message="the worker blocked on the row lock")


def wait_until_persisted(claims):
    for clipboard_id, claim in claims:
        wait_for(lambda: persisted(clipboard_id, claim.revision), TIMEOUT, message=f"clipboard {clipboard_id}")


def test_a_worker_killed_mid_task_loses_nothing_and_applies_once(db, ledger, redis_client, tenant, start_worker,
                                                                  row_lock):
    lock, release = row_lock
    images = [tenant.image(ALBUM) for _ in range(3)]
    requested = [images[2].id, images[0].id, images[1].id]
    # The row exists (revision 0, same organization) so the test can lock it before the worker runs.
    clipboard_id, holder = locked_clipboard(tenant, lock)

    doomed = start_worker()
    _, claim = enqueue(ledger, tenant, requested, clipboard_id=clipboard_id)
    # The worker took the message and is inside its transaction, waiting for the row lock.
    wait_until_blocked(db, holder)
    assert redis_client.hlen("unacked") == 1 and redis_client.llen("clipboards") == 0

    doomed.kill()
    release()
    assert Clipboard.get_by_id(clipboard_id).revision == 0
    assert redis_client.hlen("unacked") == 1  # nobody acknowledged it: Redis still holds it

    survivor = start_worker(CELERY_VISIBILITY_TIMEOUT=3)
    row = wait_for(lambda: persisted(clipboard_id, claim.revision), TIMEOUT, message="the redelivered store")
    wait_for(lambda: queue_drained(redis_client), TIMEOUT, message="the message acknowledged")

    assert (row.state, row.revision) == (ClipboardState.READY, 1)
    assert stored_images(clipboard_id) == [str(image_id) for image_id in requested]
    assert "outcome=applied" not in doomed.log()
    assert survivor.log().count("outcome=applied") == 1


def test_a_worker_killed_holding_a_drained_batch_loses_nothing(db, ledger, redis_client, tenant, start_worker,
                                                               row_lock):
    """Messages a pool process took straight from the list come back after the visibility timeout."""
    lock, release = row_lock
    image = tenant.image(ALBUM)
    blocked_id, holder = locked_clipboard(tenant, lock)
    claims = [enqueue(ledger, tenant, [image.id], clipboard_id=blocked_id)]
    claims += [enqueue(ledger, tenant, [image.id]) for _ in range(40)]

    doomed = start_worker()
    wait_until_blocked(db, holder)
    taken = redis_client.hlen("clipboards.inflight") + redis_client.hlen("unacked")
    assert taken == 41 and redis_client.llen("clipboards") == 0  # the batch took every message
    doomed.kill()
    release()
    assert Clipboard.select().where(Clipboard.revision > 0).count() == 0

    start_worker(CELERY_VISIBILITY_TIMEOUT=3)
    wait_until_persisted(claims)
    wait_for(lambda: queue_drained(redis_client), TIMEOUT, message="every message acknowledged or done")
    assert all(stored_images(clipboard_id) == [str(image.id)] for clipboard_id, _claim in claims)


def test_a_pool_process_killed_holding_a_batch_gives_it_back_and_the_worker_goes_on(
        db, ledger, redis_client, tenant, start_worker, row_lock):
    """The worker hands out one batch per pool process: a batch lost with its process must free
    that slot, or every later message would wait behind it for good."""
    lock, release = row_lock
    image = tenant.image(ALBUM)
    blocked_id, holder = locked_clipboard(tenant, lock)
    claims = [enqueue(ledger, tenant, [image.id], clipboard_id=blocked_id)]

    worker = start_worker(CELERY_VISIBILITY_TIMEOUT=3)  # one pool process
    wait_until_blocked(db, holder)
    (pool_pid,) = worker.pool_pids()
    os.kill(pool_pid, signal.SIGKILL)
    release()
    wait_for(lambda: worker.pool_pids() and worker.pool_pids() != [pool_pid], TIMEOUT, message="a new pool process")

    claims += [enqueue(ledger, tenant, [image.id]) for _ in range(5)]
    wait_until_persisted(claims)
    wait_for(lambda: queue_drained(redis_client), TIMEOUT, message="every message acknowledged or done")
    assert worker.process.poll() is None
    assert worker.log().count(f"clipboard_id={blocked_id} revision=1 outcome=applied") == 1
