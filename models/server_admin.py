"""Statements about a PostgreSQL server rather than inside one of its databases.

Creating and dropping whole databases (the test harness and the benches make one per run) and
ending other sessions cannot run inside a transaction, so these run with autocommit on the
server's `postgres` database.
"""
from urllib.parse import urlsplit, urlunsplit

import psycopg2

CONNECT_TIMEOUT_SECONDS = 5


def with_database(url, name):
    """`url` pointing at database `name` on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def run_admin(url, statement, params=None):
    """Run one statement on the `postgres` database of `url`'s server, autocommit."""
    connection = psycopg2.connect(with_database(url, "postgres"), connect_timeout=CONNECT_TIMEOUT_SECONDS)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None
    finally:
        connection.close()
