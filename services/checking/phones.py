"""Phone and fax fields (manual §三) to ``PhoneKey``s, parsed with libphonenumber (``phonenumbers``): every
number in a field, landlines with their area code apart, so that a number entered without it still matches
(manual: 固定电话/传真不带区号); and why a field is not (only) phone numbers (``phone_problem``, in English).

Pure: no database, no Flask.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class PhoneKey:
    """One phone number.

    local:      the number without area code for a landline (2398577); the 11 digits
                for a mobile; the whole national number for 400/800 and foreign numbers.
    area_code:  with its trunk 0 (0514, 010), or None when not given / not applicable.
    kind:       'landline' or 'mobile'.
    extension:  digits after 转/ext./x or a trailing -801, or None.
    e164:       +865142398577 when libphonenumber holds the number valid, else None
                (old 7-digit numbers, a landline without area code).
    """

    local: str
    area_code: str | None
    kind: str
    extension: str | None = None
    e164: str | None = None

    @property
    def display(self) -> str:
        number = f"{self.area_code}-{self.local}" if self.area_code else self.local
        return f"{number} ext. {self.extension}" if self.extension else number


_CN = phonenumbers.PhoneMetadata.metadata_for_region("CN")
_MOBILE_RE = re.compile(_CN.mobile.national_number_pattern)
_FIXED_RE = re.compile(_CN.fixed_line.national_number_pattern)
_DASHES = "‐‑‒–—―⁃−－﹣~～_"
_DASH_TABLE = str.maketrans({c: "-" for c in _DASHES})
_SPLIT_RE = re.compile(r"[/、,;|\\]+|或|及|\s{2,}")
_EXT_RE = re.compile(r"(?:转|轉|分机|分機|ext\.?|extension|x|#|\*)\s*(\d{1,6})\s*$", re.IGNORECASE)
_TOKEN_RE = re.compile(r"\+?\d+")


def _landline_split(national: str) -> tuple[str, str] | None:
    """'05142398577' → ('0514', '2398577'): China's plan: 010 and 02x, else 0xxx."""
    if len(national) < 10 or national[0] != "0" or national[1] == "0":
        return None
    alen = 3 if national[1] in "12" else 4
    area, local = national[:alen], national[alen:]
    if len(local) not in (7, 8) or local[0] in "01":
        return None
    return area, local


def _classify(digits: str, plus: bool) -> PhoneKey | None:
    """One number from its digits: a PhoneKey, or None when it is not one."""
    if plus or digits.startswith("00"):
        intl = digits.removeprefix("00")
        if not intl.startswith("86"):
            return _classify_foreign("+" + intl)
        national = intl[2:]
    elif digits.startswith("86") and len(digits) >= 12:
        national = digits[2:]  # 86 13800138000, 86 514 2398577
    else:
        return _classify_national(digits)
    if not national:
        return None
    if national[0] == "0" or (national[0] == "1" and len(national) == 11) \
            or (len(national) == 10 and national.startswith(("400", "800"))):
        return _classify_national(national)
    return _classify_national("0" + national)  # +86 514 2398577: the trunk 0 is implied


def _classify_national(n: str) -> PhoneKey | None:
    length = len(n)
    if length == 11 and n[0] == "1":
        if n[1] in "3456789":
            e164 = "+86" + n if _MOBILE_RE.fullmatch(n) else None
            return PhoneKey(n, None, "mobile", None, e164)
        return None
    if n[0] == "0":
        split = _landline_split(n)
        if split is None:
            return None
        area, local = split
        e164 = "+86" + area[1:] + local if _FIXED_RE.fullmatch(area[1:] + local) else None
        return PhoneKey(local, area, "landline", None, e164)
    if length == 10 and n.startswith(("400", "800")):
        return PhoneKey(n, None, "landline", None, "+86" + n)
    if length in (7, 8) and n[0] not in "01":
        return PhoneKey(n, None, "landline", None, None)
    return None


def _classify_foreign(text: str) -> PhoneKey | None:
    try:
        num = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    kind = "mobile" if phonenumbers.number_type(num) == phonenumbers.PhoneNumberType.MOBILE \
        else "landline"
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return PhoneKey(e164, None, kind, None, e164)


def _parse_piece(piece: str, previous: PhoneKey | None) -> tuple[list[PhoneKey], str | None]:
    """One separated piece of a phone field: its numbers and a problem, if any."""
    piece, ext = _split_extension(piece)
    tokens = [(t.group(), t.start()) for t in _TOKEN_RE.finditer(piece)]
    if not tokens:
        return [], ("no digits" if piece.strip() else None)
    plus = tokens[0][0].startswith("+")
    words = [t.lstrip("+") for t, _ in tokens]
    # the readings in turn, the first that gives a number wins
    key = _continued(words, plus, ext, previous) or _one_number(words, plus, ext, previous) \
        or _with_trailing_extension(words, plus, ext)
    if key is not None:
        return [key], None
    return _several_numbers(words, plus, ext)


