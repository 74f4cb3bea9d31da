"""Near-duplicate bodies: MinHash over character shingles, LSH to find candidates.

Korean words carry particles (회사는, 회사가, 회사의), so whitespace words make two
tellings of one story look unrelated; character n-grams of the text with spaces
removed do not care. The MinHash signatures come from datasketch (its affine32
permutations, seeded once), and so does the LSH banding: the number of bands and
rows per band for a threshold is what ``datasketch.MinHashLSH`` picks.

What is ours is the storage of the index. ``MinHashLSH`` in memory keeps a Python
set per bucket per band and the caller kept a full ``MinHash`` per article: about
8 KB an article, 8 GB at a million (benchmarks/near_duplicates.py). Here an
article costs a few hundred bytes in flat numpy arrays: its signature cut to the
low 16 bits of each value (b-bit MinHash, as ``datasketch.bBitMinHash``; an
accidental match of two 16-bit values shifts a Jaccard estimate by 1/65536) and,
per band, the sequence number of the previous article in the same bucket. The
index keeps the most recent ``window`` articles (a ring buffer): copies of news
appear within days, and the window is what bounds memory.

Beside each signature the index keeps the article's publication time (epoch minutes,
:func:`published_minutes`), so a caller can name the earliest-published article of a
group as its original whatever order the pages arrived in.

The index takes signatures as plain hash values (:func:`signature_values`), the
form the stored index and the shared index in Redis hold. datasketch is imported at
the first body signed, not with this module: its package imports scipy, half a
second a run that exports nothing need not spend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, NoReturn, TypeAlias

import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

_NOT_TEXT = re.compile(r"[\s\W_]+")

#: Character n-gram length. 4 Hangul syllables is about one word stem plus particle.
SHINGLE_SIZE = 4
NUM_PERM = 128
#: Articles the index remembers; the oldest is forgotten when a new one comes in.
#: hankyung.com publishes on the order of 1,000 articles a day: a million is years.
DEFAULT_WINDOW = 1_000_000
#: A band bucket holding more articles than this yields only its newest ones, so a
#: boilerplate-only body shared by thousands of pages cannot make a lookup slow.
MAX_CHAIN = 32

_SEED = 1
#: What an empty MinHash holds in every slot (datasketch's _max_hash).
_EMPTY_VALUE = np.uint64((1 << 32) - 1)
#: datasketch's bands × rows for (threshold, NUM_PERM), as MinHashLSH computes them
#: (numerical integration with scipy); tests/test_similarity.py checks every entry.
_KNOWN_BANDINGS = {0.3: (37, 3), 0.4: (32, 4), 0.5: (25, 5), 0.6: (18, 7), 0.7: (14, 9), 0.8: (9, 13), 0.9: (5, 25)}
# Random odd 64-bit multipliers of a multilinear (multiply-shift) hash; fixed, so
# shingle hashes and band keys are the same in every run and on every machine.
_MULTIPLIERS = np.random.default_rng(20241101).integers(0, 2**63, size=NUM_PERM + SHINGLE_SIZE, dtype=np.uint64)
_MULTIPLIERS = _MULTIPLIERS * np.uint64(2) + np.uint64(1)
_SHINGLE_MULTIPLIERS = _MULTIPLIERS[NUM_PERM:]
_INITIAL_CAPACITY = 1024
#: Shingles handed to datasketch per update_batch call (see signature()).
_BATCH = 256
_EMPTY = -1
_MAX_SEQUENCE = np.iinfo(np.int32).max  # sequence numbers are stored as int32
#: Publication time of an article whose datePublished is missing or unreadable: after
#: every real time, so such an article is never preferred as a group's original.
UNKNOWN_PUBLISHED = int(np.iinfo(np.int32).max)


def published_minutes(date_published: object) -> int:
    """``datePublished`` (ISO 8601 with offset) as whole minutes since the epoch; UNKNOWN_PUBLISHED if unreadable.

    One definition for the pipeline, the stored index and ``hkcrawl merge``: they must
    agree on which copy came first. Minutes, because the site's 입력 times are to the
    minute (the seconds are always :00), and an int32 holds them until the year 6053.
    """
    if not isinstance(date_published, str):
        return UNKNOWN_PUBLISHED
    try:
        moment = datetime.fromisoformat(date_published)
    except ValueError:
        return UNKNOWN_PUBLISHED
    if moment.tzinfo is None:
        return UNKNOWN_PUBLISHED
    return int(moment.timestamp() // 60)


def _compact(text: str) -> str:
    return _NOT_TEXT.sub("", text.lower())


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[bytes]:
    """The character n-grams of ``text`` without spaces and punctuation (for tests and :func:`jaccard`)."""
    compact = _compact(text)
    if len(compact) <= size:
        return {compact.encode("utf-8")} if compact else set()
    return {compact[i : i + size].encode("utf-8") for i in range(len(compact) - size + 1)}


def shingle_hashes(text: str) -> np.ndarray:
    """32-bit hashes of the distinct :func:`shingles` of ``text``, computed in numpy.

    The same n-grams as :func:`shingles`, hashed with a fixed multilinear hash (two
    distinct shingles of one text collide with probability about 2^-32): four times
    faster than hashing each shingle's bytes with SHA-1 in Python.
    """
    compact = _compact(text)
    if not compact:
        return np.empty(0, dtype=np.uint32)
    points = np.frombuffer(compact.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    width = min(SHINGLE_SIZE, len(points))
    count = len(points) - width + 1
    mixed = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        mixed += points[offset : offset + count] * _SHINGLE_MULTIPLIERS[offset]
    return np.unique((mixed >> np.uint64(32)).astype(np.uint32))


@lru_cache(maxsize=1)
def _minhash_class() -> type[MinHash]:
    """datasketch's MinHash, imported on first use (an import statement per body costs 20% of signing)."""
    from datasketch import MinHash

    return MinHash


