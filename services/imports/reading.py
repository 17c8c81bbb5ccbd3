"""Reading a customer list: the file row by row (`tables.RowReader`), each row as an entry's input
(`row_input`), its problems by the entry form's rules (`row_problems`) and its duplicate-check keys."""
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import InfoSource

from .. import checking, library
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

_TRUE = {"1", "true", "yes", "y", "on", "是", "重点", "√", "✓", "✔", "x"}


def row_input(values):
    values = dict(values)
    values["key_customer"] = values.get("key_customer", "").strip().lower() in _TRUE
    return library.OpportunityInput.from_mapping(values)


def row_problems(data, sources):
    """{field: message} of a row: `opportunities.validate`, and an unknown information source."""
    problems = {name: str(message) for name, message in library.validate(data).items()}
    if data.source and data.source not in sources and "source" not in problems:
        problems["source"] = str(_l("Choose an information source from the list."))
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
