"""The API's imports (docs/contract.md, "Imports from the browser"): upload, read, preview rows, run, report.

The calls of the API's blueprint (views/api/) on `services/imports/uploads.py`, the same service as the
pages, with the OpenAPI schemas only they use. Agent admins within their company, subsystem admins
anywhere; others 403; an import the caller may not see is 404 like one that does not exist.
"""
import functools
import io

from flask import g, jsonify, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import DataImport, db
from services import jobs
from services.checking import reasons
from services.errors import RuleViolation
from services.imports import retention
from services.imports import uploads as import_jobs
from services.people import access

from ..errors import MESSAGES as HTTP_MESSAGES
from . import bp
from .errors import error_response, invalid_response
from .inputs import BAD_PAGE, json_object, json_time, whole_number
from .openapi import LOCATIONS, TIME, XLSX, add_schemas, nullable, operation, query, ref

ADMINS_ONLY = _l("Only agent admins and subsystem admins import customers.")
NO_FILE = _l("Choose a file to upload.")
PER_PAGE = 50


def _admin():
    if not access.is_admin(g.api_user):
        return error_response(403, "forbidden", ADMINS_ONLY)
    return None


def _one_import(view):
    """The call on one import: `view(item)` when the caller is an admin who may see it; 403 for another
    role, 404 for an import that does not exist or is another company's (the same answer)."""
    @functools.wraps(view)
    def call(import_id):
        refused = _admin()
        if refused:
            return refused
        item = import_jobs.find(db.session, g.api_user, import_id)
        if item is None:
            return error_response(404, "not_found", HTTP_MESSAGES[404])
        return view(item)

    return call


def import_json(item, detail=True):
    """An import as the API shows it; with `detail`, also its columns and list values (bounded), which the
    list leaves out: a header stored before its width was capped took megabytes on every call."""
    done, total = import_jobs.progress_of(db.session, item)
    waiting = import_jobs.waiting_of(db.session, item)
    counts = import_jobs.loads(item.counts, {})
    answer = {
        "id": item.id, "file_name": item.file_name, "status": item.status,
        "status_label": str(import_jobs.STATUS_LABELS[item.status]), "message": item.message,
        "created_at": json_time(item.created_at), "created_by": item.created_by.login,
        "target": item.target, "owner": item.owner.login if item.owner else None,
        "department": item.target_department.name if item.target_department else None,
        "rows_total": total, "rows_done": done if item.status in ("checking", "importing") else (item.rows_total or 0),
        "counts": {verdict: counts.get(verdict, 0) for verdict in import_jobs.VERDICTS},
        "imported": item.imported, "not_imported": item.not_imported,
        "report": url_for("api.import_report", import_id=item.id) if item.status == "done" else None,
        "queue_position": waiting.ahead if waiting else None, "worker_down": bool(waiting and waiting.down),
    }
    if detail:
        columns, hidden = import_jobs.shown_columns(item)
        answer.update({
            "columns": {_header(header): field for _index, header, field in columns}, "columns_not_shown": hidden,
            "unknown_values": {name: import_jobs.first(values)
                               for name, values in import_jobs.loads(item.unknown_values, {}).items()},
            "values": {name: import_jobs.first(chosen) for name, chosen in import_jobs.loads(item.value_map, {}).items()},
            "rows_deleted": item.status not in ("checking", "importing") and not import_jobs.file_kept(db.session, item),
        })
    return answer


def _header(header, limit=2000):
    """A header as the API shows it (one stored before cells were capped may be huge)."""
    return header if len(header) <= limit else header[:limit] + "…"


def said_match(match):
    """A stored match as the check's answer gives it: its reasons in the reader's language, and their codes."""
    stored = match.get("reasons") or []
    return {**match, "reasons": reasons.said(stored), "reason_codes": reasons.codes(stored)}


def row_json(row):
    return {"row": row.row, "line": row.line, "verdict": row.verdict, "include": row.include,
            "values": import_jobs.loads(row.values, {}), "matches": [said_match(m) for m in import_jobs.loads(row.matches, [])],
            "errors": import_jobs.loads(row.errors, {})}


