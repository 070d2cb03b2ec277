"""Celery configuration, read by `workers.app` (and by Flower). Settings come from core.settings."""
from kombu import Exchange, Queue

from core import messages
from core.settings import load

_settings = load()

broker_url = _settings.redis_url
broker_connection_retry_on_startup = True
# Redis has no acknowledgements of its own: kombu keeps each delivered message in an `unacked`
# hash until the task is acknowledged, and a sweep puts back every message that has been out
# longer than `visibility_timeout`. See docs/WORKERS.md.
#
# 300 s (CELERY_VISIBILITY_TIMEOUT): a worker killed with SIGKILL (or a lost machine) has its
# messages redelivered about five minutes after they were delivered; a clipboard meanwhile
# reads `pending`. Shorter would recover sooner but redeliver more often the messages of
# workers that are alive and still retrying a PostgreSQL outage (tasks retry in-process for as
# long as the outage lasts, so no timeout is "longer than any task"). Such a redelivery is a
# duplicate, which the revision check turns into a no-op. A worker that shuts down cleanly
# hands back what it still holds at once (kombu restores unacked messages when it closes).
_visibility_timeout = _settings.visibility_timeout
broker_transport_options = {
    "visibility_timeout": _visibility_timeout,
    # Sweep for abandoned messages every few seconds (at most every 10 s), rather than kombu's
    # default of one real scan per 10 x 10 s: the sweep is one ZRANGE, and its period adds to the
    # time a killed worker's message stays away. A worker also sweeps once when it starts.
    "unacked_restore_interval": max(1, min(10, _visibility_timeout // 10)),
    "unacked_restore_throttle": 1,
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

# At-least-once: acknowledge after the task ran, and requeue what a dying worker held. Safe
# because every task is idempotent (a revision is applied at most once).
task_acks_late = True
task_reject_on_worker_lost = True
# A task that raised is acknowledged, not requeued: the tasks record permanent failures
# themselves and retry transient ones in-process, so an exception reaching Celery means a
# message that would fail again the same way, and requeueing it would loop forever.
task_acks_on_failure = True
task_acks_on_timeout = True  # no time limits are set; named for completeness
# With acks_late, a message counts against the prefetch limit until it is acknowledged. Stores
# are consumed in batches (workers/batching.py), so the worker must be allowed to hold a few
# batches' worth: one filling, one running per pool process. The price: a killed worker strands
# up to concurrency x multiplier messages until the visibility timeout hands them back.
worker_prefetch_multiplier = _settings.worker_prefetch_multiplier

worker_send_task_events = True  # Flower's view of tasks
worker_hijack_root_logger = True
worker_log_format = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
worker_task_log_format = "%(asctime)s %(levelname)s %(processName)s %(task_name)s: %(message)s"
