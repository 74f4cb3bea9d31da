"""The README's loading examples stay in step with the record (pandas and datasets are not
installed here, so the snippets were run by hand; this catches a field added later)."""

from __future__ import annotations

import dataclasses
import re

from hkcrawl.items import Article
from tests.conftest import ROOT


def _using_the_data() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("## Using the data") : readme.index("## How it works")]


def test_huggingface_features_name_every_field() -> None:
    block = next(b for b in re.findall(r"```python\n(.*?)```", _using_the_data(), re.S) if "Features(" in b)
    features = re.sub(r"\[\{.*?\}\]", "[]", block[block.index("Features(") :])  # drop authors/images' inner keys
    assert re.findall(r'"(\w+)":', features) == [f.name for f in dataclasses.fields(Article)]


def test_record_table_has_a_row_per_field() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| ", readme[readme.index("## The record") :], re.M)
    assert [f.name for f in dataclasses.fields(Article)] == rows[: len(dataclasses.fields(Article))]
