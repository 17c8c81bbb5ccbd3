"""Every request's text is checked once, here, before any view reads it.

A query-string parameter, a form field or a path segment holding a character that no text of
the CRM may hold (services/text.py: NUL and the other control characters but tab and line
breaks, lone surrogates) is answered 422 naming the field, in the user's language: JSON under
/api/, the error page elsewhere. Before this, NUL in a search or a form reached PostgreSQL,
which refuses it (a 500), while SQLite stored it. JSON bodies are checked by the API's one JSON
reader (views/api/inputs.py `json_object`), imported files by their reader (services/imports/tables.py).
"""
from flask import request

from services import text
from services.library.opportunities import FIELD_LABELS

from .errors import render_error


def _refused_field():
    """The name of the first parameter whose name or value holds a refused character, or None."""
    sources = [request.args]
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in ("application/x-www-form-urlencoded",
                                                                          "multipart/form-data"):
        sources.append(request.form)
    for values in sources:
        for name, value in values.items(multi=True):
            if text.refused_character(name) or text.refused_character(value):
                return name
    for name, value in (request.view_args or {}).items():
        if text.refused_character(value):
            return name
    return None


def refuse_control_characters():
    name = _refused_field()
    if name is None:
        return None
    shown = text.REFUSED.sub("\ufffd", name)  # a name may hold the character itself: never echo it
    message = text.problem(FIELD_LABELS.get(name, shown))
    return render_error(422, str(message), fields={shown: str(message)})


def register(app):
    app.before_request(refuse_control_characters)
