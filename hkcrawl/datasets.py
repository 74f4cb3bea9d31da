"""Exported JSON Lines as a dataset: read run files, check them, merge them into one.

What ``hkcrawl validate`` and ``hkcrawl merge`` run. A crawl writes one file per run
(``data/hankyung/<UTC>.jsonl[.gz]``) and exports an article again when its 수정 time
moves on (``isUpdate``), so the same id can be in several files; ``merge`` keeps the
latest version of each, and names each near-duplicate's original again over everything
it merges (the runs saw the pages in whatever order they came). Records are checked against
``hkcrawl/schema/article.schema.json`` plus a few cross-field facts the schema
cannot express (the canonical URL and body hash agree with the id and body).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from hkcrawl.atomic import replacing
from hkcrawl.cleaning import body_hash
from hkcrawl.schema import article_schema
from hkcrawl.settings import HKCRAWL_NEAR_DUPLICATE_THRESHOLD
from hkcrawl.similarity import Match, NearDuplicateIndex, published_minutes, signature_values
from hkcrawl.urls import canonical_article_url

#: What a directory given as input contributes: finished run files only (``*.part`` never matches).
RUN_FILE_PATTERNS = ("*.jsonl", "*.jsonl.gz")

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_MESSAGE = 300
_MAX_SHOWN = 80  # characters of a value quoted in a message


class DatasetError(Exception):
    """A whole file cannot be used (missing, unreadable, corrupt gzip): the caller stops or exits 2."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one line, in the form a user can jump to: ``FILE:LINE: id: path: message``."""

    path: Path
    line: int
    article_id: str | None
    where: str  # JSON path inside the record (``$.authors[0].email``); ``$`` for the whole line
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.article_id or '-'}: {self.where}: {self.message}"


@dataclass(frozen=True)
class RecordLine:
    """A non-blank line of a run file: its parsed record, or why it is not one."""

    path: Path
    line: int
    text: str
    record: dict[str, Any] | None
    error: str | None = None


# -- reading -------------------------------------------------------------------


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, plus each named directory's ``*.jsonl`` and ``*.jsonl.gz`` (by name, so
    run files come oldest first). Raises DatasetError for a missing path or when nothing is found."""
    found: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            found += sorted({p for pattern in RUN_FILE_PATTERNS for p in given.glob(pattern) if p.is_file()})
        elif given.is_file():
            found.append(given)
        else:
            raise DatasetError(f"{given}: no such file or directory")
    found = list(dict.fromkeys(found))  # a file named and also in a named directory is read once
    if not found:
        raise DatasetError(f"no *.jsonl or *.jsonl.gz files in {', '.join(map(str, paths))}")
    return found


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _parse(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        return None, f"not JSON: {error.msg} (column {error.colno})"
    except ValueError as error:
        return None, f"not JSON: {error}"
    if not isinstance(value, dict):
        return None, f"not a JSON object but a {type(value).__name__}"
    return value, None


def read_lines(path: Path) -> Iterator[RecordLine]:
    """Every non-blank line of a ``.jsonl`` or ``.jsonl.gz`` file, numbered from 1.

    A line that is not a JSON object comes back with ``record=None`` and the reason,
    so one bad line never hides the rest. Raises DatasetError when the file itself
    cannot be read (also part-way, e.g. a truncated gzip).
    """
    try:
        with path.open("rb") as raw:
            # Gzip is recognised by its magic bytes, not the name: a renamed file still reads.
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else nullcontext(raw) as source:
                for number, data in enumerate(source, start=1):
                    try:
                        text = data.decode("utf-8").strip()
                    except UnicodeDecodeError as error:
                        yield RecordLine(path, number, "", None, f"not UTF-8 (byte {error.start})")
                        continue
                    if text:
                        record, problem = _parse(text)
                        yield RecordLine(path, number, text, record, problem)
    except (OSError, EOFError, zlib.error) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__
        raise DatasetError(f"{path}: cannot read: {reason}") from error


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of one file, for scripts that want data, not diagnostics: the first
    line that is not a JSON object raises DatasetError naming ``file:line``."""
    for line in read_lines(path):
        if line.record is None:
            raise DatasetError(f"{path}:{line.line}: {line.error}")
        yield line.record


# -- validating ----------------------------------------------------------------

#: Only the formats the schema uses, checked the same way wherever jsonschema is installed
#: (its built-in date-time and uri checks depend on optional packages).
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    # The patterns pin the shape; this catches impossible dates such as 02-30.
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


