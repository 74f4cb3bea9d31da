"""Bytes -> text for pages that may lie about their encoding.

Old hankyung.com pages are EUC-KR (CP949), new ones UTF-8, and mirrors or proxies
sometimes keep the old ``<meta charset>`` on re-encoded bytes. w3lib picks the
declared encoding (HTTP header, BOM, ``<meta>``) like a browser would; we only step
in when that choice visibly fails, so a correct declaration is never second-guessed.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from w3lib.encoding import html_to_unicode

_KOREAN_FALLBACKS = ("utf-8", "cp949")


@dataclass(frozen=True)
class DecodedPage:
    text: str
    encoding: str
    #: True when the declared encoding could not be right and another one was used.
    encoding_mismatch: bool = False
    #: The body itself when it is exactly ``text`` encoded as UTF-8 (most pages):
    #: the HTML parser can take it as is instead of re-encoding ``text``.
    utf8_body: bytes | None = field(default=None, repr=False, compare=False)


def _decodes_cleanly(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> DecodedPage:
    declared, text = html_to_unicode(content_type, body)
    if "\ufffd" not in text:
        # Nothing was replaced, so the decoding is lossless; only a BOM, which
        # w3lib drops from the text, would make the body differ from the text.
        lossless_utf8 = declared == "utf-8" and not body.startswith(codecs.BOM_UTF8)
        return DecodedPage(text, declared, utf8_body=body if lossless_utf8 else None)
    if _decodes_cleanly(body, declared) is not None:
        return DecodedPage(text, declared)
    # The declared encoding produced replacement characters: the bytes are not in
    # it. Try the two encodings this site has actually used.
    for encoding in _KOREAN_FALLBACKS:
        if encoding != declared and (fixed := _decodes_cleanly(body, encoding)) is not None:
            return DecodedPage(fixed, encoding, encoding_mismatch=True)
    return DecodedPage(text, declared)
