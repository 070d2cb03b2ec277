"""Apply clipboard revisions to PostgreSQL: one transaction each, idempotent, newest wins.

Every function takes the database explicitly and is called inside the task's transaction; the
tasks module only decodes the message and retries.
"""
import logging
import uuid

from models import Clipboard, ClipboardImage, ClipboardState, Image
from core import timefmt

log = logging.getLogger(__name__)
security_log = logging.getLogger("workers.security")


class Outcome:
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this revision is already applied (a redelivery)
    STALE = "stale"  # a newer revision is already applied (reordering)
    FOREIGN = "foreign"  # the id belongs to another organization: never touched


def _lock_or_create(clipboard_id, organization_id, user_id, created_at, initial_state):
    """Return the clipboard row locked FOR UPDATE, creating it (revision 0) if missing."""
    Clipboard.insert(
        id=clipboard_id,
        organization=organization_id,
        user_id=user_id,
        revision=0,
        state=initial_state,
        created_at=created_at,
        updated_at=created_at,
    ).on_conflict_ignore().execute()
    return Clipboard.select().where(Clipboard.id == clipboard_id).for_update().get()


def _gate(row, organization_id, revision, task, clipboard_id, request_id):
    """Return the Outcome that stops this change, or None when it must be applied."""
    if str(row.organization_id) != organization_id:
        security_log.warning(
            "cross-tenant clipboard change refused task=%s clipboard_id=%s owner=%s "
            "requester=%s request_id=%s",
            task, clipboard_id, row.organization_id, organization_id, request_id,
        )
        return Outcome.FOREIGN
    if revision == row.revision:
        return Outcome.DUPLICATE
    if revision < row.revision:
        return Outcome.STALE
    return None


def resolve_images(image_ids, organization_id, albums):
    """Split image ids into accepted ids (request order) and rejections with reasons."""
    found = {}
    if image_ids:
        query = Image.select(Image.id, Image.organization, Image.album_id).where(Image.id.in_(image_ids)).tuples()
        found = {str(image_id): (str(org), album) for image_id, org, album in query}
    allowed_albums = set(albums)
    accepted, rejected = [], []
    for image_id in image_ids:
        owner = found.get(image_id)
        if owner is None or owner[0] != organization_id:
            rejected.append({"id": image_id, "reason": "not_found"})
        elif owner[1] not in allowed_albums:
            rejected.append({"id": image_id, "reason": "forbidden"})
        else:
            accepted.append(image_id)
    return accepted, rejected


def store(message):
    """Apply a StoreClipboard message; return its Outcome. Call inside a transaction."""
    created_at = timefmt.from_epoch_ms(message.created_at_ms)
    row = _lock_or_create(
        message.clipboard_id, message.organization_id, message.user_id, created_at, ClipboardState.READY
    )
    stopped = _gate(row, message.organization_id, message.revision, "store", message.clipboard_id, message.request_id)
    if stopped:
        return stopped
    accepted, rejected = resolve_images(message.image_ids, message.organization_id, message.albums)
    ClipboardImage.delete().where(ClipboardImage.clipboard == message.clipboard_id).execute()
    if accepted:
        ClipboardImage.insert_many(
            [(message.clipboard_id, position, uuid.UUID(image_id)) for position, image_id in enumerate(accepted)],
            fields=[ClipboardImage.clipboard, ClipboardImage.position, ClipboardImage.image_id],
        ).execute()
    update = {
        Clipboard.revision: message.revision,
        Clipboard.state: ClipboardState.READY,
        Clipboard.error: None,
        Clipboard.rejected_images: rejected,
        Clipboard.updated_at: timefmt.utcnow(),
    }
    if row.state in (ClipboardState.DELETED,) or row.revision == 0:
        # A new life of this id: it starts when the API claimed it and belongs to that user.
        update[Clipboard.created_at] = created_at
        update[Clipboard.user_id] = message.user_id
    Clipboard.update(update).where(Clipboard.id == message.clipboard_id).execute()
    return Outcome.APPLIED


def delete(message):
    """Apply a DeleteClipboard message: drop the images, keep the row as a tombstone."""
    row = _lock_or_create(message.clipboard_id, message.organization_id, None, timefmt.utcnow(), ClipboardState.DELETED)
    stopped = _gate(row, message.organization_id, message.revision, "delete", message.clipboard_id, message.request_id)
    if stopped:
        return stopped
    ClipboardImage.delete().where(ClipboardImage.clipboard == message.clipboard_id).execute()
    Clipboard.update(
        {
            Clipboard.revision: message.revision,
            Clipboard.state: ClipboardState.DELETED,
            Clipboard.error: None,
            Clipboard.rejected_images: [],
            Clipboard.updated_at: timefmt.utcnow(),
        }
    ).where(Clipboard.id == message.clipboard_id).execute()
    return Outcome.APPLIED


def mark_failed(clipboard_id, organization_id, revision, reason):
    """Record that `revision` cannot be applied; newer revisions may still succeed."""
    row = _lock_or_create(clipboard_id, organization_id, None, timefmt.utcnow(), ClipboardState.FAILED)
    if str(row.organization_id) != organization_id or revision < row.revision:
        return
    Clipboard.update(
        {
            Clipboard.revision: revision,
            Clipboard.state: ClipboardState.FAILED,
            Clipboard.error: reason,
            Clipboard.updated_at: timefmt.utcnow(),
        }
    ).where(Clipboard.id == clipboard_id).execute()
