"""Apply clipboard revisions to PostgreSQL: one transaction each, idempotent, newest wins.

`store`, `delete` and `mark_failed` are called inside a transaction and use the models' bound
database. `apply` is what a task calls: it runs one of them in its own transaction until it
commits, waiting out database errors that pass, and marks the revision failed when it cannot
be applied at all.

A clipboard row is never deleted: a delete leaves it as a tombstone (state `deleted`) holding
the delete's revision, so a store of an older revision that arrives late is stale and cannot
bring the clipboard back, while a store of a newer revision starts a new life of the id.
"""
import logging
import time
import uuid

from core import timefmt
from models import Clipboard, ClipboardImage, ClipboardState, Image, Organization
from workers.retrying import in_transaction, until_committed

log = logging.getLogger(__name__)
security_log = logging.getLogger("workers.security")

NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"


class Outcome:
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # this revision is already applied (a redelivery)
    STALE = "stale"  # a newer revision is already applied (reordering)
    FOREIGN = "foreign"  # the id belongs to another organization: never touched
    NO_ORGANIZATION = "no_organization"  # the organization is gone: nothing to keep
    FAILED = "failed"  # the revision cannot be applied; the clipboard says why


def _lock_or_create(clipboard_id, organization_id, user_id, created_at, initial_state):
    """Return the clipboard row locked FOR UPDATE, creating it (revision 0) if missing.

    Return None when the row is missing and the organization no longer exists.
    """
    row = Clipboard.select().where(Clipboard.id == clipboard_id).for_update().first()
    if row is not None:
        return row
    if not Organization.select().where(Organization.id == organization_id).exists():
        return None
    # Two workers may create the same id at once: the second insert waits for the first to
    # commit and then does nothing, and both go on to lock the one row.
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


def _gate(row, message, task):
    """Return the Outcome that stops this change, or None when it must be applied."""
    if row is None:
        log.warning(
            "clipboard change dropped, organization is gone task=%s clipboard_id=%s organization_id=%s "
            "revision=%s request_id=%s",
            task, message.clipboard_id, message.organization_id, message.revision, message.request_id,
        )
        return Outcome.NO_ORGANIZATION
    if str(row.organization_id) != message.organization_id:
        security_log.warning(
            "security event: cross-tenant clipboard change refused task=%s clipboard_id=%s owner=%s "
            "requester=%s revision=%s request_id=%s",
            task, message.clipboard_id, row.organization_id, message.organization_id, message.revision,
            message.request_id,
        )
        return Outcome.FOREIGN
    if message.revision == row.revision:
        return Outcome.DUPLICATE
    if message.revision < row.revision:
        return Outcome.STALE
    return None


def resolve_images(image_ids, organization_id, albums):
    """Split image ids into accepted ids (request order) and rejections with reasons.

    One query, restricted to the organization: another organization's image is not found, as
    if it did not exist. An image of the organization in an album the token did not grant
    `image_copy` on is forbidden.
    """
    album_of = {}
    if image_ids:
        query = (
            Image.select(Image.id, Image.album_id)
            .where(Image.id.in_(image_ids) & (Image.organization == organization_id))
            .tuples()
        )
        album_of = {str(image_id): album for image_id, album in query}
    allowed_albums = set(albums)
    accepted, rejected = [], []
    for image_id in image_ids:
        album = album_of.get(image_id)
        if album is None:
            rejected.append({"id": image_id, "reason": NOT_FOUND})
        elif album not in allowed_albums:
            rejected.append({"id": image_id, "reason": FORBIDDEN})
        else:
            accepted.append(image_id)
    return accepted, rejected


def _starts_new_life(row, created_at):
    """A store on a fresh row, a tombstone, or a row of an earlier claim begins a new clipboard."""
    return row.revision == 0 or row.state == ClipboardState.DELETED or row.created_at != created_at


def store(message):
    """Apply a StoreClipboard message; return its Outcome. Call inside a transaction."""
    created_at = timefmt.from_epoch_ms(message.created_at_ms)
    row = _lock_or_create(
        message.clipboard_id, message.organization_id, message.user_id, created_at, ClipboardState.READY
    )
    stopped = _gate(row, message, "store")
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
    if _starts_new_life(row, created_at):
        # The API's claim in Redis says when this life of the id began and whose it is.
        update[Clipboard.created_at] = created_at
        update[Clipboard.user_id] = message.user_id
    Clipboard.update(update).where(Clipboard.id == message.clipboard_id).execute()
    return Outcome.APPLIED


def delete(message):
    """Apply a DeleteClipboard message: drop the images, keep the row as a tombstone."""
    now = timefmt.utcnow()
    row = _lock_or_create(message.clipboard_id, message.organization_id, None, now, ClipboardState.DELETED)
    stopped = _gate(row, message, "delete")
    if stopped:
        return stopped
    ClipboardImage.delete().where(ClipboardImage.clipboard == message.clipboard_id).execute()
    Clipboard.update(
        {
            Clipboard.revision: message.revision,
            Clipboard.state: ClipboardState.DELETED,
            Clipboard.error: None,
            Clipboard.rejected_images: [],
            Clipboard.updated_at: now,
        }
    ).where(Clipboard.id == message.clipboard_id).execute()
    return Outcome.APPLIED


def mark_failed(message, reason):
    """Record that the message's revision cannot be applied; newer revisions may still succeed.

    Only a revision newer than the row's is recorded: an equal one was applied or recorded
    already, an older one is stale. Call inside a transaction.
    """
    created_at_ms = getattr(message, "created_at_ms", None)
    created_at = timefmt.from_epoch_ms(created_at_ms) if created_at_ms is not None else timefmt.utcnow()
    row = _lock_or_create(
        message.clipboard_id, message.organization_id, getattr(message, "user_id", None), created_at,
        ClipboardState.FAILED,
    )
    if row is None or str(row.organization_id) != message.organization_id or message.revision <= row.revision:
        return False
    Clipboard.update(
        {
            Clipboard.revision: message.revision,
            Clipboard.state: ClipboardState.FAILED,
            Clipboard.error: reason,
            Clipboard.updated_at: timefmt.utcnow(),
        }
    ).where(Clipboard.id == message.clipboard_id).execute()
    return True


def _reason(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def apply(db, change, message, max_delay, sleep=time.sleep):
    """Run `change(message)` in one transaction on `db` until it commits; return the Outcome.

    Errors that pass are retried for as long as it takes (see workers.retrying). Any other
    error cannot pass by retrying: the revision is marked failed with the reason, and the
    message is done.
    """
    describe = f"{message.task_name} clipboard_id={message.clipboard_id} revision={message.revision}"
    try:
        outcome = until_committed(in_transaction(db, change, message), max_delay, describe, sleep)
    except Exception as error:  # noqa: BLE001 - not transient (those are retried above)
        reason = _reason(error)
        log.exception(
            "clipboard revision failed task=%s clipboard_id=%s revision=%s reason=%s request_id=%s",
            message.task_name, message.clipboard_id, message.revision, reason, message.request_id,
        )
        try:
            until_committed(in_transaction(db, mark_failed, message, reason), max_delay, f"mark_failed {describe}", sleep)
        except Exception:  # noqa: BLE001 - the failure is logged above; a requeue would loop
            log.exception(
                "clipboard failure could not be recorded task=%s clipboard_id=%s revision=%s",
                message.task_name, message.clipboard_id, message.revision,
            )
        return Outcome.FAILED
    log.info(
        "clipboard revision done task=%s clipboard_id=%s revision=%s outcome=%s request_id=%s",
        message.task_name, message.clipboard_id, message.revision, outcome, message.request_id,
    )
    return outcome
