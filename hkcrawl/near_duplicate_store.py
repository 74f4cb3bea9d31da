"""The near-duplicate index between runs: a file that cannot run code, rebuilt when it is bad.

The index used to be pickled into the state directory: whoever could write there ran
code as the crawler, and a file that did not load (an empty index, a wrong object)
made every later run fail. Now:

* The file is a numpy ``.npz`` (a zip of ``.npy`` arrays), not SQLite: the index is
  five dense arrays (a million 256-byte signatures) that numpy writes in one call and
  reads in one ``read`` each, where SQLite would cost a row per article both ways or
  blobs we would cut up ourselves. An ``.npy`` header declares dtype and shape before
  its data, so :func:`load` checks them (no object dtype, no more rows than the window)
  before spending memory, and reads the bytes itself with ``numpy.lib.format``'s
  header readers: no code path of this module can unpickle (stricter than
  ``np.load(allow_pickle=False)``, which would also trust the declared size).
* Members: ``meta`` (UTF-8 JSON: format version, ``NUM_PERM``, threshold, window and
  both counts), ``signatures`` ``(n, NUM_PERM)`` uint16, ``ids`` ``(n,)`` bytes and
  ``published`` ``(n,)`` int32 (epoch minutes, format 2: the group's original is the
  earliest published), oldest first, as :meth:`NearDuplicateIndex.to_arrays` and
  :meth:`~NearDuplicateIndex.published` give them; ``hashes`` and
  ``hash_ids`` ``(m,)`` bytes, the exact-body map oldest first.
* Anything wrong with the file (missing, empty, truncated, foreign, another format
  version, other settings) is one warning, and the index is rebuilt from the finished
  run files (:func:`rebuild_index`): the crawl goes on with what it exported before.
  A legacy ``near_duplicates.pickle`` is never opened.
* :func:`save` writes a temporary file, fsyncs it, renames it over the old one and
  fsyncs the directory: a crash leaves the old file or the new one, never half of one.

No Scrapy here: the pipeline (or whatever owns the run's files) passes paths and a
``warn`` function.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy

from hkcrawl.atomic import replacing
from hkcrawl.similarity import NUM_PERM, NearDuplicateIndex, Signature, published_minutes, signature_values

#: Of the ``.npz`` layout; a file of another version is rebuilt, never converted.
#: 2: ``published`` added (a format-1 file has no publication times to convert from).
FORMAT_VERSION = 2
#: The file the pickle format used, beside the new one: warned about, never loaded.
LEGACY_NAME = "near_duplicates.pickle"
_MEMBERS = ("meta", "signatures", "ids", "published", "hashes", "hash_ids")
_MAX_META_BYTES = 4096
#: Widest id or body hash accepted (an article id is 14 digits, a body hash 71 characters).
_MAX_KEY_BYTES = 512
_MAX_HEADER = 10_000  # bytes of an .npy header: numpy's own default limit


class StoreError(Exception):
    """Why a stored index cannot be used; ``reason`` is a short word for ``"rebuilt:<reason>"``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# -- saving --------------------------------------------------------------------


def _keys(values: Iterable[str]) -> np.ndarray:
    return np.array([value.encode("utf-8") for value in values], dtype="S")


def save(path: Path, index: NearDuplicateIndex, by_hash: OrderedDict[str, str]) -> None:
    """Write ``index`` and ``by_hash`` (body hash -> article id, oldest first) to ``path`` atomically.

    Only the newest ``index.window`` entries of ``by_hash`` are kept, as :func:`load`
    accepts no more. Raises OSError when the file cannot be written (the previous
    file, if any, is then left as it was).
    """
    signatures, ids = index.to_arrays()
    entries = list(by_hash.items())[-index.window :]
    meta = {
        "format": FORMAT_VERSION,
        "num_perm": NUM_PERM,
        "threshold": index.threshold,
        "window": index.window,
        "articles": len(ids),
        "hashes": len(entries),
    }
    arrays = {
        "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        "signatures": signatures.astype("<u2", copy=False),
        "ids": ids,
        "published": index.published().astype("<i4", copy=False),
        "hashes": _keys(key for key, _ in entries),
        "hash_ids": _keys(value for _, value in entries),
    }
    with replacing(path) as file:
        np.savez(file, allow_pickle=False, **arrays)


