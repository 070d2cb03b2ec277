"""An unmodified Celery app with the contract's task names, for the contract test.

Each task appends the keyword arguments it received to the file named by CONTRACT_OUT. It shares
nothing with workers/ but the task names and the queue: it proves the API's messages are plain
Celery protocol-2 messages.
"""
import json
import os

from celery import Celery
from kombu import Exchange, Queue

from core import messages

app = Celery("plain", broker=os.environ["REDIS_URL"])
app.conf.task_queues = (Queue(messages.QUEUE, Exchange(""), routing_key=messages.QUEUE),)
app.conf.task_default_queue = messages.QUEUE
app.conf.accept_content = ["json"]


def _record(task_name, args, kwargs):
    with open(os.environ["CONTRACT_OUT"], "a") as out:
        out.write(json.dumps({"task": task_name, "args": list(args), "kwargs": kwargs}) + "\n")


@app.task(name=messages.STORE_CLIPBOARD)
def store(*args, **kwargs):
    _record(messages.STORE_CLIPBOARD, args, kwargs)


@app.task(name=messages.DELETE_CLIPBOARD)
def delete(*args, **kwargs):
    _record(messages.DELETE_CLIPBOARD, args, kwargs)


@app.task(name=messages.PASTE_CLIPBOARD)
def paste(*args, **kwargs):
    _record(messages.PASTE_CLIPBOARD, args, kwargs)
