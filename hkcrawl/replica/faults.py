"""Faults on purpose: a replica that fails the way real servers and networks do.

A crawler is trusted only once it has met errors, resets, stalls, short bodies, lying
headers and hostile redirects, and still wrote exactly the articles it could get.
A fault spec is a comma-separated list of rules; each rule is colon-separated::

    SPEC   := "none" | RULE ("," RULE)*
    RULE   := FAULT ":" TARGET (":" OPTION)*
    TARGET := "all" | "articles" | "lists" | "sitemaps" | "feeds" | KIND | "/" path-prefix
    OPTION := "always" | "count=" N | "rate=" P | "share=" P | "scope=" ("path" | "site")
            | "after=" S | "secs=" S | "to=" VALUE | "mb=" N | "locs=" NAME ("+" NAME)*

Faults (and their own options):

- ``500``, ``502``, ``503``, ``404``: that status instead of the page. ``404`` on
  ``articles`` is the article listed in sections and sitemaps that is gone when fetched.
- ``429``: ``Too Many Requests`` with ``Retry-After: S`` (``after=S``, default 1). The
  next request to that path once S seconds have passed is answered normally; one that
  comes sooner gets another 429 (logged ``429-early``). Either way the log says whether
  it came early (:attr:`Decision.early`).
- ``reset``: the connection is reset (RST) without a response; ``reset-body``: headers
  and half the body, then a reset.
- ``stall``: headers, then nothing for ``secs=S`` (default 30) or until the server stops;
  after S seconds the body follows.
- ``truncate``: the full ``Content-Length``, half the body, then a clean close.
  ``truncate-nolength``: no ``Content-Length``, ``Connection: close``, half the body,
  clean close (HTTP/1.0 style: a client cannot tell the body is short).
- ``content-type``: the header replaced by ``to=TYPE``, or dropped (``to=missing``, the default).
- ``mislabel-utf8``: the body re-encoded as CP949 (EUC-KR) while the header still says
  UTF-8; ``mislabel-euckr``: a UTF-8 body declared ``charset=EUC-KR``.
- ``huge``: the page padded (an HTML comment before ``</body>``) past ``mb=N`` MiB (default 10).
- ``redirect``: a 302; ``to=loop`` (A→B→A, B being A with ``_hop=1``), ``to=self`` (A→A),
  ``to=offsite`` (``http://evil.example`` + the path), ``to=file`` (``file:///etc/passwd``).
- ``challenge``: the Cloudflare "Just a moment..." page (``scope=site`` with ``count=N``
  for N challenges in a row across the site, then recovery).
- ``extra-locs``: ``<loc>`` entries appended to a sitemap (index or urlset) pointing off
  the site: ``locs=`` any of ``offsite`` (http://evil.example/…), ``file``
  (file:///etc/passwd), ``ftp`` (ftp://ftp.evil.example/…), ``zero`` (file:///dev/zero),
  joined by ``+``; all four by default.

When a rule fires, for the requests its target matches:

- ``always`` (the default): every time; ``count=N``: the first N requests, then never
  again (a burst a retry or a later run gets through); ``rate=P``: each request with
  probability P.
- ``share=P`` (default 1) first picks a fixed share of the paths, by a hash of the path
  and the seed: ``404:articles:share=0.05`` loses the same 5 % of articles every time,
  ``404:articles:share=0.05:count=2`` gives them back after two tries.
- ``scope=path`` (default) counts requests per path (path and query as requested);
  ``scope=site`` counts all the requests the rule's target matches together.

Rules are tried in order; the first that fires answers. Every rule counts every request
its target matches, whether or not an earlier rule fired. A request to a path waiting
out a 429 is answered by that bookkeeping before any rule, and is not counted. Rates and
shares are hashes of (seed, rule, path, n-th request to the path), so the same spec and
seed give the same decisions whatever order concurrent requests arrive in.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from http import HTTPStatus

from hkcrawl.replica.site import HTML, Response, Site

#: Target names that stand for several route kinds (the ``kind`` of a :class:`Response`).
GROUPS: dict[str, frozenset[str]] = {
    "articles": frozenset({"article"}),
    "lists": frozenset({"home", "section", "all-news", "ranking", "premium", "tag"}),
    "sitemaps": frozenset({"sitemap"}),
    "feeds": frozenset({"feed"}),
}
KINDS = frozenset(
    {"article", "redirect", "home", "section", "all-news", "ranking", "premium", "tag", "robots", "sitemap", "feed"}
    | {"not_found", "challenge"}
)
STATUS_FAULTS = frozenset({"500", "502", "503", "404"})
TRANSPORT_FAULTS = frozenset({"reset", "reset-body", "stall", "truncate", "truncate-nolength"})
BODY_FAULTS = frozenset({"content-type", "mislabel-utf8", "mislabel-euckr", "huge", "redirect", "extra-locs"})
FAULTS = STATUS_FAULTS | TRANSPORT_FAULTS | BODY_FAULTS | {"429", "challenge"}
#: Faults after which the client does not have the page: an ``always`` one makes a URL unservable.
BREAKING = STATUS_FAULTS | {"reset", "reset-body", "truncate", "truncate-nolength", "redirect", "challenge"}
#: Options a fault takes besides when/share/scope.
_OWN_OPTIONS = {
    "429": "after", "stall": "secs", "content-type": "to", "redirect": "to", "huge": "mb", "extra-locs": "locs",
}  # fmt: skip
REDIRECTS = ("loop", "self", "offsite", "file")
EVIL = "http://evil.example"
EXTRA_LOCS = {
    "offsite": EVIL + "/sitemap/daily-article/20261120.xml",
    "file": "file:///etc/passwd",
    "ftp": "ftp://ftp.evil.example/sitemap/daily-article.xml",
    "zero": "file:///dev/zero",
}
_HOP = "_hop=1"


@dataclass(frozen=True)
class FaultRule:
    """One parsed rule: which fault, on what, when."""

    fault: str
    target: str  # a group, a kind, "all" or a "/prefix"
    mode: str = "always"  # "always", "count" or "rate"
    amount: float = 0  # N for count, P for rate
    share: float = 1.0
    scope: str = "path"
    value: str = ""  # the fault's own option (after, secs, to, mb, locs), as written

    def matches(self, target: str, kind: str) -> bool:
        if self.target.startswith("/"):
            return target.startswith(self.target)
        if self.target == "all":
            return True
        return kind in GROUPS.get(self.target, (self.target,))

    def __str__(self) -> str:
        parts = [self.fault, self.target]
        if self.share != 1.0:
            parts.append(f"share={_number(self.share)}")
        if self.mode != "always":
            parts.append(f"{self.mode}={_number(self.amount)}")
        if self.scope != "path":
            parts.append(f"scope={self.scope}")
        if self.value:
            parts.append(f"{_OWN_OPTIONS[self.fault]}={self.value}")
        return ":".join(parts)


@dataclass(frozen=True)
class FaultPlan:
    """A parsed fault spec; ``FaultPlan.parse("500:articles:rate=0.1,503:lists:count=3")``."""

    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def parse(cls, spec: str | FaultPlan | None) -> FaultPlan:
        """Read a spec (see the module docstring); ValueError names the bad rule and the fix."""
        if isinstance(spec, FaultPlan):
            return spec
        text = (spec or "none").strip()
        if text == "none":
            return cls()
        return cls(tuple(_parse_rule(part.strip()) for part in text.split(",")))

    def __str__(self) -> str:
        return ",".join(str(rule) for rule in self.rules) or "none"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _parse_rule(text: str) -> FaultRule:
    fault, _, rest = text.partition(":")
    target, _, options = rest.partition(":")
    if fault not in FAULTS:
        raise ValueError(f"bad fault rule {text!r}: unknown fault {fault!r}; use one of {', '.join(sorted(FAULTS))}")
    if not (target.startswith("/") or target == "all" or target in GROUPS or target in KINDS):
        raise ValueError(
            f"bad fault rule {text!r}: target {target!r} is not all, articles, lists, sitemaps, feeds, "
            "a route kind or a /path-prefix"
        )
    fields: dict[str, object] = {"fault": fault, "target": target}
    for option in options.split(":") if options else ():
        key, has_value, value = option.partition("=")
        try:
            fields.update(_option(fault, key, value if has_value else None))
        except ValueError as error:
            raise ValueError(f"bad fault rule {text!r}: {error}") from None
    if sum(key in fields for key in ("always", "mode")) > 1:
        raise ValueError(f"bad fault rule {text!r}: give at most one of always, count=N, rate=P")
    fields.pop("always", None)
    return FaultRule(**fields)  # type: ignore[arg-type]


def _option(fault: str, key: str, value: str | None) -> dict[str, object]:
    """One ``key=value`` option as FaultRule fields; ValueError says what was expected."""
    if key == "always" and value is None:
        return {"always": True}
    if value is None:
        raise ValueError(f"option {key!r} needs a value ({key}=…)")
    if key == "count" and value.isdigit():
        return {"mode": "count", "amount": int(value)}
    if key in ("rate", "share") and _probability(value):
        return {"mode": "rate", "amount": float(value)} if key == "rate" else {"share": float(value)}
    if key == "scope" and value in ("path", "site"):
        return {"scope": value}
    if key != _OWN_OPTIONS.get(fault):
        raise ValueError(f"option {key}={value} is not one {fault} takes (or its value is out of range)")
    ok = {
        "after": value.isdigit(),
        "secs": _seconds(value),
        "to": fault == "content-type" or value in REDIRECTS,
        "mb": value.isdigit() and 0 < int(value) <= 100,
        "locs": all(name in EXTRA_LOCS for name in value.split("+")),
    }[key]
    if not ok:
        raise ValueError(f"bad value in {key}={value}")
    return {"value": value}


def _probability(value: str) -> bool:
    try:
        return 0.0 <= float(value) <= 1.0
    except ValueError:
        return False


def _seconds(value: str) -> bool:
    try:
        return 0.0 <= float(value) < 86400
    except ValueError:
        return False


@dataclass(frozen=True)
class Decision:
    """What the server does with one request instead of just answering ``response``."""

    fault: str | None  # for the request log: the fault's name, "429-early", or None
    response: Response
    transport: str = "send"  # "send", or one of TRANSPORT_FAULTS
    stall: float = 0.0  # seconds, for transport "stall"
    early: bool | None = None  # a path waiting out a 429: did this request come before the wait was up?


def _unit(*parts: object) -> float:
    """A number in [0, 1) from a hash of ``parts``: stable across runs and threads."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


