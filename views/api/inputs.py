"""What every call reads and writes the same way: the JSON body (`json_object`), a whole number of the
query (`whole_number`), and a time as it is written out (`json_time`, in CRM_TIMEZONE).

Each raises BadInput with its answer (400 for a body that is not a JSON object, 422 for a bad member).
"""
import json
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_babel import lazy_gettext as _l

from services import text
from services.library import opportunities as opps

from ..errors import MESSAGES as HTTP_MESSAGES
from .errors import BadInput, error_response, invalid_response

MAX_JSON_DEPTH = 32  # the deepest body of any call is 3 levels (an import's `values`); 990 was a 500

BAD_PAGE = _l("The page must be a whole number from 1 on.")
TOO_DEEP = _l("The JSON body is nested too deeply: no call of this API takes more than a few levels.")


def json_time(value):
    return value.astimezone(ZoneInfo(current_app.config["CRM_TIMEZONE"])).isoformat() if value else None


def json_object():
    """The body as a dict; a body that is not JSON, or not an object, answers 400.

    Every call that takes JSON reads it here, so this is where a body nested hundreds of levels deep
    is refused: both the decoder and the walk below recurse, and Python's RecursionError was a 500."""
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except RecursionError:
        raise BadInput(error_response(400, "bad_request", TOO_DEEP)) from None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise BadInput(error_response(400, "bad_request", HTTP_MESSAGES[400]))
    if _deeper_than(body, MAX_JSON_DEPTH):  # what the decoder let through, the views' code must not meet
        raise BadInput(error_response(400, "bad_request", TOO_DEEP))
    refused = text.refused_member(body)  # NUL and other control characters (services/text.py): 422
    if refused:
        shown = text.REFUSED.sub("\ufffd", refused)
        raise BadInput(invalid_response({shown: text.problem(label(shown))}))
    return body


def _deeper_than(value, limit):
    """Whether objects and arrays nest more than `limit` levels deep; without recursion."""
    stack = [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        members = value.values() if isinstance(value, dict) else value
        stack.extend((m, depth + 1) for m in members if isinstance(m, (dict, list)))
    return False


def label(name):
    """A member's name as a message says it: the entry form's label when it is a field of an opportunity."""
    return opps.FIELD_LABELS.get(name, name)


def whole_number(name, default, maximum, message):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadInput(invalid_response({name: message}))
    return int(raw)
