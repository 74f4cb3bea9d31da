"""The near-duplicate index in Redis, shared by every worker of a distributed crawl.

With ``HKCRAWL_REDIS_URL`` set, a copy must be found whichever worker saw its original,
so the index the pipeline asks (hkcrawl/pipelines/near_duplicates.py) lives in Redis
instead of the local ``near_duplicates.npz``. It keeps the local index's rules
(hkcrawl/similarity.py): the same 16-bit signatures and LSH bands, a candidate counts
when its estimated Jaccard reaches the threshold, a band bucket yields its newest
``MAX_CHAIN`` articles, an id already indexed with a similar body is not indexed
again, and only the newest ``HKCRAWL_NEAR_DUPLICATE_WINDOW`` articles are remembered.

Keys (``<spider>`` is the spider's name, as scrapy-redis names its keys):

* ``<spider>:nd:config``: the threshold, window and layout the index was built with;
  a worker with other settings fails at start instead of mixing two indexes.
* ``<spider>:nd:next``: the sequence number of the last article added (``INCR``):
  the order all workers added in, and what the window counts.
* ``<spider>:nd:oldest``: the oldest sequence number not yet evicted.
* ``<spider>:nd:entries``: hash, sequence number -> one article: publication minutes
  (4 bytes), its 128 16-bit signature values (256 bytes; absent when it is not indexed),
  its body hash and its id.
* ``<spider>:nd:h:<n>``: the exact-body map, body hash (16 bytes of its SHA-256) ->
  the earliest-published article known with that body (publication minutes + id),
  spread over hashes of about 64 fields by the hash's first bytes.
* ``<spider>:nd:b:<n>``: the LSH buckets, spread over hashes small enough for Redis's
  compact listpack encoding (about 64 fields each when the window is full). A hash of
  all of a band's signature bytes chooses ``<n>``, a second one (4 bytes, after the band
  number) is the field: two different bands share a bucket about once in 10^8 lookups.
  Value: the sequence numbers of the articles in that bucket (4 bytes each, oldest
  first, the newest ``MAX_CHAIN`` kept). The local index's buckets mix in unrelated
  articles more often (one in 2^bits per band): a pair just above the threshold that
  shares no band may be matched there and not here.

Bounded like the local window, by insertion order: adding article ``n`` evicts article
``n - window`` with its bucket entries and, if it is the one named there, its body
hash. The buckets are computed in the Lua script alone, from the stored signature
when evicting: no hash function to keep equal in two languages.

Check-then-add is one Lua script (hkcrawl/near_duplicate_lua.py): Redis runs it alone, so of two
workers adding copies of one story at the same moment, the second sees the first.
With the earliest-published rule the result does not depend on which ran first: the
copy either names the original, or (written first) is corrected by the worker that
writes the original (``hkcrawl/duplicates/corrected``). Finding which original such
an already written copy named (``matches_of``) is a second script, run only then.

A standalone Redis (as scrapy-redis needs): the scripts build key names themselves.
Any Redis error is raised as :class:`SharedIndexError`, one line naming Redis; the
pipeline fails the run with it. ``redis`` is imported here only, in distributed mode.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hkcrawl.near_duplicate_lua import MATCH_ADD, NEIGHBOURS
from hkcrawl.redis_url import redis_failure, shown_url
from hkcrawl.similarity import _EMPTY_VALUE, MAX_CHAIN, NUM_PERM, Match, Signature, _banding, _values

if TYPE_CHECKING:
    import redis

#: A Redis that does not answer within this many seconds fails the run (never hangs it).
TIMEOUT_SECONDS = 10
#: Tries again after a dropped connection (a Redis restart, an idle timeout) this many
#: times, 0.2 s then 0.4 s later; redis-py's own default (10, up to 10 s apart) would
#: hold a worker for minutes before it fails.
RETRIES = 2
#: Bucket fields per ``nd:b:<n>`` hash when the window is full: under Redis's
#: ``hash-max-listpack-entries`` (128), so buckets stay in the compact encoding.
FIELDS_PER_BUCKET_HASH = 64
#: Of the layout below; an index written by another layout is refused at start.
FORMAT_VERSION = 1
_SIGNATURE_BYTES = 2 * NUM_PERM
#: Of a body's SHA-256 kept as its key: 128 bits, no two bodies of a window share one.
_BODY_HASH_BYTES = 16
#: Publication minutes are int32 (UNKNOWN_PUBLISHED is its max): offset to unsigned
#: big-endian, so Lua compares them as numbers read byte by byte.
_PUBLISHED_OFFSET = 2**31


class SharedIndexError(Exception):
    """Redis failed or refused the shared index: one line, naming Redis, for the run's failure."""