# -- loading -------------------------------------------------------------------


def _member(archive: zipfile.ZipFile, name: str, rows: int | None, kind: str, width: int | None = None) -> np.ndarray:
    """One ``.npy`` member, checked from its header before its data is read.

    ``rows``: how many the file's counts say (None: any, up to ``_MAX_META_BYTES``);
    ``kind``: ``"u1"``/``"u2"``/``"i4"`` little-endian integers, or ``"S"`` for bytes of 1 to
    ``_MAX_KEY_BYTES``; ``width``: the second dimension, if any.
    """
    with archive.open(f"{name}.npy") as member:
        version = npy.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(member, max_header_size=_MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(member, max_header_size=_MAX_HEADER)
        else:
            raise StoreError("invalid", f"{name}: .npy version {version} is not one numpy writes for these arrays")
        if kind == "S":
            good_dtype = dtype.kind == "S" and 1 <= dtype.itemsize <= _MAX_KEY_BYTES
        else:
            good_dtype = dtype == np.dtype(f"<{kind}")
        if not good_dtype or fortran:
            raise StoreError("invalid", f"{name}: dtype {dtype}{' (Fortran order)' if fortran else ''} is not {kind}")
        if rows is None:
            if len(shape) != 1 or shape[0] > _MAX_META_BYTES:
                raise StoreError("invalid", f"{name}: shape {shape} is not up to {_MAX_META_BYTES} bytes")
            rows = shape[0]
        expected = (rows,) if width is None else (rows, width)
        if shape != expected:
            raise StoreError("invalid", f"{name}: shape {shape} where {expected} was expected")
        size = dtype.itemsize * int(np.prod(expected))
        data = member.read(size + 1)  # one more: reaching the end makes zipfile check the CRC
    if len(data) != size:
        raise StoreError("corrupt", f"{name}: {len(data)} bytes of data where its header says {size}")
    return np.frombuffer(data, dtype=dtype).reshape(expected)


def _meta(archive: zipfile.ZipFile, threshold: float, window: int) -> dict[str, Any]:
    """The file's description, checked against this hkcrawl and the current settings."""
    raw = _member(archive, "meta", None, "u1")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except ValueError as error:
        raise StoreError("invalid", f"meta: not JSON ({error})") from error
    if not isinstance(meta, dict):
        raise StoreError("invalid", "meta: not a JSON object")
    if meta.get("format") != FORMAT_VERSION or meta.get("num_perm") != NUM_PERM:
        raise StoreError(
            "version",
            f"written by another hkcrawl version (format {meta.get('format')!r}, {meta.get('num_perm')!r} "
            f"permutations; this one reads format {FORMAT_VERSION}, {NUM_PERM})",
        )
    changed = [
        f"{name} {meta.get(name)!r} -> {now!r}"
        for name, now in (("threshold", threshold), ("window", window))
        if meta.get(name) != now
    ]
    if changed:
        raise StoreError("settings", f"settings changed since it was written: {', '.join(changed)}")
    for count in ("articles", "hashes"):
        value = meta.get(count)
        if type(value) is not int or not 0 <= value <= window:
            raise StoreError("invalid", f"meta: {count} {value!r} is not a count from 0 to the window ({window})")
    return meta


def _decoded(keys: np.ndarray, name: str) -> list[str]:
    try:
        return [key.decode("utf-8") for key in keys.tolist()]
    except UnicodeDecodeError as error:
        raise StoreError("invalid", f"{name}: not UTF-8 ({error})") from error


def _starts_like_a_pickle(path: Path) -> bool:
    """Protocol 2+ pickles start with PROTO (0x80) and a version: worth naming in the warning."""
    try:
        with path.open("rb") as file:
            head = file.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def load(path: Path, threshold: float, window: int) -> tuple[NearDuplicateIndex, OrderedDict[str, str]]:
    """The index and exact-body map saved at ``path``, for these settings.

    Raises StoreError (with its ``reason``) for anything that makes the file unusable:
    the caller rebuilds. Never unpickles, and reads at most ``window`` rows per array.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(archive.namelist())
            if names != sorted(f"{name}.npy" for name in _MEMBERS):
                shown = ", ".join(names[:8]) + (" …" if len(names) > 8 else "")
                raise StoreError("invalid", f"members are [{shown}], not {', '.join(_MEMBERS)}")
            meta = _meta(archive, threshold, window)
            articles, hashes = meta["articles"], meta["hashes"]
            signatures = _member(archive, "signatures", articles, "u2", NUM_PERM)
            ids = _member(archive, "ids", articles, "S")
            published = _member(archive, "published", articles, "i4")
            keys = _member(archive, "hashes", hashes, "S")
            values = _member(archive, "hash_ids", hashes, "S")
    except FileNotFoundError as error:
        raise StoreError("missing", "no such file") from error
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as error:
        what = "a pickle, never loaded" if _starts_like_a_pickle(path) else f"{error or type(error).__name__}"
        raise StoreError("corrupt", f"not a readable .npz file ({what})") from error
    except OSError as error:
        raise StoreError("unreadable", f"cannot read it ({error.strerror or error})") from error
    except (ValueError, KeyError) as error:  # numpy's header checks; a member listed but not found
        raise StoreError("invalid", f"{type(error).__name__}: {error}") from error
    try:
        index = NearDuplicateIndex.from_arrays(signatures, ids, threshold, window, published.astype(np.int32))
    except ValueError as error:
        raise StoreError("invalid", f"arrays: {error}") from error
    return index, OrderedDict(zip(_decoded(keys, "hashes"), _decoded(values, "hash_ids"), strict=True))


# -- rebuilding ----------------------------------------------------------------


@dataclass
class RebuildSummary:
    """What a rebuild read, for the one warning that reports it."""

    files: int = 0
    records: int = 0  # usable records read (each file's lines up to where it became unreadable)
    bad_lines: int = 0  # not JSON, or no string articleId/articleBody: skipped
    unreadable: int = 0  # files that could not be read to the end (missing, corrupt gzip)

    def __str__(self) -> str:
        skipped = [
            f"{self.bad_lines} bad line(s) skipped" if self.bad_lines else "",
            f"{self.unreadable} file(s) not readable to the end" if self.unreadable else "",
        ]
        text = f"rebuilt from {self.files} run file(s) ({self.records} records)"
        return "; ".join([text, *filter(None, skipped)])


def _records(path: Path, summary: RebuildSummary) -> Iterator[tuple[str, str, str | None, int]]:
    """``(articleId, articleBody, articleBodyHash, published minutes)`` of each usable record of one run file."""
    from hkcrawl.datasets import DatasetError, read_lines  # jsonschema: loaded only when rebuilding

    try:
        for line in read_lines(path):
            record = line.record or {}
            article_id, body, body_hash = (
                record.get("articleId"),
                record.get("articleBody"),
                record.get("articleBodyHash"),
            )
            if not (isinstance(article_id, str) and article_id and isinstance(body, str | None)):
                summary.bad_lines += 1
                continue
            body_hash = body_hash if isinstance(body_hash, str) and body_hash else None
            yield article_id, body or "", body_hash, published_minutes(record.get("datePublished"))
    except DatasetError:
        summary.unreadable += 1


def _rebuild(
    files: Iterable[Path], threshold: float, window: int, sign: Callable[[str], Signature]
) -> tuple[NearDuplicateIndex, OrderedDict[str, str], RebuildSummary]:
    ordered = sorted(files, key=lambda path: path.name)  # run files are named by their UTC start
    summary = RebuildSummary(files=len(ordered))
    by_hash: OrderedDict[str, str] = OrderedDict()
    first_of: dict[str, tuple[int, str]] = {}  # body hash -> (published, id) of its original
    per_file = []
    # First pass: count, and the exact-body map as the pipeline keeps it (cheap, no
    # signing): each body's earliest-published article, whatever file it came in.
    for path in ordered:
        count = 0
        for article_id, _, body_hash, published in _records(path, summary):
            count += 1
            if body_hash is None:
                continue
            known = first_of.get(body_hash)
            if known is not None and known <= (published, article_id):
                continue
            first_of[body_hash] = (published, article_id)
            by_hash[body_hash] = article_id  # a known body keeps its place in the order
            if known is None and len(by_hash) > window:
                del first_of[by_hash.popitem(last=False)[0]]
        per_file.append(count)
    summary.records = sum(per_file)
    # Second pass: sign and index only the newest ``window`` records (signing is 0.4 ms each).
    index = NearDuplicateIndex(threshold, window)
    skip = max(0, summary.records - window)
    ignored = RebuildSummary()  # the second pass meets the same bad lines again
    for path, count in zip(ordered, per_file, strict=True):
        if skip >= count:
            skip -= count
            continue
        for number, (article_id, body, _, published) in enumerate(_records(path, ignored)):
            if number >= skip:
                index.add(article_id, body, sign(body), published)
        skip = 0
    return index, by_hash, summary


def rebuild_index(
    files: Iterable[Path], threshold: float, window: int, sign: Callable[[str], Signature] = signature_values
) -> tuple[NearDuplicateIndex, OrderedDict[str, str]]:
    """The index and exact-body map a crawl would hold after exporting ``files`` (``*.jsonl[.gz]``).

    Files are read oldest first by name; lines that are not records with a string
    ``articleId`` and ``articleBody`` are skipped, and a file that stops being readable
    part-way contributes what came before. The newest ``window`` records are signed
    with ``sign`` (the default imports datasketch in this process).
    """
    index, by_hash, _ = _rebuild(files, threshold, window, sign)
    return index, by_hash


def load_or_rebuild(
    path: Path,
    threshold: float,
    window: int,
    finished_files: Callable[[], list[Path]],
    warn: Callable[[str], None],
) -> tuple[NearDuplicateIndex, OrderedDict[str, str], str]:
    """The index to crawl with, and what happened: ``"loaded"``, ``"new"`` or ``"rebuilt:<reason>"``.

    ``"new"``: no file at ``path`` (nor a legacy pickle beside it) and no finished run
    files, i.e. a first run, with no warning. Otherwise a file that cannot be used is
    reported in exactly one ``warn`` call naming it and what was wrong, and the index
    is rebuilt from ``finished_files()``. Never raises for the file's content.
    """
    try:
        index, by_hash = load(path, threshold, window)
        return index, by_hash, "loaded"
    except StoreError as error:
        problem, reason = f"{path}: {error}", error.reason
    except Exception as error:  # whatever a hostile file provokes, the crawl rebuilds instead of failing
        problem, reason = f"{path}: cannot load it ({type(error).__name__}: {error})", "corrupt"
    legacy = path.with_name(LEGACY_NAME)
    if reason == "missing" and legacy.exists():
        problem, reason = f"{legacy} is ignored: old pickle format, never loaded (delete it)", "legacy"
    files = finished_files()
    if reason == "missing" and not files:
        return NearDuplicateIndex(threshold, window), OrderedDict(), "new"
    index, by_hash, summary = _rebuild(files, threshold, window, signature_values)
    done = f"{summary}: {len(index)} articles indexed" if files else "no finished run files: starting an empty index"
    warn(f"Near-duplicate index: {problem}; {done}")
    return index, by_hash, f"rebuilt:{reason}"
