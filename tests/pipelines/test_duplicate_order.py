"""``duplicateOf`` names a group's earliest-published article, whatever order the pages came in.

The labelled pairs (and a group of three copies) go through the pipeline oldest first,
newest first, shuffled, and split over two runs; the run files of each are merged.
The merged datasets must agree with each other and with the labels.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
from pathlib import Path

import pytest

from hkcrawl.datasets import merge
from hkcrawl.exporters import DataclassJsonLinesExporter
from hkcrawl.items import Article
from hkcrawl.similarity import jaccard
from tests.datasets.conftest import make_record, write_jsonl
from tests.pipelines.test_near_duplicates import PAIRS, _article, _end_run, _pipeline, _process

#: A third telling of the "corrected version" story: the same text with its figure edited.
_THIRD = PAIRS[1]["a"].replace("677조원", "677조4000억원").replace("3.2%", "3.2% 이상")


def _stories() -> list[tuple[str, str, str, str | None]]:
    """``(articleId, body, datePublished, expected duplicateOf)``, in id order.

    Publication times do not follow the ids: in some pairs the copy with the larger id
    is the older one. The identical pair is published in the same minute (the smaller
    id is the original), and three copies of one story have three times.
    """
    stories = []
    for number, pair in enumerate(PAIRS):
        first, second = f"2024110{number + 1}00011", f"2024110{number + 1}00022"
        early, late = f"2024-11-0{number + 1}T09:00:00+09:00", f"2024-11-0{number + 1}T15:30:00+09:00"
        if number == 0:  # a tie: the smaller id wins
            times = (early, early)
        elif number % 2:  # the larger id was published first
            times = (late, early)
        else:
            times = (early, late)
        original = min((times[0], first), (times[1], second))[1] if pair["same"] else None
        for article_id, side, when in ((first, "a", times[0]), (second, "b", times[1])):
            stories.append((article_id, pair[side], when, None if article_id == original else original))
    # The third copy of PAIRS[1], published earliest of the three: it becomes the original of all.
    third = ("2024110200033", _THIRD, "2024-11-02T06:00:00+09:00", None)
    stories = [(aid, body, when, third[0] if aid.startswith("20241102") else of) for aid, body, when, of in stories]
    return sorted([*stories, third])


STORIES = _stories()
EXPECTED = {article_id: of for article_id, _, _, of in STORIES}


def _item(article_id: str, body: str, published: str) -> Article:
    item = _article(article_id, body)
    item.datePublished = published
    return item


def _crawl(tmp_path: Path, runs: list[list[int]]) -> tuple[list[Path], dict[str, str], dict[str, str | None]]:
    """Feed ``STORIES`` run by run in the given orders (the index saved and loaded between runs).

    Returns the run files as the crawl exports them, the corrections the run reports
    listed, and what each record was written with.
    """
    files, corrections, written = [], {}, {}
    for number, order in enumerate(runs):
        pipeline, _ = _pipeline(tmp_path)
        records = []
        for position in order:
            article_id, body, published, _ = STORIES[position]
            item = _process(pipeline, _item(article_id, body, published))
            written[article_id] = item.duplicateOf
            records.append(
                make_record(
                    article_id,
                    articleBody=body,
                    datePublished=published,
                    dateModified=None,
                    duplicateOf=item.duplicateOf,
                    duplicateSimilarity=item.duplicateSimilarity,
                )
            )
        _end_run(pipeline)
        for correction in pipeline.run.report["duplicateCorrections"]:
            corrections[correction["articleId"]] = correction["duplicateOf"]
        files.append(write_jsonl(tmp_path / "runs" / f"2024110{number}T000000Z.jsonl", records))
    return files, corrections, written


def _merged(tmp_path: Path, files: list[Path]) -> dict[str, tuple[str | None, float | None]]:
    out = tmp_path / "merged.jsonl"
    merge(out, files)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {r["articleId"]: (r["duplicateOf"], r["duplicateSimilarity"]) for r in records}


def _shuffled(seed: int) -> list[int]:
    order = list(range(len(STORIES)))
    random.Random(seed).shuffle(order)
    return order


OLDEST_FIRST = sorted(range(len(STORIES)), key=lambda n: (STORIES[n][2], STORIES[n][0]))
ORDERS = {
    "oldest first": [OLDEST_FIRST],
    "newest first": [OLDEST_FIRST[::-1]],
    **{f"shuffled (seed {seed})": [_shuffled(seed)] for seed in (1, 2, 3)},
    **{f"two runs, shuffled (seed {seed})": [_shuffled(seed)[:5], _shuffled(seed)[5:]] for seed in (4, 5)},
    "two runs, newest first": [OLDEST_FIRST[::-1][:5], OLDEST_FIRST[::-1][5:]],
}


def test_the_third_copy_matches_both_others() -> None:
    """Precondition: the three copies form one group of direct matches (else the labels are wrong)."""
    bodies = [PAIRS[1]["a"], PAIRS[1]["b"], _THIRD]
    assert all(jaccard(a, b) >= 0.5 for a in bodies for b in bodies)


@pytest.mark.parametrize("orders", ORDERS.values(), ids=ORDERS.keys())
def test_the_merged_dataset_names_the_earliest_published(orders: list[list[int]], tmp_path: Path) -> None:
    files, corrections, written = _crawl(tmp_path, orders)
    merged = _merged(tmp_path, files)
    assert {aid: of for aid, (of, _) in merged.items()} == EXPECTED
    # Written annotations with the reported corrections applied are already right.
    assert {**written, **corrections} == EXPECTED
    if orders == ORDERS["oldest first"]:
        assert corrections == {} and written == EXPECTED


def test_every_order_gives_the_same_bytes(tmp_path: Path) -> None:
    """Similarities too: the merged files are identical, not just their duplicateOf."""
    results = []
    for name, orders in ORDERS.items():
        files, _, _ = _crawl(tmp_path / name, orders)
        out = tmp_path / name / "merged.jsonl"
        merge(out, files)
        results.append(out.read_bytes())
    assert all(result == results[0] for result in results)


def test_newest_first_reports_the_corrections(tmp_path: Path) -> None:
    """Each record written with a wrong original is listed once, with the original it should name."""
    pipeline, crawler = _pipeline(tmp_path)
    written = {}
    for position in OLDEST_FIRST[::-1]:
        article_id, body, published, _ = STORIES[position]
        written[article_id] = _process(pipeline, _item(article_id, body, published)).duplicateOf
    _end_run(pipeline)
    report = pipeline.run.report
    wrong = {aid: of for aid, of in EXPECTED.items() if written[aid] != of}
    # The three copies: the 15:30 one was corrected twice (to 09:00, then 06:00): listed once.
    assert "2024110200011" in wrong and len(wrong) >= 3
    listed = [{"articleId": aid, "duplicateOf": of} for aid, of in sorted(wrong.items())]
    assert report["duplicateCorrections"] == listed
    assert report["nearDuplicates"]["corrected"] == len(wrong)
    assert crawler.stats.get_value("hkcrawl/duplicates/corrected") == len(wrong)


def _exported_order(record: dict) -> dict:
    """The record's keys in the order the crawl exports them (the Article's fields)."""
    return {field.name: record[field.name] for field in dataclasses.fields(Article)}


def test_merge_rewrites_a_wrong_annotation_as_the_exporter_writes_it(tmp_path: Path) -> None:
    """A line merge corrects comes out as the crawl's exporter writes the record; a right one is copied as read."""
    pair, other = PAIRS[2], PAIRS[3]
    early = make_record("2024110300011", articleBody=pair["a"], datePublished="2024-11-03T09:00:00+09:00")
    late = make_record("2024110300022", articleBody=pair["b"], datePublished="2024-11-03T15:30:00+09:00")
    early |= {"dateModified": None, "duplicateOf": late["articleId"], "duplicateSimilarity": 0.9}  # both wrong
    late |= {"dateModified": None}
    early, late = _exported_order(early), _exported_order(late)
    unrelated = make_record("2024110400011", articleBody=other["a"], datePublished="2024-11-04T09:00:00+09:00")
    unrelated_line = json.dumps(unrelated | {"dateModified": None})  # \uXXXX escapes: not how merge would write it
    summary = merge(tmp_path / "merged.jsonl", [write_jsonl(tmp_path / "run.jsonl", [late, early, unrelated_line])])
    lines = (tmp_path / "merged.jsonl").read_text(encoding="utf-8").splitlines()
    fixed = [json.loads(line) for line in lines[:2]]
    assert [(r["duplicateOf"], summary.corrected) for r in fixed] == [(None, 2), (early["articleId"], 2)]
    for line, record in zip(lines[:2], fixed, strict=True):
        exported = io.BytesIO()
        DataclassJsonLinesExporter(exported, encoding="utf-8").export_item(Article(**record))
        assert line.encode("utf-8") + b"\n" == exported.getvalue()
    assert lines[2] == unrelated_line
