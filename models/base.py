"""Base models: every table uses the shared database; entities get UUID keys and UTC times."""
import uuid

from peewee import Model, UUIDField
from playhouse.postgres_ext import DateTimeTZField

from core.timefmt import utcnow
from models.db import database


class Table(Model):
    class Meta:
        database = database
        legacy_table_names = False


class BaseModel(Table):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    created_at = DateTimeTZField(default=utcnow)
    updated_at = DateTimeTZField(default=utcnow)
