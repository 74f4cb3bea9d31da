"""Pages parsed in the helper process: same results, and nothing lost when it dies."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sys
import time
from pathlib import Path

import pytest

from hkcrawl import parsing
from hkcrawl.pages.article import parse_article
from hkcrawl.pages.listing import parse_section_list
from hkcrawl.parsing import MAX_RESTARTS, PIPE_BYTES, ParserProcess, ParserTimeout, worker_wanted

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
PAGES = sorted(FIXTURES.glob("*.html"))


def _jobs() -> list[tuple[bytes, str, None]]:
    return [(page.read_bytes(), f"https://www.hankyung.com/article/{page.stem}", None) for page in PAGES]


def explode(text: str, url: str) -> None:
    raise ValueError(f"cannot parse {text}")


def test_same_results_as_in_process() -> None:
    async def main() -> tuple[list, object]:
        parser = ParserProcess()
        try:
            assert await parser.start()
            results = await asyncio.gather(*(parser.parse_article(*job) for job in _jobs() * 3))
            listing = await parser.run(
                parse_section_list,
                (FIXTURES / "not_article_economy_list.html").read_text(),
                "https://www.hankyung.com/economy",
            )
        finally:
            await parser.close()
        return results, listing

    results, listing = asyncio.run(main())
    assert results == [parse_article(*job) for job in _jobs() * 3]
    assert sum(result.article is not None for result in results) >= 24
    assert listing == parse_section_list(
        (FIXTURES / "not_article_economy_list.html").read_text(), "https://www.hankyung.com/economy"
    )
    assert listing.links


def test_a_dead_child_loses_nothing_and_is_replaced(caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    async def main() -> tuple[list, list, int]:
        parser = ParserProcess(on_event=events.append)
        try:
            assert await parser.start()
            first = parser._child
            assert first is not None
            pending = [asyncio.ensure_future(parser.parse_article(*job)) for job in _jobs() * 20]
            await asyncio.sleep(0)  # sent
            first.process.kill()
            before = await asyncio.gather(*pending)
            assert await parser.start()
            after = await asyncio.gather(*(parser.parse_article(*job) for job in _jobs()))
            assert parser._child is not first and parser._child is not None
            return before, after, parser._child.process.pid
        finally:
            await parser.close()

    with caplog.at_level(logging.ERROR, logger="hkcrawl.parsing"):
        before, after, _ = asyncio.run(main())
    expected = [parse_article(*job) for job in _jobs()]
    assert before == expected * 20
    assert after == expected
    assert events == ["died"]
    assert "Parser process exited" in caplog.text


def test_after_too_many_deaths_everything_is_parsed_here() -> None:
    async def main() -> tuple[bool, object]:
        parser = ParserProcess()
        for _ in range(MAX_RESTARTS + 1):
            assert await parser.start()
            assert parser._child is not None
            parser._child.process.kill()
            await parser._child.reader
        result = await parser.parse_article(*_jobs()[0])
        in_process = parser.in_process
        await parser.close()
        return in_process, result

    in_process, result = asyncio.run(main())
    assert in_process
    assert result == parse_article(*_jobs()[0])


def test_an_exception_reaches_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    events: list[str] = []

    async def main() -> None:
        parser = ParserProcess(on_event=events.append)
        try:
            assert await parser.start()
            with pytest.raises(ValueError, match="cannot parse <p>"):
                await parser.run(explode, "<p>", "https://www.hankyung.com/economy")
            assert await parser.parse_article(*_jobs()[0]) == parse_article(*_jobs()[0])  # still serving
        finally:
            await parser.close()

    with caplog.at_level(logging.ERROR, logger="hkcrawl.parsing"):
        asyncio.run(main())
    assert events == ["failed"]
    assert "explode(https://www.hankyung.com/economy) raised ValueError" in caplog.text


def test_closing_waits_for_answers_then_parses_here() -> None:
    async def main() -> tuple[list, object, bool]:
        parser = ParserProcess()
        assert await parser.start()
        pending = [asyncio.ensure_future(parser.parse_article(*job)) for job in _jobs() * 5]
        await asyncio.sleep(0.05)
        await parser.close()
        results = await asyncio.gather(*pending)
        later = await parser.parse_article(*_jobs()[0])
        return results, later, parser._child is None

    results, later, gone = asyncio.run(main())
    assert results == [parse_article(*job) for job in _jobs()] * 5
    assert later == parse_article(*_jobs()[0]) and gone


def test_pages_are_parsed_here_until_the_child_is_ready() -> None:
    async def main() -> tuple[bool, object, bool]:
        parser = ParserProcess()
        try:
            await parser.start(wait=False)
            result = await parser.parse_article(*_jobs()[0])  # the child is still importing
            was_ready = parser._child is not None and parser._child.ready.is_set()
            return was_ready, result, await parser.start()
        finally:
            await parser.close()

    was_ready, result, ready_later = asyncio.run(main())
    assert not was_ready and ready_later
    assert result == parse_article(*_jobs()[0])


def process_id() -> int:
    return os.getpid()


def test_jobs_that_import_much_wait_for_the_starting_child() -> None:
    async def main() -> tuple[int, int, int]:
        parser = ParserProcess()
        try:
            await parser.start(wait=False)
            waited = await parser.run(process_id, wait_for_helper=True)
            assert parser._child is not None
            return waited, parser._child.process.pid, await parser.run(process_id)
        finally:
            await parser.close()

    waited, child_pid, later = asyncio.run(main())
    assert waited == child_pid == later != os.getpid()


def test_a_child_stuck_starting_does_not_stall_the_jobs_that_wait_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # A "child" that never says it is ready, and exits only at the end of its input.
    monkeypatch.setattr(parsing, "CHILD_COMMAND", (sys.executable, "-c", "import sys; sys.stdin.buffer.read()"))
    monkeypatch.setattr(parsing, "READY_TIMEOUT", 0.5)

    async def main() -> int:
        parser = ParserProcess()
        try:
            await parser.start(wait=False)
            return await parser.run(process_id, wait_for_helper=True)
        finally:
            await parser.close()

    assert asyncio.run(main()) == os.getpid()


def hang_in_child(parent_pid: int) -> int:
    if os.getpid() != parent_pid:
        time.sleep(3600)
    return os.getpid()


def test_a_stuck_child_fails_that_job_only_and_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "JOB_TIMEOUT", 1.0)
    events: list[str] = []

    async def main() -> tuple[BaseException | None, list]:
        parser = ParserProcess(events.append)
        try:
            await parser.start()
            stuck = asyncio.ensure_future(parser.run(hang_in_child, os.getpid()))
            behind = asyncio.ensure_future(parser.parse_article(*_jobs()[0]))  # queued behind it
            await asyncio.wait([stuck], timeout=10)
            after = await parser.parse_article(*_jobs()[1])
            return stuck.exception(), [await behind, after]
        finally:
            await parser.close()

    error, results = asyncio.run(main())
    assert isinstance(error, ParserTimeout)
    assert results == [parse_article(*_jobs()[0]), parse_article(*_jobs()[1])]
    assert events == ["stuck", "died"]


def test_the_pipe_to_the_child_holds_a_whole_page() -> None:
    async def main() -> int:
        parser = ParserProcess()
        try:
            await parser.start()
            assert parser._child is not None and parser._child.process.stdin is not None
            return fcntl.fcntl(parser._child.process.stdin.get_extra_info("pipe").fileno(), fcntl.F_GETPIPE_SZ)
        finally:
            await parser.close()

    assert asyncio.run(main()) >= min(PIPE_BYTES, int(Path("/proc/sys/fs/pipe-max-size").read_text()))


@pytest.mark.parametrize(("setting", "wanted"), [("on", True), ("off", False), ("False", False), ("1", True)])
def test_setting(setting: str, wanted: bool) -> None:
    assert worker_wanted(setting) is wanted
