"""Administer the test PostgreSQL server: database URLs and statements outside any database."""
from urllib.parse import urlsplit, urlunsplit

import psycopg2


def with_database(url, name):
    """`url` pointing at database `name` on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def run_admin(url, statement):
    """Run one statement (CREATE/DROP DATABASE) on the server's `postgres` database, autocommit."""
    connection = psycopg2.connect(with_database(url, "postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()
