"""clipboard_store.store_many: a batch gets exactly the outcomes its messages would get alone."""
import logging

import pytest

from models import Clipboard, ClipboardImage
from tests.support.factories import Tenant
from tests.workers.messages import ALBUM, OTHER_ALBUM, store_message
from workers import clipboard_store
from workers.clipboard_store import Outcome


@pytest.fixture
def tenant(db):
    return Tenant("acme")


def images_of(clipboard_id):
    query = ClipboardImage.select().where(ClipboardImage.clipboard == clipboard_id).order_by(ClipboardImage.position)
    return [str(row.image_id) for row in query]


def test_a_mixed_batch(db, tenant):
    intruder = Tenant("globex")
    a, b, c = (tenant.image(ALBUM) for _ in range(3))
    hidden = tenant.image(OTHER_ALBUM)
    foreign_image = intruder.image(ALBUM)
    first = store_message(tenant, image_ids=[a.id, hidden.id, foreign_image.id])
    second = store_message(tenant, image_ids=[c.id, b.id], revision=2)
    older = store_message(tenant, clipboard_id=second.clipboard_id, image_ids=[a.id], revision=1,
                          created_at_ms=second.created_at_ms)
    newer = store_message(tenant, clipboard_id=second.clipboard_id, image_ids=[b.id, c.id], revision=3,
                          created_at_ms=second.created_at_ms)
    again = store_message(tenant, clipboard_id=second.clipboard_id, image_ids=[b.id, c.id], revision=3,
                          created_at_ms=second.created_at_ms)
    foreign = store_message(intruder, clipboard_id=first.clipboard_id, image_ids=[foreign_image.id], revision=9)
    batch = [first, second, older, foreign, newer, again]

    with db.atomic():
        outcomes = clipboard_store.store_many(batch)

    assert outcomes == [Outcome.APPLIED, Outcome.STALE, Outcome.STALE, Outcome.FOREIGN, Outcome.APPLIED, Outcome.DUPLICATE]
    assert images_of(first.clipboard_id) == [str(a.id)]
    assert Clipboard.get_by_id(first.clipboard_id).rejected_images == [
        {"id": str(hidden.id), "reason": "forbidden"},
        {"id": str(foreign_image.id), "reason": "not_found"},
    ]
    assert str(Clipboard.get_by_id(first.clipboard_id).organization_id) == tenant.id
    assert images_of(second.clipboard_id) == [str(b.id), str(c.id)]
    assert Clipboard.get_by_id(second.clipboard_id).revision == 3


def test_a_batch_of_a_removed_organization_and_a_live_one(db, tenant):
    gone = Tenant("gone")
    dropped = store_message(gone)
    gone.organization.delete_instance(recursive=True)
    kept = store_message(tenant, image_ids=[tenant.image(ALBUM).id])
    with db.atomic():
        assert clipboard_store.store_many([dropped, kept]) == [Outcome.NO_ORGANIZATION, Outcome.APPLIED]
    assert Clipboard.select().count() == 1


def test_a_batch_resolves_all_its_images_in_one_query(db, tenant):
    batch = [store_message(tenant, image_ids=[tenant.image(ALBUM).id for _ in range(3)]) for _ in range(20)]
    statements = []

    class Recorder(logging.Handler):
        def emit(self, record):
            statements.append(record.getMessage())

    handler, logger = Recorder(), logging.getLogger("peewee")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with db.atomic():
            assert set(clipboard_store.store_many(batch)) == {Outcome.APPLIED}
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    assert len([sql for sql in statements if "FROM images" in sql]) == 1
    assert all(len(images_of(message.clipboard_id)) == 3 for message in batch)
