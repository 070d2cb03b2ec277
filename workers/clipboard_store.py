"""Apply clipboard revisions to PostgreSQL: one transaction each, idempotent, newest wins.

`store`, `delete` and `mark_failed` are called inside a transaction and use the models' bound
database. `apply` is what a task calls: it runs one of them in its own transaction until it
commits, waiting out database errors that pass, and marks the revision failed when it cannot
be applied at all.

A clipboard row is never deleted: a delete leaves it as a tombstone (state `deleted`) holding
the delete's revision, so a store of an older revision that arrives late is stale and cannot
bring the clipboard back, while a store of a newer revision starts a new life of the id.
"""
import json
import logging
import time
from collections import namedtuple

from psycopg2.extras import execute_values

from core import timefmt
from models import Clipboard, ClipboardImage, ClipboardState, Organization, database
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


def classify_images(image_ids, found, organization_id, albums):
    """Split image ids into accepted ids (request order) and rejections with reasons.

    `found` maps image id to (organization id, album id) for the images that exist. Another
    organization's image is not found, as if it did not exist; an image of the organization in
    an album the token did not grant `image_copy` on is forbidden.
    """
    allowed_albums = set(albums)
    accepted, rejected = [], []
    for image_id in image_ids:
        owner_album = found.get(image_id)
        if owner_album is None or owner_album[0] != organization_id:
            rejected.append({"id": image_id, "reason": NOT_FOUND})
        elif owner_album[1] not in allowed_albums:
            rejected.append({"id": image_id, "reason": FORBIDDEN})
        else:
            accepted.append(image_id)
    return accepted, rejected


def find_images(image_ids):
    """Return {image id: (organization id, album id)} for the ids that exist, in one query."""
    if not image_ids:
        return {}
    cursor = database.execute_sql(
        "SELECT id::text, organization_id::text, album_id FROM images WHERE id = ANY(%s::uuid[])",
        (list(image_ids),),
    )
    return {image_id: (organization_id, album) for image_id, organization_id, album in cursor.fetchall()}


def _starts_new_life(row, created_at):
    """A store on a fresh row, a tombstone, or a row of an earlier claim begins a new clipboard."""
    return row.revision == 0 or row.state == ClipboardState.DELETED or row.created_at != created_at


_Row = namedtuple("_Row", "organization_id revision state created_at")


def _lock_rows(cursor, clipboard_ids):
    """Lock the existing rows FOR UPDATE, in id order (so concurrent batches cannot deadlock)."""
    if not clipboard_ids:
        return {}
    cursor.execute(
        "SELECT id::text, organization_id::text, revision, state, created_at FROM clipboards "
        "WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",
        (sorted(clipboard_ids),),
    )
    return {row[0]: _Row(*row[1:]) for row in cursor.fetchall()}


def _create_rows(cursor, messages):
    """Insert revision-0 rows for messages whose clipboard has none (and whose organization exists)."""
    cursor.execute(
        "SELECT id::text FROM organizations WHERE id = ANY(%s::uuid[])",
        (sorted({message.organization_id for message in messages}),),
    )
    existing = {row[0] for row in cursor.fetchall()}
    first = {}
    for message in messages:
        if message.organization_id in existing:
            first.setdefault(message.clipboard_id, message)
    if not first:
        return []
    # Two workers may create the same id at once: the second insert waits for the first to
    # commit and then does nothing, and both go on to lock the one row.
    execute_values(
        cursor,
        "INSERT INTO clipboards (id, organization_id, user_id, revision, state, created_at, updated_at) "
        "VALUES %s ON CONFLICT (id) DO NOTHING",
        [
            (message.clipboard_id, message.organization_id, message.user_id, 0, ClipboardState.READY,
             timefmt.from_epoch_ms(message.created_at_ms), timefmt.from_epoch_ms(message.created_at_ms))
            for _id, message in sorted(first.items())
        ],
        template="(%s::uuid, %s::uuid, %s::uuid, %s, %s, %s, %s)",
    )
    return sorted(first)


