"""workers.clipboard_store on real PostgreSQL: each change applied inside one transaction."""
import datetime
import logging
import uuid

import pytest

from core import timefmt
from models import Clipboard, ClipboardImage, ClipboardState
from tests.support.factories import Tenant
from tests.workers.messages import ALBUM, OTHER_ALBUM, delete_message, now_ms, store_message
from workers import clipboard_store
from workers.clipboard_store import Outcome


def apply(db, change, message):
    with db.atomic():
        return change(message)


def image_ids(clipboard_id):
    query = (
        ClipboardImage.select(ClipboardImage.image_id)
        .where(ClipboardImage.clipboard == clipboard_id)
        .order_by(ClipboardImage.position)
    )
    return [str(row.image_id) for row in query]


def clipboard(clipboard_id):
    return Clipboard.get_by_id(clipboard_id)


@pytest.fixture
def tenant(db):
    return Tenant("acme")


def test_a_new_clipboard_keeps_the_images_in_request_order(db, tenant):
    images = [tenant.image(ALBUM) for _ in range(4)]
    requested = [images[2].id, images[0].id, images[3].id, images[1].id]
    created_at_ms = now_ms() - 5000
    user_id = str(uuid.uuid4())
    message = store_message(tenant, image_ids=requested, created_at_ms=created_at_ms, user_id=user_id)

    assert apply(db, clipboard_store.store, message) == Outcome.APPLIED

    row = clipboard(message.clipboard_id)
    assert (row.state, row.revision, row.error, row.rejected_images) == (ClipboardState.READY, 1, None, [])
    assert str(row.organization_id) == tenant.id
    assert str(row.user_id) == user_id
    assert timefmt.to_epoch_ms(row.created_at) == created_at_ms
    assert image_ids(message.clipboard_id) == [str(image_id) for image_id in requested]


def test_images_the_token_may_not_copy_are_rejected_with_a_reason(db, tenant):
    granted = tenant.image(ALBUM)
    other_album = tenant.image(OTHER_ALBUM)
    foreign = Tenant("rival").image(ALBUM)  # same album name, another organization
    unknown = uuid.uuid4()
    message = store_message(tenant, image_ids=[unknown, granted.id, other_album.id, foreign.id])

    assert apply(db, clipboard_store.store, message) == Outcome.APPLIED

    assert image_ids(message.clipboard_id) == [str(granted.id)]
    assert clipboard(message.clipboard_id).rejected_images == [
        {"id": str(unknown), "reason": "not_found"},
        {"id": str(other_album.id), "reason": "forbidden"},
        {"id": str(foreign.id), "reason": "not_found"},
    ]


def test_images_are_resolved_in_one_query(db, tenant):
    images = [tenant.image(ALBUM) for _ in range(5)]
    statements = []

    class Recorder(logging.Handler):
        def emit(self, record):
            statements.append(record.getMessage())

    handler = Recorder()
    logger = logging.getLogger("peewee")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        clipboard_store.find_images([str(image.id) for image in images])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    assert len([sql for sql in statements if "images" in sql]) == 1


def test_the_same_revision_again_changes_nothing(db, tenant):
    first, second = tenant.image(ALBUM), tenant.image(ALBUM)
    message = store_message(tenant, image_ids=[first.id, second.id])
    apply(db, clipboard_store.store, message)
    updated_at = clipboard(message.clipboard_id).updated_at

    assert apply(db, clipboard_store.store, message) == Outcome.DUPLICATE

    row = clipboard(message.clipboard_id)
    assert (row.revision, row.updated_at) == (1, updated_at)
    assert image_ids(message.clipboard_id) == [str(first.id), str(second.id)]


def test_revisions_applied_out_of_order_end_in_the_newest(db, tenant):
    old, new = tenant.image(ALBUM), tenant.image(ALBUM)
    clipboard_id = str(uuid.uuid4())
    created_at_ms = now_ms()
    second = store_message(tenant, clipboard_id, image_ids=[new.id], revision=2, created_at_ms=created_at_ms)
    first = store_message(tenant, clipboard_id, image_ids=[old.id], revision=1, created_at_ms=created_at_ms)

    assert apply(db, clipboard_store.store, second) == Outcome.APPLIED
    assert apply(db, clipboard_store.store, first) == Outcome.STALE

    assert clipboard(clipboard_id).revision == 2
    assert image_ids(clipboard_id) == [str(new.id)]


def test_a_foreign_organizations_message_changes_nothing(db, tenant, caplog):
    mine = tenant.image(ALBUM)
    rival = Tenant("rival")
    theirs = rival.image(ALBUM)
    message = store_message(tenant, image_ids=[mine.id])
    apply(db, clipboard_store.store, message)
    before = clipboard(message.clipboard_id)
    intrusion = store_message(rival, message.clipboard_id, image_ids=[theirs.id], revision=5)
    removal = delete_message(rival, message.clipboard_id, revision=6)

    with caplog.at_level(logging.WARNING, logger="workers.security"):
        assert apply(db, clipboard_store.store, intrusion) == Outcome.FOREIGN
        assert apply(db, clipboard_store.delete, removal) == Outcome.FOREIGN

    after = clipboard(message.clipboard_id)
    assert (str(after.organization_id), after.revision, after.state, after.updated_at) == (
        tenant.id, 1, ClipboardState.READY, before.updated_at,
    )
    assert image_ids(message.clipboard_id) == [str(mine.id)]
    security_events = [record for record in caplog.records if record.name == "workers.security"]
    assert len(security_events) == 2
    assert all(rival.id in record.getMessage() and message.clipboard_id in record.getMessage()
               for record in security_events)


