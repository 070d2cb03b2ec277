"""Open a pooled connection for a resource's PostgreSQL work; an outage becomes a 503."""
import contextlib

import peewee
from playhouse.pool import MaxConnectionsExceeded

from api import errors
from models import database


@contextlib.contextmanager
def connection(what="This resource"):
    try:
        with database.connection_context():
            yield database
    except (peewee.OperationalError, peewee.InterfaceError, MaxConnectionsExceeded):
        raise errors.unavailable(f"{what} cannot be reached right now; retry shortly.", retry_after=5) from None
