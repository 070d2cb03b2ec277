"""Build Celery protocol-2 task messages as kombu's Redis transport stores them, with holes.

The API publishes by LPUSH-ing this text onto the queue's list inside the same Lua script that
claims a clipboard revision, so claim and enqueue are one atomic Redis round trip. Some keyword
arguments (the revision, the creation time) are only known inside that script: they are left as
holes, and the script joins `parts[0] .. value1 .. parts[1] .. value2 .. parts[2]`. A hole's value is
JSON text as it appears inside the JSON-string body: a number as is, a string between two
ESCAPED_QUOTEs (and of characters that need no escaping, such as a UUID's), or `null`.

The body travels as a plain JSON string (no `body_encoding`, which kombu then reads as is); an
unmodified Celery worker consumes it (tests/contract checks this against a real worker).
"""
import functools
import os
import socket

import orjson

_EMBED = '{"callbacks": null, "errbacks": null, "chain": null, "chord": null}'
_ORIGIN = f"{os.getpid()}@{socket.gethostname()}"


def _json(value):
    return orjson.dumps(value).decode()


def _escaped(text):
    """`text` as it appears inside a JSON string literal (without the quotes)."""
    return _json(text)[1:-1]


ESCAPED_QUOTE = _escaped('"')


_ID, _SUMMARY = "\x00id\x00", "\x00summary\x00"  # placeholders, split out of the cached text


@functools.lru_cache(maxsize=32)
def _shape(task_name, queue, holes):
    """The parts of a message that depend only on the task, the queue and the holes (made once)."""
    hole_keys = [f"{_json(name)}: " for name in holes]
    headers = {
        "lang": "py",
        "task": task_name,
        "id": _ID,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": _ID,
        "parent_id": None,
        "argsrepr": "()",
        "kwargsrepr": _SUMMARY,
        "origin": _ORIGIN,
        "ignore_result": True,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    properties = {
        "correlation_id": _ID,
        "reply_to": "",
        "delivery_mode": 2,
        "delivery_info": {"exchange": "", "routing_key": queue},
        "priority": 0,
        "delivery_tag": _ID,
    }
    suffix = (
        _escaped("}, " + _EMBED + "]")
        + '", "content-encoding": "utf-8", "content-type": "application/json", "headers": '
        + _json(headers)
        + ', "properties": '
        + _json(properties)
        + "}"
    )
    id_mark, summary_mark = _json(_ID)[1:-1], _json(_SUMMARY)[1:-1]
    return hole_keys[0], [_escaped(", " + key) for key in hole_keys[1:]], [
        piece.split(summary_mark) for piece in suffix.split(id_mark)
    ]


def message_parts(task_name, task_id, kwargs, holes, queue, summary=""):
    """Return the message text for `task_name(**kwargs, **holes)` split around the holes.

    `kwargs` are the known keyword arguments; `holes` names the ones the script fills, in order.
    """
    first_hole, middles, suffix_pieces = _shape(task_name, queue, tuple(holes))
    known = orjson.dumps(kwargs).decode()[1:-1]
    head = "[[], {" + known + (", " if known else "") + first_hole
    task_id_text, summary_text = _escaped(task_id), _escaped(summary)
    suffix = task_id_text.join(summary_text.join(piece) for piece in suffix_pieces)
    return ['{"body": "' + _escaped(head), *middles, suffix]


def fill(parts, *values):
    """Join parts around values, as the Lua scripts do (for tests and non-script callers)."""
    text = parts[0]
    for value, part in zip(values, parts[1:]):
        text += str(value) + part
    return text
