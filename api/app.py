"""The Falcon application: `create_app` wires collaborators (tests inject theirs), `get_app` for gunicorn."""
import logging
import sys

import falcon
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from api import errors, redis_durability
from api.auth import Authenticator
from api.clipboard_ledger import ClipboardLedger
from api.keystore import KeyStore
from api.middleware import Authentication, StandardHeaders
from api.resources.clipboards import Clipboard, Clipboards
from api.resources.health import Health, Readiness
from api.resources.images import AlbumImages, ImageItem, Images
from api.resources.jobs import JobItem
from api.resources.metrics import Metrics
from api.resources.paste import Paste
from core import settings as settings_module
from models import database
from models.db import bind


def redis_client(settings):
    """The client for reads and operators' checks (the scripts run on api.script_runner).

    One retry, immediate, and only when the connection failed: a read is safe to repeat. None on
    a timeout, so a hung Redis holds a request for at most REDIS_TIMEOUT before its 503. (Stated
    here because redis-py's defaults differ by how a client is made: Redis() retries ten times
    with backoff, timeouts included; Redis.from_url() not at all.)
    """
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    )


def _ping_database():
    with database.connection_context():
        database.execute_sql("SELECT 1")


def create_app(settings, redis_client, keystore=None):
    """Build the WSGI app from settings and a Redis client; the models must already be bound."""
    keystore = keystore or KeyStore(ttl=settings.secret_cache_seconds)
    authenticator = Authenticator(keystore, settings.signing_key)
    app = falcon.App(
        middleware=[StandardHeaders(), Authentication(authenticator, settings.token_ttl_seconds)],
    )
    app.req_options.strip_url_path_trailing_slash = True
    app.set_error_serializer(errors.serialize_problem)
    ledger = ClipboardLedger(redis_client)
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Readiness(redis_client, _ping_database))
    app.add_route("/metrics", Metrics(redis_client))
    app.add_route("/api/v1/clipboards", Clipboards(ledger, settings))
    app.add_route("/api/v1/clipboards/{clipboard_id}", Clipboard(ledger, settings))
    jobs = JobItem(ledger, settings)
    app.add_route("/api/v1/clipboards/{clipboard_id}/paste", Paste(ledger, jobs, settings))
    app.add_route("/api/v1/jobs/{job_id}", jobs)
    app.add_route("/api/v1/images", Images(settings))
    app.add_route("/api/v1/images/{image_id}", ImageItem(settings))
    app.add_route("/api/v1/albums/{album_id}/images", AlbumImages(settings))
    return app


def configure_logging(level):
    """Send the application's own log lines (api.*, models.*) to stderr, beside gunicorn's.

    gunicorn configures only its own loggers; without this the application's lines below
    WARNING were dropped and the rest printed bare by Python's last-resort handler.
    """
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")


def get_app():
    """Entry point for gunicorn: read the environment, bind the database, build the app."""
    settings = settings_module.load()
    configure_logging(settings.log_level)
    bind(settings.database_url, pooled=True)
    client = redis_client(settings)
    redis_durability.warn_unless_durable(client)
    return create_app(settings, client)
