"""Reading a customer list: the file row by row (`tables.RowReader`), each row as an entry's input
(`row_input`), its problems by the entry form's rules (`row_problems`) and its duplicate-check keys."""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import InfoSource

from .. import checking, library, text
from ..exports import FORMULA_STARTS
from . import life
from .table_sandbox import SandboxedReader
from .table_sizes import Limits
from .tables import FIELDS, HEADERS, ImportFileError, RowReader, detect_encoding  # noqa: F401 - imports' API


def limits(command_line=False, max_rows=None):
    """The caps of a customer list (app config CRM_IMPORT_*): the browser's and the API's, or the command
    line's (no row limit unless `max_rows`)."""
    base = Limits.of(current_app.config, command_line=command_line) if has_app_context() else Limits(max_rows=None)
    return base if max_rows is None else Limits(**{**base.as_dict(), "max_rows": max_rows})


def open_reader(source, columns=None, caps=None, name=None):
    """The rows of a customer list, its bytes (`name`: the file's name) or its path, parsed in a child process
    under the caps (services/imports/table_sandbox.py): every path that reads an outside file (uploads, the
    worker, the command line) reads it so."""
    return SandboxedReader(source, columns=columns, limits=caps or limits(command_line=True), name=name)

def unmapped(reader):
    """The headers of the reader's file that no field reads, in column order: a command says them (以下列未导入)."""
    read = set(reader.columns.values())
    return [header for index, header in enumerate(reader.headers) if header and index not in read]


_LEVELS = ("province", "city", "district", "town")


@dataclass
class RowInput(library.OpportunityInput):
    """An entry's input read from a row, and the rest of the customer's life a row may carry: its next contact
    (as written, and the time it means, None when empty or unreadable), a remark for its first note, its owner's
    login or name; `unplaced`: its place column's text when no place could be read in it."""

    next_contact: str = ""
    next_contact_at: datetime | None = None
    note: str = ""
    owner: str = ""
    unplaced: str = ""


def row_input(values):
    values = {name: _unguarded(value) for name, value in values.items()}
    values["key_customer"] = life.is_key_level(values.get("key_customer", ""))
    values["email"] = _qq_mail(values.get("email", ""))
    unplaced = _placed(values)
    base = library.OpportunityInput.from_mapping(values)
    written = text.one_line(values.get("next_contact_at") or "")
    try:
        at = life.parse_next_contact(written)
    except ValueError:
        at = None  # the row's problem (`row_problems`)
    return RowInput(**vars(base), next_contact=written, next_contact_at=at,
                    note=text.multi_line(values.get("note") or "").strip(),
                    owner=text.one_line(values.get("owner") or ""), unplaced=unplaced)


def _unguarded(value):
    """A cell without the apostrophe an export puts before a formula's first character ('=, '+86...): our own
    export imports back as it was entered."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _qq_mail(value):
    """An email column that holds a QQ number (a homemade list's QQ/E-mail) gives its QQ mailbox, 12345678@qq.com."""
    value = value.strip()
    return f"{value}@qq.com" if value.isdigit() and 5 <= len(value) <= 11 and value[0] != "0" else value


def _placed(values):
    """The place levels of a row without any: read from its place column (地区: 广东深圳宝安), else from the start
    of its address when it names one; the place column's text when it names no place we can read, else ""."""
    written = values.pop("place", "").strip()
    if any(values.get(level, "").strip() for level in _LEVELS):
        return ""
    place = checking.parse_place(written) if written else checking.place_of_address(values.get("address", ""))
    if place is None:
        return written
    values.update({level: getattr(place, level) for level in _LEVELS})
    return ""


def row_problems(data, sources):
    """{field: message} of a row: `opportunities.validate`, an unknown information source, a place column that
    names no place, an unreadable next contact time, a remark too long for a note."""
    problems = {name: str(message) for name, message in library.validate(data).items()}
    if data.source and data.source not in sources and "source" not in problems:
        problems["source"] = str(_l("Choose an information source from the list."))
    if getattr(data, "unplaced", ""):
        problems["place"] = str(_l("\"%(value)s\" is not a place we can read: write the province, city and district, "
                                   "e.g. 广东省深圳市宝安区.", value=data.unplaced))
    if data.next_contact and data.next_contact_at is None:
        problems["next_contact_at"] = str(life.next_contact_problem(data.next_contact))
    if life.note_problem(data.note):
        problems["note"] = str(life.note_problem(data.note))
    return problems


def row_keys(data):
    return checking.record_keys_of(data)


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
