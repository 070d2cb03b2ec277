"""The Celery application of the workers, configured from celeryconfig."""
import logging

from celery import Celery
from celery.signals import worker_init, worker_process_init

from core import settings as settings_module
from models.db import bind

app = Celery("clipboard")
app.config_from_object("celeryconfig")
app.autodiscover_tasks(["workers"], related_name="tasks", force=True)


@worker_init.connect
def _bind_database_in_main_process(**_):
    """Bind (without connecting) before the pool starts: the solo and thread pools run tasks here."""
    bind(settings_module.load().database_url)


@worker_process_init.connect
def _bind_database(**_):
    """Each prefork pool process opens its own connections, after the fork."""
    bind(settings_module.load().database_url)


logging.getLogger("peewee").setLevel(logging.INFO)
