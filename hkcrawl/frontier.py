"""The shared frontier's lifecycle in Redis: crawl generations, workers' heartbeats, in-flight requests.

Imported only in distributed mode (by hkcrawl/redis_scheduler.py and ``hkcrawl seed``).

- **Crawl generations** (``<spider>:crawl``, a hash: id, started, seeded, finished, status,
  failedWorkers). A worker that starts when no crawl is active begins one, clearing the
  previous crawl's queue and seen-set, so a later run fetches list pages again; one that
  starts during an active crawl joins it. Both happen in one Lua script: of workers
  starting at once, exactly one begins.
- **Heartbeats** (``<spider>:worker:<host>:<pid>``, with a TTL): a worker is alive while
  its key is.
- **In flight** (``<spider>:inflight:<host>:<pid>``, a hash): each request a worker takes
  from the queue is moved there in the same script that pops it, and deleted once the
  request is finished. A worker killed outright (``kill -9``) leaves its hash behind; any
  live worker that finds it with no heartbeat puts its requests back in the queue, in one
  script, so only one worker takes them, and past the seen-set, which already holds them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hkcrawl.watch import STATS_KEY, WORKERS_KEY

#: Keys, ``%(spider)s`` first as scrapy-redis's own.
CRAWL_KEY = "%(spider)s:crawl"
#: A worker's (or a seed's) short-lived mark while it has work: nobody ends the crawl meanwhile.
BUSY_KEY = "%(spider)s:busy:%(worker)s"
WORKER_KEY = "%(spider)s:worker:%(worker)s"
INFLIGHT_KEY = "%(spider)s:inflight:%(worker)s"
ACTIVE = "active"

# Begin a crawl unless one is active (then join it). KEYS: crawl, queue, seen-set, the
# watched workers' set (hkcrawl/watch.py). ARGV: new id, started, seeded ("1"/"0"), the
# prefix of a worker's stats hash: the last crawl's workers are not this one's.
_BEGIN = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'active' then
  return {'joined', redis.call('HGET', KEYS[1], 'id'), redis.call('HGET', KEYS[1], 'seeded') or '0'}
end
for _, name in ipairs(redis.call('SMEMBERS', KEYS[4])) do redis.call('DEL', ARGV[4] .. name) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'started', ARGV[2], 'seeded', ARGV[3], 'status', 'active',
           'finished', '', 'failedWorkers', 0)
return {'began', ARGV[1], ARGV[3]}
"""

# Mark the crawl finished, once. KEYS: crawl. ARGV: id, finished, status.
_FINISH = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'status') ~= 'active' then
  return 0
end
local status = ARGV[3]
if tonumber(redis.call('HGET', KEYS[1], 'failedWorkers') or '0') > 0 then status = 'failed' end
redis.call('HSET', KEYS[1], 'status', status, 'finished', ARGV[2])
return 1
"""

# Queue a request unless seen, in one step: marked seen but never queued (a worker killed, or
# Redis gone, between the two) it would be lost. KEYS: seen-set, queue.
# ARGV: fingerprint ("" to skip the seen-set: dont_filter), score, entry. Returns 1 if queued.
_PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# Pop the first request of the priority queue into the in-flight hash. KEYS: queue, in-flight.
# ARGV: token prefix. Returns {token, data} (the token ends with the queue score, for requeueing).
_TAKE = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return nil end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local token = ARGV[1] .. '|' .. first[2]
redis.call('HSET', KEYS[2], token, first[1])
return {token, first[1]}
"""

# Put an in-flight hash's requests back in the queue, unless its worker is alive.
# KEYS: in-flight, heartbeat (or "" to skip the check), queue. Returns how many.
_REQUEUE = """
if KEYS[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local score = string.match(entries[i], '|([^|]*)$')
  redis.call('ZADD', KEYS[3], score, entries[i + 1])
end
redis.call('DEL', KEYS[1])
return #entries / 2
"""


@dataclass(frozen=True)
class Crawl:
    """The crawl a worker works in: ``began`` when this worker started it."""

    id: str
    began: bool
    seeded: bool


