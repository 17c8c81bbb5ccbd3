"""Area codes → places (libphonenumber's geocoding data), read once, on demand: whether a landline's area
code contradicts a place. Pure: no database, no Flask.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import phonenumbers

from .regions import CITY, _lookup, _parse_regions

_GEO_LINE_RE = re.compile(r"^ '86(10|[02-9]\d{1,2})':\{[^}]*'zh': u\('([^']*)'\)")


@functools.lru_cache(maxsize=1)
def _area_code_table() -> dict[str, tuple[str, frozenset[str]]]:
    """'0514' → ('江苏省', {'扬州市'}), read once from phonenumbers' geodata source files
    without importing them (the geocoder module holds ~100 MB for every country)."""
    table: dict[str, tuple[str, frozenset[str]]] = {}
    folder = Path(phonenumbers.__file__).parent / "geodata"
    for path in sorted(folder.glob("data*.py")):
        text = path.read_text(encoding="utf-8")
        if "\n '86" not in text:
            continue
        for line in text.splitlines():
            m = _GEO_LINE_RE.match(line)
            if not m:
                continue
            parsed = _parse_geo_text(m.group(2).encode("ascii").decode("unicode_escape"))
            if parsed:
                table["0" + m.group(1)] = parsed
    return table


def _parse_geo_text(text: str) -> tuple[str, frozenset[str]] | None:
    parts = text.split("、")
    _used, div, _ambiguous = _parse_regions(parts[0], whole=True)
    if div is None:
        return None
    prov = div.province
    found = {div.city} if div.city else set()
    for part in parts[1:]:
        for d, _full in _lookup(part):
            if d.province == prov and d.level == CITY:
                found.add(d.city)
    return prov, frozenset(c for c in found if c)


def area_code_places(area_code: str | None) -> tuple[str, frozenset[str]] | None:
    """(province, cities) an area code serves, from libphonenumber's data; None if unknown."""
    if not area_code:
        return None
    table = _area_code_table()
    for length in range(len(area_code), 2, -1):  # 0335 falls back to 033 (a prefix entry)
        found = table.get(area_code[:length])
        if found:
            return found
    return None
