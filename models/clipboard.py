"""Clipboards, their ordered images, and asynchronous jobs."""
from peewee import BigIntegerField, CharField, CompositeKey, ForeignKeyField, IntegerField, TextField, UUIDField
from playhouse.postgres_ext import BinaryJSONField, DateTimeTZField

from models.base import BaseModel, Table
from models.organization import Organization


class ClipboardState:
    READY = "ready"
    FAILED = "failed"
    DELETED = "deleted"


class Clipboard(BaseModel):
    """One row per clipboard id, kept as a tombstone (state `deleted`) after a delete."""

    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    user_id = UUIDField(null=True)
    revision = BigIntegerField(default=0)
    state = CharField(max_length=16)
    error = TextField(null=True)
    rejected_images = BinaryJSONField(default=list)

    class Meta:
        table_name = "clipboards"


class ClipboardImage(Table):
    clipboard = ForeignKeyField(Clipboard, on_delete="CASCADE")
    position = IntegerField()
    image_id = UUIDField()

    class Meta:
        table_name = "clipboard_images"
        primary_key = CompositeKey("clipboard", "position")


class JobState:
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    kind = CharField(max_length=32)
    state = CharField(max_length=16, default=JobState.QUEUED)
    params = BinaryJSONField(default=dict)
    result = BinaryJSONField(null=True)
    error = TextField(null=True)
    started_at = DateTimeTZField(null=True)
    finished_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "jobs"
