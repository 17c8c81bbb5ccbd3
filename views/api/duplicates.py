"""The API's duplicates already inside and merges (docs/contract.md): scan, groups, merge, undo.

The calls of the API's blueprint (views/api/) on `services/duplicates/scan.py` and `services/duplicates/merges.py`, the
services of the /duplicates/ page, with the OpenAPI schemas only they use. Agent admins within their
company, subsystem admins anywhere; others 403; a record, group or merge out of reach is 404 like one
that does not exist.
"""
import json

from flask import g, jsonify, request
from flask_babel import lazy_gettext as _l

from models import db
from services import jobs
from services.checking import reasons
from services.duplicates import merges
from services.duplicates import scan as duplicates
from services.people import access

from . import bp
from .errors import error_response, invalid_response
from .inputs import BAD_PAGE, json_object, json_time, whole_number
from .openapi import MATCH_VERDICTS, add_schemas, operation, query, ref

PER_PAGE = 20


def _admin():
    if not access.is_admin(g.api_user):
        return error_response(403, "forbidden", duplicates.NOT_ADMIN)
    return None


def scan_json(scan):
    if scan is None:
        return None
    done, total = duplicates.scan_progress(db.session, scan)
    return {"id": scan.id, "status": scan.status, "message": scan.message, "created_at": json_time(scan.created_at),
            "finished_at": json_time(scan.finished_at), "done": done, "total": total, "records": scan.records,
            "groups_duplicate": scan.groups_duplicate, "groups_review": scan.groups_review}


def record_json(opportunity):
    return {"id": opportunity.id, "company": opportunity.company, "province": opportunity.province,
            "city": opportunity.city, "location": opportunity.location,
            "owner": opportunity.owner.login if opportunity.owner else None}


def group_json(item, records):
    """A group; a public pool record shows only what the pool's list does (`record_json` holds no more)."""
    return {"id": item.id, "verdict": item.verdict, "score": round(item.score, 3),
            "reason": "; ".join(reasons.said(duplicates.reasons(item))),
            "reason_codes": reasons.codes(duplicates.reasons(item)), "opportunities": [record_json(o) for o in records],
            "public_pool": any(duplicates.in_public_pool(o) for o in records),
            "may_merge": not duplicates.merge_refused(g.api_user, records)}


@bp.post("/duplicates/scan")
@operation("Scan for duplicates already inside, in the background", tags=["duplicates"],
           description="Every opportunity the caller administers (an agent admin: its company's, against each "
                       "other and against the public pool's; a subsystem admin: all) is checked by the duplicate "
                       "check's engine. Poll "
                       "GET /duplicates. A scan of the same scope already waiting or running is answered instead.",
           responses={202: ("The scan, queued or running", "DuplicateScan"), 403: None, 503: None})
def scan_duplicates():
    refused = _admin()
    if refused:
        return refused
    scan = duplicates.start_scan(db.session, g.api_user)
    jobs.commit(db.session)  # 503 `unavailable` when the queue refuses it: no scan left waiting
    response = jsonify(scan_json(scan))
    response.status_code = 202
    return response


@bp.get("/duplicates")
@operation("The groups of duplicates found by the caller's last finished scan", tags=["duplicates"],
           description="`duplicate` groups first (the entry check would refuse one of them), then `review` groups "
                       "(similar names, for a person to judge). A merged or deleted record, and a group dismissed as "
                       "not duplicates, leave the list. `status` is the newest scan's (none before the first).",
           parameters=[query("verdict", "duplicate or review", {"type": "string", "enum": MATCH_VERDICTS}),
                       query("page", "page number, from 1", {"type": "integer", "minimum": 1})],
           responses={200: ("A page of groups", "DuplicateGroups"), 403: None, 422: None})
def list_duplicates():
    refused = _admin()
    if refused:
        return refused
    verdict = request.args.get("verdict") or None
    if verdict not in (None, "duplicate", "review"):
        return invalid_response({"verdict": _l("Unknown verdict.")})
    page = whole_number("page", 1, 10**6, BAD_PAGE)
    items, total, _shown = duplicates.groups(db.session, g.api_user, verdict, page, PER_PAGE)
    newest = duplicates.last_scan(db.session, g.api_user)
    scan = scan_json(newest)  # first: reading its progress may mark failed a scan whose worker died
    answer = {"status": scan["status"] if scan else "none", "scan": scan,
              "groups": [group_json(item, records) for item, records in items], "total": total}
    db.session.commit()  # a dead worker's scan, marked failed on the way
    return answer


@bp.post("/duplicates/<id:group_id>/dismiss")
@operation("Not duplicates: the group leaves the list, and no later scan groups these records again",
           tags=["duplicates"], responses={200: ("Dismissed", "Dismissed"), 403: None, 404: None})
def dismiss_duplicates(group_id):
    refused = _admin()
    if refused:
        return refused
    duplicates.dismiss(db.session, g.api_user, group_id)
    db.session.commit()
    return {"id": group_id, "dismissed": True}


