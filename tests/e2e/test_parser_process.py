"""The helper process that parses pages changes nothing in what a crawl exports."""

from __future__ import annotations

from pathlib import Path

from hkcrawl.replica import ReplicaServer
from tests.e2e.conftest import run_crawl

ARGS = ["-a", "discover=all-news,sitemap", "-a", "max_pages=1000", "-a", "related_depth=1", "-a", "render=never"]


def _records(run_items: list[dict]) -> dict[str, dict]:
    return {item["articleId"]: {k: v for k, v in item.items() if k != "dateDownloaded"} for item in run_items}


def test_same_records_with_and_without_the_helper_process(replica: ReplicaServer, tmp_path: Path) -> None:
    runs = {}
    for mode in ("on", "off"):
        (tmp_path / mode).mkdir()
        runs[mode] = run_crawl(
            ARGS, replica.base_url, tmp_path / mode, tmp_path / mode / "o.jsonl", {"HKCRAWL_PARSER_PROCESS": mode}
        )
        assert runs[mode].returncode == 0, runs[mode].log[-2000:]
    assert "Parsing pages in a helper process" in runs["on"].log
    assert "Parsing pages in a helper process" not in runs["off"].log
    assert runs["on"].stat("hkcrawl/parser/died") == runs["on"].stat("hkcrawl/parser/failed") == 0
    assert len(runs["on"].items) == len(replica.model.ids())
    assert _records(runs["on"].items) == _records(runs["off"].items)
