"""Pages parsed in a helper process, so the crawl's one Python thread can crawl.

Scrapy runs everything in one thread, and against a fast server that thread is the
limit: parsing an article page (lxml plus our extraction, ~1.5 ms) is as much CPU
as Scrapy's own work for the request. A second process parses article and list
pages, and signs article bodies for the near-duplicate pipeline, while the crawl
goes on (benchmarks/crawl.py has the figures). Python threads would not help: the
extraction holds the GIL.

concurrent.futures' process pool costs the calling thread ~0.65 ms per page in
queue threads and pickling, eating half the gain; here one child process reads
length-prefixed pickles on stdin and answers in order on stdout, through asyncio
pipes (~0.1 ms per page). Nothing is lost when the child dies: pages it had not
answered are parsed in the crawl's own process, a new child is started (up to
``MAX_RESTARTS`` times, then everything is parsed in-process).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import importlib
import logging
import os
import pickle
import struct
import sys
import weakref
from collections.abc import Callable
from typing import Any, BinaryIO

from scrapy import signals
from scrapy.crawler import Crawler

from hkcrawl.pages.article import ParseResult, parse_article

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")
MAX_RESTARTS = 3
#: Where this process imported hkcrawl from. Under scrapyd that is the project's egg, a
#: zip that scrapyd's runner appends to sys.path for this crawl only, so a plain
#: ``python -m hkcrawl.parsing`` could not find it; the child appends it the same way
#: (last, so it imports the same hkcrawl as this process wherever that came from).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHILD_COMMAND = (
    sys.executable,
    "-c",
    f"import runpy, sys; sys.path.append({PACKAGE_ROOT!r}); runpy.run_module('hkcrawl.parsing', run_name='__main__')",
)
#: Seconds a job that prefers the child waits for it to finish starting (~1 s normally).
READY_TIMEOUT = 30.0
#: Seconds without an answer, with jobs waiting, after which the child counts as stuck
#: (a page takes milliseconds): the job it is on fails with ParserTimeout, the child is
#: killed, and the jobs behind it are run as after any death.
JOB_TIMEOUT = 60.0


class ParserTimeout(Exception):
    """The helper process spent over JOB_TIMEOUT seconds on one job."""


def worker_wanted(setting: str | bool | None) -> bool:
    """``HKCRAWL_PARSER_PROCESS``: on, off, or auto (on with two or more CPUs)."""
    value = str(setting).strip().lower() if setting is not None else "auto"
    if value in ("auto", ""):
        return (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) >= 2
    return value in ("1", "true", "on", "yes")


_SHARED: weakref.WeakKeyDictionary[Crawler, ParserProcess] = weakref.WeakKeyDictionary()


def for_crawler(crawler: Crawler) -> ParserProcess:
    """The crawl's helper process, shared by the spider and the pipelines (parsing
    in-process when ``HKCRAWL_PARSER_PROCESS`` is off). Started with the crawl, so it is
    ready (imports done) when the first pages come; ended when the spider closes."""
    if crawler not in _SHARED:
        enabled = worker_wanted(crawler.settings.get("HKCRAWL_PARSER_PROCESS"))
        # crawler.stats exists only once the crawl starts: looked up at each event.
        worker = ParserProcess(lambda event: crawler.stats.inc_value(f"hkcrawl/parser/{event}"), enabled=enabled)
        if enabled:
            crawler.signals.connect(worker.start_soon, signal=signals.spider_opened)
            crawler.signals.connect(worker.close, signal=signals.spider_closed)
        _SHARED[crawler] = worker
    return _SHARED[crawler]


class _Child:
    """One child process and the pages it owes answers for, in the order sent."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: collections.deque[tuple[asyncio.Future[Any], _Job]] = collections.deque()
        self.reader: asyncio.Task | None = None
        #: The child has imported what it runs (~0.5 s): until then pages are parsed
        #: here, so a short crawl never waits for it.
        self.ready = asyncio.Event()
        #: When the child last answered, or got work while idle (event-loop time).
        self.progress = 0.0
        self.watchdog: asyncio.Task | None = None

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and self.reader is not None and not self.reader.done()

    def send(self, job: _Job) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self.pending:
            self.progress = loop.time()
        self.pending.append((future, job))
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        assert self.process.stdin is not None
        self.process.stdin.write(_LENGTH.pack(len(payload)) + payload)
        return future

    def settle_here(self) -> None:
        """Parse in this process whatever the child did not answer."""
        while self.pending:
            _settle_here(*self.pending.popleft())