def test_a_delete_keeps_a_tombstone_that_a_late_store_cannot_resurrect(db, tenant):
    image = tenant.image(ALBUM)
    clipboard_id = str(uuid.uuid4())
    created_at_ms = now_ms()
    apply(db, clipboard_store.store, store_message(tenant, clipboard_id, image_ids=[image.id], created_at_ms=created_at_ms))

    assert apply(db, clipboard_store.delete, delete_message(tenant, clipboard_id, revision=3)) == Outcome.APPLIED
    late = store_message(tenant, clipboard_id, image_ids=[image.id], revision=2, created_at_ms=created_at_ms)
    assert apply(db, clipboard_store.store, late) == Outcome.STALE

    row = clipboard(clipboard_id)
    assert (row.state, row.revision) == (ClipboardState.DELETED, 3)
    assert image_ids(clipboard_id) == []


def test_a_delete_that_arrives_before_any_store_still_wins(db, tenant):
    image = tenant.image(ALBUM)
    clipboard_id = str(uuid.uuid4())

    assert apply(db, clipboard_store.delete, delete_message(tenant, clipboard_id, revision=2)) == Outcome.APPLIED
    assert apply(db, clipboard_store.store, store_message(tenant, clipboard_id, image_ids=[image.id])) == Outcome.STALE

    assert clipboard(clipboard_id).state == ClipboardState.DELETED
    assert image_ids(clipboard_id) == []


def test_a_store_after_a_delete_starts_a_fresh_clipboard(db, tenant):
    old, new = tenant.image(ALBUM), tenant.image(ALBUM)
    clipboard_id = str(uuid.uuid4())
    first_life_ms = now_ms() - 60_000
    apply(db, clipboard_store.store,
          store_message(tenant, clipboard_id, image_ids=[old.id], created_at_ms=first_life_ms, user_id=str(uuid.uuid4())))
    apply(db, clipboard_store.delete, delete_message(tenant, clipboard_id, revision=2))

    second_life_ms = now_ms()
    second_user = str(uuid.uuid4())
    fresh = store_message(tenant, clipboard_id, image_ids=[new.id], revision=3, created_at_ms=second_life_ms,
                          user_id=second_user)
    assert apply(db, clipboard_store.store, fresh) == Outcome.APPLIED

    row = clipboard(clipboard_id)
    assert (row.state, row.revision, str(row.user_id)) == (ClipboardState.READY, 3, second_user)
    assert timefmt.to_epoch_ms(row.created_at) == second_life_ms
    assert image_ids(clipboard_id) == [str(new.id)]
    # A delete of the first life, delivered late, cannot remove the second.
    assert apply(db, clipboard_store.delete, delete_message(tenant, clipboard_id, revision=2)) == Outcome.STALE
    assert apply(db, clipboard_store.store, store_message(tenant, clipboard_id, revision=1)) == Outcome.STALE
    assert image_ids(clipboard_id) == [str(new.id)]


def test_a_later_revision_of_the_same_life_keeps_its_creator_and_creation_time(db, tenant):
    image = tenant.image(ALBUM)
    clipboard_id = str(uuid.uuid4())
    created_at_ms = now_ms() - 1000
    creator = str(uuid.uuid4())
    apply(db, clipboard_store.store,
          store_message(tenant, clipboard_id, created_at_ms=created_at_ms, user_id=creator))
    apply(db, clipboard_store.store,
          store_message(tenant, clipboard_id, image_ids=[image.id], revision=2, created_at_ms=created_at_ms,
                        user_id=str(uuid.uuid4())))

    row = clipboard(clipboard_id)
    assert (row.revision, str(row.user_id), timefmt.to_epoch_ms(row.created_at)) == (2, creator, created_at_ms)


def test_a_failure_of_a_stale_revision_leaves_the_clipboard_alone(db, tenant):
    clipboard_id = str(uuid.uuid4())
    apply(db, clipboard_store.store, store_message(tenant, clipboard_id, revision=2))

    with db.atomic():
        assert clipboard_store.mark_failed(store_message(tenant, clipboard_id, revision=1), "late") is False
        assert clipboard_store.mark_failed(store_message(tenant, clipboard_id, revision=2), "again") is False

    row = clipboard(clipboard_id)
    assert (row.state, row.revision, row.error) == (ClipboardState.READY, 2, None)


def test_a_failure_on_a_new_clipboard_creates_it_failed(db, tenant):
    message = store_message(tenant, created_at_ms=now_ms() - 2000)

    with db.atomic():
        assert clipboard_store.mark_failed(message, "boom") is True

    row = clipboard(message.clipboard_id)
    assert (row.state, row.revision, row.error) == (ClipboardState.FAILED, 1, "boom")
    assert timefmt.to_epoch_ms(row.created_at) == message.created_at_ms


def test_a_message_of_a_removed_organization_is_dropped(db, tenant):
    message = store_message(tenant)
    tenant.organization.delete_instance(recursive=True)

    assert apply(db, clipboard_store.store, message) == Outcome.NO_ORGANIZATION
    assert apply(db, clipboard_store.delete, delete_message(tenant, message.clipboard_id, 2)) == Outcome.NO_ORGANIZATION
    assert Clipboard.select().count() == 0


def test_created_at_is_taken_from_the_claim(db, tenant):
    created_at_ms = 1554745142815  # 2019-04-08T17:39:02.815Z
    message = store_message(tenant, created_at_ms=created_at_ms)
    apply(db, clipboard_store.store, message)

    created_at = clipboard(message.clipboard_id).created_at
    assert created_at == datetime.datetime(2019, 4, 8, 17, 39, 2, 815000, tzinfo=datetime.timezone.utc)
