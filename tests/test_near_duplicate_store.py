"""The near-duplicate index file: round trips, and every kind of bad file rebuilt from run files."""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy

from hkcrawl import atomic
from hkcrawl.cleaning import body_hash
from hkcrawl.near_duplicate_store import FORMAT_VERSION, load, load_or_rebuild, rebuild_index, save
from hkcrawl.replica import SiteModel
from hkcrawl.similarity import NUM_PERM, NearDuplicateIndex, published_minutes, signature_values

WINDOW = 100


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    model = SiteModel(articles=24)
    return ["\n\n".join(model.content(aid).paragraphs) for aid in sorted(model.all_ids)]


def _edited(body: str) -> str:
    return body.replace("0", "7", 2) + "\n\n※ 바로잡습니다: 처음 보도의 수치를 바로잡습니다."


def _record(article_id: str, body: str) -> str:
    return json.dumps({"articleId": article_id, "articleBody": body, "articleBodyHash": body_hash(body)}) + "\n"


@pytest.fixture
def run_files(tmp_path: Path, bodies: list[str]) -> list[Path]:
    """Two finished runs, the second gzip'd, with one line that is not a record."""
    out = tmp_path / "out"
    out.mkdir()
    first, second = out / "20261101T000000Z.jsonl", out / "20261102T000000Z.jsonl.gz"
    first.write_text("".join(_record(f"id{n}", bodies[n]) for n in range(5)) + "{not json\n", encoding="utf-8")
    second.write_bytes(gzip.compress("".join(_record(f"id{n}", bodies[n]) for n in range(5, 10)).encode()))
    return [second, first]  # given out of order: the rebuild sorts by name


