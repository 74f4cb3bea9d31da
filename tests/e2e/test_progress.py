"""Progress as users see it: a line rewritten in place on a terminal, plain lines in a log file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from hkcrawl.demo import crawl_environment, local_crawl_command
from hkcrawl.progress import display_width
from hkcrawl.replica import ReplicaServer
from tests.e2e.terminal import read_until_closed, screen, terminal

PROGRESS = re.compile(r"\d+:\d\d \| [\d,]+ articles?\b")


def test_with_a_log_file_progress_goes_there_as_plain_lines_and_nothing_to_the_console(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    log = tmp_path / "crawl.log"
    command = local_crawl_command(
        replica.base_url, "-a", "max_pages=1000",
        settings={"LOG_FILE": str(log), "HKCRAWL_PROGRESS_INTERVAL": "0.2", "HKCRAWL_PROGRESS_REFRESH": "0.2"},
    )  # fmt: skip
    proc = subprocess.run(command, cwd=tmp_path, env=crawl_environment(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, log.read_text()
    assert proc.stdout == proc.stderr == ""
    text = log.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "[hkcrawl.progress] INFO: Progress: " in line]
    assert len(lines) >= 2, text[-3000:]
    assert all(PROGRESS.search(line) for line in lines)
    assert "\r" not in text and "\x1b" not in text


def test_on_a_terminal_one_line_is_rewritten_in_place_and_erased_at_the_end(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    command = local_crawl_command(
        replica.base_url, "-a", "max_pages=1000", settings={"HKCRAWL_PROGRESS_REFRESH": "0.1"}
    )
    with terminal(columns=70) as (controller, stderr):
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=crawl_environment(), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        output = read_until_closed(controller, stderr, proc)
    assert proc.returncode == 0, output[-3000:]
    drawn = [part for part in re.split(r"[\r\n]", output) if PROGRESS.match(part.strip())]
    assert len(drawn) >= 2, output[-3000:]
    assert all(display_width(part.rstrip()) <= 69 for part in drawn)
    assert "Progress: " not in output, "plain log lines on the terminal besides the live line"
    lines = screen(output)
    assert not [line for line in lines if PROGRESS.search(line)], "a status line left behind or mixed into the log"
    assert any("Summary: exported 300 article(s)" in line for line in lines)
