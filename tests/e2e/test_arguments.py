"""Spider arguments through the real ``scrapy crawl``: a bad one is refused in one line
before anything starts; given URLs are fetched as given, and only them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hkcrawl.replica import ReplicaServer
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
    (["sinse=2026-11-01"], "sinse", "did you mean since?"),
    (["colour=blue"], "colour", "accepts urls, urls_file, discover"),
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


def test_given_urls_are_fetched_once_as_article_urls_and_only_them(replica: ReplicaServer, tmp_path: Path) -> None:
    model = replica.model
    # Five articles with related articles (the default related_depth would follow them),
    # none rendered (that is a second request for the same page).
    picked = [
        aid
        for aid in model.ids()
        if model.expected_record(aid)["relatedArticles"] and "js_related" not in model.article(aid).kinds
    ][:5]
    assert len(picked) == 5
    section = model.article(picked[2]).section
    given = [
        f"{replica.base_url}/news/app/newsview.php?aid={picked[0]}",  # ≤2018
        f"https://news.hankyung.com/article/{picked[1]}",  # 2018, another host of the site
        f"{replica.base_url}/{section}/article/{picked[2]}",  # 2019–2022
        f"{replica.base_url}/article/{picked[3]}?from=rss",
        f"https://www.hankyung.com/article/{picked[4]}",  # the live site's own URL
        f"{replica.base_url}/article/{picked[0]}",  # the first again, in today's form
    ]
    run = run_crawl(["-a", "urls=" + ",".join(given)], replica.base_url, tmp_path, tmp_path / "o.jsonl")
    assert run.returncode == 0, run.log[-3000:]
    assert sorted(item["articleId"] for item in run.items) == sorted(picked)
    # Every form on the configured base URL as /article/<id>, each article once: no related one.
    asked = [record.path for record in replica.log.matching("/") if record.path != "/robots.txt"]
    assert sorted(asked) == sorted(f"/article/{aid}" for aid in picked)
    assert run.stat("hkcrawl/given_urls/same_article") == 1
    assert run.stat("hkcrawl/links/related") == 0  # related_depth given: see test_discovery.py
