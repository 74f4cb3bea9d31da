"""A Redis URL as messages show it: the operator needs to see which Redis, never its password.

One function for every distributed-mode message (run failures, seed, watch), and one
for the line a Redis error fails a worker with, whichever part met it first (the
scheduler, the shared state, the near-duplicate index): workers that lose one Redis
say the same thing. Imports nothing of Redis at module level, so a message can be
built whatever is installed.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def shown_url(url: str) -> str:
    """``url`` without its password (the user name stays); a port that is no number is left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{parts.hostname or ''}{port}"))


def redis_failure(url: str, error: BaseException, part: str = "") -> str:
    """The worker's one-line reason for a Redis error: which Redis (no password), what went
    wrong and in which part of the crawl (``part``) and, when it is gone, what to do."""
    import redis

    where = f"Redis at {shown_url(url) or 'HKCRAWL_REDIS_URL'}"
    detail = ": ".join(filter(None, (part, type(error).__name__, " ".join(str(error).split()))))
    if isinstance(error, (redis.ConnectionError, redis.TimeoutError)):
        return f"{where} is unreachable ({detail}): start the workers again once it is back"
    return f"{where} failed ({detail})"