@bp.post("/merges")
@operation(
    "Merge duplicates into one record", tags=["duplicates"], body="MergeInput",
    description="The kept record takes, field by field, the value of the record named in `values` ({FIELD: ID}; "
                "FIELD one of " + ", ".join(merges.FIELDS) + "; `owner` is where the customer lives), else its own, "
                "else the first non-empty. Notes, history, web leads, confirmations and notices of the merged "
                "records move to it; the merged records disappear from every list, check and count, and their "
                "owners are told. 404 when a record is out of reach; 409 `library_full`; 422 for a request or a "
                "combination of values the entry form would refuse; 403 `public_pool_merge` when an agent admin "
                "names a public pool record (the pool is every company's: a subsystem admin merges it).",
    responses={201: ("Merged", "Merge"), 400: None, 403: None, 404: None, 409: None, 422: None},
)
def create_merge():
    refused = _admin()
    if refused:
        return refused
    body = json_object()
    keep, merged, values = body.get("keep"), body.get("merge"), body.get("values") or {}
    if not _is_id(keep) or not isinstance(merged, list) or not all(_is_id(i) for i in merged) \
            or not isinstance(values, dict) or not all(_is_id(v) for v in values.values()):
        return invalid_response({"merge": _l("Give `keep` (an id), `merge` (a list of ids) and optionally "
                                             "`values` ({field: id}).")})
    item = merges.merge(db.session, g.api_user, keep, merged, values)
    db.session.commit()
    response = jsonify(merge_json(item))
    response.status_code = 201
    return response


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def merge_json(item):
    data = json.loads(item.snapshot)
    return {"id": item.id, "kept": item.kept_id, "merged": data["merged"], "created_at": json_time(item.created_at),
            "undone_at": json_time(item.undone_at)}


@bp.post("/merges/<id:merge_id>/undo")
@operation("Undo a merge (within 30 days): every record back as it was", tags=["duplicates"],
           description="The merged records come back with their own fields, notes, history and leads; the kept "
                       "record gets its own values back (a value changed since the merge stays). 409 `conflict` "
                       "with the reason when a later change makes it impossible (undone already, too old, a merged "
                       "record's mobile now held by another customer), 409 `library_full`; 403 `public_pool_merge` "
                       "for an agent admin when a record was the public pool's.",
           responses={200: ("Undone", "Merge"), 403: None, 404: None, 409: None})
def undo_merge(merge_id):
    refused = _admin()
    if refused:
        return refused
    item = merges.undo(db.session, g.api_user, merge_id)
    db.session.commit()
    return merge_json(item)


# --- the schemas of these calls ------------------------------------------------------------
_ID = {"type": "integer"}
_TEXT = {"type": ["string", "null"]}
add_schemas({
    "DuplicateScan": {
        "type": "object", "required": ["id", "status"],
        "properties": {
            "id": _ID, "status": {"type": "string", "enum": list(duplicates.SCAN_STATUSES)},
            "message": _TEXT, "created_at": _TEXT, "finished_at": _TEXT, "done": _ID,
            "total": {"type": ["integer", "null"]}, "records": {"type": ["integer", "null"]},
            "groups_duplicate": {"type": ["integer", "null"]}, "groups_review": {"type": ["integer", "null"]},
        },
    },
    "DuplicateGroups": {
        "type": "object", "required": ["status", "groups", "total"],
        "properties": {
            "status": {"type": "string", "enum": ["none", *duplicates.SCAN_STATUSES]},
            "scan": {"oneOf": [{"$ref": "#/components/schemas/DuplicateScan"}, {"type": "null"}]},
            "total": _ID,
            "groups": {"type": "array", "items": {
                "type": "object", "required": ["id", "verdict", "opportunities", "reason", "public_pool", "may_merge"],
                "properties": {
                    "id": _ID, "verdict": {"type": "string", "enum": MATCH_VERDICTS},
                    "score": {"type": "number"},
                    "reason": {"type": "string", "description": "the group's reasons in the reader's language"},
                    "reason_codes": {"type": "array", "items": ref("ReasonCode"),
                                     "description": "the same reasons as codes (null for a scan before codes)"},
                    "public_pool": {"type": "boolean", "description": "a record of the group is in the public pool"},
                    "may_merge": {"type": "boolean", "description": "false for an agent admin when a record is "
                                  "the public pool's: merging it needs a subsystem admin (POST /merges answers "
                                  "403 `public_pool_merge`); it may still be dismissed"},
                    "opportunities": {"type": "array", "items": {
                        "type": "object", "required": ["id", "company", "location", "owner"],
                        "properties": {"id": _ID, "company": {"type": "string"}, "province": _TEXT, "city": _TEXT,
                                       "location": {"type": "string"}, "owner": _TEXT}}},
                }}},
        },
    },
    "Dismissed": {"type": "object", "required": ["id", "dismissed"],
                  "properties": {"id": _ID, "dismissed": {"type": "boolean"}}},
    "MergeInput": {
        "type": "object", "required": ["keep", "merge"],
        "properties": {
            "keep": {**_ID, "description": "the record kept"},
            "merge": {"type": "array", "items": _ID, "minItems": 1, "description": "the records merged into it"},
            "values": {"type": "object", "description": "{FIELD: ID}: whose value the kept record takes",
                       "propertyNames": {"enum": list(merges.FIELDS)}, "additionalProperties": _ID},
        },
    },
    "Merge": {
        "type": "object", "required": ["id", "kept", "merged"],
        "properties": {"id": _ID, "kept": _ID, "merged": {"type": "array", "items": _ID},
                       "created_at": _TEXT, "undone_at": _TEXT},
    },
})