class ParserProcess:
    """``await parser.run(function, *args)``: a page function's result, from a child process.

    ``function`` is a module-level function (pickled by name) that never raises for
    bad input, as the page parsers in hkcrawl.pages do.
    """

    def __init__(self, on_event: Callable[[str], None] | None = None, enabled: bool = True) -> None:
        self._enabled = enabled  # False: every job runs in this process
        self._child: _Child | None = None
        self._starting: asyncio.Lock | None = None
        self._deaths = 0
        self._closed = False
        self._on_event = on_event or (lambda name: None)

    @property
    def in_process(self) -> bool:
        """True when off, once closed, or once the child has died too often: pages are parsed here."""
        return not self._enabled or self._closed or self._deaths > MAX_RESTARTS

    async def run(self, function: Callable[..., Any], *args: Any, wait_for_helper: bool = False) -> Any:
        """``wait_for_helper``: while the child is starting, wait for it rather than
        run the job here; for jobs whose first run imports much (signing bodies
        imports datasketch and scipy, 0.5 s the crawl's thread should not spend)."""
        job: _Job = (function, args)
        child = None if self.in_process else await self._running_child()
        if child is not None and not child.ready.is_set() and wait_for_helper:
            await self._until_ready(child)
        if child is None or not child.ready.is_set():
            return _run(job)
        return await child.send(job)

    async def start(self, wait: bool = True) -> bool:
        """Start the child now (``wait``: until it is ready); False if it cannot run."""
        child = None if self.in_process else await self._running_child()
        if child is None:
            return False
        if wait:
            await self._until_ready(child)
        return child.ready.is_set() or not wait

    @staticmethod
    async def _until_ready(child: _Child) -> None:
        """Until the child is ready, has died, or READY_TIMEOUT has passed (a child stuck
        in its imports must not stall the crawl: jobs are then run here)."""
        assert child.reader is not None
        ready = asyncio.ensure_future(child.ready.wait())
        await asyncio.wait([ready, child.reader], timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()

    async def start_soon(self) -> None:
        """Start the child without waiting for it to be ready."""
        await self.start(wait=False)

    async def parse_article(self, body: bytes, url: str, content_type: str | None) -> ParseResult:
        return await self.run(parse_article, body, url, content_type)

    async def _running_child(self) -> _Child | None:
        if self._child is not None and self._child.alive:
            return self._child
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._child is None or not self._child.alive:
                try:
                    process = await asyncio.create_subprocess_exec(
                        *CHILD_COMMAND, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
                    )
                except OSError as error:
                    logger.warning("Parser process did not start (%s): parsing in the crawl's process", error)
                    self._deaths = MAX_RESTARTS + 1
                    return None
                logger.info("Parsing pages in a helper process (pid %d)", process.pid)
                _widen_pipe(process)
                child = _Child(process)
                child.reader = asyncio.ensure_future(self._read_answers(child))
                self._child = child
        return self._child if not self.in_process else None

    async def _read_answers(self, child: _Child) -> None:
        stdout = child.process.stdout
        assert stdout is not None
        try:
            await stdout.readexactly(_LENGTH.size)  # an empty frame: ready
            child.ready.set()
            loop = asyncio.get_running_loop()
            child.watchdog = asyncio.ensure_future(self._watch(child))
            while True:
                header = await stdout.readexactly(_LENGTH.size)
                answer = pickle.loads(await stdout.readexactly(_LENGTH.unpack(header)[0]))
                child.progress = loop.time()
                future, job = child.pending.popleft()
                if future.done():
                    continue
                if isinstance(answer, _Failed):  # the function raised: a bug, since it "never raises"
                    logger.error("Parser process: %s raised %s", _describe(job), answer)
                    self._on_event("failed")
                    _settle_here(future, job)  # raises again here, in the callback that asked
                else:
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the child exited (or was killed, maybe by the watchdog)
        except Exception:  # an answer that makes no sense: stop trusting this child
            logger.exception("Parser process sent an unreadable answer; stopping it")
            child.process.kill()
        if child.watchdog is not None:
            child.watchdog.cancel()
        if self._closed and not child.pending:
            return
        # The child is gone: answer here what it still owed; the next page starts another.
        await child.process.wait()
        self._deaths += 1
        self._on_event("died")
        logger.error(
            "Parser process exited (status %s) with %d pages unanswered: parsing them in the crawl's process%s",
            child.process.returncode,
            len(child.pending),
            "; parsing everything here from now on" if self.in_process else "",
        )
        child.settle_here()

    async def _watch(self, child: _Child) -> None:
        """Kill a child that has had jobs but given no answer for JOB_TIMEOUT (its reader
        then does what follows any death); ends with the reader."""
        loop = asyncio.get_running_loop()
        while child.alive:
            await asyncio.sleep(JOB_TIMEOUT / 4)
            if child.alive and child.pending and loop.time() - child.progress > JOB_TIMEOUT:
                self._give_up_on_stuck_job(child)
                return

    def _give_up_on_stuck_job(self, child: _Child) -> None:
        future, job = child.pending.popleft()
        logger.error(
            "Parser process spent over %.0f s on %s: giving that page up and restarting the process",
            JOB_TIMEOUT,
            _describe(job),
        )
        self._on_event("stuck")
        if not future.done():
            future.set_exception(ParserTimeout(f"{_describe(job)}: no answer in {JOB_TIMEOUT:.0f} s"))
        child.process.kill()

    async def close(self) -> None:
        """End the child once it has answered everything it was sent."""
        self._closed = True
        child, self._child = self._child, None
        if child is None:
            return
        if child.process.returncode is None:
            assert child.process.stdin is not None
            child.process.stdin.close()  # the child exits at the end of its input
            try:
                await asyncio.wait_for(child.process.wait(), timeout=30)
            except TimeoutError:
                child.process.kill()
                await child.process.wait()
        if child.reader is not None:
            await child.reader
        child.settle_here()


_Job = tuple[Callable[..., Any], tuple]
#: Bytes a pipe to the child holds: a whole article page (~90 kB on the live site), so
#: sending one is one write, not a write per 64 kB as the child reads (Linux only).
PIPE_BYTES = 1 << 20


def _widen_pipe(process: asyncio.subprocess.Process) -> None:
    if not hasattr(fcntl, "F_SETPIPE_SZ") or process.stdin is None:
        return
    pipe = process.stdin.get_extra_info("pipe")
    with contextlib.suppress(OSError, AttributeError):  # over /proc/sys/fs/pipe-max-size: keep the default
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class _Failed(str):
    """What the child answers when the function raised (its type and message)."""


def _run(job: _Job) -> Any:
    function, args = job
    return function(*args)


def _settle_here(future: asyncio.Future[Any], job: _Job) -> None:
    if future.done():
        return
    try:
        future.set_result(_run(job))
    except Exception as error:
        future.set_exception(error)


def _describe(job: _Job) -> str:
    function, args = job
    url = next((arg for arg in args if isinstance(arg, str) and arg.startswith(("http:", "https:"))), "?")
    return f"{function.__name__}({url})"


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The child: parse until the end of input (the crawl closed the pipe or died)."""
    # What the crawl's jobs import, before "ready" (datasketch: see ParserProcess.run).
    for module in ("hkcrawl.pages.listing", "hkcrawl.similarity", "datasketch"):
        importlib.import_module(module)

    stdout.write(_LENGTH.pack(0))
    stdout.flush()
    while (header := _read_exactly(stdin, _LENGTH.size)) is not None:
        payload = _read_exactly(stdin, _LENGTH.unpack(header)[0])
        if payload is None:
            break
        try:
            answer: object = _run(pickle.loads(payload))
        except Exception as error:  # reported to the crawl, which then runs the job itself
            answer = _Failed(f"{type(error).__name__}: {error}")
        data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_LENGTH.pack(len(data)) + data)
        stdout.flush()


if __name__ == "__main__":
    import signal

    from hkcrawl import parsing  # not __main__: the parent unpickles parsing._Failed

    # Ctrl-C reaches the whole process group: the crawl shuts down gracefully and
    # still needs its parser until it closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers on the pipe, whatever prints
    with contextlib.suppress(BrokenPipeError):  # the crawl was killed
        parsing.serve(sys.stdin.buffer, answers)
