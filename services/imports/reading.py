"""Reading a customer list: the file row by row (`tables.RowReader`), each row as an entry's input
(`row_input`), its problems by the entry form's rules (`row_problems`) and its duplicate-check keys."""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import InfoSource

from .. import text
from ..checking import dedup
from ..library import opportunities
from . import life
from .table_sandbox import SandboxedReader
from .table_sizes import Limits
from .tables import FIELDS, HEADERS, ImportFileError, RowReader, detect_encoding  # noqa: F401 - imports' API


def limits(command_line=False, max_rows=None):
    """The caps of a customer list (app config CRM_IMPORT_*): the browser's and the API's, or the command
    line's (no row limit unless `max_rows`)."""
    base = Limits.of(current_app.config, command_line=command_line) if has_app_context() else Limits(max_rows=None)
    return base if max_rows is None else Limits(**{**base.as_dict(), "max_rows": max_rows})


def open_reader(path, columns=None, caps=None):
    """The rows of a customer list, parsed in a child process under the caps (services/imports/table_sandbox.py):
    every path that reads an outside file (uploads, the worker, the command line) reads it so."""
    return SandboxedReader(path, columns=columns, limits=caps or limits(command_line=True))


@dataclass
class RowInput(opportunities.OpportunityInput):
    """An entry's input and the rest of the customer's life a row may carry: its next contact (as written, and
    the time it means, None when empty or unreadable), a remark for its first note, its owner's login or name."""

    next_contact: str = ""
    next_contact_at: datetime | None = None
    note: str = ""
    owner: str = ""


def row_input(values):
    values = dict(values)
    values["key_customer"] = life.is_key_level(values.get("key_customer", ""))
    base = opportunities.OpportunityInput.from_mapping(values)
    written = text.one_line(values.get("next_contact_at") or "")
    try:
        at = life.parse_next_contact(written)
    except ValueError:
        at = None  # the row's problem (`row_problems`)
    return RowInput(**vars(base), next_contact=written, next_contact_at=at,
                    note=text.multi_line(values.get("note") or "").strip(),
                    owner=text.one_line(values.get("owner") or ""))


def row_problems(data, sources):
    """{field: message} of a row: `opportunities.validate`, an unknown information source, an unreadable next
    contact time, a remark too long for a note."""
    problems = {name: str(message) for name, message in opportunities.validate(data).items()}
    if data.source and data.source not in sources and "source" not in problems:
        problems["source"] = str(_l("Choose an information source from the list."))
    if data.next_contact and data.next_contact_at is None:
        problems["next_contact_at"] = str(life.next_contact_problem(data.next_contact))
    if life.note_problem(data.note):
        problems["note"] = str(life.note_problem(data.note))
    return problems


def row_keys(data):
    return dedup.query_keys(data.company, data.province, data.city, data.phone, data.fax, data.mobile)


def active_sources(session):
    """{name: id} of the information sources a row may name."""
    return dict(session.execute(select(InfoSource.name, InfoSource.id).where(InfoSource.active.is_(True))).all())


def chunks(reader, size):
    """The rows of `reader` in lists of `size`."""
    chunk = []
    for item in reader:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
