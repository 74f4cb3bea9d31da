"""Spider arguments through the real ``scrapy crawl``: a bad one is refused in one line
before anything starts; given URLs are fetched as given, and only them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import cron, run_crawl

NOWHERE = "http://127.0.0.1:9"  # never asked: a refused argument stops the crawl before it starts

BAD_ARGUMENTS = [
    # (argument(s), the name and value the line must show, what it accepts)
    (["sections=economy,bogus"], "sections=economy,bogus", "finance (= financial-market)"),
    (["sections=economy/bogus"], "sections=economy/bogus", "economy/macro"),
    (["since=2026-13-01"], "since=2026-13-01", "YYYY-MM-DD"),
    (["until=2026-11-31"], "until=2026-11-31", "YYYY-MM-DD"),
    (["since=2026-11-19", "until=2026-11-18"], "until=2026-11-18", "on or after since"),
    (["render=bogus"], "render=bogus", "never, auto, always"),
    (["discover=sitemap,bogus"], "discover=sitemap,bogus", "sections, all-news, sitemap, feeds"),
    (["related_depth=x"], "related_depth=x", "0 or more"),
    (["related_depth=-1"], "related_depth=-1", "0 or more"),
    (["max_articles=abc"], "max_articles=abc", "1 or more"),
    (["max_articles=-5"], "max_articles=-5", "1 or more"),
    (["max_articles=0"], "max_articles=0", "1 or more"),
    (["max_pages=0"], "max_pages=0", "1 or more"),
    (["max_pages=2.5"], "max_pages=2.5", "1 or more"),
    (["urls_file=no-such-file.txt"], "urls_file=no-such-file.txt", "No such file"),
]


@pytest.mark.parametrize(("arguments", "shown", "accepts"), BAD_ARGUMENTS, ids=[case[1] for case in BAD_ARGUMENTS])
def test_a_bad_argument_is_one_line_and_exit_2(arguments: list[str], shown: str, accepts: str, tmp_path: Path) -> None:
    args = [part for argument in arguments for part in ("-a", argument)]
    run = run_crawl(args, NOWHERE, tmp_path, None)
    assert run.returncode == 2, run.log[-2000:]
    lines = run.log.splitlines()
    assert len(lines) == 1, run.log[-2000:]
    assert f"-a {shown}:" in lines[0] or f"-a {shown} " in lines[0]
    assert accepts in lines[0]
    assert "Traceback" not in run.log
    assert list(tmp_path.iterdir()) == [], "nothing is started, so nothing is written"


def test_cron_passes_a_bad_argument_on_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = cron(home, tmp_path, NOWHERE, "-a", "max_pages=0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""
    # The crawl's line, then cron's exit line (no log to point to: nothing was logged).
    assert err.splitlines() == ["hkcrawl: -a max_pages=0: accepts a whole number, 1 or more", "hkcrawl cron: exit 2"]
