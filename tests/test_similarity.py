"""The near-duplicate index: what it finds, what it forgets, what survives its arrays."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from hkcrawl.replica import SiteModel
from hkcrawl.similarity import (
    _KNOWN_BANDINGS,
    NUM_PERM,
    NearDuplicateIndex,
    jaccard,
    permutations,
    shingle_hashes,
    shingles,
    signature,
    signature_values,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    model = SiteModel(articles=60)
    return ["\n\n".join(model.content(aid).paragraphs) for aid in sorted(model.all_ids)]


def _random_minhashes(count: int) -> list[MinHash]:
    """Signatures of unrelated texts, without hashing any (fast)."""
    values = np.random.default_rng(3).integers(0, 2**32, size=(count, len(permutations()[0])), dtype=np.uint32)
    return [MinHash(seed=1, hashvalues=row, permutations=permutations(), scheme="affine32") for row in values]


def _edited(body: str) -> str:
    return body.replace("0", "7", 2) + "\n\n※ 바로잡습니다: 처음 보도의 수치를 바로잡습니다."


def test_finds_an_edited_copy_and_not_a_different_article(bodies: list[str]) -> None:
    index = NearDuplicateIndex(0.5)
    for number, body in enumerate(bodies[:40]):
        index.add(f"id{number}", body)
    found = index.match(_edited(bodies[7]))
    assert found is not None and found.article_id == "id7" and 0.5 <= found.similarity < 1.0
    assert index.match(bodies[7]).similarity == 1.0
    assert all(index.match(body) is None for body in bodies[40:])


def test_the_earliest_of_equally_similar_bodies_wins(bodies: list[str]) -> None:
    index = NearDuplicateIndex()
    index.add("first", bodies[0])
    index.add("second", bodies[0])
    assert index.match(bodies[0]).article_id == "first"


def test_threshold_decides(bodies: list[str]) -> None:
    paragraphs = bodies[3].split("\n\n")
    half_changed = "\n\n".join(paragraphs[: len(paragraphs) // 2] + bodies[4].split("\n\n")[:2])
    similarity = jaccard(bodies[3], half_changed)
    assert 0.2 < similarity < 0.7
    low, high = NearDuplicateIndex(max(0.05, similarity - 0.2)), NearDuplicateIndex(min(1.0, similarity + 0.2))
    for index in (low, high):
        index.add("a", bodies[3])
    assert low.match(half_changed) is not None
    assert high.match(half_changed) is None


def test_an_id_already_indexed_with_a_similar_body_is_not_added_again(bodies: list[str]) -> None:
    index = NearDuplicateIndex()
    index.add("a", bodies[0])
    index.add("a", _edited(bodies[0]))
    assert len(index) == 1
    index.add("a", bodies[1])  # rewritten beyond recognition: both versions are kept
    assert len(index) == 2
    assert index.match(bodies[1]).article_id == "a"


def test_an_empty_body_is_neither_matched_nor_indexed() -> None:
    index = NearDuplicateIndex()
    index.add("a", "")
    index.add("b", " … ")
    assert len(index) == 0
    assert index.match("") is None


def test_the_window_forgets_the_oldest(bodies: list[str]) -> None:
    index = NearDuplicateIndex(window=3)
    for number, body in enumerate(bodies[:5]):
        index.add(f"id{number}", body)
    assert len(index) == 3
    assert index.match(bodies[0]) is None and index.match(bodies[1]) is None
    assert [index.match(body).article_id for body in bodies[2:5]] == ["id2", "id3", "id4"]


def test_growing_and_wrapping_keep_every_remembered_article(bodies: list[str]) -> None:
    index = NearDuplicateIndex(window=1500)
    minhashes = _random_minhashes(2000)
    real = {100: 0, 600: 1, 1200: 2}  # article number -> body
    for number, body in real.items():
        minhashes[number] = signature(bodies[body])
    for number, minhash in enumerate(minhashes):  # grows past 1,024 rows, then wraps at 1,500
        index.add(f"id{number}", "", minhash)
    assert len(index) == 1500
    assert index.match(bodies[0]) is None  # id100 was among the 500 oldest: forgotten
    assert index.match(bodies[1]).article_id == "id600"
    assert index.match(bodies[2]).article_id == "id1200"
    assert index.match("", minhashes[1999]).article_id == "id1999"


def test_memory_stops_growing_at_the_window() -> None:
    index = NearDuplicateIndex(window=1024)
    sizes = []
    for number, minhash in enumerate(_random_minhashes(2100)):
        index.add(str(number), "", minhash)
        sizes.append(index.memory_bytes)
    assert sizes[1023] == sizes[-1]


def test_arrays_keep_the_articles_and_the_index_keeps_working(bodies: list[str]) -> None:
    index = NearDuplicateIndex(0.5, window=30)
    for number, body in enumerate(bodies[:45]):
        index.add(f"id{number}", body)
    signatures, ids = index.to_arrays()
    assert signatures.shape == (30, NUM_PERM) and ids.tolist()[0] == b"id15" and ids.tolist()[-1] == b"id44"
    loaded = NearDuplicateIndex.from_arrays(signatures, ids, 0.5, window=30)
    assert (loaded.threshold, loaded.window, len(loaded)) == (0.5, 30, 30)
    for body in bodies[:45]:
        assert loaded.match(body) == index.match(body)
    loaded.add("new", bodies[50])
    assert loaded.match(bodies[50]).article_id == "new"
    assert loaded.match(bodies[15]) is None  # id15 was the oldest of 30, now forgotten


def test_an_empty_index_goes_through_arrays(bodies: list[str]) -> None:
    loaded = NearDuplicateIndex.from_arrays(*NearDuplicateIndex(0.5, window=10).to_arrays(), 0.5, window=10)
    assert len(loaded) == 0 and loaded.match(bodies[0]) is None
    loaded.add("a", bodies[0])
    assert loaded.match(bodies[0]).article_id == "a"


@pytest.mark.parametrize(
    ("signatures", "ids", "message"),
    [
        (np.zeros((2, NUM_PERM), np.uint32), np.array([b"a", b"b"]), "uint16"),
        (np.zeros((2, 64), np.uint16), np.array([b"a", b"b"]), "signatures"),
        (np.zeros((2, NUM_PERM), np.uint16), np.array([b"a"]), "ids"),
        (np.zeros((2, NUM_PERM), np.uint16), np.array(["a", "b"]), "ids"),
        (np.zeros((4, NUM_PERM), np.uint16), np.array([b"a", b"b", b"c", b"d"]), "window"),
        (np.zeros((1, NUM_PERM), np.uint16), np.array([b"\xff\xfe"]), "utf-8"),
    ],
)
def test_arrays_that_are_not_an_index_are_refused(signatures: np.ndarray, ids: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NearDuplicateIndex.from_arrays(signatures, ids, 0.5, window=3)


def test_an_index_cannot_be_pickled(bodies: list[str]) -> None:
    index = NearDuplicateIndex()
    index.add("a", bodies[0])
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)


def test_long_and_non_ascii_ids_are_kept_whole(bodies: list[str]) -> None:
    index = NearDuplicateIndex()
    index.add("short", bodies[0])
    index.add("기사-" + "x" * 40, bodies[1])
    assert index.match(bodies[0]).article_id == "short"
    assert index.match(bodies[1]).article_id == "기사-" + "x" * 40


def test_a_signature_from_elsewhere_is_refused() -> None:
    with pytest.raises(ValueError, match="signature"):
        foreign = MinHash(num_perm=64)
        foreign.update(b"x")
        NearDuplicateIndex().add("a", "", foreign)


def test_shingle_hashes_are_the_shingles(bodies: list[str]) -> None:
    for body in [*bodies[:10], "", "가나", "회사는 3분기, 실적을"]:
        assert len(shingle_hashes(body)) == len(shingles(body))


def test_signatures_are_the_same_in_every_process() -> None:
    text = "삼성전자가 올해 3분기 반도체 부문에서 5조원대 영업이익을 거둔 것으로 나타났다."
    code = f"from hkcrawl.similarity import signature; print(signature({text!r}).hashvalues.tolist())"
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "7"}
    )
    assert np.array_equal(np.array(json.loads(other.stdout)), signature(text).hashvalues)


@pytest.mark.parametrize("threshold", [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
def test_stored_bandings_are_what_datasketch_picks(threshold: float) -> None:
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    assert _KNOWN_BANDINGS[threshold] == (lsh.b, lsh.r)
    assert NearDuplicateIndex(threshold).bands == lsh.b


def test_hash_values_alone_match_like_the_signature(bodies: list[str]) -> None:
    with_minhash, with_values = NearDuplicateIndex(0.5), NearDuplicateIndex(0.5)
    for number, body in enumerate(bodies[:30]):
        with_minhash.add(f"id{number}", body, signature(body))
        with_values.add(f"id{number}", body, signature_values(body))
    for body in [*bodies[:40], _edited(bodies[3]), ""]:
        assert with_values.match(body, signature_values(body)) == with_minhash.match(body, signature(body))
    assert with_values.to_arrays()[0].tobytes() == with_minhash.to_arrays()[0].tobytes()


def test_the_crawl_process_never_imports_datasketch() -> None:
    """datasketch imports scipy (0.5 s): a run pays for it at the first body it signs, not at start."""
    code = """