@bp.post("/imports")
@operation(
    "Upload a customer list to import (导入)", tags=["imports"], form="ImportUpload",
    description="multipart/form-data: `file` (.xlsx, .xls, .ods, or .csv in UTF-8 or GB18030, at most CRM_IMPORT_MAX_MB), "
                "`target` (public_pool by default, agent_admin_pool, library with `owner` LOGIN, round_robin with "
                "`department` PATH), `department` (PATH: the agent company of agent_admin_pool; an agent admin's "
                "own by default). The header row is read at once (422 when the file is no table or has no company "
                "column); every row is then checked in the background: poll GET /imports/ID.",
    responses={202: ("Kept; its rows are being checked", "Import"), 403: None, 413: None, 422: None, 503: None},
)
def create_import():
    refused = _admin()
    if refused:
        return refused
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return invalid_response({"file": NO_FILE})
    data = upload.read(import_jobs.max_bytes() + 1)
    where = import_jobs.placement(db.session, g.api_user, request.form.get("target"),
                                  owner=request.form.get("owner"), department=request.form.get("department"))
    item = import_jobs.new_import(db.session, g.api_user, upload.filename, data, where)
    jobs.commit(db.session)  # 503 `unavailable` when the queue refuses the check: nothing kept
    item = db.session.get(DataImport, item.id)
    response = jsonify(import_json(item))
    response.status_code = 202
    response.headers["Location"] = url_for("api.get_import", import_id=item.id)
    return response


@bp.get("/imports")
@operation("The imports of the caller's scope, newest first", tags=["imports"],
           parameters=[query("page", "page number, from 1", {"type": "integer", "minimum": 1})],
           responses={200: ("A page of imports", "ImportList"), 403: None, 422: None})
