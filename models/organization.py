"""Tenants, their API secrets, and their users."""
from peewee import CharField, ForeignKeyField, TextField
from playhouse.postgres_ext import DateTimeTZField

from models.base import BaseModel


class Organization(BaseModel):
    name = TextField()

    class Meta:
        table_name = "organizations"


class Secret(BaseModel):
    organization = ForeignKeyField(Organization, backref="secrets", on_delete="CASCADE")
    name = TextField(null=True)
    key = TextField()
    revoked_at = DateTimeTZField(null=True)

    class Meta:
        table_name = "secrets"


class User(BaseModel):
    organization = ForeignKeyField(Organization, backref="users", on_delete="CASCADE")
    email = CharField(max_length=320)
    name = TextField(null=True)

    class Meta:
        table_name = "users"
        # Unique on (organization_id, lower(email)): migration 0002, which defines the schema.
