"""The API's OpenAPI 3.1 document, assembled from the routes themselves so that it cannot drift.

Each route function of the API carries its own fragment (`@operation(...)`: summary, query
parameters, request body, answers); `document(app)` walks `app.url_map`, takes every rule
under the API's prefix, and joins those fragments with the shared component schemas below.
Path parameters come from the rule itself (`<id:opportunity_id>` -> `{opportunity_id}`,
a row id). A route without a fragment is left out, and tests/test_api.py fails on it.

A new call slots in with one decorator; a new shape is one more entry in `SCHEMAS`. The enums and
field lists come from where the rules keep them (models.py, services/), not from copies here.
"""
import re

from models import LOCATIONS as _LOCATIONS
from models import NOTE_METHODS as _NOTE_METHODS
from services import import_jobs, leads, normalize, notes
from services.opportunities import FIELD_LIMITS

from ..ids import MAX_ID

OPENAPI_VERSION = "3.1.0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREFIX = "/api/v1"
_IGNORED_METHODS = {"HEAD", "OPTIONS"}
_RULE_ARG_RE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
# a row id (`<id:...>`, views/ids.py): any other path segment, a larger number too, answers 404
_CONVERTER_SCHEMAS = {"id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                      "int": {"type": "integer", "minimum": 0}, "float": {"type": "number"}}

NOTE_METHODS = list(_NOTE_METHODS)
LOCATIONS = list(_LOCATIONS)
MATCH_VERDICTS = [normalize.DUPLICATE, normalize.REVIEW]


def _nullable(type_name, **extra):
    return {"type": [type_name, "null"], **extra}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


OPPORTUNITY_TEXT_FIELDS = [name for name in FIELD_LIMITS if name != "company"]  # as the entry form's limits
_TIME = {"type": "string", "format": "date-time"}

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
        "allOf": [_ref("Error"), {
            "type": "object",
            "required": ["fields"],
            "properties": {
                "error": {"const": "invalid"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "field name -> what is wrong with it"},
            },
        }],
    },
    "DuplicateError": {
        "allOf": [_ref("Error"), {
            "type": "object",
            "required": ["matches"],
            "properties": {
                "error": {"enum": ["duplicate", "review_required"]},
                "matches": {"type": "array", "items": _ref("Match")},
            },
        }],
        "description": "`duplicate`: the entry is refused. `review_required`: similar customers exist; send "
                       "the entry again with `confirm_review: true` to enter it anyway (the confirmation is logged).",
    },
    "LibraryFull": {
        "allOf": [_ref("Error"), {
            "type": "object",
            "required": ["limit"],
            "properties": {"error": {"const": "library_full"}, "limit": {"type": "integer"}},
        }],
    },
    "EntryRefused": {
        "oneOf": [_ref("DuplicateError"), _ref("LibraryFull")],
        "description": "Why an entry was refused: a duplicate or a resemblance (with `matches`), or a full "
                       "library (with `limit`).",
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
            "owner": _nullable("string", description="the owner's login when `location` is `library`"),
            "matched_on": {"type": "array", "items": {"enum": ["name", "phone", "fax"]}},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "verdict": {"enum": MATCH_VERDICTS},
            "reasons": {"type": "array", "items": {"type": "string"},
                        "description": "why it matched, in the reader's language (the user's, else Accept-Language)"},
            "reason_codes": {"type": "array", "items": _ref("ReasonCode"),
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
            "code": _nullable("string"),
            "params": {"type": "object"},
        },
    },
    "DedupResult": {
        "type": "object",
        "required": ["verdict", "matches"],
        "properties": {
            "verdict": {"enum": [*MATCH_VERDICTS, normalize.NEW]},
            "matches": {"type": "array", "items": _ref("Match"), "description": "best match first"},
            "truncated": {"type": "boolean",
                          "description": "the keyword is too common: not every candidate was judged; refine it"},
        },
    },
    "Opportunity": {
        "type": "object",
        "required": ["id", "company", *OPPORTUNITY_TEXT_FIELDS, "source", "key_customer", "maturity", "location",
                     "owner", "entered_at", "last_contact_at", "next_contact_at"],
        "properties": {
            "id": {"type": "integer"},
            "company": {"type": "string"},
            **{name: _nullable("string") for name in OPPORTUNITY_TEXT_FIELDS},
            "source": _nullable("string", description="the information source, by name"),
            "key_customer": {"type": "boolean"},
            "maturity": _nullable("integer", description="0 = no prospect"),
            "location": {"enum": LOCATIONS},
            "owner": _nullable("string", description="the owner's login when `location` is `library`"),
            "entered_at": _TIME,
            "last_contact_at": {**_TIME, "type": ["string", "null"]},
            "next_contact_at": {**_TIME, "type": ["string", "null"]},
        },
    },
    "OpportunityDetail": {
        "allOf": [_ref("Opportunity"), {
            "type": "object",
            "required": ["notes"],
            "properties": {"notes": {"type": "array", "items": _ref("Note"),
                                     "description": "its contact notes, newest first"}},
        }],
    },
    "Note": {
        "type": "object",
        "description": "A contact note (联系小记). Notes are never edited: a correction is a new note.",
        "required": ["id", "method", "content", "maturity", "unreachable", "busy", "valid", "next_contact_at",
                     "created_at", "author"],
        "properties": {
            "id": {"type": "integer"},
            "method": {"enum": NOTE_METHODS},
            "content": {"type": "string"},
            "maturity": {"type": "integer", "minimum": 0, "description": "0 = no prospect"},
            "unreachable": {"type": "boolean", "description": "could not reach the customer"},
            "busy": {"type": "boolean", "description": "customer busy, call again"},
            "valid": {"type": "boolean",
                      "description": "a valid contact (有效联系): maturity above 0 and neither tick set"},
            "next_contact_at": {**_TIME, "type": ["string", "null"]},
            "created_at": _TIME,
            "author": {"type": "string", "description": "the author's login"},
        },
    },
    "NoteInput": {
        "type": "object",
        "required": ["method", "content", "maturity"],
        "examples": [{"method": "phone", "content": "王经理说下周看样品\n再联系", "maturity": 3}],
        "properties": {
            "method": {"enum": NOTE_METHODS},
            "content": {"type": "string", "minLength": 1, "maxLength": notes.CONTENT_LIMIT,
                        "description": "what happened"},
            "maturity": {"type": "integer", "minimum": 0, "description": "a level, 0 (no prospect) to 5 by default"},
            "unreachable": _nullable("boolean"),
            "busy": _nullable("boolean"),
            "next_contact_at": {**_TIME, "type": ["string", "null"],
                                "description": "ISO 8601, not in the past; without an offset it is in CRM_TIMEZONE"},
        },
    },
    "AbandonInput": {
        "type": "object",
        "required": ["reason"],
        "properties": {"reason": {"type": "string",
                                  "description": "one of the admins' abandon reasons, by its text"}},
    },
    "OpportunityPage": {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": _ref("Opportunity")},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
        },
    },
    "OpportunityInput": {
        "type": "object",
        "required": ["company"],
        "description": "Unknown members are ignored. Text members may be null or left out.",
        "examples": [{"company": "扬州五环印花厂", "province": "江苏", "city": "扬州", "phone": "0514-2398577",
                      "contact": "王经理", "address": "文昌西路1号", "industry": "印染", "key_customer": True}],
        "properties": {
            "company": {"type": "string", "maxLength": FIELD_LIMITS["company"],
                        "description": "the licensed company name"},
            **{name: _nullable("string", maxLength=FIELD_LIMITS[name]) for name in OPPORTUNITY_TEXT_FIELDS},
            "source": _nullable("string", description="an information source, by name, from the admins' list"),
            "key_customer": _nullable("boolean"),
            "confirm_review": _nullable("boolean", description="enter it although similar customers exist"),
        },
    },
}

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
                                       "content": {"application/json": {"schema": _ref(body)}}}
        if form:
            fragment["requestBody"] = {"required": True,
                                       "content": {"multipart/form-data": {"schema": _ref(form)}}}
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
        response["content"] = {"application/json": {"schema": _ref(schema)}}
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


