"""workers.payloads: what crosses the queue is checked once, at the boundary."""
import uuid

import pytest

from core import messages
from workers import payloads


def store_payload(**changes):
    payload = {
        "v": messages.PAYLOAD_VERSION,
        "clipboard_id": str(uuid.uuid4()),
        "organization_id": str(uuid.uuid4()),
        "user_id": None,
        "image_ids": [str(uuid.uuid4())],
        "albums": ["00100000123BB236"],
        "revision": 1,
        "created_at_ms": 1554745142815,
        "request_id": "req-1",
    }
    payload.update(changes)
    return payload


def test_a_valid_payload_is_read_with_lower_case_uuids():
    upper = str(uuid.uuid4()).upper()
    message = payloads.read(messages.StoreClipboard, store_payload(clipboard_id=upper, image_ids=[upper]))
    assert message.clipboard_id == upper.lower()
    assert message.image_ids == [upper.lower()]


def test_fields_a_newer_producer_adds_are_ignored():
    message = payloads.read(messages.StoreClipboard, store_payload(colour="blue"))
    assert isinstance(message, messages.StoreClipboard)


@pytest.mark.parametrize(
    "payload",
    [
        store_payload(v=2),
        store_payload(v=None),
        {key: value for key, value in store_payload().items() if key != "revision"},
        {key: value for key, value in store_payload().items() if key != "v"},
        store_payload(clipboard_id="not-a-uuid"),
        store_payload(organization_id=7),
        store_payload(user_id="someone"),
        store_payload(image_ids="a, b"),
        store_payload(image_ids=["not-a-uuid"]),
        store_payload(albums=[1, 2]),
        store_payload(revision="2"),
        store_payload(revision=0),
        store_payload(revision=True),
        store_payload(created_at_ms=-1),
        [],
    ],
)
def test_an_unreadable_payload_is_logged_and_dropped(payload, caplog):
    assert payloads.decode(messages.StoreClipboard, payload) is None
    assert "unreadable payload dropped task=clipboards.store" in caplog.text


def test_positional_arguments_are_dropped(caplog):
    assert payloads.decode(messages.StoreClipboard, store_payload(), args=("x",)) is None
    assert "positional arguments" in caplog.text
