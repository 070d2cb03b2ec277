"""Image metadata in an album; a pasted image points at its source by `source_image_id`."""
from peewee import BigIntegerField, CharField, ForeignKeyField, IntegerField, TextField, UUIDField
from playhouse.postgres_ext import BinaryJSONField

from models.base import BaseModel
from models.organization import Organization


class Image(BaseModel):
    organization = ForeignKeyField(Organization, on_delete="CASCADE")
    album_id = CharField(max_length=255)
    filename = TextField(null=True)
    format = CharField(max_length=32, null=True)
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    bytes = BigIntegerField(null=True)
    url = TextField(null=True)
    title = TextField(null=True)
    description = TextField(null=True)
    metadata = BinaryJSONField(default=dict)
    tags = BinaryJSONField(default=list)
    source_image_id = UUIDField(null=True)

    class Meta:
        table_name = "images"
