"""Cloudflare-style challenges (hankyung-site.md §6), switchable at start and at run time.

A policy is a comma-separated list of rules; a request is challenged when any rule
says so:

- ``none`` / ``all``
- ``after:N``: the first N requests pass, every later one is challenged (the live
  site challenged a 4th rapid request)
- ``rate:P``: each request with probability P (a seeded RNG: reproducible)
- ``path:/feed``: every request whose path starts with the prefix (the feeds were
  100 % challenged for days in August 2026)
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

CHALLENGE_HEADERS = (
    ("cf-mitigated", "challenge"),
    ("Cache-Control", "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0"),
    ("Expires", "Thu, 01 Jan 1970 00:00:01 GMT"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


@dataclass(frozen=True)
class Rule:
    kind: str  # "all", "after", "rate" or "path"
    value: str = ""


@dataclass(frozen=True)
class ChallengePolicy:
    rules: tuple[Rule, ...] = ()
    status: int = 403  # Cloudflare answers a challenge with 403 (or 503 for the older JS challenge)

    @classmethod
    def parse(cls, spec: str | ChallengePolicy | None, status: int = 403) -> ChallengePolicy:
        """``"none"``, ``"all"``, ``"after:3"``, ``"rate:0.2"``, ``"path:/feed"`` or several joined by commas."""
        if isinstance(spec, ChallengePolicy):
            return spec
        rules = []
        for part in (spec or "none").split(","):
            kind, _, value = part.strip().partition(":")
            if kind == "none":
                continue
            if kind == "all":
                rules.append(Rule("all"))
            elif kind == "after" and value.isdigit():
                rules.append(Rule("after", value))
            elif kind == "rate" and _is_probability(value):
                rules.append(Rule("rate", value))
            elif kind == "path" and value.startswith("/"):
                rules.append(Rule("path", value))
            else:
                raise ValueError(f"bad challenge rule {part!r}: use none, all, after:N, rate:0.2 or path:/prefix")
        if status not in (403, 503):
            raise ValueError(f"challenge status must be 403 or 503, not {status}")
        return cls(tuple(rules), status)

    def __str__(self) -> str:
        return ",".join(f"{r.kind}:{r.value}" if r.value else r.kind for r in self.rules) or "none"


def _is_probability(value: str) -> bool:
    try:
        return 0.0 <= float(value) <= 1.0
    except ValueError:
        return False


class Challenger:
    """Applies a policy to a stream of requests; safe to call from the server's threads."""

    def __init__(self, policy: ChallengePolicy | str | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.set(policy)

    def set(self, policy: ChallengePolicy | str | None, status: int | None = None) -> ChallengePolicy:
        """Replace the policy; ``after:N`` counts again from zero."""
        parsed = ChallengePolicy.parse(policy)
        if status is not None:
            parsed = ChallengePolicy(parsed.rules, status)
        with self._lock:
            self.policy = parsed
            self._seen = 0
            self._rng = random.Random(self._seed)
        return parsed

    def check(self, path: str) -> bool:
        """Count one request to ``path``; True if it gets a challenge page."""
        with self._lock:
            self._seen += 1
            hit = False
            for rule in self.policy.rules:
                if rule.kind == "rate":
                    hit = self._rng.random() < float(rule.value) or hit  # draw every time: reproducible
                elif rule.kind == "all":
                    hit = True
                elif rule.kind == "after":
                    hit = hit or self._seen > int(rule.value)
                elif rule.kind == "path":
                    hit = hit or path.startswith(rule.value)
            return hit


def challenge_page(ray: str, host: str) -> str:
    """The interactive challenge page as the recon saw it: "Just a moment…", ``_cf_chl_opt``."""
    return f"""<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta http-equiv="X-UA-Compatible" content="IE=Edge"><meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"><style>*{{box-sizing:border-box;margin:0;padding:0}}html{{line-height:1.15;-webkit-text-size-adjust:100%;color:#313131;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}}body{{display:flex;flex-direction:column;height:100vh;min-height:100vh}}.main-content{{margin:8rem auto;max-width:60rem;padding-left:1.5rem}}</style></head><body><div class="main-wrapper" role="main"><div class="main-content"><noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript></div></div><script>(function(){{window._cf_chl_opt = {{cvId: '3',cZone: '{host}',cType: 'interactive',cRay: '{ray}',cH: 'Yk1Hc2xQb2xiS3RNQ2xPNVdVb3h1QT09',cUPMDTk: "\\/?__cf_chl_tk=replica",cFPWv: 'g',cITimeS: '1763628000',cTplC: 0,cTplV: 5,cTplB: 'cf',fa: "\\/?__cf_chl_f_tk=replica",md: 'replica',mdrd: 'replica',cRq: {{ru: 'aHR0cHM6Ly93d3cuaGFua3l1bmcuY29tLw==',ra: 'replica',d: 'replica'}}}};var cpo = document.createElement('script');cpo.src = '/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray={ray}';window._cf_chl_opt.cOgUHash = location.hash === '' && location.href.indexOf('#') !== -1 ? '#' : location.hash;window._cf_chl_opt.cOgUQuery = location.search === '' && location.href.slice(0, location.href.length - window._cf_chl_opt.cOgUHash.length).indexOf('?') !== -1 ? '?' : location.search;if (window.history && window.history.replaceState) {{var ogU = location.pathname + window._cf_chl_opt.cOgUQuery + window._cf_chl_opt.cOgUHash;history.replaceState(null, null, "\\/?__cf_chl_rt_tk=replica" + window._cf_chl_opt.cOgUHash);cpo.onload = function() {{history.replaceState(null, null, ogU);}};}}document.getElementsByTagName('head')[0].appendChild(cpo);}}());</script></body></html>"""  # noqa: E501
