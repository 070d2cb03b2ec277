"""The contract between api/ and workers/: task names, the queue, and versioned JSON payloads.

A task is called with its payload as keyword arguments. Every payload carries `v`, the payload
version; a worker refuses a version it does not know instead of guessing. To change a payload
in a way old workers cannot read, add a new version and keep reading the old one until every
producer has moved on.
"""
from dataclasses import asdict, dataclass, fields

QUEUE = "clipboards"
PAYLOAD_VERSION = 1

STORE_CLIPBOARD = "clipboards.store"
DELETE_CLIPBOARD = "clipboards.delete"
PASTE_CLIPBOARD = "clipboards.paste"


class UnknownPayload(ValueError):
    """A payload this code cannot read: wrong version, missing or mistyped fields."""


class _Payload:
    task_name = ""

    def to_dict(self):
        return {"v": PAYLOAD_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, payload):
        if payload.get("v") != PAYLOAD_VERSION:
            raise UnknownPayload(f"{cls.task_name}: payload version {payload.get('v')!r} is unknown")
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in payload]
        if missing:
            raise UnknownPayload(f"{cls.task_name}: payload lacks {', '.join(missing)}")
        return cls(**{name: payload[name] for name in names})


@dataclass(frozen=True)
class StoreClipboard(_Payload):
    """Replace a clipboard's images, as revision `revision` of it."""

    task_name = STORE_CLIPBOARD
    clipboard_id: str
    organization_id: str
    user_id: str | None
    image_ids: list
    albums: list  # the albums the token granted image_copy on: only their images are accepted
    revision: int
    created_at_ms: int  # when the id was first claimed, epoch milliseconds
    request_id: str


@dataclass(frozen=True)
class DeleteClipboard(_Payload):
    """Delete a clipboard; `revision` is the tombstone's, so older stores cannot revive it."""

    task_name = DELETE_CLIPBOARD
    clipboard_id: str
    organization_id: str
    revision: int
    request_id: str


@dataclass(frozen=True)
class PasteClipboard(_Payload):
    """Copy a clipboard's images into an album, once its store has reached `min_revision`."""

    task_name = PASTE_CLIPBOARD
    job_id: str
    clipboard_id: str
    organization_id: str
    user_id: str | None
    album_id: str
    min_revision: int
    created_at_ms: int
    request_id: str


PAYLOADS = {payload.task_name: payload for payload in (StoreClipboard, DeleteClipboard, PasteClipboard)}
