"""One page -> one finished record, outside Scrapy: what ``hkcrawl extract`` and the
benchmarks run. It chains the very functions the spider and pipelines call, in the
pipelines' order, so a page extracts the same here as in a crawl.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from hkcrawl.cleaning import clean_article
from hkcrawl.datasets import record_errors
from hkcrawl.items import Article
from hkcrawl.outcomes import looks_truncated
from hkcrawl.pages.article import parse_article

#: A record without any of these is dropped by the validation pipeline.
REQUIRED_FIELDS = ("articleId", "canonicalUrl", "headline", "articleBody", "datePublished")


def missing_fields(article: Article) -> list[str]:
    return [name for name in REQUIRED_FIELDS if not getattr(article, name)]


def schema_errors(article: Article) -> list[tuple[str, str]]:
    """``(JSON path, message)`` for each way the record breaks the export schema: the
    check ``hkcrawl validate`` runs, so the crawl never writes what validate refuses.

    About 0.3 ms per record (jsonschema); meant for records that have every
    required field (otherwise :func:`missing_fields` says it better).
    """
    return record_errors(asdict(article))


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class RecordResult:
    article: Article | None
    problems: list[str] = field(default_factory=list)
    removed: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    #: Where the finished record breaks the schema (see :func:`schema_errors`).
    schema: list[tuple[str, str]] = field(default_factory=list)
    #: field -> the cue that gave it, and the cues tried (``hkcrawl extract --explain``).
    cues: dict[str, str] = field(default_factory=dict)
    tried: dict[str, list[str]] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        return "truncated" in self.problems

    @property
    def valid(self) -> bool:
        return self.article is not None and not self.missing and not self.schema and not self.truncated


def build_record(
    body: bytes | str, url: str, content_type: str | None = None, check_schema: bool = True
) -> RecordResult:
    """Parse, clean and check a page as the crawl does.

    ``check_schema=False`` leaves out the record-schema check (~0.3 ms, jsonschema): the
    extraction benchmarks time extraction alone, as trafilatura does nothing of the kind;
    the crawl runs the check in its validate pipeline.
    """
    parsed = parse_article(body, url, content_type)
    if looks_truncated(body.encode() if isinstance(body, str) else body):
        parsed.problems.append("truncated")  # the crawl counts it a failed fetch, never a record
    if parsed.article is None:
        return RecordResult(None, parsed.problems)
    parsed.article.dateDownloaded = utc_now()
    cleaned = clean_article(parsed.article)
    missing = missing_fields(cleaned.article)
    schema = [] if missing or not check_schema else schema_errors(cleaned.article)
    return RecordResult(cleaned.article, parsed.problems, cleaned.removed, missing, schema, parsed.cues, parsed.tried)