def _split_extension(piece: str) -> tuple[str, str | None]:
    """(the piece without its extension, the extension): 转801, ext. 801, x801 after a number."""
    m = _EXT_RE.search(piece)
    if m and _TOKEN_RE.search(piece[: m.start()]):
        return piece[: m.start()], m.group(1)
    return piece, None


def _continued(words: list[str], plus: bool, ext: str | None, previous: PhoneKey | None) -> PhoneKey | None:
    """0514-2398577/78: a short piece after a landline replaces the end of its local part."""
    digits = "".join(words)
    if (previous is None or previous.kind != "landline" or len(words) != 1 or plus or ext
            or len(digits) > 4 or len(digits) >= len(previous.local)):
        return None
    local = previous.local[: -len(digits)] + digits
    return _classify_national((previous.area_code or "") + local)


def _one_number(words: list[str], plus: bool, ext: str | None, previous: PhoneKey | None) -> PhoneKey | None:
    """The piece's digits as one number, with the previous number's area code when it has none."""
    key = _classify("".join(words), plus)
    if key is None:
        return None
    if (previous is not None and previous.area_code and key.kind == "landline"
            and key.area_code is None and len(key.local) == len(previous.local)):
        # 0514-2398577/2398578: the second number shares the first one's area code
        key = _classify_national(previous.area_code + key.local) or key
    return _with_ext(key, ext)


def _with_trailing_extension(words: list[str], plus: bool, ext: str | None) -> PhoneKey | None:
    """0514-2398577-801: a trailing group of 1-5 digits after a landline with its area code is an extension."""
    if len(words) < 2 or len(words[-1]) > 5 or ext is not None:
        return None
    key = _classify("".join(words[:-1]), plus)
    if key is not None and key.kind == "landline" and key.area_code:
        return _with_ext(key, words[-1])
    return None


def _several_numbers(words: list[str], plus: bool, ext: str | None) -> tuple[list[PhoneKey], str | None]:
    """Several numbers separated by spaces: grouped greedily, the longest valid first; a problem for the
    groups that are no number."""
    found: list[PhoneKey] = []
    problem = None
    i, n = 0, len(words)
    while i < n:
        for j in range(n, i, -1):
            key = _classify("".join(words[i:j]), plus and i == 0)
            if key is not None:
                found.append(key)
                i = j
                break
        else:
            problem = _digits_problem(words[i])
            i += 1
    if found and ext:
        found[-1] = _with_ext(found[-1], ext)
    if not found:
        return [], _digits_problem("".join(words))
    return found, problem


def _with_ext(key: PhoneKey, ext: str | None) -> PhoneKey:
    if not ext:
        return key
    return PhoneKey(key.local, key.area_code, key.kind, ext, key.e164)


def _digits_problem(digits: str) -> str:
    if len(digits) < 7:
        return "too short for a phone number"
    if len(digits) > 15:
        return "too many digits for one phone number"
    if digits[0] == "1" and len(digits) != 11:
        return "a mobile number has 11 digits"
    if digits[0] == "0":
        return "unknown area code or wrong number of digits"
    return "not a valid phone number"


# The common shapes, parsed without the general path: 0514-2398577, 13800138000.
_SIMPLE_PHONE_RE = re.compile(
    r"\s*(?:[(（]?(0\d{2,3})[)）]?[-—–－ ]*)?(\d{7,8}|1\d{10})(?:\s*(?:转|ext\.?\s*|x)(\d{1,6}))?\s*")


@functools.lru_cache(maxsize=2048)
def _parse_field(raw: str) -> tuple[tuple[PhoneKey, ...], str | None]:
    m = _SIMPLE_PHONE_RE.fullmatch(raw)
    if m:
        key = _classify_national((m.group(1) or "") + m.group(2))
        if key is not None and (m.group(1) is None or key.area_code == m.group(1)):
            return (_with_ext(key, m.group(3)),), None
    text = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
    text = text.translate(_DASH_TABLE)
    keys: list[PhoneKey] = []
    problem = None
    previous = None
    for piece in _SPLIT_RE.split(text):
        if not piece.strip():
            continue
        found, p = _parse_piece(piece, previous)
        for k in found:
            if k not in keys:
                keys.append(k)
        if found:
            previous = found[-1]
        problem = problem or p
    if not keys and not problem and text.strip():
        problem = "no digits"
    return tuple(keys), problem


def phone_keys(raw: str | None) -> list[PhoneKey]:
    """Every number in a phone or fax field (split on / 、 , ; and spaces between numbers).

    >>> [k.display for k in phone_keys("0514——2398577转801 / 13800138000")]
    ['0514-2398577 ext. 801', '13800138000']
    """
    if not raw or not raw.strip():
        return []
    return list(_parse_field(raw)[0])


def phone_problem(raw: str | None) -> str | None:
    """Why a phone field is not (only) phone numbers, in English; None when it is, or blank."""
    if not raw or not raw.strip():
        return None
    return _parse_field(raw)[1]