@lru_cache(maxsize=1)
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for ``NUM_PERM`` and our seed: the same in every run."""
    return _minhash_class()(num_perm=NUM_PERM, seed=_SEED).permutations


def signature(text: str) -> MinHash:
    """The datasketch MinHash (``NUM_PERM`` permutations) of the shingles of ``text``."""
    minhash = _minhash_class()(
        num_perm=NUM_PERM, seed=_SEED, hashfunc=int, permutations=permutations(), scheme="affine32"
    )
    hashes = shingle_hashes(text)
    # datasketch permutes a whole batch at once (shingles × NUM_PERM 64-bit values, 2 MB
    # for a long article); in cache-sized batches the same MinHash costs half the time.
    for start in range(0, len(hashes), _BATCH):
        minhash.update_batch(hashes[start : start + _BATCH].tolist())
    return minhash


def signature_values(text: str) -> np.ndarray:
    """Just the hash values of :func:`signature` (1 KB to send between processes, not 3)."""
    return signature(text).hashvalues


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (for tests and benchmarks)."""
    first, second = shingles(a), shingles(b)
    return len(first & second) / len(first | second) if first or second else 1.0


@lru_cache
def _banding(threshold: float) -> tuple[int, int]:
    """datasketch's choice of bands × rows for ``threshold`` (it integrates numerically: ~10 ms, so cached)."""
    if threshold in _KNOWN_BANDINGS:
        return _KNOWN_BANDINGS[threshold]
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


#: A :func:`signature`, or just its hash values (:func:`signature_values`).
Signature: TypeAlias = "MinHash | np.ndarray"


def _values(minhash: Signature) -> np.ndarray:
    if isinstance(minhash, np.ndarray):
        values = minhash
    else:
        if minhash.scheme != "affine32" or minhash.seed != _SEED:
            raise ValueError("not a hkcrawl.similarity.signature(): other permutations cannot be compared")
        values = minhash.hashvalues
    if values.shape != (NUM_PERM,):
        raise ValueError(f"a signature has {NUM_PERM} values, not {values.shape}")
    return values