def _newest_applicable(messages, rows):
    """Gate each message against its row; return (outcomes with gaps, {clipboard id: index to apply})."""
    outcomes = [None] * len(messages)
    chosen = {}
    for index, message in enumerate(messages):
        stopped = _gate(rows.get(message.clipboard_id), message, "store")
        if stopped:
            outcomes[index] = stopped
            continue
        previous = chosen.get(message.clipboard_id)
        if previous is None or messages[previous].revision < message.revision:
            if previous is not None:
                outcomes[previous] = Outcome.STALE  # superseded by a newer revision in this batch
            chosen[message.clipboard_id] = index
        else:
            outcomes[index] = Outcome.DUPLICATE if messages[previous].revision == message.revision else Outcome.STALE
    return outcomes, chosen


def _write(cursor, messages, rows):
    """Replace the images and update the rows of the messages to apply (one per clipboard)."""
    found = find_images({image_id for message in messages for image_id in message.image_ids})
    now = timefmt.utcnow()
    image_rows, updates = [], []
    for message in messages:
        accepted, rejected = classify_images(message.image_ids, found, message.organization_id, message.albums)
        image_rows += [(message.clipboard_id, position, image_id) for position, image_id in enumerate(accepted)]
        created_at = timefmt.from_epoch_ms(message.created_at_ms)
        new_life = _starts_new_life(rows[message.clipboard_id], created_at)
        updates.append((message.clipboard_id, message.revision, json.dumps(rejected), new_life, created_at,
                        message.user_id, now))
    cursor.execute(
        "DELETE FROM clipboard_images WHERE clipboard_id = ANY(%s::uuid[])",
        ([message.clipboard_id for message in messages],),
    )
    if image_rows:
        execute_values(
            cursor,
            "INSERT INTO clipboard_images (clipboard_id, position, image_id) VALUES %s",
            image_rows,
            template="(%s::uuid, %s, %s::uuid)",
            page_size=1000,
        )
    # A new life of the id takes its creation time and creator from the API's claim in Redis.
    execute_values(
        cursor,
        "UPDATE clipboards AS c SET revision = v.revision, state = 'ready', error = NULL, "
        "rejected_images = v.rejected, updated_at = v.now, "
        "created_at = CASE WHEN v.new_life THEN v.created_at ELSE c.created_at END, "
        "user_id = CASE WHEN v.new_life THEN v.user_id ELSE c.user_id END "
        "FROM (VALUES %s) AS v (id, revision, rejected, new_life, created_at, user_id, now) WHERE c.id = v.id",
        updates,
        template="(%s::uuid, %s::bigint, %s::jsonb, %s::boolean, %s::timestamptz, %s::uuid, %s::timestamptz)",
        page_size=1000,
    )


def store_many(messages):
    """Apply StoreClipboard messages together; return their Outcomes, in order.

    Call inside one transaction. The work is set-based (a handful of statements whatever the
    number of messages), and each message gets exactly the outcome it would get alone: of
    several revisions of one clipboard, only the newest is applied.
    """
    cursor = database.cursor()
    ids = {message.clipboard_id for message in messages}
    rows = _lock_rows(cursor, ids)
    missing = [message for message in messages if message.clipboard_id not in rows]
    if missing:
        rows.update(_lock_rows(cursor, _create_rows(cursor, missing)))
    outcomes, chosen = _newest_applicable(messages, rows)
    if chosen:
        _write(cursor, [messages[index] for index in chosen.values()], rows)
        for index in chosen.values():
            outcomes[index] = Outcome.APPLIED
    return outcomes


def store(message):
    """Apply a StoreClipboard message; return its Outcome. Call inside a transaction."""
    return store_many([message])[0]


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


def apply_many(db, messages, max_delay, sleep=time.sleep):
    """Store a batch of messages in one transaction until it commits; return their Outcomes.

    If the batch fails for a reason that does not pass, each message is applied on its own,
    so only the message at fault is marked failed.
    """
    if not messages:
        return []
    try:
        outcomes = until_committed(
            in_transaction(db, store_many, messages), max_delay, f"store batch size={len(messages)}", sleep
        )
    except Exception as error:  # noqa: BLE001 - not transient (those are retried above)
        log.warning("store batch failed, applying its messages one by one size=%d reason=%s",
                    len(messages), _reason(error))
        return [apply(db, store, message, max_delay, sleep) for message in messages]
    for message, outcome in zip(messages, outcomes):
        log.info(
            "clipboard revision done task=%s clipboard_id=%s revision=%s outcome=%s request_id=%s",
            message.task_name, message.clipboard_id, message.revision, outcome, message.request_id,
        )
    return outcomes


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
