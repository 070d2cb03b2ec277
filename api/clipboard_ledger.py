"""The API's fast state in Redis: who holds each clipboard id, its created_at and revisions.

Each change is one Lua script, so claiming the next revision and queueing the task message that
carries it happen together or not at all, in one round trip. The hash `clipboard:<id>` holds
`org`, `user`, `created` (epoch ms), `rev` (the last revision handed out) and `live` ("1", or
"0" once deleted). After a delete the hash stays as a tombstone: the id remains its
organization's and revisions keep counting, so a late message can never undo a newer one.
"""
from dataclasses import dataclass

import redis

from api.script_runner import Script, ScriptRunner
from api.task_envelope import ESCAPED_QUOTE, message_parts
from core import messages
from core.ids import random_uuid

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
local user_json = 'null'
if user ~= '' then user_json = ARGV[4] .. user .. ARGV[4] end
redis.call('LPUSH', KEYS[2], ARGV[5] .. user_json .. ARGV[6] .. rev .. ARGV[7] .. created .. ARGV[8])
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


PASTE_SCRIPT = """
if ARGV[7] ~= '' then
  local previous = redis.call('GET', KEYS[4])
  if previous then
    local space = string.find(previous, ' ', 1, true)
    local job_id = string.sub(previous, 1, space - 1)
    if string.sub(previous, space + 1) == ARGV[7] then return {2, job_id} end
    return {3, job_id}
  end
end
if redis.call('HGET', KEYS[1], 'org') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'live') ~= '1' then
  return {0}
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[4], ARGV[2] .. ' ' .. ARGV[7], 'EX', ARGV[8])
end
local rev = redis.call('HGET', KEYS[1], 'rev')
redis.call('HSET', KEYS[3], 'org', ARGV[1], 'kind', 'paste', 'created', ARGV[3], 'clipboard', ARGV[4],
           'album', ARGV[5], 'user', ARGV[6], 'min_revision', rev)
redis.call('EXPIRE', KEYS[3], ARGV[8])
redis.call('LPUSH', KEYS[2], ARGV[9] .. rev .. ARGV[10])
return {1, ARGV[2]}
"""
# How long Redis remembers an Idempotency-Key and a queued job's stub (the worker's row in
# PostgreSQL is the record after that).
JOB_MEMORY_SECONDS = 7 * 24 * 3600


class PasteOutcome:
    QUEUED = 1
    REPLAYED = 2  # the same Idempotency-Key and body: the earlier job
    KEY_REUSED = 3  # the same Idempotency-Key with another body
    NO_CLIPBOARD = 0


class LedgerUnavailable(Exception):
    """Redis could not be reached or did not answer in time: nothing can be promised."""


@dataclass(frozen=True)
class Claim:
    created_at_ms: int
    revision: int
    user_id: str | None


def clipboard_key(clipboard_id):
    return f"clipboard:{clipboard_id}"


def job_key(job_id):
    return f"job:{job_id}"


def idempotency_key(organization_id, key):
    return f"idempotency:{organization_id}:{key}"


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


class ClipboardLedger:
    def __init__(self, client, queue=messages.QUEUE):
        self._client = client
        self._queue = queue
        self._scripts = ScriptRunner(client)
        self._store = Script(STORE_SCRIPT)
        self._delete = Script(DELETE_SCRIPT)
        self._paste = Script(PASTE_SCRIPT)

    def store(self, clipboard_id, organization_id, user_id, image_ids, albums, now_ms, request_id):
        """Claim the next revision of the clipboard and queue its store task.

        Return the Claim, or None when another organization holds the id (nothing is queued).
        """
        task_id = random_uuid()
        known = {
            "v": messages.PAYLOAD_VERSION,
            "clipboard_id": clipboard_id,
            "organization_id": organization_id,
            "image_ids": image_ids,
            "albums": albums,
            "request_id": request_id,
        }
        # The clipboard's user is the one who created it, which the script knows: it fills it in.
        parts = message_parts(
            messages.STORE_CLIPBOARD, task_id, known, ["user_id", "revision", "created_at_ms"], self._queue, clipboard_id
        )
        result = self._run(
            self._store,
            [clipboard_key(clipboard_id), self._queue],
            [organization_id, user_id or "", now_ms, ESCAPED_QUOTE, *parts],
        )
        if result[0] == 0:
            return None
        return Claim(int(result[1]), int(result[2]), _text(result[3]) or None)

    def delete(self, clipboard_id, organization_id, request_id):
        """Tombstone a live clipboard of this organization and queue its delete task.

        Return the tombstone's revision, or None when the organization holds no live clipboard
        with this id.
        """
        task_id = random_uuid()
        known = {
            "v": messages.PAYLOAD_VERSION,
            "clipboard_id": clipboard_id,
            "organization_id": organization_id,
            "request_id": request_id,
        }
        parts = message_parts(messages.DELETE_CLIPBOARD, task_id, known, ["revision"], self._queue, clipboard_id)
        revision = self._run(self._delete, [clipboard_key(clipboard_id), self._queue], [organization_id, *parts])
        return revision or None

    def paste(self, clipboard_id, organization_id, user_id, album_id, fingerprint, idempotency, now_ms, request_id):
        """Queue a paste job of the clipboard's newest revision into the album.

        `idempotency` is the client's Idempotency-Key or None; `fingerprint` identifies the body.
        Return (PasteOutcome, job id or None).
        """
        job_id = random_uuid()
        known = {
            "v": messages.PAYLOAD_VERSION,
            "job_id": job_id,
            "clipboard_id": clipboard_id,
            "organization_id": organization_id,
            "user_id": user_id,
            "album_id": album_id,
            "created_at_ms": now_ms,
            "request_id": request_id,
        }
        parts = message_parts(messages.PASTE_CLIPBOARD, job_id, known, ["min_revision"], self._queue, job_id)
        keys = [
            clipboard_key(clipboard_id),
            self._queue,
            job_key(job_id),
            idempotency_key(organization_id, idempotency or ""),
        ]
        args = [organization_id, job_id, now_ms, clipboard_id, album_id, user_id or "",
                fingerprint if idempotency else "", JOB_MEMORY_SECONDS, *parts]
        result = self._run(self._paste, keys, args)
        return result[0], (_text(result[1]) if len(result) > 1 else None)

    def lookup(self, clipboard_id):
        """Return the hash of the clipboard id as a dict of str (empty when never claimed)."""
        return self._hash(clipboard_key(clipboard_id))

    def job(self, job_id):
        """Return the queued job's stub as a dict of str (empty when Redis does not know it)."""
        return self._hash(job_key(job_id))

    def _hash(self, key):
        try:
            raw = self._client.hgetall(key)
        except redis.RedisError as error:
            raise LedgerUnavailable(str(error)) from error
        return {_text(name): _text(value) for name, value in raw.items()}

    def _run(self, script, keys, args):
        try:
            return self._scripts.run(script, keys, args)
        except redis.RedisError as error:
            raise LedgerUnavailable(str(error)) from error