class FaultInjector:
    """Applies a :class:`FaultPlan` to a stream of requests; safe to call from the server's threads.

    ``clock`` (``time.monotonic``) times the 429 waits; tests may swap it for their own.
    ``offsite`` is the "other host" of off-site redirects and sitemap entries: a test
    points it at a server of its own to see that nothing reaches it.
    """

    def __init__(self, plan: FaultPlan | str | None, seed: int, site: Site, offsite: str = EVIL) -> None:
        self.plan = FaultPlan.parse(plan)
        self.seed = seed
        self.offsite = offsite.rstrip("/")
        self.clock: Callable[[], float] = time.monotonic
        self._site = site
        self._lock = threading.Lock()
        self._seen: dict[tuple[int, str], int] = {}
        self._retry_at: dict[str, float] = {}

    def decide(self, target: str, response: Response, challenge: Callable[[], Response]) -> Decision | None:
        """The fault for this request (path and query as requested), or None to answer normally."""
        with self._lock:
            retry_at = self._retry_at.get(target)
            if retry_at is not None:
                now = self.clock()
                if now < retry_at:
                    return Decision("429-early", _status("429", response.kind, math.ceil(retry_at - now)), early=True)
                del self._retry_at[target]
                return Decision(None, response, early=False)
            fired = None
            for index, rule in enumerate(self.plan.rules):
                if not rule.matches(target, response.kind) or not self._selected(rule, target):
                    continue
                key = (index, target if rule.scope == "path" else "")
                seen = self._seen[key] = self._seen.get(key, 0) + 1
                if fired is None and self._fires(rule, index, key[1], seen):
                    fired = rule
            if fired is None:
                return None
            if fired.fault == "429":
                self._retry_at[target] = self.clock() + int(fired.value or 1)
        return self._apply(fired, target, response, challenge)

    def _selected(self, rule: FaultRule, target: str) -> bool:
        return rule.share >= 1.0 or _unit(self.seed, "share", rule, target) < rule.share

    def _fires(self, rule: FaultRule, index: int, key: str, seen: int) -> bool:
        if rule.mode == "count":
            return seen <= rule.amount
        if rule.mode == "rate":
            return _unit(self.seed, "rate", index, rule, key, seen) < rule.amount
        return True

    def breaks_for_good(self, target: str, kind: str) -> bool:
        """True if no request to ``target`` will ever get its page (an ``always`` breaking rule wins)."""
        for rule in self.plan.rules:
            if not rule.matches(target, kind) or not self._selected(rule, target):
                continue
            if rule.mode == "always" or (rule.mode == "rate" and rule.amount >= 1):
                if rule.fault == "redirect" and (rule.value or "loop") == "loop" and _HOP not in target:
                    # A -> A?_hop=1 -> A loops only if the hop is redirected too; else the hop has the page.
                    return self.breaks_for_good(_with_hop(target), kind)
                return rule.fault in BREAKING
            if rule.mode == "rate" and rule.amount > 0 and rule.fault not in BREAKING:
                return False  # sometimes this harmless fault fires first, and the page gets through
        return False

    def _apply(self, rule: FaultRule, target: str, response: Response, challenge: Callable[[], Response]) -> Decision:
        fault, kind = rule.fault, response.kind
        if fault == "404":
            return Decision(fault, replace(self._site.not_found(), kind=kind))
        if fault in STATUS_FAULTS or fault == "429":
            return Decision(fault, _status(fault, kind, int(rule.value or 1)))
        if fault in TRANSPORT_FAULTS:
            return Decision(fault, response, fault, float(rule.value or 30))
        if fault == "challenge":
            return Decision(fault, challenge())
        if fault == "redirect":
            return Decision(fault, self._redirect(rule.value or "loop", target, kind))
        if fault == "content-type":
            to = rule.value or "missing"
            return Decision(fault, replace(response, content_type="" if to == "missing" else to))
        if fault == "mislabel-utf8":
            body = response.body.decode("utf-8").encode("cp949", "xmlcharrefreplace")
            return Decision(fault, replace(response, body=body))
        if fault == "mislabel-euckr":
            declared = re.sub(r"charset=[\w-]+", "charset=EUC-KR", response.content_type)
            return Decision(fault, replace(response, content_type=declared))
        if fault == "huge":
            return Decision(fault, replace(response, body=_padded(response.body, int(rule.value or 10))))
        return Decision(fault, replace(response, body=_extra_locs(response.body, rule.value, self.offsite)))

    def _redirect(self, to: str, target: str, kind: str) -> Response:
        if to == "file":
            location = "file:///etc/passwd"
        elif to == "offsite":
            location = self.offsite + target
        elif to == "loop" and _HOP not in target:
            location = self._site.base + _with_hop(target)
        else:  # "self", or the B of a loop going back to A
            location = self._site.base + re.sub(rf"[?&]{_HOP}$", "", target)
        body = f'<html><body>Moved: <a href="{location}">{location}</a></body></html>'.encode()
        return Response(302, HTML, body, kind, (("Location", location),))


