"""The API's OpenAPI 3.1 document, assembled from the routes themselves so that it cannot drift.

Each route function of the API carries its own fragment (`@operation(...)`: summary, query
parameters, request body, answers); `document(app)` walks `app.url_map`, takes every rule
under the API's prefix, and joins those fragments with the component schemas.
Path parameters come from the rule itself (`<id:opportunity_id>` -> `{opportunity_id}`,
a row id). A route without a fragment is left out, and tests/test_api.py fails on it.

A new call slots in with one decorator; a new shape is one more schema. The schemas several
resources answer with (Error, Opportunity, Match ...) are below; a resource's own are next to
its routes, added to the one document with `add_schemas`. The enums and field lists come from
where the rules keep them (models.py, services/), not from copies here.
"""
import re

from models import LOCATIONS as _LOCATIONS
from services.checking import normalize
from services.library.opportunities import FIELD_LIMITS

from ..ids import MAX_ID

OPENAPI_VERSION = "3.1.0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREFIX = "/api/v1"
_IGNORED_METHODS = {"HEAD", "OPTIONS"}
_RULE_ARG_RE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
# a row id (`<id:...>`, views/ids.py): any other path segment, a larger number too, answers 404
_CONVERTER_SCHEMAS = {"id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                      "int": {"type": "integer", "minimum": 0}, "float": {"type": "number"}}

LOCATIONS = list(_LOCATIONS)
MATCH_VERDICTS = [normalize.DUPLICATE, normalize.REVIEW]


def nullable(type_name, **extra):
    return {"type": [type_name, "null"], **extra}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


OPPORTUNITY_TEXT_FIELDS = [name for name in FIELD_LIMITS if name != "company"]  # as the entry form's limits
TIME = {"type": "string", "format": "date-time"}

SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Every error answer. `message` is in the caller's language (the user's saved "
                       "locale, else Accept-Language, else Simplified Chinese).",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "a stable code: bad_request, unauthorized, forbidden, "
                      "not_found, method_not_allowed, invalid, duplicate, review_required, library_full, "
                      "check_limit, conflict, merged ..."},
            "merged_into": {"type": "integer", "description": "with `merged`: the id of the record a merged "
                            "one went into"},
            "message": {"type": "string"},
            "limit_mb": {"type": "integer", "description": "with `too_large`: the most the call accepts, in MB "
                         "(an import's file: CRM_IMPORT_MAX_MB)"},
        },
    },
    "ValidationError": {
        "allOf": [ref("Error"), {
            "type": "object",
            "required": ["fields"],
            "properties": {
                "error": {"const": "invalid"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "field name -> what is wrong with it"},
            },
        }],
    },
    "Match": {
        "type": "object",
        "description": "An existing customer that resembles the query: where it lives and whose it is, never "
                       "its contact details.",
        "required": ["opportunity_id", "company", "location", "owner", "matched_on", "score"],
        "properties": {
            "opportunity_id": {"type": "integer"},
            "company": {"type": "string"},
            "location": {"enum": LOCATIONS},
            "owner": nullable("string", description="the owner's login when `location` is `library`"),
            "matched_on": {"type": "array", "items": {"enum": ["name", "phone", "fax", "wechat"]}},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "verdict": {"enum": MATCH_VERDICTS},
            "reasons": {"type": "array", "items": {"type": "string"},
                        "description": "why it matched, in the reader's language (the user's, else Accept-Language)"},
            "reason_codes": {"type": "array", "items": ref("ReasonCode"),
                             "description": "the same reasons as codes with their parameters, one per reason"},
        },
    },
    "ReasonCode": {
        "type": "object",
        "required": ["code", "params"],
        "description": "Why a match was made, for integrations: `code` (same_number, same_number_no_area, "
                       "number_other_area, same_name_same_place, same_name_no_place, same_name_other_place, "
                       "homophone_same_place, homophone, contains, similar_name, confirmed_other; more may come) "
                       "and its parameters by name (name, other, place, what, number, their, area, area_place, "
                       "ratio).",
        "properties": {
            "code": nullable("string"),
            "params": {"type": "object"},
        },
    },
    "Opportunity": {
        "type": "object",
        "required": ["id", "company", *OPPORTUNITY_TEXT_FIELDS, "source", "key_customer", "locked", "maturity", "location",
                     "owner", "entered_at", "last_contact_at", "next_contact_at"],
        "properties": {
            "id": {"type": "integer"},
            "company": {"type": "string"},
            **{name: nullable("string") for name in OPPORTUNITY_TEXT_FIELDS},
            "source": nullable("string", description="the information source, by name"),
            "key_customer": {"type": "boolean"},
            "locked": {"type": "boolean", "description": "locked (锁定) by its owner: the return rule never takes it"},
            "maturity": nullable("integer", description="0 = no prospect"),
            "location": {"enum": LOCATIONS},
            "owner": nullable("string", description="the owner's login when `location` is `library`"),
            "entered_at": TIME,
            "last_contact_at": {**TIME, "type": ["string", "null"]},
            "next_contact_at": {**TIME, "type": ["string", "null"]},
        },
    },
}


