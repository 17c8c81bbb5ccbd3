"""Row ids from outside (a URL path, `?id=`, a bulk action's `rowid`, a form): read in one place.

An id is ASCII digits within the range of an INTEGER primary key; anything else is "no such
row" (404), never a query. `str.isdigit` also accepts "²" (then `int()` raises), and an id
past INTEGER's range is an SQL error (PostgreSQL: past 2,147,483,647; SQLite: past 2**63 - 1):
both were 500s. The API's paths use the `id` converter below (`/opportunities/<id:opportunity_id>`);
Flask-Admin's `get_one` and the bulk actions use `parse_id`/`parse_ids` (views/base.py).
"""
from werkzeug.routing import BaseConverter, ValidationError

MAX_ID = 2**31 - 1  # the largest INTEGER primary key, the same on both databases


def parse_id(value):
    """A row id, or None: ASCII digits within INTEGER's range only."""
    value = str(value)
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def parse_ids(values, limit=500):
    """The row ids posted by a bulk action (at most `limit`), unreadable ones dropped, each once in its order."""
    values = list(values)
    ids = (i for i in map(parse_id, values[:limit] if limit else values) if i is not None)
    return list(dict.fromkeys(ids))  # each once: a list's card and its hidden table row may both be ticked


class IdConverter(BaseConverter):
    """`<id:name>` in a route: a row id as `parse_id` reads it; any other path segment matches no
    route, so the answer is the usual 404 (the JSON one under /api/)."""

    regex = r"[0-9]+"

    def to_python(self, value):
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value):
        return str(int(value))


def register(app):
    """Make `<id:...>` known to the app's routes (before any blueprint that uses it is registered)."""
    app.url_map.converters["id"] = IdConverter
