"""The API's fast state in Redis: who holds each clipboard id, its created_at and revisions.

Each change is one Lua script, so claiming the next revision and queueing the task message that
carries it happen together or not at all, in one round trip. The hash `clipboard:<id>` holds
`org`, `user`, `created` (epoch ms), `rev` (the last revision handed out) and `live` ("1", or
"0" once deleted). After a delete the hash stays as a tombstone: the id remains its
organization's and revisions keep counting, so a late message can never undo a newer one.
"""
import uuid
from dataclasses import dataclass

import redis

from api.task_envelope import message_parts
from core import messages

STORE_SCRIPT = """
local owner = redis.call('HGET', KEYS[1], 'org')
if owner and owner ~= ARGV[1] then return {0} end
local created = redis.call('HGET', KEYS[1], 'created')
local user = redis.call('HGET', KEYS[1], 'user')
if redis.call('HGET', KEYS[1], 'live') ~= '1' then
  created = ARGV[3]
  user = ARGV[2]
  redis.call('HSET', KEYS[1], 'org', ARGV[1], 'user', user, 'created', created, 'live', '1')
end
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('LPUSH', KEYS[2], ARGV[4] .. rev .. ARGV[5] .. created .. ARGV[6])
return {1, created, rev, user}
"""

DELETE_SCRIPT = """
if redis.call('HGET', KEYS[1], 'org') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'live') ~= '1' then
  return 0
end
redis.call('HSET', KEYS[1], 'live', '0')
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('LPUSH', KEYS[2], ARGV[2] .. rev .. ARGV[3])
return rev
"""


class LedgerUnavailable(Exception):
    """Redis could not be reached or did not answer in time: nothing can be promised."""


@dataclass(frozen=True)
class Claim:
    created_at_ms: int
    revision: int
    user_id: str | None


def clipboard_key(clipboard_id):
    return f"clipboard:{clipboard_id}"


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


class ClipboardLedger:
    def __init__(self, client, queue=messages.QUEUE):
        self._client = client
        self._queue = queue
        self._store = client.register_script(STORE_SCRIPT)
        self._delete = client.register_script(DELETE_SCRIPT)

    def store(self, clipboard_id, organization_id, user_id, image_ids, albums, now_ms, request_id):
        """Claim the next revision of the clipboard and queue its store task.

        Return the Claim, or None when another organization holds the id (nothing is queued).
        """
        task_id = str(uuid.uuid4())
        known = {
            "v": messages.PAYLOAD_VERSION,
            "clipboard_id": clipboard_id,
            "organization_id": organization_id,
            "user_id": user_id,
            "image_ids": image_ids,
            "albums": albums,
            "request_id": request_id,
        }
        parts = message_parts(
            messages.STORE_CLIPBOARD, task_id, known, ["revision", "created_at_ms"], self._queue, clipboard_id
        )
        result = self._run(
            self._store,
            [clipboard_key(clipboard_id), self._queue],
            [organization_id, user_id or "", now_ms, *parts],
        )
        if result[0] == 0:
            return None
        return Claim(int(result[1]), int(result[2]), _text(result[3]) or None)

    def delete(self, clipboard_id, organization_id, request_id):
        """Tombstone a live clipboard of this organization and queue its delete task.

        Return the tombstone's revision, or None when the organization holds no live clipboard
        with this id.
        """
        task_id = str(uuid.uuid4())
        known = {
            "v": messages.PAYLOAD_VERSION,
            "clipboard_id": clipboard_id,
            "organization_id": organization_id,
            "request_id": request_id,
        }
        parts = message_parts(messages.DELETE_CLIPBOARD, task_id, known, ["revision"], self._queue, clipboard_id)
        revision = self._run(self._delete, [clipboard_key(clipboard_id), self._queue], [organization_id, *parts])
        return revision or None

    def lookup(self, clipboard_id):
        """Return the hash of the clipboard id as a dict of str (empty when never claimed)."""
        try:
            raw = self._client.hgetall(clipboard_key(clipboard_id))
        except redis.RedisError as error:
            raise LedgerUnavailable(str(error)) from error
        return {_text(name): _text(value) for name, value in raw.items()}

    def _run(self, script, keys, args):
        try:
            return script(keys=keys, args=args)
        except redis.RedisError as error:
            raise LedgerUnavailable(str(error)) from error
