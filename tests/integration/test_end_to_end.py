"""Enqueue as the API does, let a real worker persist: order, rejections, deletes, bad payloads."""
import uuid

from api.task_envelope import fill, message_parts
from core import messages
from models import ClipboardState
from tests.integration.conftest import (
    ALBUM, OTHER_ALBUM, enqueue, persisted, queue_drained, stored_images,
)
from tests.support.factories import Tenant
from tests.support.waiting import wait_for

TIMEOUT = 60  # seconds; generous for a loaded machine, and only reached on failure


def test_the_worker_persists_the_images_in_order_and_rejects_the_rest(db, ledger, redis_client, tenant, start_worker):
    images = [tenant.image(ALBUM) for _ in range(3)]
    not_granted = tenant.image(OTHER_ALBUM)
    foreign = Tenant("rival").image(ALBUM)
    unknown = uuid.uuid4()
    requested = [images[1].id, unknown, images[2].id, not_granted.id, foreign.id, images[0].id]
    clipboard_id, claim = enqueue(ledger, tenant, requested)
    worker = start_worker()

    row = wait_for(lambda: persisted(clipboard_id, claim.revision), TIMEOUT, message="the clipboard in PostgreSQL")

    assert (row.state, row.revision, str(row.organization_id)) == (ClipboardState.READY, 1, tenant.id)
    assert stored_images(clipboard_id) == [str(images[1].id), str(images[2].id), str(images[0].id)]
    assert row.rejected_images == [
        {"id": str(unknown), "reason": "not_found"},
        {"id": str(not_granted.id), "reason": "forbidden"},
        {"id": str(foreign.id), "reason": "not_found"},
    ]
    wait_for(lambda: queue_drained(redis_client), TIMEOUT, message="the message acknowledged")
    assert "outcome=applied" in worker.log()


def test_a_delete_then_a_new_store_of_the_same_id_through_the_worker(db, ledger, tenant, start_worker):
    first, second = tenant.image(ALBUM), tenant.image(ALBUM)
    clipboard_id, _ = enqueue(ledger, tenant, [first.id])
    tombstone = ledger.delete(clipboard_id, tenant.id, "req-delete")
    _, fresh = enqueue(ledger, tenant, [second.id], clipboard_id=clipboard_id)
    assert (tombstone, fresh.revision) == (2, 3)
    start_worker()

    row = wait_for(lambda: persisted(clipboard_id, 3), TIMEOUT, message="the new life of the clipboard")

    assert row.state == ClipboardState.READY
    assert stored_images(clipboard_id) == [str(second.id)]


def test_unreadable_messages_are_dropped_and_the_queue_moves_on(db, ledger, redis_client, tenant, start_worker):
    image = tenant.image(ALBUM)
    future = message_parts(
        messages.STORE_CLIPBOARD, str(uuid.uuid4()),
        {"v": 99, "clipboard_id": str(uuid.uuid4()), "organization_id": tenant.id}, ["revision"], messages.QUEUE,
    )
    mistyped = message_parts(
        messages.DELETE_CLIPBOARD, str(uuid.uuid4()),
        {"v": 1, "clipboard_id": "not-a-uuid", "organization_id": tenant.id, "request_id": "r"}, ["revision"],
        messages.QUEUE,
    )
    redis_client.lpush(messages.QUEUE, fill(future, 1), fill(mistyped, 1))
    clipboard_id, _ = enqueue(ledger, tenant, [image.id])  # queued behind the unreadable ones
    worker = start_worker()

    wait_for(lambda: persisted(clipboard_id, 1), TIMEOUT, message="the readable clipboard")
    wait_for(lambda: queue_drained(redis_client), TIMEOUT, message="every message acknowledged")

    log = worker.log()
    assert "unreadable payload dropped task=clipboards.store" in log and "payload version 99 is unknown" in log
    assert "unreadable payload dropped task=clipboards.delete" in log
    assert stored_images(clipboard_id) == [str(image.id)]