class Frontier:
    """One worker's view of the shared crawl; every method is one or two Redis calls."""

    def __init__(self, server: Any, spider: str, worker: str, queue_key: str, seen_key: str, ttl: int) -> None:
        self.server = server
        self.spider = spider
        self.worker = worker
        self.queue_key = queue_key
        self.seen_key = seen_key
        self.ttl = ttl
        self.crawl_key = CRAWL_KEY % {"spider": spider}
        self.heartbeat_key = WORKER_KEY % {"spider": spider, "worker": worker}
        self.inflight_key = INFLIGHT_KEY % {"spider": spider, "worker": worker}
        self._begin = server.register_script(_BEGIN)
        self._finish = server.register_script(_FINISH)
        self._take = server.register_script(_TAKE)
        self._push = server.register_script(_PUSH)
        self._requeue = server.register_script(_REQUEUE)
        self._taken = 0

    # -- crawl generations ----------------------------------------------------------
    def begin_or_join(self, seeded: bool = False) -> Crawl:
        new_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{self.worker}"
        outcome, crawl_id, was_seeded = self._begin(
            keys=[self.crawl_key, self.queue_key, self.seen_key, WORKERS_KEY % {"spider": self.spider}],
            args=[new_id, _now(), "1" if seeded else "0", STATS_KEY % {"spider": self.spider, "worker": ""}],
        )
        return Crawl(_text(crawl_id), _text(outcome) == "began", _text(was_seeded) == "1")

    def active_crawl(self) -> dict[str, str] | None:
        crawl = {_text(k): _text(v) for k, v in self.server.hgetall(self.crawl_key).items()}
        return crawl if crawl.get("status") == ACTIVE else None

    def finish(self, crawl_id: str, status: str) -> bool:
        """Mark the crawl finished (``failed`` if any worker of it failed); False if it already was."""
        return bool(self._finish(keys=[self.crawl_key], args=[crawl_id, _now(), status]))

    def note_failed_worker(self, crawl_id: str) -> None:
        if _text(self.server.hget(self.crawl_key, "id") or b"") == crawl_id:
            self.server.hincrby(self.crawl_key, "failedWorkers", 1)

    # -- this worker ---------------------------------------------------------------------
    def beat(self) -> None:
        self.server.set(self.heartbeat_key, "1", ex=self.ttl)

    def leave(self) -> None:
        self.server.delete(self.heartbeat_key)

    def push(self, fingerprint: str | None, score: float, entry: bytes) -> bool:
        """Queue an entry unless its fingerprint is seen (None: queue it anyway); True if queued."""
        return bool(self._push(keys=[self.seen_key, self.queue_key], args=[fingerprint or "", score, entry]))

    def take(self) -> tuple[str, bytes] | None:
        """The queue's first request, now in this worker's in-flight hash: (token, queue entry)."""
        self._taken += 1
        taken = self._take(keys=[self.queue_key, self.inflight_key], args=[str(self._taken)])
        if not taken:
            return None
        return _text(taken[0]), taken[1]

    def done(self, tokens: Iterable[str]) -> None:
        tokens = list(tokens)
        if tokens:
            self.server.hdel(self.inflight_key, *tokens)

    def give_back(self) -> int:
        """Put what this worker still holds back in the queue (an earlier process with the same pid's too)."""
        return int(self._requeue(keys=[self.inflight_key, "", self.queue_key]))

    def holding(self) -> int:
        return int(self.server.hlen(self.inflight_key))

    # -- other workers -------------------------------------------------------------------
    def recover_dead(self) -> dict[str, int]:
        """Requests held by workers whose heartbeat expired, put back in the queue: worker -> count."""
        recovered = {}
        prefix = INFLIGHT_KEY % {"spider": self.spider, "worker": ""}
        for key in self.server.scan_iter(match=prefix + "*"):
            key = _text(key)
            worker = key[len(prefix) :]
            if worker == self.worker:
                continue
            heartbeat = WORKER_KEY % {"spider": self.spider, "worker": worker}
            count = int(self._requeue(keys=[key, heartbeat, self.queue_key]))
            if count:
                recovered[worker] = count
        return recovered

    def others_hold_requests(self) -> bool:
        """Another worker (alive, or dead and not yet recovered) holds requests it took."""
        prefix = INFLIGHT_KEY % {"spider": self.spider, "worker": ""}
        return any(_text(key) != self.inflight_key for key in self.server.scan_iter(match=prefix + "*"))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
