"""`manage.py migrate` on an empty database: applies every migration once, then nothing."""
import uuid

import psycopg2
import pytest

from admin import commands
from models.db import make_database
from tests.admin.cli import assert_error, manage
from tests.support.postgres_admin import run_admin, with_database

TABLES = {"organizations", "secrets", "users", "images", "clipboards", "clipboard_images", "jobs"}


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


def test_manage_migrate_applies_the_initial_migration_once(empty_database_url):
    assert _tables(empty_database_url) == set()
    code, document, _ = manage(empty_database_url, "migrate")
    assert (code, document) == (0, {"applied": ["0001_initial"]})
    assert TABLES <= _tables(empty_database_url)
    code, document, _ = manage(empty_database_url, "migrate")
    assert (code, document) == (0, {"applied": []})


def test_migrate_function_is_idempotent(empty_database_url):
    db = make_database(empty_database_url)
    try:
        assert commands.migrate(db) == {"applied": ["0001_initial"]}
        assert commands.migrate(db) == {"applied": []}
    finally:
        db.close()
    assert TABLES <= _tables(empty_database_url)


def test_commands_before_migrate_say_to_migrate(empty_database_url):
    assert_error(manage(empty_database_url, "create-organization", "--name", "Acme"), 1, "manage.py migrate")
