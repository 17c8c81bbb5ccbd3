"""Folding (manual §三): a name or a place as the check compares it, whatever its script, width and case.

``fold(text)``: NFKC (full-width → half-width), Traditional→Simplified (OpenCC ``t2s``), lower case, no
whitespace or punctuation. Pure: no database, no Flask.
"""
from __future__ import annotations

import re
import unicodedata

import opencc

_T2S = opencc.OpenCC("t2s")
NON_WORD_RE = re.compile(r"[\W_]+")


def _changed_by_t2s() -> frozenset[str]:
    """The characters OpenCC t2s changes: a text with none of them needs no conversion
    (the common case, Simplified input), which saves the converter's call."""
    ranges = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
    chars = [chr(c) for lo, hi in ranges for c in range(lo, hi)]
    converted = _T2S.convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a conversion across lines: convert every text
        return frozenset(chars)
    return frozenset(c for c, t in zip(chars, converted) if c != t)


_TRADITIONAL = _changed_by_t2s()


def prefold(text: str) -> str:
    """NFKC, Traditional→Simplified, lower case: punctuation and spaces still there."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    if not _TRADITIONAL.isdisjoint(text):
        text = _T2S.convert(text)
    return text.lower()


def fold(text: str | None) -> str:
    """NFKC (full-width → half-width), OpenCC t2s, lower case, no whitespace/punctuation.

    >>> fold("上海瑞麗 服裝（有限）公司")
    '上海瑞丽服装有限公司'
    """
    if not text:
        return ""
    return NON_WORD_RE.sub("", prefold(text))