# --- web leads (POST /leads) ------------------------------------------------------------------
_NULLABLE_TIME = {**_TIME, "type": ["string", "null"]}
SCHEMAS.update({
    "LeadInput": {
        "type": "object",
        "required": ["company"],
        "description": "A member who registered on the website. Unknown members are ignored; text members may be "
                       "null or left out.",
        "examples": [{"company": "扬州五环印花厂", "phone": "0514-2398577", "contact": "王经理",
                      "email": "wang@example.com", "city": "扬州"}],
        "properties": {
            "company": {"type": "string", "maxLength": FIELD_LIMITS["company"]},
            **{name: _nullable("string", maxLength=FIELD_LIMITS[name])
               for name in leads.LEAD_FIELDS if name != "company"},
            "department": _nullable("string", description="the department PATH the lead goes to (Company/Dept), "
                                                          "by default the agent admin's own company"),
        },
    },
    "Lead": {
        "type": "object",
        "required": ["id", "company", "phone", "contact", "email", "received_at", "due_at", "met_at", "overdue",
                     "existing", "opportunity_id", "assigned_to"],
        "properties": {
            "id": {"type": "integer"},
            "company": {"type": "string"},
            "phone": _nullable("string"), "contact": _nullable("string"), "email": _nullable("string"),
            "received_at": _TIME,
            "due_at": {**_TIME, "description": "the follow-up deadline: received_at + lead_deadline_hours"},
            "met_at": {**_NULLABLE_TIME, "description": "the first valid contact note after arrival"},
            "overdue": {"type": "boolean", "description": "not met and past due_at"},
            "existing": {"type": "boolean", "description": "the company was already in the CRM"},
            "opportunity_id": {"type": "integer"},
            "assigned_to": _nullable("string", description="the login it was assigned to on arrival; null: it "
                                                           "waits in the agent-admin pool"),
        },
    },
    "OpportunityBrief": {
        "type": "object",
        "description": "An opportunity the caller may not see in full: where it lives and whose it is.",
        "required": ["id", "company", "location", "owner"],
        "properties": {"id": {"type": "integer"}, "company": {"type": "string"}, "location": {"enum": LOCATIONS},
                       "owner": _nullable("string")},
    },
    "LeadResult": {
        "type": "object",
        "required": ["existing", "replayed", "lead", "opportunity"],
        "properties": {
            "existing": {"type": "boolean", "description": "the company was already in the CRM"},
            "replayed": {"type": "boolean", "description": "this lead was posted before: nothing new recorded"},
            "lead": _ref("Lead"),
            "opportunity": {"anyOf": [_ref("Opportunity"), _ref("OpportunityBrief")]},
        },
    },
})

