"""What an import's preview keeps of a row: at most `CRM_IMPORT_PREVIEW_ROW_BYTES` (4096 by default).

A preview row (`DataImportRow`) is only for showing: the run reads the file again and checks every
row anew. So a row's values, matches and errors are kept cut to the cap, in that order of sacrifice:
the matches' and errors' texts are cut short first (each to a line's worth, the matches after the first
dropped if still too long), then the values of the invalid fields (the reason they are refused is in the
errors: a few characters of them are enough to find the row), then the longest values, until the row's
JSON fits. A cut value ends with "…". Sizes are UTF-8 bytes of the JSON as stored.

Pure functions (no database, no Flask), so that the check, the migration that cuts the rows stored before
the cap (0012) and the tests share them.
"""
from __future__ import annotations

import json

CUT = "…"
TEXT_KEPT = 200  # bytes of a match's or an error's text
INVALID_KEPT = 60  # bytes of an invalid field's value, when the row is too large
VALUE_KEPT = 24  # the least a value is cut to before the matches go
DEFAULT_ROW_BYTES = 4096
MIN_ROW_BYTES = 1024


def size(value):
    """The bytes `value` takes as stored JSON (UTF-8, not ASCII-escaped)."""
    return len(json.dumps(value, ensure_ascii=False).encode())


def cut(text, limit):
    """`text` cut to at most `limit` bytes of JSON, ending with "…" when cut (whole characters)."""
    if not isinstance(text, str) or (len(text) <= limit and size(text) <= limit):  # len first: cells were huge
        return text
    low, high = 0, min(len(text), limit)  # every character takes a byte at least
    while low < high:  # the longest prefix that fits with the mark
        middle = (low + high + 1) // 2
        if size(text[:middle] + CUT) <= limit:
            low = middle
        else:
            high = middle - 1
    return text[:low] + CUT if size(CUT) <= limit else ""


def row_size(values, matches, errors):
    return size(values) + size(matches) + (size(errors) if errors else 0)


def bound(values, matches, errors, limit=DEFAULT_ROW_BYTES):
    """(values, matches, errors) of a preview row, cut so that their JSON takes at most `limit` bytes
    (`limit` of MIN_ROW_BYTES at least: below, the field names alone may not fit)."""
    matches, errors = list(matches or []), dict(errors) if errors else errors
    values = dict(values)
    for name in errors or ():  # a refused value is shown short, always: the error says why
        if name in values:
            values[name] = cut(values[name], INVALID_KEPT)
    if row_size(values, matches, errors) <= limit:
        return values, matches, errors
    if errors:
        errors = {name: cut(str(message), TEXT_KEPT) for name, message in errors.items()}
    matches = [_short_match(match) for match in matches]

    def room():
        return limit - size(matches) - (size(errors) if errors else 0)

    while len(matches) > 1 and _level(values, room()) < VALUE_KEPT:  # the values before the other matches
        matches.pop()
    if _level(values, room()) < VALUE_KEPT:  # a very small cap: the texts are cut further
        matches = [_short_match(match, keep=VALUE_KEPT) for match in matches]
        errors = errors and {name: cut(message, VALUE_KEPT) for name, message in errors.items()}
    return _cut_to(values, _level(values, room())), matches, errors


def _short_match(match, keep=TEXT_KEPT):
    return {key: cut(value, keep) if isinstance(value, str) else value for key, value in match.items()}


def _cut_to(values, level):
    return {name: cut(value, level) for name, value in values.items()}


def _level(values, budget):
    """The most bytes every value may keep so that the values' JSON fits `budget` (water-filling: the
    short values stay whole, the long ones are cut alike)."""
    if size(values) <= budget:
        return max((size(value) for value in values.values()), default=0)
    low, high = 0, max(budget, 0)
    while low < high:
        middle = (low + high + 1) // 2
        if size(_cut_to(values, middle)) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def bound_json(values_json, matches_json, errors_json, limit=DEFAULT_ROW_BYTES):
    """`bound` on a stored row's JSON texts; (values, matches, errors) texts, or None when it fits already."""
    stored = sum(len((text or "").encode()) for text in (values_json, matches_json, errors_json))
    if stored <= limit:
        return None
    values = json.loads(values_json) if values_json else {}
    matches = json.loads(matches_json) if matches_json else []
    errors = json.loads(errors_json) if errors_json else None
    values, matches, errors = bound(values, matches, errors, limit)
    return (json.dumps(values, ensure_ascii=False), json.dumps(matches, ensure_ascii=False),
            json.dumps(errors, ensure_ascii=False) if errors else None)
