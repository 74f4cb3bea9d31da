"""How a fetch ended, in words a report can count: ``http_500``, ``timeout``, ``truncated`` …

Scrapy hands errbacks a Twisted Failure whose type depends on the download handler
and middleware that gave up; users need one stable name per cause, and a refusal
by policy (robots.txt, an off-site hop) must not look like a broken site.
"""

from __future__ import annotations

import re

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, ConnectionLost, DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeout
from twisted.python.failure import Failure

from hkcrawl.middlewares.offsite import OffsiteRequest
from hkcrawl.middlewares.retry_after import RetryAfterTooLong

#: Messages of IgnoreRequest that are policy, not failure: the URL is not for us to fetch.
_POLICY_REFUSALS = ("Forbidden by robots.txt", "Off-site request refused", "Retry-After")

_BY_TYPE: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((ResponseDataLossError,), "truncated"),
    ((DownloadTimeoutError, TwistedTimeout), "timeout"),
    ((CannotResolveHostError, DNSLookupError), "dns"),
    ((DownloadConnectionRefusedError,), "refused"),
    ((DownloadCancelledError,), "cancelled"),
    ((UnsupportedURLSchemeError,), "bad_scheme"),
    ((DownloadFailedError, ConnectionLost), "connection_lost"),
    ((ConnectError,), "connect_failed"),
)


def failure_reason(failure: Failure) -> str | None:
    """A short reason for a request that finally failed, or None for a refusal by policy."""
    error = failure.value
    message = str(error)
    if isinstance(error, HttpError):
        status = error.response.status
        # A 3xx that reaches here is one RedirectMiddleware would not follow: its
        # Location is missing or not http(s) (a file: or javascript: URL).
        return "bad_redirect" if 300 <= status < 400 else f"http_{status}"
    if isinstance(error, IgnoreRequest):
        if isinstance(error, OffsiteRequest) and request_was_redirected(failure):
            return "offsite_redirect"  # the site sent the article elsewhere: not saved
        if isinstance(error, RetryAfterTooLong):
            return "retry_after_too_long"
        if any(marker in message for marker in _POLICY_REFUSALS):
            return None
        if "max redirections" in message:
            return "redirect_loop"
        if "challenge" in message:
            return "blocked"
        return "ignored"
    if "download max size" in message or "maxsize" in message:
        return "too_large"
    if "data loss" in message.lower() or "dataloss" in message.lower():
        return "truncated"
    for types, reason in _BY_TYPE:
        if isinstance(error, types):
            return reason
    return _snake(type(error).__name__)


def request_was_redirected(failure: Failure) -> bool:
    request = getattr(failure, "request", None)
    return bool(request is not None and request.meta.get("redirect_urls"))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


#: How far from the end the closing tag is looked for (trailing scripts, comments, ads).
_TAIL = 64 * 1024
_CLOSING_TAG = re.compile(rb"</(?:html|body)", re.IGNORECASE)


def looks_truncated(body: bytes) -> bool:
    """True when an HTML page stops before its end: no closing ``</html>`` or ``</body>``.

    Every page the site serves ends with ``</html>`` (hankyung-site.md; the saved
    2018 homepage too). A server that closes the connection early without a
    Content-Length leaves a download that looks finished; only the markup tells.
    Empty and non-HTML bodies are left to the parser to name.
    """
    head = body[:2048].lstrip().lower()
    if not head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<!--")) and b"<html" not in head:
        return False
    return _CLOSING_TAG.search(body, max(0, len(body) - _TAIL)) is None