def _with_hop(target: str) -> str:
    """The B of a redirect loop A -> B -> A."""
    return target + ("&" if "?" in target else "?") + _HOP


def _status(fault: str, kind: str, retry_after: int) -> Response:
    """A Cloudflare-style error page; a 429 says when to come back."""
    status = int(fault)
    reason = HTTPStatus(status).phrase
    body = f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}</h1></body></html>"
    headers = (("Retry-After", str(retry_after)),) if status == 429 else ()
    return Response(status, HTML, body.encode(), kind, headers)


@cache
def _padding(size: int) -> bytes:
    return b"<!-- " + b"padding " * (size // 8) + b"-->\n"


def _padded(body: bytes, megabytes: int) -> bytes:
    """``body`` grown past ``megabytes`` MiB by a comment before ``</body>`` (appended if there is none)."""
    padding = _padding(megabytes * 2**20 - len(body) + 16)
    at = body.rfind(b"</body>")
    return body + padding if at < 0 else body[:at] + padding + body[at:]


def _extra_locs(body: bytes, names: str, offsite: str = EVIL) -> bytes:
    """``body`` (a sitemap index or urlset) with off-site ``<loc>`` entries before its closing tag."""
    locs = [EXTRA_LOCS[name].replace(EVIL, offsite, 1) for name in (names.split("+") if names else EXTRA_LOCS)]
    for closing, entry in ((b"</sitemapindex>", b"sitemap"), (b"</urlset>", b"url")):
        at = body.rfind(closing)
        if at >= 0:
            added = b"".join(b"<%s>\n  <loc>%s</loc>\n</%s>\n" % (entry, loc.encode(), entry) for loc in locs)
            return body[:at] + added + body[at:]
    return body
