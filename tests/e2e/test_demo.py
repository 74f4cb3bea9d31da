"""``hkcrawl demo`` as a first-time user runs it: twice in a row, in one directory."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.e2e.terminal import read_until_closed, screen, terminal


def _demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    hkcrawl = Path(sys.executable).with_name("hkcrawl")
    return subprocess.run([str(hkcrawl), "demo", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _written(proc: subprocess.CompletedProcess[str]) -> tuple[int, Path]:
    match = re.fullmatch(r"Wrote (\d+) articles to (.+)", proc.stdout.strip())
    assert match, proc.stdout + proc.stderr
    return int(match[1]), Path(match[2])


def test_demo_twice_repeats_the_work_and_leaves_the_live_state_alone(tmp_path: Path) -> None:
    for _ in range(2):
        proc = _demo(tmp_path, "--articles", "60")
        assert proc.returncode == 0, proc.stderr
        count, output = _written(proc)
        assert count == 60
        assert output.parent == tmp_path / "data" / "demo"
        assert len({json.loads(line)["articleId"] for line in output.read_text().splitlines()}) == 60
        assert "Spider closed (finished)" in output.with_suffix(".log").read_text()  # the crawl's whole log
        assert "\r" not in proc.stderr  # a pipe gets plain lines
    assert not (tmp_path / "state").exists(), "the demo wrote into the live crawl's state"
    assert not (tmp_path / "data" / "hankyung").exists()


def test_demo_that_writes_nothing_fails_with_the_reason(tmp_path: Path) -> None:
    # A crawl that cannot run (a bad discover mode: exit 2, usage): the demo says so
    # with the crawl's own one-line reason instead of "Wrote 0".
    proc = _demo(tmp_path, "--articles", "20", "--discover", "feeds,bogus")
    assert proc.returncode != 0
    said = [line for line in proc.stderr.splitlines() if line.startswith("hkcrawl demo: the crawl failed (exit 2): ")]
    assert said and "-a discover=feeds,bogus" in said[0], proc.stderr
    assert "Wrote" not in proc.stdout


def test_demo_on_a_terminal_shows_its_crawl_s_progress_in_one_line(tmp_path: Path) -> None:
    hkcrawl = Path(sys.executable).with_name("hkcrawl")
    with terminal(columns=100) as (controller, stderr):
        proc = subprocess.Popen(
            [str(hkcrawl), "demo", "--articles", "300"], cwd=tmp_path,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
        )  # fmt: skip
        output = read_until_closed(controller, stderr, proc)
    assert proc.returncode == 0, output
    assert proc.stdout is not None and proc.stdout.read().startswith(b"Wrote 300 articles to ")
    assert re.search(r"\r\d+:\d\d \| [\d,]+ articles", output), output
    lines = screen(output)
    assert not [line for line in lines if re.search(r"\d+:\d\d \| [\d,]+ articles?\b", line)], "a line left behind"
    assert any(line.startswith("Summary: exported 300 article(s)") for line in lines), lines
