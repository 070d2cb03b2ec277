"""Peewee models of the clipboard service, bound to PostgreSQL through `models.db.database`."""
from models.clipboard import Clipboard, ClipboardImage, ClipboardState, Job, JobState
from models.db import bind, database
from models.image import Image
from models.organization import Organization, Secret, User

__all__ = [
    "Clipboard",
    "ClipboardImage",
    "ClipboardState",
    "Image",
    "Job",
    "JobState",
    "Organization",
    "Secret",
    "User",
    "bind",
    "database",
]
