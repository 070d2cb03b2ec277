"""A job as clients see it: the worker's row in PostgreSQL, or Redis's stub while it is queued."""
from api import image_document
from core import timefmt
from models import Image, Job, JobState

TERMINAL_STATES = (JobState.SUCCEEDED, JobState.FAILED)


def load(job_id, organization_id, read_stub, zone_name):
    """Return the job document, or None when the organization has no such job.

    `read_stub()` returns the Redis hash the API wrote when it queued the job (may be empty); it
    is called only while the worker has not written the job's row. Call with a database
    connection open.
    """
    row = Job.get_or_none((Job.id == job_id) & (Job.organization == organization_id))
    if row is not None:
        return _from_row(row, zone_name)
    stub = read_stub()
    if stub and stub.get("org") == organization_id:
        return _from_stub(job_id, stub, zone_name)
    return None


def _from_stub(job_id, stub, zone_name):
    return {
        "id": job_id,
        "kind": stub.get("kind"),
        "state": JobState.QUEUED,
        "created_at": timefmt.render_epoch_ms(int(stub["created"]), zone_name),
        "started_at": None,
        "finished_at": None,
        "result": None,
        "error": None,
    }


def _from_row(row, zone_name):
    return {
        "id": str(row.id),
        "kind": row.kind,
        "state": row.state,
        "created_at": timefmt.render(row.created_at, zone_name),
        "started_at": timefmt.render(row.started_at, zone_name),
        "finished_at": timefmt.render(row.finished_at, zone_name),
        "result": _result(row, zone_name),
        "error": row.error,
    }


def _result(row, zone_name):
    if row.state != JobState.SUCCEEDED or not row.result:
        return None
    image_ids = row.result.get("image_ids", [])
    images = {str(image.id): image for image in Image.select().where(Image.id.in_(image_ids))} if image_ids else {}
    return [image_document.render(images[image_id], zone_name) for image_id in image_ids if image_id in images]
