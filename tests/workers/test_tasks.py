"""The task wiring: names from the contract, at-least-once options, decoding before any work.

The tasks' bodies are called as plain functions here (no broker, no eager mode); the real worker
runs them in tests/integration.
"""
import json
import time
import uuid

import pytest

import celeryconfig
from core import messages
from models import Clipboard, database
from tests.support.factories import Tenant
from tests.workers.messages import ALBUM, store_message
from api.clipboard_ledger import ClipboardLedger
from workers import batching, queue_drain, tasks
from workers.app import app


def test_tasks_are_registered_under_the_contract_names_with_late_acknowledgement():
    for name in (messages.STORE_CLIPBOARD, messages.DELETE_CLIPBOARD, messages.PASTE_CLIPBOARD):
        task = app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost and task.ignore_result


def test_the_worker_configuration_prefetches_batches_and_requeues_nothing_that_failed():
    assert celeryconfig.worker_prefetch_multiplier >= tasks.store_clipboard.batch_size
    assert celeryconfig.task_acks_late and celeryconfig.task_reject_on_worker_lost
    assert celeryconfig.task_acks_on_failure
    assert celeryconfig.broker_transport_options["visibility_timeout"] >= 1
    assert celeryconfig.task_default_queue == messages.QUEUE


def test_the_store_task_is_consumed_in_batches():
    assert tasks.store_clipboard.Strategy == "workers.batching:batch_strategy"


@pytest.fixture
def test_queue(redis_client, monkeypatch):
    """Point the batch's queue drain at the test Redis database (the task module reads the
    environment's REDIS_URL when imported)."""
    drain = queue_drain.QueueDrain(redis_client, visibility_timeout=60, clock=time.time)
    monkeypatch.setattr(tasks, "queue_drain", lambda: drain)
    return redis_client


def test_a_store_batch_decodes_each_message_and_drops_only_the_unreadable(database_url, test_queue):
    with database.connection_context():
        tenant = Tenant("acme")
        image = tenant.image(ALBUM)
    good, other = store_message(tenant, image_ids=[image.id]), store_message(tenant)
    bodies = [
        json.dumps([[], good.to_dict(), {}]),
        "not json",
        json.dumps([[], {**other.to_dict(), "v": 99}, {}]),
        json.dumps([[], other.to_dict(), {}]),
    ]
    assert batching.run_batch(messages.STORE_CLIPBOARD, bodies) == ["applied", "dropped", "applied"]
    with database.connection_context():
        assert Clipboard.select().count() == 2


def test_a_store_batch_also_applies_store_messages_waiting_in_the_queue(database_url, test_queue):
    with database.connection_context():
        tenant = Tenant("acme")
    waiting = store_message(tenant)
    ledger = ClipboardLedger(test_queue)
    claim = ledger.store(waiting.clipboard_id, tenant.id, None, [], [ALBUM], waiting.created_at_ms, "r")
    delivered = store_message(tenant)
    assert batching.run_batch(messages.STORE_CLIPBOARD, [json.dumps([[], delivered.to_dict(), {}])]) == ["applied"]
    with database.connection_context():
        assert Clipboard.get_by_id(waiting.clipboard_id).revision == claim.revision
    assert test_queue.llen(messages.QUEUE) == 0 and test_queue.hlen(queue_drain.INFLIGHT) == 0


def test_the_store_task_decodes_and_applies(database_url, test_queue):
    with database.connection_context():
        tenant = Tenant("acme")
        image = tenant.image(ALBUM)
    message = store_message(tenant, image_ids=[image.id])

    assert tasks.store_clipboard.run(**message.to_dict()) == "applied"
    with database.connection_context():
        assert Clipboard.get_by_id(message.clipboard_id).revision == 1


def test_the_delete_task_decodes_and_applies(database_url):
    with database.connection_context():
        tenant = Tenant("acme")
    clipboard_id = str(uuid.uuid4())
    payload = messages.DeleteClipboard(clipboard_id, tenant.id, 4, "req").to_dict()

    assert tasks.delete_clipboard.run(**payload) == "applied"
    with database.connection_context():
        assert Clipboard.get_by_id(clipboard_id).state == "deleted"


def test_an_unknown_payload_version_is_dropped_without_touching_the_database(database_url, caplog, test_queue):
    with database.connection_context():
        tenant = Tenant("acme")
    payload = {**store_message(tenant).to_dict(), "v": 99}

    assert tasks.store_clipboard.run(**payload) == "dropped"
    assert tasks.delete_clipboard.run(v=1, clipboard_id=str(uuid.uuid4())) == "dropped"
    assert "payload version 99 is unknown" in caplog.text
    with database.connection_context():
        assert Clipboard.select().count() == 0
