"""The deferred database every model binds to, and how processes open it."""
from peewee import DatabaseProxy
from playhouse.db_url import parse
from playhouse.postgres_ext import PostgresqlExtDatabase

database = DatabaseProxy()


def make_database(url, **options):
    """Return an unopened PostgreSQL database for a postgresql:// URL."""
    params = parse(url)
    params.update(options)
    name = params.pop("database")
    return PostgresqlExtDatabase(name, **params)


def bind(url, **options):
    """Point every model at the database at `url`; return it. Safe to call again."""
    db = make_database(url, **options)
    database.initialize(db)
    return db
