"""WeChat IDs (微信号) and QQ numbers: a WeChat ID is a contact number like a mobile, QQ is only shown.

A WeChat ID is folded as WeChat itself compares them (trimmed, full-width to half-width, lower case) and
must look like one (6 to 20 letters, digits, - and _, beginning with a letter). WeChat also lets a person
use a mobile number as the ID: such an ID *is* that mobile, parsed by `phones.phone_keys`, so that it
matches, and is kept unique, as the mobile of any customer (it stays in the `wechat` field, written as the
11 digits; it does not fill `mobile`). Any other ID is a key of its own (`wechat_keys`), held in
opportunity_phone as field `wechat`, kind `mobile`: the same unique index as mobiles keeps it unique among
live customers, and everything that drops or restores a record's mobile keys does the same for it.

Pure: no database, no Flask. The problems are English; the app says them in the reader's language.
"""
from __future__ import annotations

import re
import unicodedata

from .phones import PhoneKey, phone_keys, phone_problem

_WECHAT_RE = re.compile(r"[a-z][a-z0-9_-]{5,19}")
_QQ_RE = re.compile(r"[1-9][0-9]{4,10}")
_NOT_LETTERS_RE = re.compile(r"[^a-z]+")
WECHAT_FIELD = "wechat"  # opportunity_phone.field of a WeChat ID's key


def _folded(raw: str | None) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip().lower()


def _as_mobile(folded: str) -> PhoneKey | None:
    """The mobile an ID without letters is (13800138000, +86 138 0013 8000), else None."""
    if not folded or not _NOT_LETTERS_RE.fullmatch(folded) or phone_problem(folded):
        return None
    keys = phone_keys(folded)
    return keys[0] if len(keys) == 1 and keys[0].kind == "mobile" and keys[0].extension is None else None


def fold_wechat(raw: str | None) -> str:
    """The WeChat ID as stored: folded, or a mobile's 11 digits; "" for a blank one."""
    folded = _folded(raw)
    mobile = _as_mobile(folded)
    return mobile.local if mobile is not None else folded


def wechat_problem(raw: str | None) -> str | None:
    """Why a WeChat field is no WeChat ID, in English; None when it is one, or blank."""
    folded = _folded(raw)
    if not folded or _as_mobile(folded) is not None or _WECHAT_RE.fullmatch(folded):
        return None
    if not folded[0].isascii() or not folded[0].isalpha():
        return "a WeChat ID begins with a letter"
    if not 6 <= len(folded) <= 20:
        return "a WeChat ID has 6 to 20 characters"
    return "a WeChat ID has only letters, digits, - and _"


def wechat_keys(raw: str | None) -> tuple[list[PhoneKey], list[PhoneKey]]:
    """(mobile keys, WeChat keys) of a WeChat field: an ID that is a mobile number is a mobile key; a
    valid ID is a WeChat key (kind `mobile`, as the unique index holds it); an invalid one is neither."""
    folded = _folded(raw)
    mobile = _as_mobile(folded)
    if mobile is not None:
        return [mobile], []
    if _WECHAT_RE.fullmatch(folded):
        return [], [PhoneKey(folded, None, "mobile")]
    return [], []


def qq_problem(raw: str | None) -> str | None:
    """Why a QQ field is no QQ number (5 to 11 digits, not beginning with 0), in English; None when blank."""
    folded = _folded(raw)
    if not folded or _QQ_RE.fullmatch(folded):
        return None
    return "a QQ number has 5 to 11 digits"


def fold_qq(raw: str | None) -> str:
    return _folded(raw)
