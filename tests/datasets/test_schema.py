"""The record schema: it accepts what hkcrawl exports and says precisely what is wrong otherwise."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hkcrawl.datasets import record_errors
from hkcrawl.items import Article
from hkcrawl.record import build_record
from hkcrawl.schema import article_schema
from tests.conftest import article_fixture_pages, expected_record, fixture_url
from tests.datasets.conftest import fixture_records, make_record

FIXTURE_RECORDS = fixture_records()


def test_schema_is_valid_draft_2020_12() -> None:
    schema = article_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_names_every_field_of_the_record_and_requires_all() -> None:
    fields = [f.name for f in dataclasses.fields(Article)]
    schema = article_schema()
    assert list(schema["properties"]) == fields
    assert schema["required"] == fields
    assert schema["additionalProperties"] is False


def test_schema_file_is_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"hkcrawl.schema" = ["*.json"]' in pyproject
    assert '"jsonschema>=4.18"' in pyproject


@pytest.mark.parametrize("record", FIXTURE_RECORDS, ids=lambda r: r["articleId"])
def test_every_fixture_record_is_valid(record: dict[str, Any]) -> None:
    assert record_errors(record) == []


@pytest.mark.parametrize(
    "page", [p for p in article_fixture_pages() if expected_record(p) is not None], ids=lambda p: p.stem
)
def test_what_the_extractor_produces_is_valid(page: Path) -> None:
    """The real pipeline's output (parse + clean, as in a crawl) passes the schema."""
    result = build_record(page.read_bytes(), fixture_url(page))
    assert result.article is not None and result.valid
    assert record_errors(dataclasses.asdict(result.article)) == []


def test_a_near_duplicate_annotation_is_valid() -> None:
    assert record_errors(make_record(duplicateOf="2022061771720", duplicateSimilarity=0.93)) == []
    assert record_errors(make_record(duplicateOf="2022061771720", duplicateSimilarity=1)) == []


def _without(field: str) -> dict[str, Any]:
    record = make_record()
    del record[field]
    return record


def _with_id(article_id: str) -> dict[str, Any]:
    """Only the id changed: the URLs still name the seed article."""
    return make_record() | {"articleId": article_id}


# One defect each, and the one error it must give: (JSON path, message).
INVALID = {
    "bad id": (
        _with_id("2022-06-17-1"),
        [("$.articleId", '"2022-06-17-1" is not an article id: YYYYMMDD + 4 digits + one digit or letter')],
    ),
    "id from the 1800s": (
        _with_id("1822061771721"),
        [("$.articleId", '"1822061771721" is not an article id: YYYYMMDD + 4 digits + one digit or letter')],
    ),
    "missing headline": (_without("headline"), [("$", "'headline' is a required property")]),
    "missing dateDownloaded": (_without("dateDownloaded"), [("$", "'dateDownloaded' is a required property")]),
    "extra field": (
        make_record(wordCount=412),
        [("$", "Additional properties are not allowed ('wordCount' was unexpected)")],
    ),
    "UTC offset on datePublished": (
        make_record(datePublished="2022-06-17T08:48:00+00:00"),
        [
            (
                "$.datePublished",
                '"2022-06-17T08:48:00+00:00" is not an ISO 8601 time in KST to the second,'
                " like 2022-06-17T17:48:00+09:00",
            )
        ],
    ),
    "KST on dateDownloaded": (
        make_record(dateDownloaded="2026-11-25T15:00:00+09:00"),
        [
            (
                "$.dateDownloaded",
                '"2026-11-25T15:00:00+09:00" is not an ISO 8601 time in UTC to the second, like 2026-11-25T06:00:00Z',
            )
        ],
    ),
    "impossible date": (
        make_record(dateModified="2022-02-30T10:00:00+09:00"),
        [("$.dateModified", '"2022-02-30T10:00:00+09:00" is not a valid date-time')],
    ),
    "hash not sha256-shaped": (
        make_record(articleBodyHash="md5:0a2408f5"),
        [("$.articleBodyHash", '"md5:0a2408f5" is not sha256: and 64 lowercase hex digits (of articleBody in UTF-8)')],
    ),
    "hash of another body": (
        make_record(articleBodyHash="sha256:" + "0" * 64),
        [("$.articleBodyHash", "is not the sha256 of articleBody (UTF-8)")],
    ),
    "canonical URL of another id": (
        make_record(canonicalUrl="https://www.hankyung.com/article/2022061771722"),
        [("$.canonicalUrl", "is not the URL of articleId 2022061771721")],
    ),
    "empty body": (make_record(articleBody=""), [("$.articleBody", "is empty")]),
    "author email": (
        make_record(authors=[{"name": "정지은", "email": "jeong at hankyung"}]),
        [("$.authors[0].email", '"jeong at hankyung" is not an email address, or null')],
    ),
    "author without email key": (
        make_record(authors=[{"name": "정지은"}]),
        [("$.authors[0]", "'email' is a required property")],
    ),
    "related article not canonical": (
        make_record(relatedArticles=["https://www.hankyung.com/economy/article/2022061771720"]),
        [
            (
                "$.relatedArticles[0]",
                '"https://www.hankyung.com/economy/article/2022061771720" is not '
                "https://www.hankyung.com/article/<articleId>",
            )
        ],
    ),
    "unknown layout": (
        make_record(layout="amp"),
        [
            (
                "$.layout",
                '"amp" is not current, legacy2019 or jsonld, with +jsonld when a JSON-LD block supplied '
                "metadata; fallback when no known body container held the text",
            )
        ],
    ),
    "language": (make_record(inLanguage="en"), [("$.inLanguage", '"en" is not "ko"')]),
    "similarity without duplicateOf": (
        make_record(duplicateSimilarity=0.9),
        [("$.duplicateSimilarity", "0.9 is not null, as duplicateOf is null")],
    ),
    "duplicateOf without similarity": (
        make_record(duplicateOf="2022061771720"),
        [("$.duplicateSimilarity", "null is not a number, as duplicateOf is set")],
    ),
    "similarity over 1": (
        make_record(duplicateOf="2022061771720", duplicateSimilarity=1.2),
        [("$.duplicateSimilarity", "1.2 is greater than the maximum of 1")],
    ),
    "duplicate of itself": (
        make_record(duplicateOf="2022061771721", duplicateSimilarity=1.0),
        [("$.duplicateOf", "is the record's own articleId")],
    ),
    "wrong type": (make_record(isPremium="no"), [("$.isPremium", '"no" is not of type boolean')]),
}


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_invalid_record_gives_one_precise_error(case: str) -> None:
    record, errors = INVALID[case]
    assert record_errors(record) == errors


def test_long_values_are_cut_short_in_messages() -> None:
    [(where, message)] = record_errors(make_record(headline=["긴 제목"] * 500))
    assert where == "$.headline"
    assert message.endswith("… is not of type string") and len(message) < 120


def test_inlined_schema_judges_like_the_schema_file() -> None:
    """Validation runs on a copy with $refs inlined (for speed): same errors, same paths."""
    from hkcrawl.datasets import FORMAT_CHECKER, VALIDATOR, inline_refs

    assert "$ref" not in json.dumps(inline_refs(article_schema()))
    as_published = Draft202012Validator(article_schema(), format_checker=FORMAT_CHECKER)
    for record, _ in INVALID.values():
        published = sorted((e.json_path, e.message) for e in as_published.iter_errors(record))
        inlined = sorted((e.json_path, e.message) for e in VALIDATOR.iter_errors(record))
        assert inlined == published