SCHEMAS["DailyStats"] = {
    "type": "object",
    "required": ["date", "users"],
    "properties": {
        "date": {"type": "string", "format": "date", "description": "the day, in CRM_TIMEZONE"},
        "users": {"type": "array", "items": {
            "type": "object",
            "required": ["login", "library_size", "library_cap", "new_key_customers", "valid_contacts",
                         "overdue_leads"],
            "properties": {
                "login": {"type": "string"},
                "library_size": {"type": "integer", "minimum": 0},
                "library_cap": {"type": "integer", "minimum": 0},
                "new_key_customers": {"type": "integer", "minimum": 0,
                                      "description": "key customers the user entered that day"},
                "valid_contacts": {"type": "integer", "minimum": 0,
                                   "description": "valid contact notes (有效联系) the user wrote that day"},
                "overdue_leads": {"type": "integer", "minimum": 0,
                                  "description": "web leads on the user's customers past their deadline now"},
            },
        }},
    },
}


# --- imports from the browser (POST /imports ...) ----------------------------------------------
_VERDICTS = list(import_jobs.VERDICTS)
_COUNTS = {"type": "object", "required": _VERDICTS, "properties": {v: {"type": "integer"} for v in _VERDICTS}}
_IMPORT_SUMMARY = {
    "id": {"type": "integer"}, "file_name": {"type": "string"},
    "status": {"type": "string", "enum": list(import_jobs.STATUS_LABELS)},
    "status_label": {"type": "string"}, "message": _nullable("string", description="why it failed"),
    "created_at": _TIME, "created_by": {"type": "string"},
    "target": {"type": "string"}, "owner": _nullable("string"), "department": _nullable("string"),
    "rows_total": _nullable("integer"), "rows_done": {"type": "integer"}, "counts": _COUNTS,
    "imported": _nullable("integer"), "not_imported": _nullable("integer"),
    "report": _nullable("string", description="where the report is, once done"),
    "queue_position": _nullable("integer", description="while its check or run waits for a background worker: "
                                "how many jobs are before it (running, or queued earlier); else null"),
    "worker_down": {"type": "boolean", "description": "it waits, nothing runs, and no background worker seems "
                    "to be running (its last one exited, or it waited over twice CRM_JOB_RESEND_SECONDS)"},
}
_MATCH = {"type": "object", "required": ["company", "location", "matched_on", "score"],
          "properties": {"opportunity_id": _nullable("integer"), "company": {"type": "string"},
                         "location": {"type": "string", "enum": LOCATIONS + ["file"]},
                         "owner": _nullable("string"), "matched_on": {"type": "array", "items": {"type": "string"}},
                         "score": {"type": "number"}, "row": {"type": "integer",
                                                              "description": "the earlier row of the file"},
                         "reasons": {"type": "array", "items": {"type": "string"},
                                     "description": "why it matched, in the reader's language"},
                         "reason_codes": {"type": "array", "items": _ref("ReasonCode")}}}

