"""The ``hankyung`` spider's arguments (``-a name=value``), read and checked in one place.

The crawl command checks them before the crawl starts, so a typo ends in one line on
stderr and exit status 2 instead of a traceback from inside the running crawl; the
spider reads them with the same function, so the two can never disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hkcrawl.sections import list_paths

DISCOVERY_MODES = ("sections", "all-news", "sitemap", "feeds")
RENDER_MODES = ("never", "auto", "always")
DEFAULT_DISCOVERY = ("sitemap", "sections")
#: List pages read per list when neither -a max_pages nor -a since says otherwise.
DEFAULT_MAX_PAGES = 3
#: Related-article steps followed from a discovered article unless -a related_depth says otherwise.
DEFAULT_RELATED_DEPTH = 1
NAMES = (
    "urls", "urls_file", "discover", "sections", "max_pages", "since", "until",
    "related_depth", "max_articles", "render",
)  # fmt: skip


class BadArgument(ValueError):
    """An argument the spider cannot use; the message is one line naming it, what it got
    and what it accepts."""


@dataclass(frozen=True)
class SpiderArguments:
    requested_urls: list[str]
    discovery: list[str]
    list_paths: list[str]
    since: date | None
    until: date | None
    max_pages: int | None  # None: no limit
    related_depth: int
    # Given URLs start at this depth: related_depth (so none is followed from them)
    # unless the user asked for related_depth explicitly, then 0.
    urls_depth: int
    max_articles: int | None
    render: str


def parse_arguments(given: Mapping[str, object]) -> SpiderArguments:
    """The spider's arguments from ``-a`` values (strings; others are taken as their str()).

    An empty value is the same as not giving the argument. Raises BadArgument.
    """
    unknown_names = [name for name in given if name not in NAMES and not name.startswith("_")]
    if unknown_names:
        raise BadArgument(_unknown_name(unknown_names[0]))
    raw = {name: str(value).strip() for name, value in given.items() if name in NAMES and value is not None}
    args = {name: value for name, value in raw.items() if value}

    render = args.get("render", "auto")
    if render not in RENDER_MODES:
        raise BadArgument(f"-a render={render}: accepts {', '.join(RENDER_MODES)}")

    requested = _split(args.get("urls")) + (_read_urls_file(args["urls_file"]) if "urls_file" in args else [])
    default_discovery = [] if requested else list(DEFAULT_DISCOVERY)  # given URLs: only them
    discovery = _split(raw["discover"]) if "discover" in raw else default_discovery
    unknown = [mode for mode in discovery if mode not in DISCOVERY_MODES]
    if unknown:
        raise BadArgument(
            f"-a discover={raw['discover']}: unknown mode {', '.join(map(repr, unknown))}; "
            f"accepts any of {', '.join(DISCOVERY_MODES)}, comma-separated"
        )

    try:
        paths = list_paths(_split(args.get("sections")) or None)
    except ValueError as error:
        raise BadArgument(f"-a sections={args['sections']}: {error}") from None

    since = _day(args, "since")
    until = _day(args, "until")
    if since and until and until < since:
        raise BadArgument(f"-a until={until} is before since={since}: accepts a day on or after since")

    max_pages = _whole_number(args, "max_pages", minimum=1)
    if max_pages is None and not since:
        max_pages = DEFAULT_MAX_PAGES
    related_depth = _whole_number(args, "related_depth", minimum=0)
    return SpiderArguments(
        requested_urls=requested,
        discovery=discovery,
        list_paths=paths,
        since=since,
        until=until,
        max_pages=max_pages,
        related_depth=DEFAULT_RELATED_DEPTH if related_depth is None else related_depth,
        urls_depth=0 if related_depth is not None else DEFAULT_RELATED_DEPTH,
        max_articles=_whole_number(args, "max_articles", minimum=1),
        render=render,
    )


def _unknown_name(name: str) -> str:
    """A typo such as ``-a sinse=…`` would otherwise crawl everything without the limit it meant."""
    close = difflib.get_close_matches(name, NAMES, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"-a {name}: no such argument; {hint}accepts {', '.join(NAMES)}"


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _day(args: Mapping[str, str], name: str) -> date | None:
    value = args.get(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadArgument(f"-a {name}={value}: not a date; accepts a KST day as YYYY-MM-DD") from None


def _whole_number(args: Mapping[str, str], name: str, minimum: int) -> int | None:
    value = args.get(name)
    if value is None:
        return None
    number = int(value) if value.isascii() and value.isdigit() else None
    if number is None or number < minimum:
        raise BadArgument(f"-a {name}={value}: accepts a whole number, {minimum} or more")
    return number


def _read_urls_file(path: str) -> list[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise BadArgument(f"-a urls_file={path}: cannot read it ({why}); accepts a UTF-8 text file") from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