@FORMAT_CHECKER.checks("uri", raises=ValueError)  # urlsplit raises on "http://[": not a URI
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every local ``$ref`` replaced by the ``$defs`` entry it names.

    Same verdicts and messages, but jsonschema no longer resolves references for each
    value of each record, which was half the time of a validation (about 2× faster).
    A ``$ref``'s sibling keywords are kept; they must not repeat the target's keywords.
    """
    defs = schema.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: inline(value) for key, value in node.items() if key != "$defs"}
        if (ref := node.pop("$ref", None)) is not None:
            target = inline(defs[ref.removeprefix("#/$defs/")])
            if clash := set(target) & set(node):
                raise ValueError(f"$ref {ref} and its siblings both set {', '.join(sorted(clash))}")
            node = target | node
        return node

    return inline(schema)


def _validator() -> Draft202012Validator:
    return Draft202012Validator(inline_refs(article_schema()), format_checker=FORMAT_CHECKER)


#: The record schema, ready to use: ``VALIDATOR.iter_errors(record)``.
VALIDATOR = _validator()


def _shown(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _message(error: ValidationError) -> str:
    """What a user can act on, quoting the value as JSON (cut short). A miss on a field
    whose subschema has a ``description`` says what is expected in those words rather
    than as a regex; the keywords jsonschema words well keep its message."""
    value = _shown(error.instance)
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    if expected and error.validator in ("pattern", "type", "const") and error.schema is not VALIDATOR.schema:
        return f"{value} is not {expected}"
    match error.validator:
        case "type":
            types = error.validator_value
            return f"{value} is not of type {' or '.join(types) if isinstance(types, list) else types}"
        case "const":
            return f"{value} is not {_shown(error.validator_value)}"
        case "pattern":
            return f"{value} does not match {error.validator_value}"
        case "format":
            return f"{value} is not a valid {error.validator_value}"
        case "minLength" if error.validator_value == 1:
            return "is empty"
    message = error.message
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _consistency(record: dict[str, Any]) -> list[tuple[str, str]]:
    """Facts across fields the schema cannot state; checked once the record matches the schema."""
    found = []
    article_id = record["articleId"]
    if record["canonicalUrl"] != canonical_article_url(article_id):
        found.append(("$.canonicalUrl", f"is not the URL of articleId {article_id}"))
    if record["articleBodyHash"] != body_hash(record["articleBody"]):
        found.append(("$.articleBodyHash", "is not the sha256 of articleBody (UTF-8)"))
    if record["duplicateOf"] == article_id:
        found.append(("$.duplicateOf", "is the record's own articleId"))
    return found


def record_errors(record: dict[str, Any]) -> list[tuple[str, str]]:
    """``(JSON path, message)`` for everything wrong with one record; empty when it is valid."""
    errors = sorted((error.json_path, _message(error)) for error in VALIDATOR.iter_errors(record))
    return errors or _consistency(record)


def line_problems(line: RecordLine) -> list[Problem]:
    """What is wrong with one line of a file: not a JSON object, or not a valid record."""
    if line.record is None:
        return [Problem(line.path, line.line, None, "$", line.error or "not a record")]
    article_id = line.record.get("articleId")
    article_id = article_id if isinstance(article_id, str) else None
    return [Problem(line.path, line.line, article_id, where, msg) for where, msg in record_errors(line.record)]


# -- merging -------------------------------------------------------------------


@dataclass
class MergeSummary:
    """What ``merge`` did; every record read is either kept, replaced or skipped."""

    output: Path
    files: int = 0
    records: int = 0  # non-blank lines read
    unique: int = 0  # articles written
    replaced: int = 0  # older versions dropped for a later one of the same id
    near_duplicates: int = 0  # written records whose duplicateOf is set (kept, annotated)
    corrected: int = 0  # written records whose duplicateOf/duplicateSimilarity merge changed
    skipped: list[Problem] = field(default_factory=list)  # invalid lines, first problem each

    @property
    def invalid(self) -> int:
        return len(self.skipped)

    def lines(self) -> list[str]:
        return [
            f"files read: {self.files}",
            f"records read: {self.records}",
            f"unique articles: {self.unique}",
            f"replaced (older versions dropped): {self.replaced}",
            f"invalid lines skipped: {self.invalid}",
            f"near-duplicates annotated (kept): {self.near_duplicates}",
            f"near-duplicate annotations corrected: {self.corrected}",
        ]


@dataclass
class _Kept:
    version: tuple[datetime, datetime]
    order: tuple[datetime, str]
    text: str
    annotated: bool
    published: int  # epoch minutes: which of a group is its original (hkcrawl.similarity.published_minutes)


def _version(record: dict[str, Any]) -> tuple[datetime, datetime]:
    """Which copy of an article is newest: the later 수정 time (입력 time when never
    edited), then the later download. Only called on schema-valid records."""
    modified = record["dateModified"] or record["datePublished"]
    return datetime.fromisoformat(modified), datetime.fromisoformat(record["dateDownloaded"])


def merge(
    out_path: str | Path, input_paths: Iterable[str | Path], threshold: float = HKCRAWL_NEAR_DUPLICATE_THRESHOLD
) -> MergeSummary:
    """Join run files (or directories of them) into one deduplicated dataset at ``out_path``.

    The latest version of each article wins (see :func:`_version`; on a tie the later
    input). Invalid lines are skipped and listed in the summary. The output is sorted by
    ``datePublished`` then ``articleId``, gzip'd when its name ends ``.gz``, and written
    to a temporary file renamed over ``out_path``, so a reader never sees half a file.
    ``duplicateOf``/``duplicateSimilarity`` are computed again over the winners (see
    :func:`_annotate`); a line whose annotation changes is re-serialised as the exporter
    writes it, every other line is copied as read. Only the winning lines are held in
    memory, plus a near-duplicate index of them (a few hundred bytes an article).
    Raises DatasetError, leaving ``out_path`` untouched, when an input cannot be read.
    """
    out = Path(out_path)
    files = input_files(input_paths)
    summary = MergeSummary(output=out, files=len(files))
    kept: dict[str, _Kept] = {}
    for path in files:
        for line in read_lines(path):
            summary.records += 1
            problems = line_problems(line)
            if problems:
                first, more = problems[0], len(problems) - 1
                summary.skipped.append(replace(first, message=f"{first.message} (+{more} more)") if more else first)
                continue
            record = line.record
            assert record is not None  # line_problems reports a line without a record
            article_id: str = record["articleId"]
            candidate = _Kept(
                version=_version(record),
                order=(datetime.fromisoformat(record["datePublished"]), article_id),
                text=line.text,
                annotated=record["duplicateOf"] is not None,
                published=published_minutes(record["datePublished"]),
            )
            earlier = kept.get(article_id)
            if earlier is not None:
                summary.replaced += 1
                if candidate.version < earlier.version:
                    continue
            kept[article_id] = candidate
    ordered = sorted(kept.values(), key=lambda item: item.order)
    summary.unique = len(ordered)
    summary.corrected = _annotate(ordered, threshold)
    summary.near_duplicates = sum(item.annotated for item in ordered)
    write_atomically(out, (item.text for item in ordered))
    return summary


def _annotate(kept: list[_Kept], threshold: float) -> int:
    """Set each record's ``duplicateOf`` to the earliest-published of its direct matches; how many changed.

    The crawl's definition (hkcrawl/pipelines/near_duplicates.py), applied to the
    whole dataset at once: the same body hash, or MinHash similarity >= ``threshold``
    with :mod:`hkcrawl.similarity`'s signatures; the original is the earliest by
    :func:`published_minutes`, then the smaller id. Records are indexed in that order,
    so all a record's matches found in the index are earlier than it, and the first
    is its original: what the crawl wrote whatever order the pages came in.
    """
    ranked = sorted(kept, key=lambda item: (item.published, item.order[1]))
    index = NearDuplicateIndex(threshold, window=max(1, len(ranked)))
    by_hash: dict[str, Match] = {}
    corrected = 0
    for item in ranked:
        record = json.loads(item.text)
        body, article_id = record["articleBody"], record["articleId"]
        me = Match(article_id, 1.0, item.published)
        minhash = signature_values(body)
        group = index.matches(body, minhash)
        exact = by_hash.setdefault(record["articleBodyHash"], me)
        original = min([*group, exact] if exact is not me else group, key=lambda found: found.order, default=None)
        index.add(article_id, body, minhash, me.published)
        annotation = (None, None) if original is None else (original.article_id, original.similarity)
        if annotation != (record["duplicateOf"], record["duplicateSimilarity"]):
            record["duplicateOf"], record["duplicateSimilarity"] = annotation
            item.text = json.dumps(record, ensure_ascii=False)  # as the exporter writes: same key order and spacing
            corrected += 1
        item.annotated = annotation[0] is not None
    return corrected


def write_atomically(out: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` as JSON Lines to a temporary file beside ``out``, fsync, rename.

    The temporary name (``.<name>.<random>.tmp``) matches neither run-file pattern, so a
    merge into a directory that is also an input never reads it. Gzip output has no
    name or time in its header: the same records give the same bytes.
    """
    with replacing(out) as raw:
        stream: IO[bytes] = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if out.name.endswith(".gz") else raw
        )
        for text in lines:
            stream.write(text.encode("utf-8") + b"\n")
        if stream is not raw:
            stream.close()
