"""Distributed mode's run state: what every worker exported and failed, shared in Redis.

Imported only with ``HKCRAWL_REDIS_URL`` (hkcrawl/reconcile.py's ``open_store``), so a crawl of
its own never imports the Redis client.

Each worker keeps its SQLite ledger (hkcrawl/state.py): the authority on what *its*
files hold, reconciled with them at every start. Redis holds the union, which the
workers' skip and retry decisions read (README "Several workers (Redis)"):

- ``<spider>:known`` (hash): article id -> ``published|modified|holder``, the times in
  base 36 epoch seconds when they are whole seconds in KST (else verbatim ISO text), the
  holder an index into ``<spider>:state:holders``. Written at a checkpoint, after the
  worker's SQLite mark, so Redis is never ahead of the files.
- ``<spider>:failures`` (hash): article id -> the failure as short-keyed JSON, merged as
  the SQLite ledger merges it (one attempt per run, the 404/410 times for the give-up rule).
- ``<spider>:state:holders`` (hash): ``host:/absolute/output/file`` <-> short index.
- ``<spider>:state:newest`` (string): the newest 입력 time any worker exported.
- ``<spider>:state:epoch`` (string): a token set by the first worker after the data was
  created or lost; ``<spider>:state:ledgers`` (hash): worker ledger -> ``epoch|fingerprint``
  of its SQLite at its last clean close. A worker whose entry is missing or differs (Redis
  lost its data, or the worker died before telling Redis everything) publishes its ledger
  again at start: nothing exported is fetched again, no failure is forgotten.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import ParamSpec, TypeVar

import redis

from hkcrawl.pages.text import FUTURE_SLACK
from hkcrawl.redis_url import redis_failure, shown_url
from hkcrawl.state import (
    GONE_REASONS,
    Exported,
    Failure,
    GiveUpRule,
    Known,
    StateUnavailable,
    checked_failure,
    give_up_reason,
    plausible_time,
    warn_once,
)

logger = logging.getLogger(__name__)

KST = timezone(timedelta(hours=9))
#: Rows per Redis round trip when a whole ledger is published.
BATCH = 1000
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

# Deletes an article's entry only where it names this holder: another worker's newer copy stays.
_FORGET = """
local n = 0
for i = 2, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value and string.match(value, '([^|]*)$') == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
"""
# Raises the newest 입력 time (ISO text in KST compares as time, as in the SQLite ledger);
# a value no worker wrote (not a time, or past ARGV[2], two days from now) is replaced.
_NEWEST = """
local current = redis.call('GET', KEYS[1])
if not current or ARGV[1] > current or current > ARGV[2]
   or not string.match(current, '^%d%d%d%d%-%d%d%-%d%dT') then
  redis.call('SET', KEYS[1], ARGV[1])
end
"""
# The SQLite ledger's ON CONFLICT merge (hkcrawl/state.py record_failures), on the shared record.
_RECORD_FAILURES = """
local when, run = ARGV[1], ARGV[2]
for i = 3, #ARGV, 4 do
  local id, url, reason, gone = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local raw = redis.call('HGET', KEYS[1], id)
  local ok, f = false, nil
  if raw then ok, f = pcall(cjson.decode, raw) end
  if ok and type(f) == 'table' then
    if url ~= '' then f.u = url end
    if f.run ~= run then f.n = (tonumber(f.n) or 0) + 1 end
    f.r, f.l, f.run = reason, when, run
    if gone ~= '' then f.g0 = f.g0 or gone; f.g1 = gone end
  else
    f = {r = reason, f = when, l = when, n = 1, run = run}
    if url ~= '' then f.u = url end
    if gone ~= '' then f.g0 = gone; f.g1 = gone end
  end
  redis.call('HSET', KEYS[1], id, cjson.encode(f))
end
"""
# Marks failures given up, unless saved (gone) or given up meanwhile by another worker.
_GIVE_UP = """
local n = 0
for i = 2, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  local ok, f = false, nil
  if raw then ok, f = pcall(cjson.decode, raw) end
  if ok and type(f) == 'table' then
    if not f.x then
      f.x, f.y = ARGV[1], ARGV[i + 1]
      redis.call('HSET', KEYS[1], ARGV[i], cjson.encode(f))
      n = n + 1
    end
  end
