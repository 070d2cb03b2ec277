"""Paste a clipboard into an album: once its store has caught up, copy its images in one transaction.

A paste creates new image rows in the target album that point at the same stored asset
(`source_image_id` keeps the provenance); no pixels are copied. The job row, locked in the
same transaction as the copies, makes a redelivered message a no-op.
"""
import logging
import time
import uuid

from peewee import fn

from core import timefmt
from models import Clipboard, ClipboardImage, ClipboardState, Image, Job, JobState, Organization
from workers.retrying import in_transaction, until_committed

log = logging.getLogger(__name__)

security_log = logging.getLogger("workers.security")
PASTE = "paste"
_COPIED_FIELDS = ("filename", "format", "width", "height", "bytes", "url", "title", "description", "metadata")


class ClipboardBehind(Exception):
    """The clipboard's store has not yet reached the revision the paste was accepted against."""


class Outcome:
    SUCCEEDED = JobState.SUCCEEDED
    FAILED = JobState.FAILED
    DUPLICATE = "duplicate"  # the job already ended (a redelivery)
    FOREIGN = "foreign"
    NO_ORGANIZATION = "no_organization"  # the organization is gone: nothing to keep


    BEHIND = "behind"  # the clipboard's store has not caught up yet: put the message back


# A paste waits for its clipboard's store to reach the revision the API saw. It waits in the
# worker for a short while; then it hands its message back to the queue (behind the store, which
# then gets a worker), until this long after the paste was accepted, when the job fails.
WAIT_IN_WORKER_SECONDS = 2.0
WAIT_FOR_STORE_SECONDS = 300


def run(db, message, max_delay, sleep=time.sleep, clock=time.monotonic, wall_clock=time.time):
    """Carry out a paste job; return the Outcome. What a task calls.

    Transient database errors are waited out (workers.retrying); any other error fails the job
    with its reason. Outcome.BEHIND asks the caller to put the message back in the queue.
    """
    describe = f"paste job_id={message.job_id}"

    def attempt(function, *args):
        return until_committed(in_transaction(db, function, *args), max_delay, describe, sleep)

    try:
        outcome = attempt(start, message)
        if outcome == Outcome.SUCCEEDED:
            outcome = _paste_when_caught_up(attempt, message, sleep, clock, wall_clock)
    except Exception as error:  # noqa: BLE001 - not transient (those are retried above)
        reason = str(error).strip().splitlines()[0] if str(error) else type(error).__name__
        log.exception("paste failed job_id=%s reason=%s request_id=%s", message.job_id, reason, message.request_id)
        try:
            attempt(fail, message.job_id, f"The paste failed: {reason}")
        except Exception:  # noqa: BLE001 - logged; a requeue would loop
            log.exception("paste failure could not be recorded job_id=%s", message.job_id)
        return Outcome.FAILED
    log.info("paste %s job_id=%s clipboard_id=%s album_id=%s request_id=%s",
             outcome, message.job_id, message.clipboard_id, message.album_id, message.request_id)
    return outcome


def _paste_when_caught_up(attempt, message, sleep, clock, wall_clock):
    give_up_at = message.created_at_ms / 1000 + WAIT_FOR_STORE_SECONDS
    requeue_at = clock() + WAIT_IN_WORKER_SECONDS
    pause = 0.02
    while True:
        try:
            return attempt(paste, message)
        except ClipboardBehind:
            if wall_clock() >= give_up_at:
                reason = (f"The clipboard's revision {message.min_revision} was not stored within "
                          f"{WAIT_FOR_STORE_SECONDS} seconds.")
                return attempt(fail, message.job_id, reason)
            if clock() >= requeue_at:
                return Outcome.BEHIND
            sleep(pause)
            pause = min(0.5, pause * 2)


def _lock_or_create_job(message):
    Job.insert(
        id=message.job_id,
        organization=message.organization_id,
        kind=PASTE,
        state=JobState.QUEUED,
        params={"clipboard_id": message.clipboard_id, "album_id": message.album_id,
                "min_revision": message.min_revision, "user_id": message.user_id},
        created_at=timefmt.from_epoch_ms(message.created_at_ms),
    ).on_conflict_ignore().execute()
    return Job.select().where(Job.id == message.job_id).for_update().get()


