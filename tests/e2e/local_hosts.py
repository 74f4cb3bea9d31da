"""Small local servers that record every request: the site, and "another host".

127.0.0.1, 127.0.0.2 and localhost are different hosts to a crawler or a browser, so
a server on 127.0.0.2 stands for any off-site host: it must receive nothing.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: (status, headers, body) for a path, or a function of the path's hit count giving one.
Answer = tuple[int, dict[str, str], bytes]
Route = Answer | Callable[[int], Answer]


@dataclass
class RecordingServer:
    base_url: str
    routes: dict[str, Route]
    #: (time.monotonic() at arrival, path with query) of every request, in order.
    hits: list[tuple[float, str]] = field(default_factory=list)
    #: Set at the first request: lets a page wait for "did anything arrive?".
    arrived: threading.Event = field(default_factory=threading.Event)

    def times(self, path: str) -> list[float]:
        return [at for at, hit in self.hits if hit == path]


def _handler(server: RecordingServer, lock: threading.Lock) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                count = len(server.times(self.path))
                server.hits.append((time.monotonic(), self.path))
            server.arrived.set()
            route = server.routes.get(self.path, (404, {"Content-Type": "text/html"}, b"<html>not found</html>"))
            status, headers, body = route(count) if callable(route) else route
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def recording_server(host: str, routes: dict[str, Route] | None = None) -> Iterator[RecordingServer]:
    """A threaded HTTP server on ``host`` and a free port, recording what reaches it."""
    recorder = RecordingServer("", dict(routes or {}))
    httpd = http.server.ThreadingHTTPServer((host, 0), _handler(recorder, threading.Lock()))
    recorder.base_url = f"http://{host}:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
