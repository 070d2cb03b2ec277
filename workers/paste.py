"""Paste a clipboard into an album: once its store has caught up, copy its images in one transaction.

A paste creates new image rows in the target album that point at the same stored asset
(`source_image_id` keeps the provenance); no pixels are copied. The job row, locked in the
same transaction as the copies, makes a redelivered message a no-op.
"""
import logging
import uuid

from peewee import fn

from core import timefmt
from models import Clipboard, ClipboardImage, ClipboardState, Image, Job, JobState

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


def _finish(job_id, state, result=None, error=None):
    now = timefmt.utcnow()
    Job.update(
        {Job.state: state, Job.result: result, Job.error: error, Job.finished_at: now, Job.updated_at: now,
         Job.started_at: fn.COALESCE(Job.started_at, now)}
    ).where(Job.id == job_id).execute()


def start(message):
    """Record that the job is running (its own small transaction); return False if it already ended."""
    job = _lock_or_create_job(message)
    if str(job.organization_id) != message.organization_id or job.state in (JobState.SUCCEEDED, JobState.FAILED):
        return False
    if job.state == JobState.QUEUED:
        now = timefmt.utcnow()
        Job.update({Job.state: JobState.RUNNING, Job.started_at: now, Job.updated_at: now}).where(
            Job.id == message.job_id
        ).execute()
    return True


def paste(message):
    """Copy the clipboard's images into the album; return the Outcome. Call inside a transaction.

    Raises ClipboardBehind while the clipboard's applied revision is older than the message's
    `min_revision`: the caller waits and tries again.
    """
    job = _lock_or_create_job(message)
    if str(job.organization_id) != message.organization_id:
        security_log.warning("cross-tenant job refused job_id=%s owner=%s requester=%s request_id=%s",
                             message.job_id, job.organization_id, message.organization_id, message.request_id)
        return Outcome.FOREIGN
    if job.state in (JobState.SUCCEEDED, JobState.FAILED):
        return Outcome.DUPLICATE
    clipboard = Clipboard.select().where(Clipboard.id == message.clipboard_id).for_share().first()
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