SCHEMAS.update({
    "ImportUpload": {
        "type": "object", "required": ["file"],
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream",
                     "description": ".xlsx, .xls, .ods or .csv (UTF-8 with or without BOM, or GB18030)"},
            "target": {"type": "string", "enum": list(import_jobs.TARGETS)},
            "owner": {"type": "string", "description": "the login whose library receives the rows (target library)"},
            "department": {"type": "string", "description": "PATH: the agent company (agent_admin_pool) or the "
                           "department whose salespeople receive the rows in turn (round_robin)"},
        },
    },
    "ImportSummary": {
        "type": "object", "description": "an import as listed: without its columns and list values (see Import)",
        "required": ["id", "file_name", "status", "rows_total", "rows_done", "counts", "imported"],
        "properties": _IMPORT_SUMMARY,
    },
    "Import": {
        "type": "object",
        "required": ["id", "file_name", "status", "rows_total", "rows_done", "counts", "columns", "unknown_values",
                     "imported"],
        "properties": {
            **_IMPORT_SUMMARY,
            "columns": {"type": "object", "additionalProperties": _nullable("string"),
                        "description": "header of the file -> field it fills (null: ignored); the mapped ones and "
                                       "the first others, 200 in all"},
            "columns_not_shown": {"type": "integer", "description": "headers of the file left out of `columns`"},
            "unknown_values": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                               "description": "field -> values of the file that are not in the admins' list "
                                              "(the 200 most frequent)"},
            "values": {"type": "object", "description": "field -> {value of the file: list value chosen for it}"},
            "rows_deleted": {"type": "boolean", "description": "the file and its preview rows were deleted (a "
                                                               "cancel, or the retention period)"},
        },
    },
    "ImportList": {"type": "object", "required": ["items", "total"],
                   "properties": {"items": {"type": "array", "items": _ref("ImportSummary")},
                                  "total": {"type": "integer"}}},
    "ImportRows": {
        "type": "object", "required": ["items", "total"],
        "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": {
            "type": "object", "required": ["row", "verdict", "values", "matches", "errors"],
            "properties": {"row": {"type": "integer"}, "line": _nullable("integer"),
                           "verdict": {"type": "string", "enum": _VERDICTS}, "include": {"type": "boolean"},
                           "values": {"type": "object", "additionalProperties": {"type": "string"}},
                           "matches": {"type": "array", "items": _MATCH},
                           "errors": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
    },
    "ImportRun": {
        "type": "object",
        "properties": {
            "columns": {"type": "object", "additionalProperties": _nullable("string")},
            "values": {"type": "object", "additionalProperties": {"type": "object",
                                                                  "additionalProperties": {"type": "string"}}},
            "review_rows": {"oneOf": [{"type": "array", "items": {"type": "integer"}}, {"const": "all"}]},
        },
    },
})
