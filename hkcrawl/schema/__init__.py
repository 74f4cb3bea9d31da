"""The JSON Schema of one exported record (``article.schema.json``, shipped with the package).

The file is the contract for people who load the data with other tools; the
README's record table explains each field, the schema says what values it may hold.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

SCHEMA_FILE = "article.schema.json"


@cache
def article_schema() -> dict[str, Any]:
    """The parsed schema; loaded once, read from the installed package (works from a wheel too)."""
    return json.loads(files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))
