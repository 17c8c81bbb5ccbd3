"""Error pages in the user's language; a CSRF failure is a clear message, not a bare 400.

A database that is unreachable for a moment (PostgreSQL restarting, its connections cut,
a SQLite file locked longer than the busy timeout) is a 503 with a message, not a 500:
the request's transaction is rolled back, and the next request gets a fresh connection
(pool_pre_ping in app.py), so the app recovers by itself.
"""
import contextlib
import sqlite3

from flask import g, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, OperationalError

from models import db

MESSAGES = {
    400: _l("The request could not be understood."),
    403: _l("You do not have permission to open this page."),
    404: _l("This page or record does not exist, or you may not see it."),
    405: _l("This action is not allowed here."),
    413: _l("The upload is too large."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
}
UNAVAILABLE = _l("The database is busy or restarting. Nothing was saved; please try again in a moment.")
RETRY_AFTER_SECONDS = 5

# The machine-readable names of the JSON answers (docs/contract.md's "error" field).
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 422: "invalid", 500: "server_error",
               503: "unavailable"}


def _wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(code, message, **extra):
    """An error answer: JSON for the API and JSON clients (`extra` members added), else the error page."""
    if _wants_json():
        return {"error": ERROR_CODES.get(code, "error"), "message": message, **extra}, code
    return render_template("error.html", code=code, message=message), code



def too_large_message(limit_mb):
    return _l("The request is larger than %(n)d MB, the most this page accepts.", n=limit_mb)


def register(app):
    # endpoint -> the answer to a request too large for it (views/imports.py: the upload form again, naming the limit)
    too_large_answers = app.extensions.setdefault("crm_too_large_answers", {})

    def handler(error):
        code = getattr(error, "code", 500) or 500
        if code == 500:
            db.session.rollback()
        if code == 413:
            return _too_large(app, too_large_answers)
        return render_error(code, str(MESSAGES.get(code, MESSAGES[400])))

    for code in MESSAGES:
        app.register_error_handler(code, handler)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(DisconnectionError, _database_unavailable)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.teardown_appcontext(_release_session)  # runs before Flask-SQLAlchemy's own (registered earlier, called later)


def _too_large(app, too_large_answers):
    """The page's own answer to an upload too large for it, else the error naming the limit."""
    answer = too_large_answers[request.endpoint]() if request.endpoint in too_large_answers else None
    if answer is not None:
        return answer
    limit = (request.max_content_length or app.config["MAX_CONTENT_LENGTH"]) // (1024 * 1024)
    return render_error(413, str(too_large_message(limit)), limit_mb=limit)


def _csrf(_error):
    return render_error(400, _("The form expired or was sent from elsewhere. Reload the page and try again."))


def _database_unavailable(error):
    if not _database_away(error):
        raise error  # a bug in the SQL: the usual 500
    _locale_without_the_database()
    # close, not rollback: a rollback expires the user loaded for this request, and reading it again
    # (its language, is_authenticated in after_request) would ask the unreachable database; closing
    # detaches it as it was, and hands the broken connection back to the pool to be discarded
    with contextlib.suppress(Exception):
        db.session.close()
    response = make_response(render_error(503, str(UNAVAILABLE)))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _release_session(_exc):
    """A connection cut after the answer was made must not turn that answer into a 500."""
    try:
        db.session.remove()
    except (OperationalError, DisconnectionError):  # its ROLLBACK failed: the pool has discarded it
        db.session.registry.clear()


def _database_away(error):
    """The database was away (connection lost, server restarting, a lock held too long), not a bug.

    PostgreSQL reports bad SQL as ProgrammingError, so its OperationalError is always the
    connection or the server; SQLite reports both as OperationalError: only "locked"/"busy" count.
    """
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.OperationalError) and not getattr(error, "connection_invalidated", False):
        return any(word in str(orig).lower() for word in ("locked", "busy"))
    return True


def _locale_without_the_database():
    """Fix the page's language now; if that needs the database (the user was not loaded yet), as a visitor's."""
    try:
        get_locale()
    except Exception:  # noqa: BLE001 - whatever the broken connection raises, the answer is still a 503
        g.api_user = None
        g._login_user = AnonymousUserMixin()  # Flask-Login's per-request user: anonymous, no query
