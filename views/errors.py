"""Error pages in the user's language; a CSRF failure is a clear message, not a bare 400.

A database that is unreachable for a moment (PostgreSQL restarting, its connections cut,
a SQLite file locked longer than the busy timeout) is a 503 with a message, not a 500:
the request's transaction is rolled back, and the next request gets a fresh connection
(pool_pre_ping in app.py), so the app recovers by itself.
"""
import contextlib

from flask import g, make_response, render_template, request
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

# The machine-readable names of the JSON answers (CONTRACT.md's "error" field).
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 422: "invalid", 500: "server_error",
               503: "unavailable"}


def _wants_json():
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(code, message):
    if _wants_json():
        return {"error": ERROR_CODES.get(code, "error"), "message": message}, code
    return render_template("error.html", code=code, message=message), code


def register(app):
    def handler(error):
        code = getattr(error, "code", 500) or 500
        if code == 500:
            db.session.rollback()
        return _render(code, str(MESSAGES.get(code, MESSAGES[400])))

    for code in MESSAGES:
        app.register_error_handler(code, handler)

    @app.errorhandler(CSRFError)
    def _csrf(_error):
        return _render(400, _("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(_error):
        with contextlib.suppress(Exception):  # the connection may be gone: the pool discards it
            db.session.rollback()
        if "_login_user" not in g:  # the failure was loading the user: the page must not ask the database again
            g._login_user = AnonymousUserMixin()
        response = make_response(_render(503, str(UNAVAILABLE)))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
