"""workers.clipboard_store.apply: the unit of work a task runs, on the process's connection."""
import uuid

import peewee
import pytest

from models import Clipboard, ClipboardImage, ClipboardState, database
from tests.support.factories import Tenant
from tests.workers.messages import ALBUM, store_message
from workers import clipboard_store
from workers.clipboard_store import Outcome


@pytest.fixture
def tenant(database_url):
    """A tenant with one image; no connection stays open, as in a worker between tasks."""
    with database.connection_context():
        tenant = Tenant("acme")
        tenant.album_image = tenant.image(ALBUM)
    return tenant


def read(clipboard_id):
    with database.connection_context():
        row = Clipboard.get_by_id(clipboard_id)
        images = [
            str(image.image_id)
            for image in ClipboardImage.select().where(ClipboardImage.clipboard == clipboard_id).order_by(
                ClipboardImage.position
            )
        ]
    return row, images


def no_sleep_allowed(delay):
    raise AssertionError("a permanent error must not be retried")


def test_apply_commits_the_change_and_keeps_its_connection_for_the_next(tenant):
    message = store_message(tenant, image_ids=[tenant.album_image.id])

    assert clipboard_store.apply(database, clipboard_store.store, message, 1, sleep=no_sleep_allowed) == Outcome.APPLIED
    assert not database.is_closed()
    connection = database.connection()
    assert clipboard_store.apply(database, clipboard_store.store, store_message(tenant), 1) == Outcome.APPLIED
    assert database.connection() is connection
    assert not database.in_transaction()
    database.close()

    row, images = read(message.clipboard_id)
    assert (row.state, row.revision, images) == (ClipboardState.READY, 1, [str(tenant.album_image.id)])


def test_apply_retries_a_transient_error_and_commits_once(tenant):
    message = store_message(tenant, image_ids=[tenant.album_image.id])
    attempts, delays = [], []

    def flaky_store(message):
        attempts.append(1)
        outcome = clipboard_store.store(message)
        if len(attempts) < 3:  # fails after its writes: the transaction must roll them back
            raise peewee.OperationalError("server closed the connection unexpectedly")
        return outcome

    assert clipboard_store.apply(database, flaky_store, message, 1, sleep=delays.append) == Outcome.APPLIED

    assert len(attempts) == 3 and len(delays) == 2
    row, images = read(message.clipboard_id)
    assert (row.revision, images) == (1, [str(tenant.album_image.id)])


def test_a_revision_that_cannot_be_applied_marks_the_clipboard_failed(tenant):
    clipboard_id = str(uuid.uuid4())
    clipboard_store.apply(database, clipboard_store.store,
                          store_message(tenant, clipboard_id, image_ids=[tenant.album_image.id]), 1)

    def broken(message):
        clipboard_store.store(message)
        raise ValueError("the image service said no\nsecond line")

    outcome = clipboard_store.apply(database, broken, store_message(tenant, clipboard_id, revision=2), 1,
                                    sleep=no_sleep_allowed)

    assert outcome == Outcome.FAILED
    row, images = read(clipboard_id)
    assert (row.state, row.revision, row.error) == (ClipboardState.FAILED, 2, "the image service said no")
    assert images == [str(tenant.album_image.id)]  # the failed revision's writes were rolled back
    # A newer revision still succeeds and clears the error.
    assert clipboard_store.apply(database, clipboard_store.store, store_message(tenant, clipboard_id, revision=3), 1) \
        == Outcome.APPLIED
    row, images = read(clipboard_id)
    assert (row.state, row.revision, row.error, images) == (ClipboardState.READY, 3, None, [])


def test_a_failure_for_a_removed_organization_is_logged_and_done(tenant, caplog):
    message = store_message(tenant)
    with database.connection_context():
        tenant.organization.delete_instance(recursive=True)

    def broken(message):
        raise RuntimeError("bug")

    assert clipboard_store.apply(database, broken, message, 1, sleep=no_sleep_allowed) == Outcome.FAILED
    assert "clipboard revision failed" in caplog.text
    with database.connection_context():
        assert Clipboard.select().count() == 0