@dataclass(frozen=True)
class Match:
    article_id: str
    similarity: float
    #: Epoch minutes (:func:`published_minutes`); UNKNOWN_PUBLISHED when the article came without one.
    published: int = UNKNOWN_PUBLISHED
    #: Where the index holds it (for :meth:`NearDuplicateIndex.matches_of`); not part of equality.
    seq: int = field(default=-1, compare=False, repr=False)

    @property
    def order(self) -> tuple[int, str]:
        """How groups choose their original: earliest published first, then the smaller id."""
        return self.published, self.article_id


class NearDuplicateIndex:
    """The last ``window`` bodies indexed; :meth:`match` finds the most similar one.

    LSH (``threshold``) only proposes candidates: those sharing a band of their
    signature. A candidate counts when its estimated Jaccard similarity reaches
    ``threshold`` too. Of equally similar ones, the earliest indexed wins.
    Memory is about ``2 * num_perm + 12 * bands + 4`` bytes per remembered article
    (``memory_bytes``); an index is stored as its signatures, article ids and
    publication times only (:meth:`to_arrays`, :meth:`published`), and rebuilds its
    buckets when loaded (:meth:`from_arrays`);
    it cannot be pickled. A body without text is never matched nor indexed.
    """

    def __init__(self, threshold: float = 0.5, window: int = DEFAULT_WINDOW) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if window < 1:
            raise ValueError(f"window must be at least 1 article, not {window}")
        self.threshold = threshold
        self.window = window
        self.bands, self.rows = _banding(threshold)
        self._band_index = np.arange(self.bands)
        self._allocate(min(window, _INITIAL_CAPACITY))
        self._count = 0  # articles ever added: the next sequence number
        self._last: tuple[Signature, np.ndarray, np.ndarray] | None = None

    # -- public API ------------------------------------------------------------------
    def __len__(self) -> int:
        return min(self._count, self.window)

    @property
    def memory_bytes(self) -> int:
        arrays = (self._sigs, self._ids, self._published, self._next, self._head)
        return sum(array.nbytes for array in arrays)

    def match(self, body: str, minhash: Signature | None = None) -> Match | None:
        """The most similar indexed article; ``minhash``: ``body``'s signature, if already computed."""
        minhash = signature(body) if minhash is None else minhash
        seqs, similarity = self._candidates(minhash)
        good = np.flatnonzero(similarity >= self.threshold)
        if not len(good):
            return None
        best = good[np.argmax(similarity[good])]  # argmax: the first, i.e. earliest, of the most similar
        return self._match(int(seqs[best]), float(similarity[best]))

    def matches(self, body: str, minhash: Signature | None = None) -> list[Match]:
        """Every indexed article at least ``threshold`` similar, once per id, earliest published first.

        An id indexed twice (an update that rewrote its body) counts once, with its
        best similarity. These are direct matches only: MinHash similarity is not
        transitive, so a match of a match is not in the list.
        """
        minhash = signature(body) if minhash is None else minhash
        seqs, similarity = self._candidates(minhash)
        return self._best_per_id(seqs, similarity)

    def matches_of(self, match: Match) -> list[Match]:
        """The direct matches of an indexed article (itself included), from its stored signature.

        What a caller needs to know which original that article named before a new
        one came in.
        """
        if not self._oldest <= match.seq < self._count:
            return []
        seqs, similarity = self._find_candidates(self._sigs[match.seq % self._capacity])
        return self._best_per_id(seqs, similarity)

    def _best_per_id(self, seqs: np.ndarray, similarity: np.ndarray) -> list[Match]:
        best: dict[str, Match] = {}
        good = similarity >= self.threshold
        for seq, value in zip(seqs[good].tolist(), similarity[good].tolist(), strict=True):
            found = self._match(seq, value)
            known = best.get(found.article_id)
            if known is None or found.similarity > known.similarity:
                best[found.article_id] = found
        return sorted(best.values(), key=lambda found: found.order)

    def _match(self, seq: int, similarity: float) -> Match:
        row = seq % self._capacity
        return Match(self._id(seq), round(similarity, 3), int(self._published[row]), seq)

    def add(
        self, article_id: str, body: str, minhash: Signature | None = None, published: int = UNKNOWN_PUBLISHED
    ) -> None:
        """Index ``body`` under ``article_id``, unless that id is already indexed with a similar body.

        An update that rewrote most of an article is indexed again beside the old
        version, so a copy of either is found.
        """
        minhash = signature(body) if minhash is None else minhash
        values = _values(minhash)
        if (values == _EMPTY_VALUE).all():
            return
        seqs, similarity = self._candidates(minhash)
        for seq in seqs[similarity >= self.threshold]:
            if self._id(int(seq)) == article_id:
                return
        self._insert(article_id, values.astype(np.uint16), published)  # the low 16 bits

    # -- storage ---------------------------------------------------------------------
    def _allocate(self, capacity: int) -> None:
        self._capacity = capacity
        self._sigs = np.zeros((capacity, NUM_PERM), dtype=np.uint16)
        self._ids = np.zeros(capacity, dtype="S16")
        self._published = np.full(capacity, UNKNOWN_PUBLISHED, dtype=np.int32)
        self._next = np.full((capacity, self.bands), _EMPTY, dtype=np.int32)
        self._bits = max(10, (capacity - 1).bit_length())  # at least as many buckets as articles
        self._head = np.full((self.bands, 1 << self._bits), _EMPTY, dtype=np.int32)

    @property
    def _oldest(self) -> int:
        return max(0, self._count - self.window)

    def _id(self, seq: int) -> str:
        return self._ids[seq % self._capacity].decode("utf-8")

    def _buckets(self, sigs: np.ndarray, band: int | None = None) -> np.ndarray:
        """Bucket of every band of one signature (``band=None``), or of one band of many signatures."""
        rows = self.rows
        if band is None:
            parts = sigs[: self.bands * rows].reshape(self.bands, rows)
        else:
            parts = sigs[:, band * rows : (band + 1) * rows]
        keys = (parts.astype(np.uint64) * _MULTIPLIERS[:rows]).sum(axis=-1, dtype=np.uint64)
        return (keys >> np.uint64(64 - self._bits)).astype(np.intp)

    def _candidates(self, minhash: Signature) -> tuple[np.ndarray, np.ndarray]:
        """Sequence numbers of the articles sharing a bucket with ``minhash``, and their estimated Jaccard.

        Remembered for the same signature object until the index changes: the pipeline
        asks for a match, then adds the same signature (most often with no candidates).
        """
        if self._last is not None and self._last[0] is minhash:
            return self._last[1], self._last[2]
        seqs, similarity = self._find_candidates(_values(minhash))
        self._last = (minhash, seqs, similarity)
        return seqs, similarity

    def _find_candidates(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nothing = np.empty(0, dtype=np.int64), np.empty(0)
        if (values == _EMPTY_VALUE).all() or not self._count:
            return nothing
        sig = values.astype(np.uint16)  # the low 16 bits
        oldest = self._oldest
        bands = self._band_index
        current = self._head[bands, self._buckets(sig)].astype(np.int64)
        found = []
        for _ in range(MAX_CHAIN):
            alive = current >= oldest
            if not alive.any():
                break
            current, bands = current[alive], bands[alive]
            found.append(current)
            current = self._next[current % self._capacity, bands].astype(np.int64)
        if not found:
            return nothing
        seqs = np.unique(np.concatenate(found))
        similarity = np.count_nonzero(self._sigs[seqs % self._capacity] == sig, axis=1) / NUM_PERM
        return seqs, similarity

    def _insert(self, article_id: str, sig: np.ndarray, published: int) -> None:
        self._last = None
        if self._count == self._capacity and self._capacity < self.window:
            self._grow(min(self.window, 2 * self._capacity))
        if self._count >= _MAX_SEQUENCE:
            raise OverflowError("near-duplicate index full: save and load it to renumber its articles")
        seq, row = self._count, self._count % self._capacity
        encoded = article_id.encode("utf-8")
        if len(encoded) > self._ids.dtype.itemsize:
            self._ids = self._ids.astype(f"S{len(encoded)}")
        buckets = self._buckets(sig)
        self._sigs[row] = sig
        self._ids[row] = encoded
        self._published[row] = published
        self._next[row] = self._head[self._band_index, buckets]
        self._head[self._band_index, buckets] = seq
        self._count += 1

    def _grow(self, capacity: int) -> None:
        """Bigger arrays (only before the window is full, so sequence number = row)."""
        sigs, ids, count = self._sigs[: self._count], self._ids[: self._count], self._count
        published = self._published[: self._count]
        self._allocate(capacity)
        self._ids = self._ids.astype(ids.dtype)
        self._load(sigs, ids, published)
        self._count = count

    def _load(self, sigs: np.ndarray, ids: np.ndarray, published: np.ndarray) -> None:
        """Fill rows 0.. with ``sigs`` (oldest first) and chain every band's buckets, in numpy."""
        count = len(sigs)
        if not count:
            return
        self._sigs[:count], self._ids[:count], self._published[:count] = sigs, ids, published
        seqs = np.arange(count, dtype=np.int32)
        for band in range(self.bands):
            buckets = self._buckets(sigs, band)
            order = np.argsort(buckets, kind="stable")  # oldest first within a bucket
            ordered = buckets[order]
            same = ordered[1:] == ordered[:-1]
            self._next[order[1:][same], band] = seqs[order[:-1][same]]
            last = order[np.append(~same, True)]
            self._head[band, buckets[last]] = seqs[last]

    # -- arrays: what hkcrawl/near_duplicate_store.py saves ------------------------------
    def to_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The remembered articles, oldest first: signatures ``(n, NUM_PERM)`` uint16 and ids ``(n,)`` bytes (UTF-8).

        Copies: the index may go on changing while they are written. The buckets are
        not included; :meth:`from_arrays` chains them again in numpy.
        """
        rows = np.arange(self._oldest, self._count) % self._capacity
        return self._sigs[rows], self._ids[rows]

    def published(self) -> np.ndarray:
        """Publication times (epoch minutes, int32) of the articles of :meth:`to_arrays`, in the same order."""
        return self._published[np.arange(self._oldest, self._count) % self._capacity]

    @classmethod
    def from_arrays(
        cls,
        signatures: np.ndarray,
        ids: np.ndarray,
        threshold: float = 0.5,
        window: int = DEFAULT_WINDOW,
        published: np.ndarray | None = None,
    ) -> NearDuplicateIndex:
        """An index remembering ``ids`` with their ``signatures`` (oldest first), as :meth:`to_arrays` gave them.

        ``published``: as :meth:`published` gave it (None: all unknown).

        Raises ValueError when the arrays cannot be an index's (shape, dtype, more
        articles than ``window``, an id that is not UTF-8): a caller reading them from
        a file can rebuild instead of failing later, mid-crawl.
        """
        index = cls(threshold, window)
        if signatures.dtype != np.uint16 or signatures.ndim != 2 or signatures.shape[1] != NUM_PERM:
            raise ValueError(f"signatures must be (n, {NUM_PERM}) uint16, not {signatures.shape} {signatures.dtype}")
        if ids.dtype.kind != "S" or ids.shape != signatures.shape[:1]:
            raise ValueError(f"ids must be ({len(signatures)},) bytes, not {ids.shape} {ids.dtype}")
        if len(ids) > window:
            raise ValueError(f"{len(ids)} articles do not fit a window of {window}")
        if published is None:
            published = np.full(len(ids), UNKNOWN_PUBLISHED, dtype=np.int32)
        if published.dtype != np.int32 or published.shape != ids.shape:
            raise ValueError(f"published must be ({len(ids)},) int32, not {published.shape} {published.dtype}")
        if ids.size and ids.view(np.uint8).max() >= 0x80:  # all ASCII (the usual case) needs no look at each id
            for raw in ids.tolist():
                raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
        if len(ids) > index._capacity:
            index._allocate(min(window, max(_INITIAL_CAPACITY, len(ids))))
        index._ids = index._ids.astype(ids.dtype)
        index._load(signatures, ids, published)
        index._count = len(ids)
        return index

    def __reduce__(self) -> NoReturn:
        # Unpickling runs whatever the file says: state files hold to_arrays() instead.
        raise TypeError("NearDuplicateIndex is not picklable: save it with hkcrawl.near_duplicate_store.save")