def add_schemas(schemas):
    """A resource's own schemas (next to its routes), into the one document; a name is given once."""
    taken = SCHEMAS.keys() & schemas.keys()
    if taken:
        raise ValueError(f"OpenAPI schemas defined twice: {sorted(taken)}")
    SCHEMAS.update(schemas)


_ERROR_RESPONSES = {
    400: ("The body is not a JSON object.", "Error"),
    401: ("No valid API token.", "Error"),
    403: ("The caller's role may not do this.", "Error"),
    404: ("No such record, or the caller may not see it (the same answer).", "Error"),
    409: ("Refused by a rule.", "Error"),
    413: ("The body is larger than the server accepts.", "Error"),
    422: ("Invalid input; `fields` says what is wrong.", "ValidationError"),
    429: ("`check_limit`: the caller's daily number of duplicate checks (ResourceRules.daily_check_limit, "
          "counted per local day) is used up; it starts again tomorrow. Entering is never limited.", "Error"),
    503: ("The database is unreachable or busy for a moment (`unavailable`); retry after `Retry-After` seconds.",
          "Error"),
}


def query(name, description, schema=None, required=False):
    """A query parameter of an operation."""
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def operation(summary, *, responses, description=None, parameters=(), body=None, form=None, auth=True, tags=None):
    """Attach an operation's OpenAPI fragment to a route function.

    `responses` maps a status to (description, schema name or None); the errors every
    call may answer (401 when authenticated, 503 when the database is away) are added here.
    `body` is a schema name (a JSON body), `form` one of a multipart/form-data body (an upload).
    An answer whose schema is "file:xlsx" is an .xlsx file.
    """
    def decorate(view):
        fragment = {"summary": summary, "operationId": view.__name__}
        if description:
            fragment["description"] = description
        if tags:
            fragment["tags"] = list(tags)
        if parameters:
            fragment["parameters"] = list(parameters)
        if body:
            fragment["requestBody"] = {"required": True,
                                       "content": {"application/json": {"schema": ref(body)}}}
        if form:
            fragment["requestBody"] = {"required": True,
                                       "content": {"multipart/form-data": {"schema": ref(form)}}}
        answers = dict(responses)
        answers.setdefault(503, None)
        answers.setdefault(422, None)  # any call: a parameter holding a control character (views/guard.py)
        if auth:
            answers.setdefault(401, None)
        else:
            fragment["security"] = []
        fragment["responses"] = {str(status): _response(status, answer) for status, answer in sorted(answers.items())}
        view.openapi = fragment
        return view

    return decorate


def _response(status, answer):
    if answer is None:
        answer = _ERROR_RESPONSES[status]
    description, schema = answer if isinstance(answer, tuple) else (answer, None)
    response = {"description": description}
    if schema == "file:xlsx":
        response["content"] = {XLSX: {"schema": {"type": "string", "contentMediaType": XLSX}}}
    elif schema:
        response["content"] = {"application/json": {"schema": ref(schema)}}
    return response


def path_of(rule):
    """`/api/v1/opportunities/<int:opportunity_id>` -> (`/opportunities/{opportunity_id}`, its parameters)."""
    parameters = [{"name": m.group("name"), "in": "path", "required": True,
                   "schema": _CONVERTER_SCHEMAS.get(m.group("converter"), {"type": "string"})}
                  for m in _RULE_ARG_RE.finditer(rule)]
    return _RULE_ARG_RE.sub(lambda m: "{" + m.group("name") + "}", rule[len(PREFIX):]), parameters


def api_rules(app):
    """(rule, method) of every call of the API in the app's URL map."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            for method in sorted(rule.methods - _IGNORED_METHODS):
                yield rule, method


def document(app):
    paths = {}
    for rule, method in sorted(api_rules(app), key=lambda item: (item[0].rule, item[1])):
        fragment = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if fragment is None:
            continue  # undocumented: tests/test_api.py fails on it
        path, path_parameters = path_of(rule.rule)
        op = dict(fragment)
        if path_parameters:
            op["parameters"] = path_parameters + list(fragment.get("parameters", []))
        paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Channel CRM API",
            "version": "1",
            "description": "The JSON API of the channel CRM (渠道CRM). Authenticate with "
                           "`Authorization: Bearer TOKEN` (`flask --app app users token LOGIN` prints one). "
                           "Errors are `{\"error\": CODE, \"message\": TEXT}`. Times are ISO 8601 with an offset.",
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
