"""The API's error answers: always `{"error": CODE, "message": TEXT}` (docs/contract.md), in JSON even for
Flask's own aborts. Rules broken in services/ arrive as RuleViolation, which one handler (`_refused`) rolls
back and turns into its status (`STATUS`): a call commits when the rule passed and says nothing of refusals.
"""
from zoneinfo import ZoneInfo

from flask import current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from models import db
from services.checking import dedup
from services.errors import RuleViolation
from services.imports import uploads as import_jobs
from services.library import capacity as library
from services.library import opportunities as opps

from ..errors import ERROR_CODES as _HTTP_CODES
from ..errors import MESSAGES as HTTP_MESSAGES
from ..errors import too_large_message
from . import bp

# RuleViolation codes (services/) -> HTTP status
STATUS = {"invalid": 422, "duplicate": 409, "review_required": 409, "library_full": 409, "not_found": 404,
          "forbidden": 403, "conflict": 409, "merged": 409, "too_large": 413, "not_ready": 409,
          "nothing_to_import": 409, "unavailable": 503, "public_pool_merge": 403,
          "daily_claim_limit": 409, "reclaim_cooldown": 409, "new_arrival_embargo": 409, "lock_limit": 409}
# The calls on one opportunity of the caller's own library: one out of reach answers as an unknown id would (the
# plain 404, telling nothing of where it is), and a full library is the caller's, whose cap the answer names.
_OWN_OPPORTUNITY = {"api.claim_opportunity", "api.add_note", "api.abandon_opportunity", "api.assign_opportunity",
                    "api.lock_opportunity", "api.unlock_opportunity"}
_INTO_OWN_LIBRARY = {"api.create_opportunity", "api.claim_opportunity"}


def error_response(status, code, message, **extra):
    response = jsonify({"error": code, "message": str(message), **extra})
    response.status_code = status
    return response


def invalid_response(fields, message=None):
    fields = {name: str(text) for name, text in fields.items()}
    return error_response(422, "invalid", message or next(iter(fields.values())), fields=fields)


def violation_response(violation, **extra):
    status = STATUS.get(violation.code, 422)
    if violation.code == "invalid":
        return invalid_response(violation.fields or {violation.field or "body": violation.message}, violation.message)
    if violation.available_at is not None:
        # as inputs.json_time writes times (inputs.py imports this module, so not from there)
        zone = ZoneInfo(current_app.config["CRM_TIMEZONE"])
        extra["available_at"] = violation.available_at.astimezone(zone).isoformat()
    return error_response(status, violation.code, violation.message, **extra)


def _http_error(error):
    """Aborts inside the API's calls (a body over MAX_CONTENT_LENGTH, a failure) answer in JSON too."""
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    if code == 413:
        return too_large_response()
    return error_response(code, _HTTP_CODES.get(code, "error"), HTTP_MESSAGES.get(code, HTTP_MESSAGES[400]))


def too_large_response(message=None):
    """413 `too_large` naming the limit: an import's file (CRM_IMPORT_MAX_MB), else any body (MAX_CONTENT_LENGTH)."""
    if request.endpoint == "api.create_import":
        limit, message = current_app.config["CRM_IMPORT_MAX_MB"], message or import_jobs.too_large()
    else:
        limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        message = message or too_large_message(limit)
    return error_response(413, "too_large", message, limit_mb=limit)


# Flask looks for handlers by status code before it looks by class, so the app's own pages
# (views/errors.py) would win over a class handler here: register per code as well.
bp.register_error_handler(HTTPException, _http_error)
for _code in HTTP_MESSAGES:
    bp.register_error_handler(_code, _http_error)


class BadInput(Exception):
    """Raised with its answer by the readers of input (inputs.py), so that a call reads its input in one line."""

    def __init__(self, response):
        super().__init__()
        self.response = response


@bp.errorhandler(BadInput)
def _bad_input(error):
    return error.response


@bp.errorhandler(RuleViolation)
def _refused(violation):
    """A rule refused the call (services/): nothing of it is kept, and the answer says which rule and why."""
    db.session.rollback()
    if violation.code == "not_found" and request.endpoint in _OWN_OPPORTUNITY:
        return error_response(404, "not_found", HTTP_MESSAGES[404])
    if violation.code == "library_full" and request.endpoint in _INTO_OWN_LIBRARY:
        return violation_response(violation, limit=library.cap(db.session, g.api_user))
    if violation.code == "too_large":
        return too_large_response(violation.message)
    if isinstance(violation, opps.DuplicateFound):
        return violation_response(violation, matches=dedup.result_json(violation.result, words=True)["matches"])
    return violation_response(violation)
