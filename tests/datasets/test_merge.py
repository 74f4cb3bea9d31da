"""Reading run files and merging them: the latest version of each article wins, nothing half-written."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from hkcrawl.datasets import DatasetError, input_files, iter_records, line_problems, merge, read_lines
from tests.datasets.conftest import make_record, write_jsonl


def _read(path: Path) -> list[dict]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


# -- reading -------------------------------------------------------------------


def test_read_lines_skips_blank_lines_and_numbers_from_one(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "run.jsonl", [make_record("2022061771721"), "", "   ", make_record("2022061771722")])
    lines = list(read_lines(path))
    assert [(line.line, line.record["articleId"]) for line in lines] == [(1, "2022061771721"), (4, "2022061771722")]


def test_read_lines_reports_broken_lines_and_carries_on(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "run.jsonl", ['{"articleId": "2022', "[1, 2]", "NaN", make_record()])
    path.write_bytes(path.read_bytes() + b'{"headline": "\xff"}\n')
    lines = list(read_lines(path))
    assert [(line.line, line.error) for line in lines] == [
        (1, "not JSON: Unterminated string starting at (column 15)"),
        (2, "not a JSON object but a list"),
        (3, "not JSON: NaN is not valid JSON"),
        (4, None),
        (5, "not UTF-8 (byte 14)"),
    ]
    assert str(line_problems(lines[0])[0]) == f"{path}:1: -: $: not JSON: Unterminated string starting at (column 15)"


def test_gzip_is_read_by_content(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "run.jsonl.gz", [make_record()])
    renamed = path.rename(tmp_path / "run.jsonl")
    assert [r["articleId"] for r in iter_records(renamed)] == ["2022061771721"]


def test_truncated_gzip_is_a_file_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "run.jsonl.gz", [make_record(f"202206177172{i}") for i in range(9)])
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DatasetError, match=r"run\.jsonl\.gz: cannot read"):
        list(read_lines(path))


def test_iter_records_stops_at_a_broken_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "run.jsonl", [make_record(), "{oops"])
    with pytest.raises(DatasetError, match=r"run\.jsonl:2: not JSON"):
        list(iter_records(path))


def test_a_directory_means_its_finished_run_files(tmp_path: Path) -> None:
    for name in ("b.jsonl", "a.jsonl.gz", "c.jsonl.part", "d.jsonl.gz.part", "a.report.json", "notes.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.jsonl").write_text("", encoding="utf-8")
    assert [p.name for p in input_files([tmp_path])] == ["a.jsonl.gz", "b.jsonl"]


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [make_record()])
    assert input_files([tmp_path, path, tmp_path / "." / "a.jsonl"]) == [path]


def test_missing_input_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or directory"):
        input_files([tmp_path / "nope.jsonl"])
    with pytest.raises(DatasetError, match=r"no \*\.jsonl or \*\.jsonl\.gz files"):
        input_files([tmp_path])


# -- merging -------------------------------------------------------------------


def test_merge_keeps_the_latest_version_of_each_article(tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path / "runs" / "2026-11-25T00-00-00.jsonl",
        [
            make_record("2022061771721", headline="처음", dateModified="2022-06-18T00:31:00+09:00"),
            make_record("2022061771722", datePublished="2022-06-17T09:00:00+09:00", dateModified=None),
        ],
    )
    second = write_jsonl(
        tmp_path / "runs" / "2026-11-25T03-00-00.jsonl",
        [
            make_record(
                "2022061771721",
                headline="수정됨",
                dateModified="2022-06-18T08:00:00+09:00",
                dateDownloaded="2026-11-25T03:00:05Z",
                isUpdate=True,
            )
        ],
    )
    out = tmp_path / "merged.jsonl"
    summary = merge(out, [second, first])  # input order does not decide: dateModified does
    records = _read(out)
    assert [(r["articleId"], r["headline"]) for r in records] == [
        ("2022061771722", make_record()["headline"]),
        ("2022061771721", "수정됨"),
    ]
    assert records[1]["isUpdate"] is True
    assert (summary.files, summary.records, summary.unique, summary.replaced, summary.invalid) == (2, 3, 2, 1, 0)


def test_same_modified_time_the_later_download_wins(tmp_path: Path) -> None:
    early = make_record(headline="old", dateDownloaded="2026-11-25T00:00:00Z")
    late = make_record(headline="new", dateDownloaded="2026-11-25T03:00:00Z")
    out = tmp_path / "merged.jsonl"
    merge(out, [write_jsonl(tmp_path / "2.jsonl", [late]), write_jsonl(tmp_path / "1.jsonl", [early])])
    assert [r["headline"] for r in _read(out)] == ["new"]


def test_merge_reads_gzip_and_directories_but_not_part_files(tmp_path: Path) -> None:
    runs = tmp_path / "data" / "hankyung"
    write_jsonl(runs / "2026-11-25T00-00-00.jsonl.gz", [make_record("2022061771721")])
    write_jsonl(runs / "2026-11-25T03-00-00.jsonl", [make_record("2023013087611")])
    write_jsonl(runs / "2026-11-25T06-00-00.jsonl.part", [make_record("2024030548211")])  # a run still writing
    extra = write_jsonl(tmp_path / "extra.jsonl.gz", [make_record("2019062450611")])
    out = tmp_path / "merged.jsonl.gz"
    summary = merge(out, [runs, extra])
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert [r["articleId"] for r in _read(out)] == ["2019062450611", "2022061771721", "2023013087611"]
    assert (summary.files, summary.records, summary.unique) == (3, 3, 3)


def test_invalid_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "run.jsonl",
        [make_record("2022061771721"), "{not json", make_record("2022061771722", articleBodyHash="sha256:x")],
    )
    out = tmp_path / "merged.jsonl"
    summary = merge(out, [path])
    assert [r["articleId"] for r in _read(out)] == ["2022061771721"]
    assert (summary.records, summary.unique, summary.invalid) == (3, 1, 2)
    assert [str(p) for p in summary.skipped] == [
        f"{path}:2: -: $: not JSON: Expecting property name enclosed in double quotes (column 2)",
        f'{path}:3: 2022061771722: $.articleBodyHash: "sha256:x" is not sha256: and 64 lowercase hex digits'
        " (of articleBody in UTF-8)",
    ]


def test_near_duplicates_are_kept_and_counted(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "run.jsonl",
        [
            make_record("2022061771721"),
            make_record("2022061771722", duplicateOf="2022061771721", duplicateSimilarity=1.0),
        ],
    )
    summary = merge(tmp_path / "merged.jsonl", [path])
    assert (summary.unique, summary.near_duplicates) == (2, 1)


def test_output_is_sorted_stable_and_atomic(tmp_path: Path) -> None:
    records = [
        make_record("2022061771723", datePublished="2022-06-17T17:48:00+09:00"),
        make_record("2021032482141", datePublished="2021-03-24T14:05:00+09:00", dateModified=None),
        make_record("2022061771722", datePublished="2022-06-17T17:48:00+09:00"),
    ]
    path = write_jsonl(tmp_path / "in" / "run.jsonl", records)
    out = tmp_path / "out" / "merged.jsonl.gz"
    merge(out, [path])
    first_bytes = out.read_bytes()
    assert [r["articleId"] for r in _read(out)] == ["2021032482141", "2022061771722", "2022061771723"]
    merge(out, [path])
    assert out.read_bytes() == first_bytes  # same input, same bytes (no time in the gzip header)
    assert sorted(p.name for p in out.parent.iterdir()) == ["merged.jsonl.gz"]  # no temp file left


def test_lines_are_written_as_read(tmp_path: Path) -> None:
    line = json.dumps(make_record(), ensure_ascii=False)
    path = write_jsonl(tmp_path / "run.jsonl", [line])
    merge(tmp_path / "merged.jsonl", [path])
    assert (tmp_path / "merged.jsonl").read_text(encoding="utf-8") == line + "\n"


def test_unreadable_input_leaves_the_output_untouched(tmp_path: Path) -> None:
    out = write_jsonl(tmp_path / "merged.jsonl", [make_record()])
    before = out.read_bytes()
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DatasetError):
        merge(out, [write_jsonl(tmp_path / "ok.jsonl", [make_record("2022061771722")]), broken])
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jsonl.gz", "merged.jsonl", "ok.jsonl"]


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_jsonl(tmp_path / "in" / "run.jsonl", [make_record()])
    out = tmp_path / "out" / "merged.jsonl"

    def fail(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("hkcrawl.atomic.os.fsync", fail)
    with pytest.raises(OSError, match="No space left"):
        merge(out, [path])
    assert list(out.parent.iterdir()) == []


def test_the_old_output_can_be_an_input(tmp_path: Path) -> None:
    """``hkcrawl merge all.jsonl.gz all.jsonl.gz data/hankyung/``: add new runs to a merged file."""
    out = tmp_path / "all.jsonl.gz"
    merge(out, [write_jsonl(tmp_path / "runs" / "1.jsonl", [make_record("2022061771721")])])
    new_run = write_jsonl(tmp_path / "runs2" / "2.jsonl", [make_record("2022061771722")])
    summary = merge(out, [out, new_run])
    assert [r["articleId"] for r in _read(out)] == ["2022061771721", "2022061771722"]
    assert (summary.records, summary.unique, summary.replaced) == (2, 2, 0)
