"""Celery workers: clipboard bookkeeping persisted through Peewee. `celery -A workers worker`."""
from workers.app import app

__all__ = ["app"]
