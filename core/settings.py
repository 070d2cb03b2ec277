"""Read the service's configuration from the environment, in one place.

Every setting has a coercer and a default. DATABASE_URL and REDIS_URL default to the embedded
development servers that `make run` records in var/embedded.json (see dev/embedded.py); with no
record either, they fall back to the conventional local addresses.
"""
import json
import os
import pathlib
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
EMBEDDED_RECORD = ROOT / "var" / "embedded.json"
DEVELOPMENT_SIGNING_KEY = "development-signing-key-not-for-production"


class ConfigurationError(RuntimeError):
    """The environment does not describe a service that may start."""


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    redis_url: str
    signing_key: str
    token_ttl_seconds: int
    time_zone: str
    port: int
    log_level: str
    max_clipboard_images: int
    max_body_bytes: int
    secret_cache_seconds: int
    visibility_timeout: int
    retry_max_delay: int
    redis_timeout: float
    store_batch_size: int
    worker_prefetch_multiplier: int

    @property
    def is_development(self):
        return self.environment in ("development", "test")


def _recorded_embedded_urls():
    try:
        return json.loads(EMBEDDED_RECORD.read_text())
    except (OSError, ValueError):
        return {}


def _int(environ, name, default, minimum=0):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(environ, name, default):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None


def load(environ=None):
    """Build Settings from `environ` (os.environ by default); raise ConfigurationError if unfit."""
    environ = os.environ if environ is None else environ
    recorded = _recorded_embedded_urls()
    environment = environ.get("CLIPBOARD_ENV", "development")
    signing_key = environ.get("CLIPBOARD_SIGNING_KEY", "")
    if not signing_key:
        if environment not in ("development", "test"):
            raise ConfigurationError(
                "CLIPBOARD_SIGNING_KEY is required when CLIPBOARD_ENV is not development"
            )
        signing_key = DEVELOPMENT_SIGNING_KEY
    time_zone = environ.get("CLIPBOARD_TIME_ZONE") or environ.get("TZ") or "UTC"
    return Settings(
        environment=environment,
        database_url=environ.get("DATABASE_URL")
        or recorded.get("database_url", "postgresql://postgres@127.0.0.1:5432/clipboard"),
        redis_url=environ.get("REDIS_URL")
        or recorded.get("redis_url", "redis://127.0.0.1:6379/0"),
        signing_key=signing_key,
        token_ttl_seconds=_int(environ, "TOKEN_TTL_SECONDS", 14400, minimum=1),
        time_zone=time_zone,
        port=_int(environ, "PORT", 8000, minimum=1),
        log_level=environ.get("LOG_LEVEL", "INFO").upper(),
        max_clipboard_images=_int(environ, "MAX_CLIPBOARD_IMAGES", 1000, minimum=1),
        max_body_bytes=_int(environ, "MAX_BODY_BYTES", 1024 * 1024, minimum=1),
        secret_cache_seconds=_int(environ, "SECRET_CACHE_SECONDS", 60),
        visibility_timeout=_int(environ, "CELERY_VISIBILITY_TIMEOUT", 300, minimum=1),
        retry_max_delay=_int(environ, "RETRY_MAX_DELAY", 60, minimum=1),
        redis_timeout=_float(environ, "REDIS_TIMEOUT", 2.0),
        store_batch_size=_int(environ, "STORE_BATCH_SIZE", 200, minimum=1),
        worker_prefetch_multiplier=_int(environ, "WORKER_PREFETCH_MULTIPLIER", 256, minimum=1),
    )
