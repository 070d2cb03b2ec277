"""core.messages: payloads round-trip through JSON, and unknown versions are refused."""
import json

import pytest

from core import messages


def test_payloads_round_trip_through_json():
    store = messages.StoreClipboard("c", "o", None, ["i"], ["A"], 3, 1554745142815, "r")
    assert messages.StoreClipboard.from_dict(json.loads(json.dumps(store.to_dict()))) == store
    assert store.to_dict()["v"] == messages.PAYLOAD_VERSION


def test_unknown_versions_and_missing_fields_are_refused():
    payload = messages.DeleteClipboard("c", "o", 2, "r").to_dict()
    with pytest.raises(messages.UnknownPayload, match="version"):
        messages.DeleteClipboard.from_dict({**payload, "v": 2})
    del payload["revision"]
    with pytest.raises(messages.UnknownPayload, match="revision"):
        messages.DeleteClipboard.from_dict(payload)


def test_task_names_are_the_contract():
    assert set(messages.PAYLOADS) == {"clipboards.store", "clipboards.delete", "clipboards.paste"}
