"""workers.paste on real PostgreSQL: copies once, waits for the store, fails clearly."""
import pytest

from models import Image, Job, JobState
from tests.support.factories import Tenant
from tests.workers.messages import ALBUM, OTHER_ALBUM, delete_message, paste_message, store_message
from workers import clipboard_store, paste
from workers.paste import Outcome


@pytest.fixture
def tenant(db):
    return Tenant("acme")


def stored(db, tenant, images, revision=1):
    message = store_message(tenant, image_ids=[image.id for image in images], revision=revision)
    with db.atomic():
        clipboard_store.store(message)
    return message.clipboard_id


def run(db, message, **options):
    options.setdefault("sleep", lambda seconds: None)
    return paste.run(db, message, max_delay=0.01, **options)


def copies():
    return list(Image.select().where(Image.album_id == OTHER_ALBUM).order_by(Image.created_at))


def test_paste_copies_each_image_in_order_with_provenance(db, tenant):
    sources = [tenant.image(ALBUM, filename=f"{n}.png", bytes=n, metadata={"n": n}) for n in range(3)]
    message = paste_message(tenant, stored(db, tenant, sources))
    assert run(db, message) == Outcome.SUCCEEDED
    job = Job.get_by_id(message.job_id)
    assert job.state == JobState.SUCCEEDED and job.started_at and job.finished_at
    created = {str(image.id): image for image in copies()}
    ordered = [created[image_id] for image_id in job.result["image_ids"]]
    assert [image.source_image_id for image in ordered] == [source.id for source in sources]
    for copy, source in zip(ordered, sources):
        assert (copy.filename, copy.bytes, copy.metadata, copy.tags) == (source.filename, source.bytes, source.metadata, [OTHER_ALBUM])
        assert copy.organization_id == source.organization_id and copy.id != source.id


def test_redelivery_does_not_copy_twice(db, tenant):
    message = paste_message(tenant, stored(db, tenant, [tenant.image(ALBUM)]))
    assert run(db, message) == Outcome.SUCCEEDED
    assert run(db, message) == Outcome.DUPLICATE
    assert len(copies()) == 1


def test_a_paste_ahead_of_its_store_is_handed_back(db, tenant):
    clipboard_id = stored(db, tenant, [tenant.image(ALBUM)])
    message = paste_message(tenant, clipboard_id, min_revision=2)
    ticks = iter(range(0, 1000))
    assert run(db, message, clock=lambda: next(ticks)) == Outcome.BEHIND
    assert Job.get_by_id(message.job_id).state == JobState.RUNNING
    with db.atomic():
        clipboard_store.store(store_message(tenant, clipboard_id=clipboard_id, revision=2))
    assert run(db, message) == Outcome.SUCCEEDED


def test_a_paste_whose_store_never_comes_fails_in_time(db, tenant):
    clipboard_id = stored(db, tenant, [tenant.image(ALBUM)])
    message = paste_message(tenant, clipboard_id, min_revision=5, created_at_ms=0)
    assert run(db, message) == Outcome.FAILED
    job = Job.get_by_id(message.job_id)
    assert job.state == JobState.FAILED and "revision 5" in job.error


def test_a_deleted_clipboard_fails_the_job(db, tenant):
    clipboard_id = stored(db, tenant, [tenant.image(ALBUM)])
    with db.atomic():
        clipboard_store.delete(delete_message(tenant, clipboard_id, 2))
    message = paste_message(tenant, clipboard_id)
    assert run(db, message) == Outcome.FAILED
    assert "deleted" in Job.get_by_id(message.job_id).error
    assert copies() == []


def test_another_tenants_clipboard_is_not_found(db, tenant):
    clipboard_id = stored(db, tenant, [tenant.image(ALBUM)])
    message = paste_message(Tenant("globex"), clipboard_id)
    assert run(db, message) == Outcome.FAILED
    assert "does not exist" in Job.get_by_id(message.job_id).error
    assert copies() == []


def test_a_job_id_of_another_tenant_is_never_touched(db, tenant):
    clipboard_id = stored(db, tenant, [tenant.image(ALBUM)])
    message = paste_message(tenant, clipboard_id)
    assert run(db, message) == Outcome.SUCCEEDED
    intruder = Tenant("globex")
    foreign = paste_message(intruder, clipboard_id, job_id=message.job_id)
    assert run(db, foreign) == Outcome.FOREIGN
    assert str(Job.get_by_id(message.job_id).organization_id) == tenant.id


def test_images_of_other_tenants_are_never_copied(db, tenant):
    intruder = Tenant("globex")
    foreign_image = intruder.image(ALBUM)
    own = tenant.image(ALBUM)
    message = store_message(tenant, image_ids=[foreign_image.id, own.id])
    with db.atomic():
        clipboard_store.store(message)
    assert run(db, paste_message(tenant, message.clipboard_id)) == Outcome.SUCCEEDED
    assert [image.source_image_id for image in copies()] == [own.id]
