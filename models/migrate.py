"""Apply the numbered migrations in models/migrations once each, recorded in schema_migration."""
import pathlib

from playhouse.migrations import Runner

DIRECTORY = pathlib.Path(__file__).resolve().parent / "migrations"
# Any constant shared by every migrating process: two `migrate` runs at once take turns.
_ADVISORY_LOCK_KEY = 0x636C6970  # "clip"


def migrate(db):
    """Apply pending migrations to `db`; return the names applied (empty when up to date)."""
    with db.connection_context():
        db.execute_sql("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            return Runner(db, directory=str(DIRECTORY)).up()
        finally:
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))

