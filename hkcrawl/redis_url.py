"""A Redis URL as messages show it: the operator needs to see which Redis, never its password.

One function for every distributed-mode message (run failures, seed, watch). Imports
nothing of Redis, so a message can be built whatever is installed.
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