@dataclass(frozen=True)
class Added:
    """What :meth:`SharedNearDuplicateIndex.match_and_add` found before adding an article."""

    seq: int  # the article's own entry
    matches: list[Match]  # its direct matches (its own id included), earliest published first
    #: The earliest-published article known with the same body, before this one: (id, published).
    same_body: tuple[str, int] | None


def _packed_published(published: int) -> bytes:
    return struct.pack(">I", published + _PUBLISHED_OFFSET)


def _unpacked_published(raw: bytes) -> int:
    return struct.unpack(">I", raw[:4])[0] - _PUBLISHED_OFFSET


def _body_hash_key(body_hash: str | None) -> bytes:
    """The body hash as stored: 16 bytes of its SHA-256 (``sha256:<hex>``'s own), random enough to shard by."""
    if not body_hash:
        return b""
    if body_hash.startswith("sha256:") and len(body_hash) == 71:
        try:
            return bytes.fromhex(body_hash[7:])[:_BODY_HASH_BYTES]
        except ValueError:
            pass
    return hashlib.sha256(body_hash.encode("utf-8")).digest()[:_BODY_HASH_BYTES]


#: What decoding a stored value no worker wrote raises.
_DECODING_ERRORS = (ValueError, IndexError, TypeError, struct.error)


def _entry(raw: bytes) -> tuple[int, np.ndarray | None, str]:
    """``(published, signature or None, article id)`` of a stored entry."""
    published = _unpacked_published(raw)
    position, sig = 5, None
    if raw[4] == 1:
        sig = np.frombuffer(raw[5 : 5 + _SIGNATURE_BYTES], dtype="<u2")
        position += _SIGNATURE_BYTES
    hash_length = raw[position]
    return published, sig, raw[position + 1 + hash_length :].decode("utf-8")