def _gate(job, message):
    """Return the Outcome that ends this delivery here (another tenant's job, or one that ended)."""
    if str(job.organization_id) != message.organization_id:
        security_log.warning("security event: cross-tenant job refused job_id=%s owner=%s requester=%s request_id=%s",
                             message.job_id, job.organization_id, message.organization_id, message.request_id)
        return Outcome.FOREIGN
    if job.state in (JobState.SUCCEEDED, JobState.FAILED):
        return Outcome.DUPLICATE
    return None


def _finish(job_id, state, result=None, error=None):
    now = timefmt.utcnow()
    Job.update(
        {Job.state: state, Job.result: result, Job.error: error, Job.finished_at: now, Job.updated_at: now,
         Job.started_at: fn.COALESCE(Job.started_at, now)}
    ).where(Job.id == job_id).execute()


def start(message):
    """Record that the job is running (a small transaction of its own).

    Return Outcome.SUCCEEDED when the paste should go on, or the Outcome that ends it here.
    """
    if not Organization.select().where(Organization.id == message.organization_id).exists():
        log.warning("paste dropped, organization is gone job_id=%s organization_id=%s",
                    message.job_id, message.organization_id)
        return Outcome.NO_ORGANIZATION
    job = _lock_or_create_job(message)
    stopped = _gate(job, message)
    if stopped:
        return stopped
    if job.state == JobState.QUEUED:
        now = timefmt.utcnow()
        Job.update({Job.state: JobState.RUNNING, Job.started_at: now, Job.updated_at: now}).where(
            Job.id == message.job_id
        ).execute()
    return Outcome.SUCCEEDED


def paste(message):
    """Copy the clipboard's images into the album; return the Outcome. Call inside a transaction.

    Raises ClipboardBehind while the clipboard's applied revision is older than the message's
    `min_revision`: the caller waits and tries again.
    """
    job = _lock_or_create_job(message)
    stopped = _gate(job, message)
    if stopped:
        return stopped
    clipboard = Clipboard.select().where(Clipboard.id == message.clipboard_id).for_update("FOR SHARE").first()
    if clipboard is not None and str(clipboard.organization_id) != message.organization_id:
        return fail(message.job_id, "The clipboard does not exist.")
    if clipboard is None or clipboard.revision < message.min_revision:
        raise ClipboardBehind(f"clipboard {message.clipboard_id} has not reached revision {message.min_revision}")
    if clipboard.state == ClipboardState.DELETED:
        return fail(message.job_id, "The clipboard was deleted before it could be pasted.")
    if clipboard.state == ClipboardState.FAILED:
        return fail(message.job_id, f"The clipboard could not be stored: {clipboard.error}")
    sources = list(
        Image.select(Image)
        .join(ClipboardImage, on=(ClipboardImage.image_id == Image.id))
        .where((ClipboardImage.clipboard == message.clipboard_id) & (Image.organization == message.organization_id))
        .order_by(ClipboardImage.position)
    )
    now = timefmt.utcnow()
    copies = [
        {
            **{name: getattr(source, name) for name in _COPIED_FIELDS},
            "id": uuid.uuid4(),
            "organization": message.organization_id,
            "album_id": message.album_id,
            "tags": [message.album_id],
            "source_image_id": source.id,
            "created_at": now,
            "updated_at": now,
        }
        for source in sources
    ]
    if copies:
        Image.insert_many(copies).execute()
    _finish(message.job_id, JobState.SUCCEEDED, result={"image_ids": [str(copy["id"]) for copy in copies]})
    return Outcome.SUCCEEDED


def fail(job_id, reason):
    """Mark the job failed with a reason the client can read. Call inside a transaction."""
    _finish(job_id, JobState.FAILED, error=reason)
    return Outcome.FAILED
