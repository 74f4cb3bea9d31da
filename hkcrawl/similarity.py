"""Near-duplicate bodies: MinHash over character shingles, LSH to find candidates.

Korean words carry particles (회사는, 회사가, 회사의), so whitespace words make two
tellings of one story look unrelated; character n-grams of the text with spaces
removed do not care. The MinHash signatures and the LSH buckets come from
datasketch; this module only decides what a shingle is and when two bodies count
as the same story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

_NOT_TEXT = re.compile(r"[\s\W_]+")

#: Character n-gram length. 4 Hangul syllables is about one word stem plus particle.
SHINGLE_SIZE = 4
NUM_PERM = 128


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[bytes]:
    compact = _NOT_TEXT.sub("", text.lower())
    if len(compact) <= size:
        return {compact.encode("utf-8")} if compact else set()
    return {compact[i : i + size].encode("utf-8") for i in range(len(compact) - size + 1)}


def signature(text: str) -> MinHash:
    minhash = MinHash(num_perm=NUM_PERM)
    minhash.update_batch(list(shingles(text)))
    return minhash


def jaccard(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (for tests and benchmarks)."""
    first, second = shingles(a), shingles(b)
    return len(first & second) / len(first | second) if first or second else 1.0


@dataclass(frozen=True)
class Match:
    article_id: str
    similarity: float


class NearDuplicateIndex:
    """Bodies seen so far; :meth:`match` finds the most similar earlier one.

    LSH (``threshold``) only proposes candidates; a candidate counts when its
    estimated Jaccard similarity reaches ``threshold`` too.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.signatures: dict[str, MinHash] = {}

    def __len__(self) -> int:
        return len(self.signatures)

    def match(self, body: str, minhash: MinHash | None = None) -> Match | None:
        minhash = minhash or signature(body)
        best: Match | None = None
        for candidate in self.lsh.query(minhash):
            similarity = minhash.jaccard(self.signatures[candidate])
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = Match(candidate, round(similarity, 3))
        return best

    def add(self, article_id: str, body: str, minhash: MinHash | None = None) -> None:
        if article_id in self.signatures:
            return
        minhash = minhash or signature(body)
        self.lsh.insert(article_id, minhash)
        self.signatures[article_id] = minhash