@pytest.fixture
def path(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    return tmp_path / "state" / "near_duplicates.npz"


def _load_or_rebuild(path: Path, files: list[Path], threshold: float = 0.5, window: int = WINDOW):
    warnings: list[str] = []
    index, by_hash, what = load_or_rebuild(path, threshold, window, lambda: files, warnings.append)
    return index, by_hash, what, warnings


def _random_signatures(count: int, seed: int = 3) -> np.ndarray:
    """Hash values of unrelated texts, without hashing any (fast)."""
    return np.random.default_rng(seed).integers(0, 2**32, size=(count, NUM_PERM), dtype=np.uint64)


# -- round trips -----------------------------------------------------------------


@pytest.mark.parametrize(("articles", "window"), [(0, 10), (1, 10), (1500, 2000), (1500, 1000)])
def test_round_trip_keeps_every_match(path: Path, bodies: list[str], articles: int, window: int) -> None:
    index = NearDuplicateIndex(0.5, window)
    signatures = _random_signatures(articles)
    real = {n: bodies[n % len(bodies)] for n in range(50, articles, 100)}  # real bodies among random ones
    by_hash: OrderedDict[str, str] = OrderedDict()
    for number in range(articles):
        article_id = f"{number}" + "x" * (number % 23) + ("-기사" if number % 7 == 0 else "")  # varying widths
        body = real.get(number, "")
        index.add(article_id, body, signature_values(body) if body else signatures[number])
        by_hash[f"sha256:{number:064x}"] = article_id
    while len(by_hash) > window:
        by_hash.popitem(last=False)
    save(path, index, by_hash)
    loaded, loaded_hashes, what, warnings = _load_or_rebuild(path, [], window=window)
    assert (what, warnings) == ("loaded", [])
    assert len(loaded) == len(index) == min(articles, window)
    assert list(loaded_hashes.items()) == list(by_hash.items())
    queries = [*signatures, *(signature_values(_edited(body)) for body in real.values())]
    assert [loaded.match("", query) for query in queries] == [index.match("", query) for query in queries]
    if articles:
        assert loaded.match("", signatures[-1]) is not None
    loaded.add("new", bodies[0])  # and it goes on working
    assert loaded.match(_edited(bodies[0])) is not None


def test_a_failed_save_raises_and_keeps_the_previous_file(
    path: Path, bodies: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = NearDuplicateIndex(0.5, WINDOW)
    index.add("old", bodies[0])
    save(path, index, OrderedDict())
    index.add("new", bodies[1])

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        save(path, index, OrderedDict())
    monkeypatch.undo()
    assert len(load(path, 0.5, WINDOW)[0]) == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_save_into_a_state_dir_that_cannot_exist_raises_oserror(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a directory")
    with pytest.raises(OSError):
        save(tmp_path / "taken" / "near_duplicates.npz", NearDuplicateIndex(), OrderedDict())


# -- no file, and rebuilding -----------------------------------------------------


def test_no_file_and_no_runs_is_a_new_index_without_warning(path: Path) -> None:
    index, by_hash, what, warnings = _load_or_rebuild(path, [])
    assert (len(index), len(by_hash), what, warnings) == (0, 0, "new", [])


def test_no_file_but_finished_runs_rebuilds_from_them(path: Path, run_files: list[Path], bodies: list[str]) -> None:
    index, by_hash, what, warnings = _load_or_rebuild(path, run_files)
    assert what == "rebuilt:missing"
    assert len(warnings) == 1 and str(path) in warnings[0] and "no such file" in warnings[0]
    assert "2 run file(s) (10 records)" in warnings[0] and "1 bad line(s) skipped" in warnings[0]
    assert index.match(_edited(bodies[7])).article_id == "id7"
    assert list(by_hash.values()) == [f"id{n}" for n in range(10)]


def test_rebuild_keeps_the_newest_window_in_file_order(run_files: list[Path], bodies: list[str]) -> None:
    index, by_hash = rebuild_index(run_files, 0.5, window=3)
    assert len(index) == 3 and list(by_hash.values()) == ["id7", "id8", "id9"]
    assert index.match(bodies[6]) is None
    assert [index.match(bodies[n]).article_id for n in (7, 8, 9)] == ["id7", "id8", "id9"]


def test_rebuild_reads_a_truncated_gzip_up_to_where_it_breaks(tmp_path: Path, bodies: list[str]) -> None:
    whole = gzip.compress("".join(_record(f"id{n}", bodies[n]) for n in range(6)).encode())
    cut = tmp_path / "20261101T000000Z.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    index, _ = rebuild_index([cut], 0.5, WINDOW)
    assert 0 < len(index) < 6
    assert index.match(bodies[0]).article_id == "id0"


# -- bad files -------------------------------------------------------------------


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    npy.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)


def _flip_a_byte_of(path: Path, members: dict[str, bytes], name: str) -> None:
    """A zip whose member ``name`` no longer matches its CRC (stored uncompressed, so found as is)."""
    _zip(path, members)
    data = bytearray(path.read_bytes())
    at = data.index(members[name]) + len(members[name]) - 1
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _good_members(tmp_path: Path, bodies: list[str]) -> dict[str, bytes]:
    """The members of a real saved file (two articles), to spoil one at a time."""
    index = NearDuplicateIndex(0.5, WINDOW)
    index.add("a", bodies[20])
    index.add("b", bodies[21])
    good = tmp_path / "good.npz"
    save(good, index, OrderedDict([(body_hash(bodies[20]), "a")]))
    with zipfile.ZipFile(good) as archive:
        return {name.removesuffix(".npy"): archive.read(name) for name in archive.namelist()}


def _meta(**changes: object) -> bytes:
    meta = {"format": FORMAT_VERSION, "num_perm": NUM_PERM, "threshold": 0.5, "window": WINDOW}
    meta |= {"articles": 2, "hashes": 1}
    return _npy(np.frombuffer(json.dumps({**meta, **changes}).encode(), dtype=np.uint8))


def _huge_header(shape: tuple[int, ...], descr: str = "<u2") -> bytes:
    """An .npy header declaring ``shape`` followed by almost no data."""
    buffer = io.BytesIO()
    npy.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 64


class _Marker:
    """Unpickling this creates a file: what a hostile state file could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return open, (str(self.marker), "w")


SPOILERS: dict[str, Callable[[Path, dict[str, bytes], Path], None]] = {
    "empty": lambda path, good, marker: path.write_bytes(b""),
    "random bytes": lambda path, good, marker: path.write_bytes(np.random.default_rng(5).bytes(4096)),
    "a pickle": lambda path, good, marker: path.write_bytes(pickle.dumps((_Marker(marker), OrderedDict()))),
    "truncated": lambda path, good, marker: (_zip(path, good), path.write_bytes(path.read_bytes()[:-300])),
    "bad crc": lambda path, good, marker: _flip_a_byte_of(path, good, "ids"),
    "wrong keys": lambda path, good, marker: _zip(path, {**good, "other": good["ids"]}),
    "missing key": lambda path, good, marker: _zip(path, {k: v for k, v in good.items() if k != "hash_ids"}),
    "wrong shape": lambda path, good, marker: _zip(path, {**good, "signatures": _npy(np.zeros((2, 64), np.uint16))}),
    "wrong dtype": lambda path, good, marker: _zip(path, {**good, "signatures": _npy(np.zeros((2, 128), np.int64))}),
    "unicode ids": lambda path, good, marker: _zip(path, {**good, "ids": _npy(np.array(["a", "b"]))}),
    "object ids": lambda path, good, marker: _zip(
        path, {**good, "ids": _npy(np.array([_Marker(marker), "b"], dtype=object))}
    ),
    "ids not utf-8": lambda path, good, marker: _zip(path, {**good, "ids": _npy(np.array([b"\xff", b"b"]))}),
    "counts disagree": lambda path, good, marker: _zip(path, {**good, "meta": _meta(articles=3)}),
    "meta not json": lambda path, good, marker: _zip(path, {**good, "meta": _npy(np.frombuffer(b"{", np.uint8))}),
    "other version": lambda path, good, marker: _zip(path, {**good, "meta": _meta(format=99)}),
    "format 1 (no publication times)": lambda path, good, marker: _zip(
        path, {**{k: v for k, v in good.items() if k != "published"}, "meta": _meta(format=1)}
    ),
    "published not int32": lambda path, good, marker: _zip(path, {**good, "published": _npy(np.zeros(2, np.int64))}),
    "published too short": lambda path, good, marker: _zip(path, {**good, "published": _npy(np.zeros(1, np.int32))}),
    "huge array": lambda path, good, marker: _zip(path, {**good, "signatures": _huge_header((10**9, NUM_PERM))}),
    "huge count": lambda path, good, marker: _zip(
        path, {**good, "meta": _meta(articles=10**9), "signatures": _huge_header((10**9, NUM_PERM))}
    ),
    "huge meta": lambda path, good, marker: _zip(path, {**good, "meta": _huge_header((10**12,), "|u1")}),
}


@pytest.mark.parametrize("kind", SPOILERS)
def test_a_bad_file_is_one_warning_and_a_rebuilt_index(
    kind: str, path: Path, tmp_path: Path, run_files: list[Path], bodies: list[str]
) -> None:
    marker = tmp_path / "ran"
    SPOILERS[kind](path, _good_members(tmp_path, bodies), marker)
    index, by_hash, what, warnings = _load_or_rebuild(path, run_files)
    assert what.startswith("rebuilt:") and what != "rebuilt:missing"
    assert len(warnings) == 1 and str(path) in warnings[0] and "rebuilt from 2 run file(s)" in warnings[0]
    assert index.match(_edited(bodies[7])).article_id == "id7"
    assert index.match(bodies[20]) is None  # nothing of the bad file was used
    assert by_hash[body_hash(bodies[3])] == "id3"
    assert not marker.exists()
    if kind == "a pickle":
        assert "a pickle, never loaded" in warnings[0]
    save(path, index, by_hash)  # and the next run loads what this one saves
    assert _load_or_rebuild(path, run_files)[2] == "loaded"


def test_the_spoiled_files_differ_from_a_good_one_only_by_their_fault(path: Path, tmp_path: Path, bodies) -> None:
    _zip(path, _good_members(tmp_path, bodies))
    index, _, what, warnings = _load_or_rebuild(path, [])
    assert (what, warnings) == ("loaded", [])
    assert index.match(bodies[20]).article_id == "a"


def test_a_legacy_pickle_is_never_unpickled(path: Path, tmp_path: Path, run_files: list[Path], bodies) -> None:
    marker = tmp_path / "ran"
    legacy = path.with_name("near_duplicates.pickle")
    payload = pickle.dumps((_Marker(marker), OrderedDict()))
    legacy.write_bytes(payload)
    index, _, what, warnings = _load_or_rebuild(path, run_files)
    assert what == "rebuilt:legacy"
    assert len(warnings) == 1 and str(legacy) in warnings[0] and "old pickle format" in warnings[0]
    assert not marker.exists()
    assert index.match(_edited(bodies[2])).article_id == "id2"
    pickle.loads(payload)  # what loading it would have done
    assert marker.exists()


def test_a_legacy_pickle_without_runs_is_still_reported(path: Path) -> None:
    path.with_name("near_duplicates.pickle").write_bytes(b"\x80\x05N.")
    index, _, what, warnings = _load_or_rebuild(path, [])
    assert (len(index), what, len(warnings)) == (0, "rebuilt:legacy", 1)
    assert "starting an empty index" in warnings[0]


@pytest.mark.parametrize(
    ("threshold", "window", "changed"), [(0.6, WINDOW, "threshold 0.5 -> 0.6"), (0.5, 50, "window 100 -> 50")]
)
def test_a_changed_setting_rebuilds_and_says_which(
    path: Path, run_files: list[Path], bodies: list[str], threshold: float, window: int, changed: str
) -> None:
    index = NearDuplicateIndex(0.5, WINDOW)
    index.add("stale", bodies[20])
    save(path, index, OrderedDict())
    rebuilt, _, what, warnings = _load_or_rebuild(path, run_files, threshold, window)
    assert what == "rebuilt:settings" and len(warnings) == 1 and changed in warnings[0]
    assert (rebuilt.threshold, rebuilt.window) == (threshold, window)
    assert rebuilt.match(bodies[20]) is None and rebuilt.match(bodies[4]).article_id == "id4"


def test_an_unreadable_file_is_rebuilt(path: Path, run_files: list[Path]) -> None:
    path.mkdir()  # a directory where the file should be
    _, _, what, warnings = _load_or_rebuild(path, run_files)
    assert what.startswith("rebuilt:") and len(warnings) == 1 and str(path) in warnings[0]


def test_files_written_are_not_left_behind_as_temporaries(path: Path) -> None:
    save(path, NearDuplicateIndex(), OrderedDict())
    save(path, NearDuplicateIndex(), OrderedDict())
    assert os.listdir(path.parent) == [path.name]


def test_publication_times_are_saved_and_rebuilt(path: Path, tmp_path: Path, bodies: list[str]) -> None:
    """The group's original is the earliest published: the times must survive a save and a rebuild."""
    index = NearDuplicateIndex(0.5, WINDOW)
    index.add("late", bodies[0], published=published_minutes("2024-11-02T09:00:00+09:00"))
    index.add("early", bodies[1], published=published_minutes("2024-11-01T09:00:00+09:00"))
    save(path, index, OrderedDict())
    assert load(path, 0.5, WINDOW)[0].published().tolist() == index.published().tolist()
    records = [
        {"articleId": aid, "articleBody": bodies[0], "articleBodyHash": body_hash(bodies[0]), "datePublished": when}
        for aid, when in (("b", "2024-11-02T09:00:00+09:00"), ("a", "2024-11-01T09:00:00+09:00"))
    ]
    run = tmp_path / "runs" / "20241102T000000Z.jsonl"
    run.parent.mkdir()
    run.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    rebuilt, by_hash = rebuild_index([run], 0.5, WINDOW)
    assert by_hash[body_hash(bodies[0])] == "a"  # the earlier published, though read second
    assert [(m.article_id, m.published) for m in rebuilt.matches(bodies[0])] == [
        ("a", published_minutes(records[1]["datePublished"])),
        ("b", published_minutes(records[0]["datePublished"])),
    ]