class SharedNearDuplicateIndex:
    """The index in Redis under ``<prefix>nd:``; see the module docstring for the keys and the window."""

    def __init__(self, client: redis.Redis, prefix: str, threshold: float, window: int, url: str = "") -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1 article, not {window}")
        self.client = client
        self.key_prefix = f"{prefix}nd:"
        self.threshold = threshold
        self.window = window
        self.bands, self.rows = _banding(threshold)
        self.shards = max(1, window * self.bands // FIELDS_PER_BUCKET_HASH)
        self.hash_shards = max(1, window // FIELDS_PER_BUCKET_HASH)
        self.url = url
        self._common = [self.bands, self.rows, self.shards, repr(threshold), _SIGNATURE_BYTES]
        self._match_add = client.register_script(MATCH_ADD)
        self._neighbours = client.register_script(NEIGHBOURS)

    @classmethod
    def connect(cls, url: str, spider_name: str, threshold: float, window: int) -> SharedNearDuplicateIndex:
        """Open the index at ``url`` for ``spider_name`` and check its settings; SharedIndexError if impossible."""
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        try:
            client = redis.Redis.from_url(
                url,
                socket_timeout=TIMEOUT_SECONDS,
                socket_connect_timeout=TIMEOUT_SECONDS,
                retry=Retry(ExponentialBackoff(cap=1, base=0.2), RETRIES),
            )
        except ValueError as error:
            raise SharedIndexError(f"Redis URL {shown_url(url)!r} for the near-duplicate index: {error}") from error
        index = cls(client, f"{spider_name}:", threshold, window, url)
        index.check_config()
        return index

    def _call(self, what: str, call: Any) -> Any:
        import redis

        try:
            return call()
        except redis.RedisError as error:
            message = " ".join(str(error).split()) or type(error).__name__
            if isinstance(error, redis.ResponseError) and "user_script" in message:
                raise self._unreadable(what, message) from error  # a script met values it never wrote
            raise SharedIndexError(redis_failure(self.url, error, f"near-duplicate index, {what}")) from error

    def _unreadable(self, what: str, detail: str) -> SharedIndexError:
        """The index holds values no worker wrote: every worker would fail the same way until
        it is emptied (it refills as workers add articles; copies of older ones go unseen)."""
        return SharedIndexError(
            f"Redis near-duplicate index at {shown_url(self.url) or 'Redis'} holds values no worker wrote "
            f"({what}: {detail}): delete its keys, e.g. redis-cli --scan --pattern '{self.key_prefix}*' "
            f"| xargs redis-cli del"
        )

    def check_config(self) -> None:
        """Record this worker's settings in ``nd:config``, or refuse the index another layout built."""
        config = json.dumps(
            {"format": FORMAT_VERSION, "num_perm": NUM_PERM, "threshold": self.threshold, "window": self.window},
            sort_keys=True,
        )
        key = f"{self.key_prefix}config"

        def exchange() -> bytes | None:
            pipe = self.client.pipeline()
            pipe.set(key, config, nx=True)
            pipe.get(key)
            return pipe.execute()[1]

        stored = self._call("reading its settings", exchange)
        if stored is not None and stored.decode("utf-8", "replace") != config:
            raise SharedIndexError(
                f"Redis near-duplicate index {key} was built with {stored.decode('utf-8', 'replace')}, "
                f"this worker has {config}: give every worker the same HKCRAWL_NEAR_DUPLICATE_* settings "
                f"or delete the {self.key_prefix}* keys"
            )

    def match_and_add(self, article_id: str, minhash: Signature, published: int, body_hash: str | None = None) -> Added:
        """The article's direct matches and same-body original, then add it: one atomic Redis script."""
        values = _values(minhash)
        indexed = not (values == _EMPTY_VALUE).all()
        sig = values.astype("<u2").tobytes() if indexed else b""  # the low 16 bits, as the local index
        arguments = [
            *self._common,
            sig,
            _packed_published(published),
            article_id.encode("utf-8"),
            _body_hash_key(body_hash),
            self.window,
            MAX_CHAIN,
            self.hash_shards,
        ]
        reply = self._call("adding an article", lambda: self._match_add(keys=[self.key_prefix], args=arguments))
        try:
            seq, previous = int(reply[0]), reply[1]
            same_body = None
            if previous:
                same_body = (previous[4:].decode("utf-8"), _unpacked_published(previous))
            matches = self._matches(values.astype(np.uint16) if indexed else None, reply[2:], exclude=None)
        except _DECODING_ERRORS as error:
            raise self._unreadable("adding an article", f"{type(error).__name__}: {error}") from error
        return Added(seq, matches, same_body)

    def matches_of(self, match: Match, exclude: int) -> list[Match]:
        """The direct matches of an indexed article (itself included) as stored, without entry ``exclude``."""
        if match.seq < 0:
            return []
        arguments = [*self._common, match.seq]
        reply = self._call(
            "reading an article's matches", lambda: self._neighbours(keys=[self.key_prefix], args=arguments)
        )
        if not reply:
            return []
        try:
            _, sig, _ = _entry(reply[0])
            return self._matches(sig, reply[1:], exclude)
        except _DECODING_ERRORS as error:
            raise self._unreadable("reading an article's matches", f"{type(error).__name__}: {error}") from error

    def _matches(self, sig: np.ndarray | None, flat: list[Any], exclude: int | None) -> list[Match]:
        if sig is None:
            return []
        best: dict[str, Match] = {}
        for seq, raw in zip(flat[::2], flat[1::2], strict=True):
            seq = int(seq)
            published, other, article_id = _entry(raw)
            if other is None or seq == exclude:
                continue
            similarity = np.count_nonzero(other == sig) / NUM_PERM
            if similarity < self.threshold:
                continue
            known = best.get(article_id)
            found = Match(article_id, round(similarity, 3), published, seq)
            if known is None or found.similarity > known.similarity:
                best[article_id] = found
        return sorted(best.values(), key=lambda found: found.order)

    def insertion_order(self) -> dict[str, int]:
        """Article id -> the sequence number it was first added with (what tests and tools compare)."""
        stored = self._call("reading its entries", lambda: self.client.hgetall(f"{self.key_prefix}entries"))
        first: dict[str, int] = {}
        for seq, raw in sorted((int(seq), raw) for seq, raw in stored.items()):
            first.setdefault(_entry(raw)[2], seq)
        return first

    def close(self) -> None:
        self.client.close()
