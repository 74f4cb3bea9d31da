"""The replica over HTTP: a threaded stdlib server, a request log, the challenge and fault switches.

Use it as a context manager in tests (``with ReplicaServer(SiteModel(articles=300))
as replica: replica.base_url``; it runs in a thread on a free port) or from the
command line (``python -m hkcrawl.replica``). Every response says ``server:
cloudflare``, as the real site's do, so a challenge is told apart by its status,
``cf-mitigated`` header and body, not by the server header. Faults (errors, resets,
stalls, short bodies, lying headers, hostile redirects: :mod:`hkcrawl.replica.faults`)
are off by default and then cost nothing per request.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from types import TracebackType
from urllib.parse import urlsplit

from hkcrawl.replica.challenge import CHALLENGE_HEADERS, ChallengePolicy, Challenger, challenge_page
from hkcrawl.replica.faults import EVIL, Decision, FaultInjector, FaultPlan
from hkcrawl.replica.model import SiteModel
from hkcrawl.replica.site import HTML, Response, Site


@dataclass(frozen=True)
class RequestRecord:
    time: float  # time.time() when answered
    method: str
    path: str  # path and query, as requested
    status: int
    kind: str  # the route ("article", "section", "sitemap" …) or "challenge"
    user_agent: str
    fault: str | None = None  # the injected fault ("500", "reset", "429-early" …), None for a plain answer
    # Only for a path waiting out a 429: True if this request came before Retry-After was up.
    early: bool | None = None


@dataclass(frozen=True)
class ArticleAvailability:
    """Visible articles split by whether the fault plan lets their ``/article/<id>`` page through at all."""

    servable: tuple[str, ...]  # newest first
    unservable: tuple[str, ...] = field(default=())  # an ``always`` breaking fault answers every request


class RequestLog:
    """Every request the server answered, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def count(self, prefix: str | None = None, *, status: int | None = None, kind: str | None = None) -> int:
        """How many requests matched: path prefix (``"/article/"``), status, route kind."""
        return len(self.matching(prefix, status=status, kind=kind))

    def matching(
        self, prefix: str | None = None, *, status: int | None = None, kind: str | None = None
    ) -> list[RequestRecord]:
        return [
            r
            for r in self.records
            if (prefix is None or r.path.startswith(prefix))
            and (status is None or r.status == status)
            and (kind is None or r.kind == kind)
        ]

    def by_kind(self) -> Counter[str]:
        return Counter(r.kind for r in self.records)

    def by_status(self) -> Counter[int]:
        return Counter(r.status for r in self.records)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Scrapy and browsers use it
    timeout = 30  # close idle keep-alive connections
    # Headers and body go out in two writes; with Nagle's algorithm on, the second waits
    # for the client's delayed ACK (~40 ms) and the server tops out near 200 requests/s.
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "cloudflare"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        replica = self.server.replica
        ray = replica.next_ray()
        if replica.challenger.check(urlsplit(self.path).path):
            response = replica.challenge_response(ray)
        else:
            response = replica.site.get(self.path)
        faults = replica.faults  # read once: set_faults() may swap it meanwhile
        if faults is not None:  # the only cost of the fault mode while it is off
            decision = faults.decide(self.path, response, lambda: replica.challenge_response(ray))
            if decision is not None:
                self._answer_fault(decision, ray, send_body)
                return
        # Logged before answering, so a client that has its answer always finds it logged.
        replica.log.add(
            RequestRecord(
                time.time(), self.command, self.path, response.status, response.kind, self.headers.get("User-Agent", "")
            )
        )
        self._send_head(response, ray)
        if send_body:
            self.wfile.write(response.body)

    def _send_head(self, response: Response, ray: str, length: bool = True) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        if length:
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.request_version == "HTTP/1.0" and not self.close_connection:
            self.send_header("Connection", "keep-alive")  # HTTP/1.0 keep-alive must be echoed
        self.send_header("cf-ray", ray)
        self.end_headers()

    def _answer_fault(self, decision: Decision, ray: str, send_body: bool) -> None:
        """Answer as the fault says: another response, or a broken transport of the real one."""
        replica, response, transport = self.server.replica, decision.response, decision.transport
        replica.log.add(
            RequestRecord(
                time.time(),
                self.command,
                self.path,
                0 if transport == "reset" else response.status,  # 0: no status line was sent
                response.kind,
                self.headers.get("User-Agent", ""),
                decision.fault,
                decision.early,
            )
        )
        if transport == "reset":
            self._reset()
            return
        if transport == "truncate-nolength":  # HTTP/1.0 style: the body ends where the connection does
            response = replace(response, headers=(*response.headers, ("Connection", "close")))
        self._send_head(response, ray, length=transport != "truncate-nolength")
        body = response.body if send_body else b""
        if transport == "send":
            self.wfile.write(body)
        elif transport == "stall":
            # Woken by stop(), so a stalled client never holds up the server's shutdown.
            if replica.stopping.wait(decision.stall):
                self.close_connection = True
            else:
                self.wfile.write(body)
        else:  # truncate, truncate-nolength, reset-body: half the body, then the end of the connection
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            if transport == "reset-body":
                self._reset()

    def _reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0) instead of a FIN: the client sees "connection reset"."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the socket's fd is closed only once its file objects are
        self.connection.close()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        if self.server.replica.verbose:
            super().log_message(format, *args)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under a burst of new ones
    # (a crawler without keep-alive, ab -c 8), which then stall for a SYN retry.
    request_queue_size = 128
    replica: ReplicaServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet about clients that hang up (they do, under faults); a traceback for anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class ReplicaServer:
    """Serve a :class:`SiteModel` on ``host:port`` (port 0: any free one).

    ``challenge`` is a policy string (``"none"``, ``"all"``, ``"after:3"``, ``"rate:0.2"``,
    ``"path:/feed"``) or a :class:`ChallengePolicy`; change it while running with
    :meth:`set_challenge`. ``faults`` is a fault spec (``"500:articles:rate=0.1,503:lists:count=3"``,
    see :mod:`hkcrawl.replica.faults`) or a :class:`FaultPlan`, seeded by the model's seed;
    change it while running with :meth:`set_faults`; ``offsite`` is where off-site faults point
    (``http://evil.example``; a test's own server to check nothing reaches it).
    ``base_url`` overrides the URL written into pages (for a
    replica behind a proxy); by default it is ``http://host:port``.
    """

    def __init__(
        self,
        model: SiteModel | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        challenge: str | ChallengePolicy | None = "none",
        challenge_status: int = 403,
        base_url: str | None = None,
        verbose: bool = False,
        faults: str | FaultPlan | None = "none",
        offsite: str = EVIL,
    ) -> None:
        self.model = model if model is not None else SiteModel()
        self.challenger = Challenger(ChallengePolicy.parse(challenge, challenge_status), seed=self.model.seed)
        self.log = RequestLog()
        self.verbose = verbose
        self._httpd = _Server((host, port), _Handler)
        self._httpd.replica = self
        bound_host, bound_port = self._httpd.server_address[:2]
        self.base_url = (base_url or f"http://{bound_host}:{bound_port}").rstrip("/")
        self.site = Site(self.model, self.base_url)
        #: None while no fault is planned, so the handler skips the fault mode with one test.
        self.faults: FaultInjector | None = None
        #: Set by stop(): wakes stalled answers.
        self.stopping = threading.Event()
        self.offsite = offsite
        self.set_faults(faults)
        self._thread: threading.Thread | None = None
        self._rays = 0
        self._ray_lock = threading.Lock()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- challenges ----------------------------------------------------------------------
    def set_challenge(self, policy: str | ChallengePolicy | None, status: int | None = None) -> ChallengePolicy:
        return self.challenger.set(policy, status)

    @property
    def challenge(self) -> ChallengePolicy:
        return self.challenger.policy

    def challenge_response(self, ray: str) -> Response:
        host = urlsplit(self.base_url).hostname or "www.hankyung.com"
        body = challenge_page(ray.split("-")[0], host).encode()
        return Response(self.challenger.policy.status, HTML, body, "challenge", CHALLENGE_HEADERS)

    # -- faults --------------------------------------------------------------------------
    def set_faults(self, spec: str | FaultPlan | None) -> FaultPlan:
        """Replace the fault plan; counts, bursts and 429 waits start again from zero."""
        plan = FaultPlan.parse(spec)
        self.faults = FaultInjector(plan, self.model.seed, self.site, self.offsite) if plan.rules else None
        return plan

    @property
    def fault_plan(self) -> FaultPlan:
        return self.faults.plan if self.faults is not None else FaultPlan()

    def article_availability(self) -> ArticleAvailability:
        """The visible articles (at the model's clock) whose page a patient client could get, and the rest.

        Compare a finished crawl against ``servable``: every one of them should be in the
        output, none of ``unservable``. Only the fault plan counts, not the challenge policy.
        """
        ids = self.model.ids()
        if self.faults is None:
            return ArticleAvailability(tuple(ids))
        broken = {aid for aid in ids if self.faults.breaks_for_good(f"/article/{aid}", "article")}
        return ArticleAvailability(
            tuple(aid for aid in ids if aid not in broken), tuple(aid for aid in ids if aid in broken)
        )

    def next_ray(self) -> str:
        """A Cloudflare ray id (16 hex digits + the Seoul edge), deterministic per request."""
        with self._ray_lock:
            self._rays += 1
            number = self._rays
        return hashlib.sha1(f"{self.model.seed}/{number}".encode()).hexdigest()[:16] + "-ICN"

    # -- running -------------------------------------------------------------------------
    def start(self) -> ReplicaServer:
        """Serve in a background thread; returns at once."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="hkcrawl-replica", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` or KeyboardInterrupt."""
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
