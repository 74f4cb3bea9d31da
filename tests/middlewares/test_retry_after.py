"""Reading Retry-After: delta-seconds or an HTTP-date."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from hkcrawl.middlewares.retry_after import retry_after_seconds

NOW = datetime(2026, 11, 30, 6, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (b"2", 2.0),
        (" 120 ", 120.0),
        (b"0", 0.0),
        (format_datetime(datetime(2026, 11, 30, 6, 1, 30, tzinfo=UTC), usegmt=True), 90.0),
        ("Mon, 30 Nov 2026 05:00:00 GMT", 0.0),  # already past: retry now
        (None, None),
        (b"", None),
        (b"-5", None),
        (b"soon", None),
        (b"1.5", None),  # RFC 9110: delay-seconds is whole digits
    ],
)
def test_retry_after_values(value: bytes | str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds
