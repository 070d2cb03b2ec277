"""`manage.py migrate` on an empty database: applies every migration once, then nothing."""
import uuid

import peewee
import psycopg2
import pytest
from playhouse.migrations import Runner

from admin import commands
from models.db import make_database
from models.migrate import DIRECTORY as MIGRATIONS
from tests.admin.cli import assert_error, manage
from models.server_admin import run_admin, with_database

TABLES = {"organizations", "secrets", "users", "images", "clipboards", "clipboard_images", "jobs"}
ALL = ["0001_initial", "0002_users_email_case_insensitive"]


def _tables(url):
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


@pytest.fixture
def empty_database_url(server_urls):
    """A brand-new database on the test server, dropped after the test."""
    name = f"clipboard_admin_{uuid.uuid4().hex[:12]}"
    run_admin(server_urls[0], f'CREATE DATABASE "{name}"')
    yield with_database(server_urls[0], name)
    run_admin(server_urls[0], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_manage_migrate_applies_every_migration_once(empty_database_url):
    assert _tables(empty_database_url) == set()
    code, document, _ = manage(empty_database_url, "migrate")
    assert (code, document) == (0, {"applied": ALL})
    assert TABLES <= _tables(empty_database_url)
    code, document, _ = manage(empty_database_url, "migrate")
    assert (code, document) == (0, {"applied": []})


def test_migrate_function_is_idempotent(empty_database_url):
    db = make_database(empty_database_url)
    try:
        assert commands.migrate(db) == {"applied": ALL}
        assert commands.migrate(db) == {"applied": []}
    finally:
        db.close()
    assert TABLES <= _tables(empty_database_url)


def test_commands_before_migrate_say_to_migrate(empty_database_url):
    assert_error(manage(empty_database_url, "create-organization", "--name", "Acme"), 1, "manage.py migrate")


def test_users_differing_only_in_case_stop_the_email_migration_until_resolved(empty_database_url):
    db = make_database(empty_database_url)
    try:
        runner = Runner(db, directory=str(MIGRATIONS))
        assert runner.up(target="0001_initial") == ["0001_initial"]
        organization = uuid.uuid4()
        db.execute_sql("INSERT INTO organizations (id, name) VALUES (%s, 'Acme')", (str(organization),))
        for email in ("ada@example.org", "Ada@Example.org"):
            db.execute_sql("INSERT INTO users (id, organization_id, email) VALUES (%s, %s, %s)",
                           (str(uuid.uuid4()), str(organization), email))
        with pytest.raises(peewee.IntegrityError, match="lower"):
            commands.migrate(db)
        error = assert_error(manage(empty_database_url, "migrate"), 1, "rolled back")
        assert "is duplicated" in error and "ada@example.org" in error
        # Rolled back: the old index is still there and 0002 is not recorded as applied.
        indexes = {name for (name,) in db.execute_sql("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")}
        assert "users_organization_id_email" in indexes
        assert [m.name for m in runner.status() if m.applied] == ["0001_initial"]
        db.execute_sql("DELETE FROM users WHERE email = 'Ada@Example.org'")
        assert commands.migrate(db) == {"applied": ["0002_users_email_case_insensitive"]}
    finally:
        db.close()
