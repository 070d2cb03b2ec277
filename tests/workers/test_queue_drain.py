"""workers.queue_drain on real Redis: take store messages only, keep them in flight, restore."""
import json

import pytest
import redis as redis_module

from api.clipboard_ledger import ClipboardLedger
from core import messages
from workers.queue_drain import INFLIGHT, INFLIGHT_INDEX, QueueDrain, redis_client, task_body


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def drain(redis_client, clock):
    return QueueDrain(redis_client, visibility_timeout=60, clock=clock)


@pytest.fixture
def ledger(redis_client):
    return ClipboardLedger(redis_client)


ORG = "4d69a649-135c-44c7-a918-31dc119513cb"


def store(ledger, clipboard_id):
    ledger.store(clipboard_id, ORG, None, [], ["A"], 1, "request")


def ids(n):
    return [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]


def kwargs_of(raw):
    return task_body(raw)[1]


def test_take_returns_the_oldest_store_messages_and_keeps_them_in_flight(drain, ledger, redis_client):
    for clipboard_id in ids(5):
        store(ledger, clipboard_id)
    taken = drain.take(3)
    assert [kwargs_of(raw)["clipboard_id"] for _tag, raw in taken] == ids(3)
    assert redis_client.llen(messages.QUEUE) == 2
    assert redis_client.hlen(INFLIGHT) == 3 and redis_client.zcard(INFLIGHT_INDEX) == 3
    drain.done([tag for tag, _raw in taken])
    assert redis_client.hlen(INFLIGHT) == 0 and redis_client.zcard(INFLIGHT_INDEX) == 0


def test_take_stops_at_a_message_of_another_task(drain, ledger, redis_client):
    first, second, third = ids(3)
    store(ledger, first)
    ledger.delete(first, ORG, "request")
    store(ledger, second)
    assert [kwargs_of(raw)["clipboard_id"] for _tag, raw in drain.take(10)] == [first]
    assert json.loads(redis_client.lindex(messages.QUEUE, -1))["headers"]["task"] == messages.DELETE_CLIPBOARD
    assert drain.take(10) == []


def test_take_reads_messages_celery_itself_published(drain, redis_client, settings):
    from celery import Celery

    from core.messages import StoreClipboard

    app = Celery(broker=settings.redis_url, set_as_current=False)
    app.config_from_object("celeryconfig")
    app.conf.broker_url = settings.redis_url
    payload = StoreClipboard(ids(1)[0], ORG, None, [], ["A"], 1, 1, "r").to_dict()
    app.send_task(messages.STORE_CLIPBOARD, kwargs=payload, queue=messages.QUEUE)
    [(_tag, raw)] = drain.take(5)
    assert kwargs_of(raw) == payload


def test_messages_not_done_in_time_go_back_to_the_consuming_end(drain, ledger, redis_client, clock):
    first, second = ids(2)
    store(ledger, first)
    taken = drain.take(1)
    store(ledger, second)
    clock.now += 30
    assert drain.restore_expired() == 0
    clock.now += 31
    assert drain.restore_expired() == 1
    assert redis_client.hlen(INFLIGHT) == 0
    assert kwargs_of(redis_client.lindex(messages.QUEUE, -1))["clipboard_id"] == first
    assert redis_client.lindex(messages.QUEUE, -1) == taken[0][1]
    assert [kwargs_of(raw)["clipboard_id"] for _tag, raw in drain.take(5)] == [first, second]


def test_take_also_restores_what_expired(drain, ledger, redis_client, clock):
    store(ledger, ids(1)[0])
    drain.take(1)
    clock.now += 61
    assert len(drain.take(5)) == 1
    assert redis_client.hlen(INFLIGHT) == 1


@pytest.mark.parametrize("behaviour, error", [("close", redis_module.ConnectionError),
                                              ("silent", redis_module.TimeoutError)])
def test_the_drain_client_never_sends_a_take_twice(fake_redis, clock, behaviour, error):
    server = fake_redis(behaviour)
    drain = QueueDrain(redis_client(server.url, timeout_seconds=0.3), visibility_timeout=60, clock=clock)
    with pytest.raises(error):
        drain.take(10)
    assert len(server.accepted) == 1
