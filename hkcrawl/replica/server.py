"""The replica over HTTP: a threaded stdlib server, a request log, the challenge switch.

Use it as a context manager in tests (``with ReplicaServer(SiteModel(articles=300))
as replica: replica.base_url``; it runs in a thread on a free port) or from the
command line (``python -m hkcrawl.replica``). Every response says ``server:
cloudflare``, as the real site's do, so a challenge is told apart by its status,
``cf-mitigated`` header and body, not by the server header.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections import Counter
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from hkcrawl.replica.challenge import CHALLENGE_HEADERS, ChallengePolicy, Challenger, challenge_page
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
        # Logged before answering, so a client that has its answer always finds it logged.
        replica.log.add(
            RequestRecord(
                time.time(), self.command, self.path, response.status, response.kind, self.headers.get("User-Agent", "")
            )
        )
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        if self.request_version == "HTTP/1.0" and not self.close_connection:
            self.send_header("Connection", "keep-alive")  # HTTP/1.0 keep-alive must be echoed
        self.send_header("cf-ray", ray)
        self.end_headers()
        if send_body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.replica.verbose:
            super().log_message(format, *args)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under a burst of new ones
    # (a crawler without keep-alive, ab -c 8), which then stall for a SYN retry.
    request_queue_size = 128
    replica: ReplicaServer


class ReplicaServer:
    """Serve a :class:`SiteModel` on ``host:port`` (port 0: any free one).

    ``challenge`` is a policy string (``"none"``, ``"all"``, ``"after:3"``, ``"rate:0.2"``,
    ``"path:/feed"``) or a :class:`ChallengePolicy`; change it while running with
    :meth:`set_challenge`. ``base_url`` overrides the URL written into pages (for a
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
