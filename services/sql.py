"""A list of values from outside as one SQL parameter.

`column.in_(values)` sends one parameter per value: psycopg refuses a statement with more than
65,535 (ticking 65,534 review rows of an import answered 503 "the database is busy" for ever), and
SQLite builds may allow as few as 32,766. `one_of` sends the whole list as one parameter instead:
an array on PostgreSQL (`= ANY(%s)`, which uses the column's index), a JSON text on SQLite read back
by `json_each`. Use it wherever the number of values is the caller's to choose.
"""
import json

from sqlalchemy import any_, bindparam, column, func, select
from sqlalchemy.dialects import postgresql


def one_of(session, column_, values):
    """The condition `column_ IN values`, however many values, with one bound parameter."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column_ == any_(bindparam(None, values, type_=postgresql.ARRAY(column_.type)))
    return column_.in_(select(column("value")).select_from(func.json_each(json.dumps(values))))