end
return n
"""

P = ParamSpec("P")
R = TypeVar("R")


def _redis_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Any Redis error (refused, reset, timeout, OOM, READONLY …) becomes one StateUnavailable
    naming Redis; after the first, no call touches Redis again (no error loop, no long waits)."""

    @wraps(method)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        shared = args[0]
        assert isinstance(shared, SharedState)
        if shared.broken is not None:
            raise StateUnavailable(shared.broken)
        try:
            return method(*args, **kwargs)
        except redis.RedisError as error:
            shared.broken = redis_failure(shared.safe_url, error, "shared run state")
            raise StateUnavailable(shared.broken) from error

    return guarded


def pack_time(value: str | None) -> str:
    """A KST ISO time of whole seconds as base 36 epoch seconds (6 characters); else verbatim."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None or moment.microsecond:
        return value
    seconds = int(moment.timestamp())
    if seconds <= 0:
        return value
    packed = ""
    while seconds:
        seconds, digit = divmod(seconds, 36)
        packed = _DIGITS[digit] + packed
    return packed if unpack_time(packed) == value else value


def unpack_time(packed: str) -> str | None:
    if not packed:
        return None
    if "-" in packed:  # verbatim ISO text
        return packed
    return datetime.fromtimestamp(int(packed, 36), KST).isoformat()


def _known_from(value: str | bytes | None) -> Known | None:
    """None for no entry, and for one no worker wrote (then the article is fetched and
    exported again, which rewrites the entry: a copy too many at worst, nothing lost)."""
    if value is None:
        return None
    try:
        text = value.decode() if isinstance(value, bytes) else value
        published, modified, _holder = text.split("|")
        return Known(unpack_time(published), unpack_time(modified))
    except (ValueError, OverflowError, OSError) as error:
        warn_once(
            repr(value), "Unreadable entry in the shared known articles (%s): %r; fetching it again", error, value[:80]
        )
        return None


def _failure_from(article_id: str, raw: str | bytes) -> Failure:
    """A shared failure record (JSON with short keys, see _failure_json)."""
    try:
        f = json.loads(raw)
        fields = [
            f.get(key, 0 if key == "n" else None) for key in ("u", "r", "f", "l", "n", "g0", "g1", "x", "y", "run")
        ]
    except (ValueError, AttributeError):
        fields = [raw]
    return checked_failure(article_id, fields)


def _latest_plausible() -> str:
    """Two days from now in KST, as the newest-time key compares (ISO text)."""
    return (datetime.now(KST) + FUTURE_SLACK).isoformat(timespec="seconds")


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


class SharedState:
    """The Redis side: every call is one or a few round trips, and fails as StateUnavailable."""

    def __init__(self, client: redis.Redis, spider: str, url: str) -> None:
        self.client = client
        self.safe_url = shown_url(url)
        self.broken: str | None = None  # the first Redis error met: the run fails on it
        self.known_key = f"{spider}:known"
        self.failures_key = f"{spider}:failures"
        self.holders_key = f"{spider}:state:holders"
        self.newest_key = f"{spider}:state:newest"
        self.epoch_key = f"{spider}:state:epoch"
        self.ledgers_key = f"{spider}:state:ledgers"
        self._holders: dict[str, str] = {}
        self._forget = client.register_script(_FORGET)
        self._newest = client.register_script(_NEWEST)
        self._record_failures = client.register_script(_RECORD_FAILURES)
        self._give_up = client.register_script(_GIVE_UP)

    @classmethod
    def from_url(cls, url: str, spider: str) -> SharedState:
        try:
            client = redis.Redis.from_url(url)
        except ValueError as error:  # not a redis:// URL, a port that is no number …
            raise StateUnavailable(f"Redis URL {shown_url(url)!r}: {error}") from None
        return cls(client, spider, url)

    # -- known articles --------------------------------------------------------------------
    @_redis_errors
    def known(self, article_id: str) -> Known | None:
        """What any worker exported (its checkpoints so far, this worker's included)."""
        return _known_from(self.client.hget(self.known_key, article_id))

    @_redis_errors
    def known_many(self, article_ids: list[str]) -> dict[str, Known | None]:
        values = self.client.hmget(self.known_key, article_ids) if article_ids else []
        return {article_id: _known_from(value) for article_id, value in zip(article_ids, values, strict=True)}

    @_redis_errors
    def newest_published(self) -> str | None:
        value = self.client.get(self.newest_key)
        if value is None:
            return None
        if not plausible_time(newest := _text(value)):
            warn_once(f"newest {newest!r}", "Unreadable newest publication time in Redis: %r; passed over", newest)
            return None
        return newest

    @_redis_errors
    def mark_exported(self, records: Iterable[Exported], holder: Callable[[str], str]) -> int:
        """``holder(output)``: the ``host:/path`` of the file holding records of that output."""
        values: dict[str, str] = {}
        newest = ""
        for record in records:
            values[record.article_id] = self._value(record.published, record.modified, holder(record.output))
            newest = max(newest, record.published or "")
        if not values:
            return 0
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.known_key, mapping=values)
            pipe.hdel(self.failures_key, *values)
            pipe.execute()
        if newest:
            self._newest(keys=[self.newest_key], args=[newest, _latest_plausible()])
        return len(values)

    def _value(self, published: str | None, modified: str | None, holder: str) -> str:
        return f"{pack_time(published)}|{pack_time(modified)}|{self._holder_index(holder)}"

    def _holder_index(self, holder: str) -> str:
        """A short index for ``host:/path``: each known value names its file in a few bytes."""
        index = self._holders.get(holder)
        if index is None:
            found = self.client.hget(self.holders_key, holder)
            if found is None:
                number = int(self.client.hincrby(self.holders_key, "#", 1))
                candidate = format(number, "x")
                if self.client.hsetnx(self.holders_key, holder, candidate):
                    self.client.hset(self.holders_key, f"#{candidate}", holder)
                found = self.client.hget(self.holders_key, holder)  # another worker's, if it raced us
            index = self._holders[holder] = _text(found)
        return index

    @_redis_errors
    def holder_of(self, article_id: str) -> str | None:
        """Which file (``host:/path``) holds the article, as far as Redis knows."""
        value = self.client.hget(self.known_key, article_id)
        if value is None or "|" not in (text := _text(value)):
            return None
        found = self.client.hget(self.holders_key, f"#{text.rsplit('|', 1)[1]}")
        return _text(found) if found is not None else None

    @_redis_errors
    def forget(self, article_ids: Iterable[str], holder: str) -> int:
        """Forget articles whose shared entry names this holder (its file no longer holds them)."""
        index = self.client.hget(self.holders_key, holder)
        ids = list(article_ids)
        if index is None or not ids:
            return 0
        return int(self._forget(keys=[self.known_key], args=[_text(index), *ids]))

    # -- failures --------------------------------------------------------------------------
    @_redis_errors
    def record_failures(self, failures: Iterable[tuple[str, str | None, str]], when: str, run: str) -> int:
        args: list[str] = [when, run]
        for article_id, url, reason in failures:
            args += [article_id, url or "", reason, when if reason in GONE_REASONS else ""]
        if len(args) > 2:
            self._record_failures(keys=[self.failures_key], args=args)
        return (len(args) - 2) // 4

    @_redis_errors
    def mark_pending(self, articles: Iterable[tuple[str, str | None]], when: str) -> int:
        """Asked for, not settled yet: fetched by later runs like a failure unless one is recorded."""
        rows = list(articles)
        with self.client.pipeline(transaction=False) as pipe:
            for article_id, url in rows:
                pending = {"r": "interrupted", "f": when, "l": when, "n": 0, **({"u": url} if url else {})}
                pipe.hsetnx(self.failures_key, article_id, json.dumps(pending, separators=(",", ":")))
            pipe.execute()
        return len(rows)

    @_redis_errors
    def clear_failures(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        if ids:
            self.client.hdel(self.failures_key, *ids)

    @_redis_errors
    def failures(self, include_given_up: bool = False) -> list[Failure]:
        found = [
            _failure_from(_text(article_id), raw)
            for article_id, raw in self.client.hscan_iter(self.failures_key, count=BATCH)
        ]
        return sorted((f for f in found if include_given_up or f.gave_up is None), key=lambda f: f.article_id)

    @_redis_errors
    def give_up(self, rule: GiveUpRule, when: str) -> list[Failure]:
        """The give-up rule on the shared records; returns those this call gave up on."""
        candidates = [(f, give_up_reason(f, rule)) for f in self.failures()]
        given_up = [(f, why) for f, why in candidates if why is not None]
        if not given_up:
            return []
        args = [when] + [value for f, why in given_up for value in (f.article_id, why or "")]
        self._give_up(keys=[self.failures_key], args=args)
        return [dataclasses.replace(f, gave_up=when, gave_up_why=why) for f, why in given_up]

    # -- a worker's ledger against Redis ---------------------------------------------------
    @_redis_errors
    def epoch(self) -> str:
        """The token of the shared data's lifetime: a new one after Redis lost (or never had) it."""
        self.client.set(self.epoch_key, secrets.token_hex(4), nx=True)
        return _text(self.client.get(self.epoch_key) or b"")

    @_redis_errors
    def ledger_mark(self, ledger: str) -> str | None:
        value = self.client.hget(self.ledgers_key, ledger)
        return _text(value) if value is not None else None

    @_redis_errors
    def set_ledger_mark(self, ledger: str, mark: str) -> None:
        self.client.hset(self.ledgers_key, ledger, mark)

    @_redis_errors
    def publish_known(self, rows: list[tuple[str, str | None, str | None, str]]) -> int:
        """(id, published, modified, holder) from a ledger: set where Redis has nothing, or an
        older version (another worker's newer copy stays); returns how many were set."""
        if not rows:
            return 0
        existing = self.client.hmget(self.known_key, [row[0] for row in rows])
        values: dict[str, str] = {}
        for (article_id, published, modified, holder), value in zip(rows, existing, strict=True):
            current = _known_from(value)
            if current is None or (modified or published or "") > (current.modified or current.published or ""):
                values[article_id] = self._value(published, modified, holder)
        if values:
            # As mark_exported would have done: a pending or failed entry of an article the
            # ledger saved (its mark never reached Redis) must not send it to be fetched again.
            with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(self.known_key, mapping=values)
                pipe.hdel(self.failures_key, *values)
                pipe.execute()
        newest = max((row[1] or "" for row in rows), default="")
        if newest:
            self._newest(keys=[self.newest_key], args=[newest, _latest_plausible()])
        return len(values)

    @_redis_errors
    def publish_failures(self, failures: list[Failure]) -> list[str]:
        """Failures from a ledger that Redis lacks; returns the ids another worker saved meanwhile."""
        if not failures:
            return []
        known = self.client.hmget(self.known_key, [f.article_id for f in failures])
        saved = [f.article_id for f, value in zip(failures, known, strict=True) if value is not None]
        with self.client.pipeline(transaction=False) as pipe:
            for f, value in zip(failures, known, strict=True):
                if value is None:
                    pipe.hsetnx(self.failures_key, f.article_id, _failure_json(f))
            pipe.execute()
        return saved

    @_redis_errors
    def failure_ids(self, article_ids: list[str]) -> set[str]:
        """Which of these ids Redis has a failure for."""
        if not article_ids:
            return set()
        found = self.client.hmget(self.failures_key, article_ids)
        return {article_id for article_id, value in zip(article_ids, found, strict=True) if value is not None}

    def close(self) -> None:
        self.client.close()


def _failure_json(f: Failure) -> str:
    short = {
        "u": f.url, "r": f.reason, "f": f.first_failed, "l": f.last_failed, "n": f.attempts,
        "g0": f.first_gone, "g1": f.last_gone, "x": f.gave_up, "y": f.gave_up_why, "run": f.last_run,
    }  # fmt: skip
    return json.dumps({k: v for k, v in short.items() if v is not None}, separators=(",", ":"), ensure_ascii=False)
