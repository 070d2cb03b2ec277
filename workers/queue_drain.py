"""Take more store messages straight from the queue's Redis list, with the broker's guarantees.

Celery's Redis transport delivers one message per round trip and keeps its bookkeeping with
two more round trips per message, in the worker's single main process: that, not PostgreSQL,
caps how fast stores can be applied. A pool process that is about to store a batch therefore
takes up to `limit` further `clipboards.store` messages from the tail of the list in one Lua
call (it stops at the first message of another task, so pastes and deletes keep their place),
and applies them in the same transaction.

What it takes is moved, atomically, into an in-flight hash with the time it was taken, exactly
as kombu keeps unacknowledged messages. After the transaction commits the entries are removed.
An entry older than the visibility timeout (its worker died) is put back on the consuming end
of the list by the next call of any worker, and by the restore timer every worker runs, so a
message is never lost, and at worst applied twice, which a revision makes harmless.
"""
import base64
import json
import uuid

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core import messages

INFLIGHT = f"{messages.QUEUE}.inflight"
INFLIGHT_INDEX = f"{messages.QUEUE}.inflight.index"
# Matches the task header of a store message, as Celery or our API writes it. The body is an
# escaped JSON string inside the envelope, so it cannot contain this unescaped text.
_STORE_HEADER = '"task":%s*"' + messages.STORE_CLIPBOARD.replace(".", "%.") + '"'

RESTORE_SCRIPT = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, tag in ipairs(expired) do
  local raw = redis.call('HGET', KEYS[2], tag)
  if raw then redis.call('RPUSH', KEYS[1], raw) end
  redis.call('HDEL', KEYS[2], tag)
  redis.call('ZREM', KEYS[3], tag)
end
return #expired
"""

TAKE_SCRIPT = RESTORE_SCRIPT.replace("return #expired", "") + """
local taken = {}
for i = 1, tonumber(ARGV[2]) do
  local raw = redis.call('LINDEX', KEYS[1], -1)
  if not raw or not string.find(raw, ARGV[5]) then break end
  redis.call('RPOP', KEYS[1])
  local tag = ARGV[4] .. ':' .. i
  redis.call('HSET', KEYS[2], tag, raw)
  redis.call('ZADD', KEYS[3], ARGV[3], tag)
  taken[#taken + 1] = tag
  taken[#taken + 1] = raw
end
return taken
"""


def task_body(raw):
    """Return `[args, kwargs, embed]` from a raw message as kombu's Redis transport stores it."""
    envelope = json.loads(raw)
    body = envelope["body"]
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    return json.loads(body)


def redis_client(url, timeout_seconds=10):
    """The drain's client: one attempt per call, never a retry.

    A take that may have run must not run again: what it moved would sit in the in-flight hash
    until the visibility timeout. A failed call fails the batch, whose messages go back to the
    queue. Stated here because redis-py's defaults differ by how a client is made (Redis()
    retries ten times, timeouts included; from_url() not at all). A connection that Redis closed
    while idle is still replaced by the pool's own check before use.
    """
    return redis.Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds,
                                retry=Retry(NoBackoff(), 0))


class QueueDrain:
    def __init__(self, client, visibility_timeout, clock):
        self._client = client
        self._visibility_timeout = visibility_timeout
        self._clock = clock
        self._take = client.register_script(TAKE_SCRIPT)
        self._restore = client.register_script(RESTORE_SCRIPT)
        self._keys = [messages.QUEUE, INFLIGHT, INFLIGHT_INDEX]

    def take(self, limit):
        """Take up to `limit` store messages; return [(tag, raw message)]."""
        if limit <= 0:
            return []
        now = self._clock()
        flat = self._take(
            keys=self._keys,
            args=[now - self._visibility_timeout, limit, now, uuid.uuid4().hex, _STORE_HEADER],
        )
        return list(zip(flat[0::2], flat[1::2]))

    def done(self, tags):
        """Forget messages whose work committed."""
        if tags:
            self._client.pipeline(transaction=True).hdel(INFLIGHT, *tags).zrem(INFLIGHT_INDEX, *tags).execute()

    def restore_expired(self):
        """Put back messages whose worker did not finish them in time; return how many."""
        return self._restore(keys=self._keys, args=[self._clock() - self._visibility_timeout])
