"""The deferred database every model binds to, and how processes open it."""
from peewee import DatabaseProxy
from playhouse.db_url import parse
from playhouse.postgres_ext import PooledPostgresqlExtDatabase, PostgresqlExtDatabase

database = DatabaseProxy()
# Web threads share a pool; a connection idle this long is closed rather than reused.
POOL_STALE_SECONDS = 300
POOL_MAX_CONNECTIONS = 32
# A request that finds every pooled connection busy waits this long for one, then gives up.
POOL_WAIT_SECONDS = 5


def make_database(url, pooled=False, **options):
    """Return an unopened PostgreSQL database for a postgresql:// URL."""
    params = parse(url)
    params.update(options)
    name = params.pop("database")
    if pooled:
        return PooledPostgresqlExtDatabase(
            name, max_connections=POOL_MAX_CONNECTIONS, stale_timeout=POOL_STALE_SECONDS,
            timeout=POOL_WAIT_SECONDS, **params
        )
    return PostgresqlExtDatabase(name, **params)


def bind(url, pooled=False, **options):
    """Point every model at the database at `url`; return it. Safe to call again."""
    db = make_database(url, pooled=pooled, **options)
    database.initialize(db)
    return db
