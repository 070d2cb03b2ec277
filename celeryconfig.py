"""Celery configuration, read by `workers.app` (and by Flower). Settings come from core.settings."""
from kombu import Exchange, Queue

from core import messages
from core.settings import load

_settings = load()

broker_url = _settings.redis_url
broker_connection_retry_on_startup = True
broker_transport_options = {
    # A message a worker took but did not acknowledge (the worker was killed, or is still
    # retrying a database outage) goes back to the queue after this many seconds. It must be
    # longer than any task runs; a redelivered task is harmless because every task is idempotent.
    "visibility_timeout": _settings.visibility_timeout,
    "socket_timeout": 10,
    "socket_connect_timeout": 10,
}
# The API publishes to this queue through the default (anonymous) exchange, with a raw LPUSH:
# delivery then needs no exchange bindings stored in Redis, which a Redis restart could lose.
task_queues = (Queue(messages.QUEUE, Exchange(""), routing_key=messages.QUEUE),)
task_default_queue = messages.QUEUE
task_default_exchange = ""
task_default_routing_key = messages.QUEUE

task_serializer = "json"
accept_content = ["json"]
result_backend = None
task_ignore_result = True

# At-least-once: acknowledge after the task ran, and requeue what a dying worker held.
task_acks_late = True
task_reject_on_worker_lost = True
# Each pool process reserves one message beyond the one it runs: little is stranded in a
# worker that dies, and little waits behind a slow task.
worker_prefetch_multiplier = 1

worker_send_task_events = True  # Flower's view of tasks
worker_hijack_root_logger = True
worker_log_format = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
worker_task_log_format = "%(asctime)s %(levelname)s %(processName)s %(task_name)s: %(message)s"