def list_imports():
    refused = _admin()
    if refused:
        return refused
    page = whole_number("page", 1, 10**6, BAD_PAGE)
    query_ = select(DataImport).where(import_jobs.visible_clause(g.api_user))
    total = db.session.scalar(select(db.func.count()).select_from(query_.subquery()))
    items = db.session.scalars(query_.options(*import_jobs.LIST_ONLY).order_by(DataImport.id.desc())
                               .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return {"items": [import_json(item, detail=False) for item in items], "total": total}


@bp.get("/imports/<id:import_id>")
@operation("An import: status, progress, counts per verdict, column mapping, unknown list values",
           tags=["imports"], responses={200: ("The import", "Import"), 403: None, 404: None})
@_one_import
def get_import(item):
    answer = import_json(item)
    db.session.commit()  # a dead worker's job, marked failed on the way
    return answer


@bp.get("/imports/<id:import_id>/rows")
@operation("The preview, row by row: values, verdict, matches, field errors", tags=["imports"],
           parameters=[query("verdict", "new, review, duplicate or invalid",
                             {"type": "string", "enum": list(import_jobs.VERDICTS)}),
                       query("page", "page number, from 1", {"type": "integer", "minimum": 1})],
           responses={200: ("A page of rows, in the file's order", "ImportRows"), 403: None, 404: None, 422: None})
@_one_import
def import_rows(item):
    verdict = request.args.get("verdict") or None
    if verdict is not None and verdict not in import_jobs.VERDICTS:
        return invalid_response({"verdict": _l("Unknown verdict.")})
    page = whole_number("page", 1, 10**6, BAD_PAGE)
    rows, total = import_jobs.rows(db.session, item, verdict, page, PER_PAGE)
    return {"items": [row_json(row) for row in rows], "total": total}


@bp.post("/imports/<id:import_id>/run")
@operation(
    "Run the import in the background, all or nothing", tags=["imports"], body="ImportRun",
    description="`columns` ({HEADER: FIELD or null}) and `values` ({FIELD: {GIVEN: CHOSEN}}, CHOSEN a value of "
                "the admins' list or \"\" for none) change the mapping first; `review_rows` lists the `review` rows "
                "to import (the others are not: each needs a person's yes). Rows are checked again as they are "
                "written. 409 `not_ready` before the check has finished, after a failed check (check it again: "
                "POST /imports/ID/check), while it runs or after the run: of several calls at once, one starts "
                "it. 409 `nothing_to_import` when the preview has no new row and no ticked `review` row (the "
                "message says why: all duplicates, invalid...), unless `columns` or `values` changed the mapping "
                "(the run then judges the rows itself). "
                "503 `unavailable` when the background queue cannot be reached (nothing started).",
    responses={202: ("Started; poll GET /imports/ID", "Import"), 400: None, 403: None, 404: None, 409: None,
               422: None, 503: None},
)
@_one_import
def run_import(item):
    body = json_object()
    import_jobs.runnable(item)
    changed = import_jobs.choose(db.session, item, columns=_mapping(body, "columns"),
                                 values=_mapping(body, "values"))
    if body.get("review_rows") is not None:
        rows = body["review_rows"]
        if rows != "all" and not (isinstance(rows, list) and all(isinstance(r, int) for r in rows)):
            return invalid_response({"review_rows": _l("A list of row numbers, or \"all\".")})
        import_jobs.include(db.session, item, "all", on=False)
        import_jobs.include(db.session, item, rows)
    # a mapping changed with this call makes the preview's verdicts stale: the run judges the rows itself
    import_jobs.start_run(db.session, g.api_user, item, judged=not changed)
    jobs.commit(db.session)
    return _accepted(item)


def _accepted(item):
    response = jsonify(import_json(db.session.get(DataImport, item.id)))
    response.status_code = 202
    return response


@bp.post("/imports/<id:import_id>/check")
@operation(
    "Check the file again in the background (after a failed check, or with another mapping)", tags=["imports"],
    body="ImportRun",
    description="`columns` and `values` as for the run change the mapping first. From `ready` or `failed`; "
                "409 `not_ready` while it is checked or imported, or after the run. 503 `unavailable` when the "
                "background queue cannot be reached (nothing started).",
    responses={202: ("Started; poll GET /imports/ID", "Import"), 400: None, 403: None, 404: None, 409: None,
               422: None, 503: None},
)
@_one_import
def check_import(item):
    body = json_object() if request.get_data(cache=True) else {}
    import_jobs.choose(db.session, item, columns=_mapping(body, "columns"), values=_mapping(body, "values"))
    import_jobs.recheck(db.session, item)
    jobs.commit(db.session)
    return _accepted(item)


@bp.post("/imports/<id:import_id>/cancel")
@operation(
    "Cancel an import before its run: nothing is imported", tags=["imports"],
    description="From `ready` or `failed`, or while its check or run still waits for a background worker (no "
                "worker takes it afterwards); its file and preview rows are deleted. 409 `not_ready` once a worker "
                "works on it, or after it ended.",
    responses={200: ("Cancelled", "Import"), 403: None, 404: None, 409: None},
)
@_one_import
def cancel_import(item):
    import_jobs.cancel(db.session, item)
    db.session.commit()
    retention.checkpoint(db.session)  # the preview may have been large
    return import_json(db.session.get(DataImport, item.id))


def _mapping(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise RuleViolation(_l("%(name)s must be an object.", name=name), field=name)
    return value


@bp.get("/imports/<id:import_id>/report")
@operation("The report (.xlsx): rows not imported, and review rows imported, with row, verdict and reason",
           tags=["imports"], responses={200: ("The report", "file:xlsx"), 403: None, 404: None, 409: None})
@_one_import
def import_report(item):
    data = import_jobs.report(db.session, item)
    if data is None:
        return error_response(409, "not_ready", _l("There is no report: the import has not run, or its files were "
                                                   "deleted after the retention period."))
    return send_xlsx(data, import_jobs.report_name(item.file_name))


def send_xlsx(data, name):
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


# --- the schemas of these calls ------------------------------------------------------------
_VERDICTS = list(import_jobs.VERDICTS)
_COUNTS = {"type": "object", "required": _VERDICTS, "properties": {v: {"type": "integer"} for v in _VERDICTS}}
_IMPORT_SUMMARY = {
    "id": {"type": "integer"}, "file_name": {"type": "string"},
    "status": {"type": "string", "enum": list(import_jobs.STATUS_LABELS)},
    "status_label": {"type": "string"}, "message": nullable("string", description="why it failed"),
    "created_at": TIME, "created_by": {"type": "string"},
    "target": {"type": "string"}, "owner": nullable("string"), "department": nullable("string"),
    "rows_total": nullable("integer"), "rows_done": {"type": "integer"}, "counts": _COUNTS,
    "imported": nullable("integer"), "not_imported": nullable("integer"),
    "report": nullable("string", description="where the report is, once done"),
    "queue_position": nullable("integer", description="while its check or run waits for a background worker: "
                                "how many jobs are before it (running, or queued earlier); else null"),
    "worker_down": {"type": "boolean", "description": "it waits, nothing runs, and no background worker seems "
                    "to be running (its last one exited, or it waited over twice CRM_JOB_RESEND_SECONDS)"},
}
_MATCH = {"type": "object", "required": ["company", "location", "matched_on", "score"],
          "properties": {"opportunity_id": nullable("integer"), "company": {"type": "string"},
                         "location": {"type": "string", "enum": LOCATIONS + ["file"]},
                         "owner": nullable("string"), "matched_on": {"type": "array", "items": {"type": "string"}},
                         "score": {"type": "number"}, "row": {"type": "integer",
                                                              "description": "the earlier row of the file"},
                         "reasons": {"type": "array", "items": {"type": "string"},
                                     "description": "why it matched, in the reader's language"},
                         "reason_codes": {"type": "array", "items": ref("ReasonCode")}}}

add_schemas({
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
            "columns": {"type": "object", "additionalProperties": nullable("string"),
                        "description": "header of the file -> field it fills (null: ignored); the mapped ones and "
                                       "the first others, 200 in all"},
            "columns_not_shown": {"type": "integer", "description": "headers of the file left out of `columns`"},
            "unknown_values": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                               "description": "field -> values of the file that are not in the admins' list "
                                              "(the 200 most frequent); `key_customer`: the file's customer levels "
                                              "(客户等级), to map to key customer or not; `owner`: the names of the "
                                              "owner column (业务负责人) that place no row in a library (nobody the "
                                              "importer administers, or several people): their rows go to the target"},
            "values": {"type": "object", "description": "field -> {value of the file: list value chosen for it}"},
            "rows_deleted": {"type": "boolean", "description": "the file and its preview rows were deleted (a "
                                                               "cancel, or the retention period)"},
        },
    },
    "ImportList": {"type": "object", "required": ["items", "total"],
                   "properties": {"items": {"type": "array", "items": ref("ImportSummary")},
                                  "total": {"type": "integer"}}},
    "ImportRows": {
        "type": "object", "required": ["items", "total"],
        "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": {
            "type": "object", "required": ["row", "verdict", "values", "matches", "errors"],
            "properties": {"row": {"type": "integer"}, "line": nullable("integer"),
                           "verdict": {"type": "string", "enum": _VERDICTS}, "include": {"type": "boolean"},
                           "values": {"type": "object", "additionalProperties": {"type": "string"}},
                           "matches": {"type": "array", "items": _MATCH},
                           "errors": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
    },
    "ImportRun": {
        "type": "object",
        "properties": {
            "columns": {"type": "object", "additionalProperties": nullable("string")},
            "values": {"type": "object", "additionalProperties": {"type": "object",
                                                                  "additionalProperties": {"type": "string"}}},
            "review_rows": {"oneOf": [{"type": "array", "items": {"type": "integer"}}, {"const": "all"}]},
        },
    },
})

