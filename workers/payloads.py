"""Decode task payloads at the queue boundary: a payload the worker cannot read is dropped.

`core.messages` checks the version and that every field is present; this adds the types the
store relies on (UUID strings, whole revisions, lists of strings) and normalises UUIDs to lower
case, so a malformed message fails here, once, instead of deep inside a transaction. Such a
message is logged and acknowledged: redelivering it could never make it readable, and a
requeue would loop on it forever.
"""
import logging
import uuid

from core import albums, messages

log = logging.getLogger(__name__)

DROPPED = "dropped"


def _uuid(value, name):
    if not isinstance(value, str):
        raise messages.UnknownPayload(f"{name} must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise messages.UnknownPayload(f"{name} must be a UUID string") from None


def _optional_uuid(value, name):
    return None if value is None else _uuid(value, name)


def _revision(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise messages.UnknownPayload(f"{name} must be a whole number of at least 1")
    return value


def _epoch_ms(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise messages.UnknownPayload(f"{name} must be a whole number of milliseconds")
    return value


def _uuid_list(value, name):
    if not isinstance(value, list):
        raise messages.UnknownPayload(f"{name} must be a list")
    return [_uuid(item, name) for item in value]


def _string_list(value, name):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise messages.UnknownPayload(f"{name} must be a list of strings")
    return value


def _album_id(value, name):
    if not albums.is_album_id(value):
        raise messages.UnknownPayload(f"{name} must be {albums.DESCRIPTION}")
    return value


def _request_id(value, name):
    return "" if value is None else str(value)


_COERCERS = {
    "clipboard_id": _uuid,
    "organization_id": _uuid,
    "user_id": _optional_uuid,
    "image_ids": _uuid_list,
    "albums": _string_list,
    "revision": _revision,
    "created_at_ms": _epoch_ms,
    "request_id": _request_id,
    "job_id": _uuid,
    "album_id": _album_id,
    "min_revision": _revision,
}


def read(payload_class, payload):
    """Return `payload` as a `payload_class` message with checked, normalised fields.

    Raise `messages.UnknownPayload` when it cannot be read.
    """
    if not isinstance(payload, dict):
        raise messages.UnknownPayload(f"{payload_class.task_name}: payload is not an object")
    message = payload_class.from_dict(payload)
    checked = {}
    for name, value in vars(message).items():
        coerce = _COERCERS.get(name)
        try:
            checked[name] = coerce(value, name) if coerce else value
        except messages.UnknownPayload as error:
            raise messages.UnknownPayload(f"{payload_class.task_name}: {error}") from None
    return payload_class(**checked)


def decode(payload_class, payload, args=()):
    """Return the message, or None after logging why the payload is dropped."""
    try:
        if args:
            raise messages.UnknownPayload(f"{payload_class.task_name}: positional arguments are not part of the contract")
        return read(payload_class, payload)
    except messages.UnknownPayload as error:
        log.error(
            "unreadable payload dropped task=%s reason=%s clipboard_id=%s v=%s",
            payload_class.task_name, error,
            payload.get("clipboard_id") if isinstance(payload, dict) else None,
            payload.get("v") if isinstance(payload, dict) else None,
        )
        return None