import sys
import numpy as np
import hkcrawl.pipelines.near_duplicates, hkcrawl.spiders.hankyung
from hkcrawl.similarity import NUM_PERM, NearDuplicateIndex
values = np.arange(NUM_PERM, dtype=np.uint64)
index = NearDuplicateIndex(0.5)
index.add("a", "", values)
assert index.match("", values).article_id == "a"
print("datasketch" in sys.modules, "scipy" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_batched_signing_gives_datasketchs_one_batch_signature(bodies: list[str]) -> None:
    long_body = "\n\n".join(bodies[:8])
    for text in [long_body, bodies[0], "가나다라마", ""]:
        whole = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=int, permutations=permutations(), scheme="affine32")
        whole.update_batch(shingle_hashes(text).tolist())
        assert np.array_equal(signature(text).hashvalues, whole.hashvalues)
    assert len(shingle_hashes(long_body)) > 1000  # several batches


def test_remembered_candidates_do_not_outlive_a_change_of_the_index(bodies: list[str]) -> None:
    index = NearDuplicateIndex(0.5)
    copy = signature_values(_edited(bodies[5]))
    assert index.match("", copy) is None  # remembered: no candidates
    index.add("original", bodies[5])
    found = index.match("", copy)
    assert found is not None and found.article_id == "original"
