"""``hkcrawl validate`` and ``hkcrawl merge`` as a user runs them: output lines and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.datasets.conftest import fixture_records, make_record, write_jsonl


def _hkcrawl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hkcrawl.cli", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_validate_good_files(tmp_path: Path) -> None:
    records = fixture_records()
    plain = write_jsonl(tmp_path / "a.jsonl", records[:5])
    gzipped = write_jsonl(tmp_path / "b.jsonl.gz", records[5:])
    proc = _hkcrawl("validate", plain, gzipped)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == f"{len(records)} records, 0 invalid in 2 files\n"


def test_validate_bad_file_lists_each_problem(tmp_path: Path) -> None:
    bad_id = make_record() | {"articleId": "20220617"}
    two_errors = make_record("2022061771722", datePublished="2022-06-17 17:48", wordCount=3)
    path = write_jsonl(tmp_path / "run.jsonl", [make_record(), bad_id, "", "{oops", two_errors])
    proc = _hkcrawl("validate", path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        f'{path}:2: 20220617: $.articleId: "20220617" is not an article id: YYYYMMDD + 4 digits + one digit or letter',
        f"{path}:4: -: $: not JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{path}:5: 2022061771722: $: Additional properties are not allowed ('wordCount' was unexpected)",
        f'{path}:5: 2022061771722: $.datePublished: "2022-06-17 17:48" is not an ISO 8601 time in KST to the second,'
        " like 2022-06-17T17:48:00+09:00",
        "4 records, 3 invalid in 1 files",
    ]
    assert proc.stderr == ""


def test_validate_unreadable_file_exits_2(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [make_record()])
    proc = _hkcrawl("validate", good, tmp_path / "missing.jsonl")
    assert proc.returncode == 2
    assert "missing.jsonl: no such file or directory" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == "1 records, 0 invalid in 1 files\n"  # the readable file was still checked
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    proc = _hkcrawl("validate", good, broken)
    assert proc.returncode == 2
    assert f"hkcrawl validate: {broken}: cannot read" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.endswith("1 records, 0 invalid in 2 files\n")


def test_merge_writes_and_summarises(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_jsonl(runs / "1.jsonl", [make_record("2022061771721"), "{oops"])
    write_jsonl(
        runs / "2.jsonl.gz",
        [make_record("2022061771721", dateModified="2022-06-19T00:00:00+09:00", isUpdate=True)],
    )
    out = tmp_path / "all.jsonl"
    proc = _hkcrawl("merge", out, runs)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"wrote {out}",
        "  files read: 2",
        "  records read: 3",
        "  unique articles: 1",
        "  replaced (older versions dropped): 1",
        "  invalid lines skipped: 1",
        "  near-duplicates annotated (kept): 0",
        "  near-duplicate annotations corrected: 0",
    ]
    assert proc.stderr.splitlines() == [
        f"hkcrawl merge: skipped {runs / '1.jsonl'}:2: -: $: not JSON: "
        "Expecting property name enclosed in double quotes (column 2)"
    ]
    assert _hkcrawl("validate", out).returncode == 0


def test_merge_unreadable_input_exits_2(tmp_path: Path) -> None:
    proc = _hkcrawl("merge", tmp_path / "all.jsonl", tmp_path / "nope")
    assert proc.returncode == 2
    assert proc.stderr.startswith("hkcrawl merge: ") and "not written" in proc.stderr
    assert not (tmp_path / "all.jsonl").exists()


def test_merge_into_a_missing_folder_says_it_created_it(tmp_path: Path) -> None:
    runs = write_jsonl(tmp_path / "runs" / "1.jsonl", [make_record()]).parent
    out = tmp_path / "datasets" / "2026" / "all.jsonl"
    proc = _hkcrawl("merge", out, runs)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[:2] == [f"created {tmp_path / 'datasets'}/", f"wrote {out}"]
    assert out.exists()
    again = _hkcrawl("merge", out, runs)  # now it is there: nothing to say about it
    assert again.stdout.splitlines()[0] == f"wrote {out}"
