"""The opportunities of docs/contract.md: entering (录入), listing, reading with contact notes, claiming from the
public pool, contact notes and abandoning; with the OpenAPI schemas only these calls use.

A call on one opportunity sees only what the caller may see (services/people/access.py); one out of reach answers
as an unknown id would.
"""
from datetime import datetime

from flask import g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from models import NOTE_METHODS as _NOTE_METHODS
from models import Opportunity, User, db
from services import audit
from services.duplicates import merges
from services.errors import RuleViolation
from services.library import capacity as library
from services.library import customer_locks, notes
from services.library import masking as masking_
from services.library import opportunities as opps
from services.library.opportunities import FIELD_LIMITS
from services.people import access

from ..errors import MESSAGES as HTTP_MESSAGES
from . import bp
from .errors import BadInput, error_response, invalid_response, violation_response
from .inputs import BAD_PAGE, json_object, json_time, label, whole_number
from .openapi import OPPORTUNITY_TEXT_FIELDS, TIME, add_schemas, nullable, operation, query, ref

PER_PAGE, MAX_PER_PAGE = 50, 200
_TEXT_FIELDS = ("company", "province", "city", "district", "town", "address", "contact", "phone", "fax", "mobile",
                "wechat", "qq", "email", "industry", "source")
_FLAG_FIELDS = ("key_customer", "confirm_review")
NOTE_METHODS = list(_NOTE_METHODS)

NO_LIBRARY = _l("Only salespeople, supervisors and managers have a library to enter or claim customers into.")


def opportunity_json(opportunity, masking=False):
    """An opportunity as every answer shows it (docs/contract.md); empty text is null. With `masking` (the caller's
    company hides the pool's contacts, services/library/masking.py), a pool customer's contacts come masked."""
    return {
        "id": opportunity.id,
        "company": opportunity.company,
        **{name: masking_.masked_value(opportunity, name, masking) or None for name in OPPORTUNITY_TEXT_FIELDS},
        "source": opportunity.source.name if opportunity.source else None,
        "key_customer": bool(opportunity.key_customer),
        "locked": customer_locks.is_locked(opportunity),
        "maturity": opportunity.maturity,
        "location": opportunity.location,
        "owner": opportunity.owner.login if opportunity.owner else None,
        "entered_at": json_time(opportunity.entered_at),
        "last_contact_at": json_time(opportunity.last_contact_at),
        "next_contact_at": json_time(opportunity.next_contact_at),
    }


def note_json(note):
    return {
        "id": note.id, "method": note.method, "content": note.content, "maturity": note.maturity,
        "unreachable": bool(note.unreachable), "busy": bool(note.busy), "valid": bool(note.valid),
        "next_contact_at": json_time(note.next_contact_at), "created_at": json_time(note.created_at),
        "author": note.author.login if note.author else None, "imported": bool(note.imported),
    }


def _typed(body):
    """Text members must be strings (or null), flags booleans (or null): 422 otherwise."""
    fields = {}
    for name in _TEXT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            fields[name] = _("%(field)s must be text.", field=label(name))
    for name in _FLAG_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            fields[name] = _("%(field)s must be true or false.", field=name)
    if fields:
        raise BadInput(invalid_response(fields))
    return body


def _require_library(user):
    if user.role not in access.LIBRARY_ROLES:
        raise BadInput(error_response(403, "forbidden", NO_LIBRARY))


def visible(opportunity_id):
    """The opportunity if the caller may see it (its scope, and the public pool that everyone browses), else None
    (absent and hidden look the same)."""
    return db.session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id,
                                  or_(access.opportunity_clause(g.api_user), access.public_pool_clause()))
        .options(selectinload(Opportunity.owner), selectinload(Opportunity.source))
    )


# --- calls ------------------------------------------------------------------------------


@bp.post("/opportunities")
@operation(
    "Enter an opportunity (录入机会) into the caller's library", tags=["opportunities"], body="OpportunityInput",
    description="Checks for duplicates again on save. A duplicate is refused (409 `duplicate`, with where it "
                "lives); a resemblance needs `confirm_review: true` (409 `review_required` until then); a full "
                "library is refused (409 `library_full`, with `limit`). Admins have no library: 403.",
    responses={
        201: ("The opportunity entered; Location names it", "Opportunity"), 400: None, 403: None, 413: None,
        409: ("`duplicate` or `review_required` (with `matches`), or `library_full` (with `limit`)",
              "EntryRefused"),
        422: None,
    },
)
def create_opportunity():
    _require_library(g.api_user)
    body = _typed(json_object())
    data = opps.OpportunityInput.from_mapping(body)
    data.key_customer = body.get("key_customer") is True
    problems = opps.validate(data)
    if problems:
        return invalid_response(problems)
    try:
        opportunity = opps.enter(db.session, g.api_user, data, confirm_review=body.get("confirm_review") is True)
    except RuleViolation as refused:  # a duplicate or a full library leaves its trace; _refused answers
        if isinstance(refused, opps.DuplicateFound) or refused.code == "library_full":
            _audit_refusal(refused, data)
        raise
    db.session.commit()
    response = jsonify(opportunity_json(visible(opportunity.id)))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_opportunity", opportunity_id=opportunity.id)
    return response


def _audit_refusal(refused, data):
    """A refused entry, rolled back, is recorded with what it collided with (issue 5)."""
    audit.record_refusal(db.session, g.api_user, "entry_refused", details=audit.entry_refusal(refused, data.company))


@bp.get("/opportunities")
@operation(
    "List the opportunities the caller may see", tags=["opportunities"],
    description="A salesperson's own library; a supervisor's or manager's also their managed departments'; an "
                "agent admin's its company's; newest first. With `location=public_pool`, the public pool.",
    parameters=[
        query("q", "any known detail: company name or keyword, landline, mobile or fax (area code optional), WeChat ID, QQ, "
                   "contact person", {"type": "string", "examples": ["扬州"]}),
        query("location", "`public_pool`: the public pool (公海), which everyone browses, instead of the caller's "
                          "scope; its contacts masked for salespeople where the caller's company hides them "
                          "(`mask_pool_contacts`, `GET /rules`) until claimed; a full number in `q` still finds a "
                          "record", {"enum": ["public_pool"]}),
        query("page", "from 1", {"type": "integer", "minimum": 1, "default": 1}),
        query("per_page", f"at most {MAX_PER_PAGE}",
              {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE}),
    ],
    responses={200: ("A page of opportunities and how many there are in all", "OpportunityPage"), 422: None},
)
def list_opportunities():
    page = whole_number("page", 1, 10**9, BAD_PAGE)
    per_page = whole_number("per_page", PER_PAGE, MAX_PER_PAGE,
                            _("per_page must be a whole number from 1 to %(n)d.", n=MAX_PER_PAGE))
    location = request.args.get("location") or ""
    if location not in ("", "public_pool"):
        return invalid_response({"location": _("location is public_pool or left out.")})
    where = [access.public_pool_clause() if location else access.opportunity_clause(g.api_user)]
    q = (request.args.get("q") or "").strip()
    if q:
        where.append(opps.search_clause(q))  # the same search as the my-opportunities page
    total = db.session.scalar(select(func.count()).select_from(Opportunity).where(*where))
    items = db.session.scalars(
        select(Opportunity).where(*where)
        .order_by(Opportunity.entered_at.desc(), Opportunity.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(Opportunity.owner), selectinload(Opportunity.source))
    ).all()
    masking = masking_.masks_pool(db.session, g.api_user)
    return {"items": [opportunity_json(o, masking) for o in items], "total": total, "page": page,
            "per_page": per_page}


@bp.get("/opportunities/<id:opportunity_id>")
@operation("One opportunity, with its contact notes", tags=["opportunities"],
           responses={200: ("The opportunity", "OpportunityDetail"), 404: None})
def get_opportunity(opportunity_id):
    opportunity = visible(opportunity_id)
    if opportunity is None:
        kept = merges.merged_into(db.session, g.api_user, opportunity_id)
        if kept is not None:  # an old id of a merged record answers where the customer went
            return error_response(404, "merged", _l("This customer was merged into %(company)s (%(id)d).",
                                                    company=kept.company, id=kept.id), merged_into=kept.id)
        return error_response(404, "not_found", HTTP_MESSAGES[404])
    masking = masking_.masks_pool(db.session, g.api_user)
    # a pool customer outside the caller's scope is seen as the pool shows it: its former owners' notes stay theirs
    in_scope = db.session.scalar(select(Opportunity.id).where(Opportunity.id == opportunity.id,
                                                              access.opportunity_clause(g.api_user)))
    shown = notes.notes_of(db.session, opportunity.id) if in_scope else []
    return {**opportunity_json(opportunity, masking), "notes": [note_json(n) for n in shown]}


@bp.post("/opportunities/<id:opportunity_id>/claim")
@operation(
    "Claim an opportunity from the public pool (公海) into the caller's library", tags=["opportunities"],
    description="404 when it is not (or no longer) in the public pool; 409 `library_full` at the cap; admins 403. "
                "The pool rules of the caller's company (`GET /rules`) may refuse it too, 409 with `available_at`, "
                "when it becomes possible: `daily_claim_limit` (the caller's claims today), `reclaim_cooldown` "
                "(the caller let it leave their library less than `reclaim_cooldown_days` ago), "
                "`new_arrival_embargo` (it came into the pool less than `new_arrival_embargo_hours` ago).",
    responses={200: ("The opportunity, now in the caller's library", "Opportunity"), 403: None, 404: None,
               409: ("`library_full` (with `limit`), or a pool rule's refusal (with `available_at`)",
                     "ClaimRefused")},
)
def claim_opportunity(opportunity_id):
    _require_library(g.api_user)
    opportunity = opps.claim(db.session, g.api_user, opportunity_id)
    db.session.commit()
    return opportunity_json(visible(opportunity.id))


@bp.post("/opportunities/<id:opportunity_id>/assign")
@operation(
    "Assign an opportunity of the public pool (公海) to a person the caller administers (an admin's call)",
    tags=["opportunities"], body="AssignInput",
    description="An admin gives a public-pool customer to `owner`, a salesperson, supervisor or manager he "
                "administers (an agent admin: of his company; a subsystem admin: anyone), at once: the embargo on "
                "new arrivals binds salespeople only, and an assignment does not count toward the owner's daily "
                "claims. 403 for anyone else; 404 when it is not (or no longer) in the public pool; 409 "
                "`library_full` (with `limit`, the owner's cap); 422 when `owner` is not someone the caller "
                "administers.",
    responses={200: ("The opportunity, now in the owner's library", "Opportunity"), 400: None, 403: None,
               404: None, 409: ("`library_full`, with `limit`", "LibraryFull"), 413: None, 422: None},
)
def assign_opportunity(opportunity_id):
    if not access.is_admin(g.api_user):
        raise BadInput(error_response(403, "forbidden", HTTP_MESSAGES[403]))
    body = json_object()
    login = body.get("owner")
    if not isinstance(login, str) or not login.strip():
        return invalid_response({"owner": _("Choose a salesperson you administer.")})
    owner = db.session.scalar(select(User).where(User.login == login.strip()))
    try:
        opportunity = opps.assign(db.session, g.api_user, opportunity_id, owner)
    except RuleViolation as refused:
        if refused.code != "library_full":
            raise
        db.session.rollback()
        return violation_response(refused, limit=library.cap(db.session, owner))
    db.session.commit()
    return opportunity_json(visible(opportunity.id))


@bp.post("/opportunities/<id:opportunity_id>/lock")
@operation(
    "Lock (锁定) an opportunity of the caller's library, so that the return rule never takes it",
    tags=["opportunities"],
    description="Up to `lock_limit` (`GET /rules`) locked customers per person; key customers need no lock (409 "
                "`conflict` while the return rule spares them). Locking a locked one changes nothing. 403 for "
                "those who keep no library; 404 for an opportunity that is not the caller's own; 409 "
                "`lock_limit` when the caller's locks are used up. The lock ends when the customer leaves the "
                "library.",
    responses={200: ("The opportunity, `locked: true`", "Opportunity"), 403: None, 404: None,
               409: ("`lock_limit`, or `conflict` for a key customer", "Error")},
)
def lock_opportunity(opportunity_id):
    _require_library(g.api_user)
    opportunity = customer_locks.lock(db.session, g.api_user, opportunity_id)
    db.session.commit()
    return opportunity_json(visible(opportunity.id))


@bp.post("/opportunities/<id:opportunity_id>/unlock")
@operation(
    "Unlock an opportunity of the caller's library: the return rule may take it again", tags=["opportunities"],
    description="403 for those who keep no library; 404 for an opportunity that is not the caller's own.",
    responses={200: ("The opportunity, `locked: false`", "Opportunity"), 403: None, 404: None},
)
def unlock_opportunity(opportunity_id):
    _require_library(g.api_user)
    opportunity = customer_locks.unlock(db.session, g.api_user, opportunity_id)
    db.session.commit()
    return opportunity_json(visible(opportunity.id))


@bp.post("/opportunities/<id:opportunity_id>/notes")
@operation(
    "Write a contact note (联系小记) on an opportunity of the caller's library", tags=["opportunities"],
    body="NoteInput",
    description="The note is a valid contact (`valid: true`) unless maturity is 0 or `unreachable` or `busy` is "
                "set. It updates the opportunity's maturity, last and next contact times. Notes are never edited. "
                "404 for an opportunity that is not the caller's own; 422 for a missing `content`, a maturity "
                "outside the levels or a next contact time in the past.",
    responses={201: ("The note", "Note"), 400: None, 403: None, 404: None, 413: None, 422: None},
)
def add_note(opportunity_id):
    _require_library(g.api_user)
    body = json_object()
    fields = {}
    for name in ("method", "content", "next_contact_at"):
        if body.get(name) is not None and not isinstance(body[name], str):
            fields[name] = _("%(field)s must be text.", field=name)
    for name in ("unreachable", "busy"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            fields[name] = _("%(field)s must be true or false.", field=name)
    maturity = body.get("maturity")
    if maturity is not None and (isinstance(maturity, bool) or not isinstance(maturity, int)):
        fields["maturity"] = _("%(field)s must be a whole number.", field="maturity")
    next_contact_at = None
    if not fields and body.get("next_contact_at"):
        try:
            next_contact_at = datetime.fromisoformat(body["next_contact_at"].replace("Z", "+00:00"))
        except ValueError:
            fields["next_contact_at"] = _("The next contact time is not a date and time we can read.")
    if fields:
        return invalid_response(fields)
    note = notes.add_note(db.session, g.api_user, opportunity_id, body.get("method") or "",
                          body.get("content") or "", maturity, unreachable=body.get("unreachable") is True,
                          busy=body.get("busy") is True, next_contact_at=next_contact_at)
    db.session.commit()
    response = jsonify(note_json(note))
    response.status_code = 201
    return response


@bp.post("/opportunities/<id:opportunity_id>/abandon")
@operation(
    "Abandon an opportunity (放弃客户) of the caller's library", tags=["opportunities"], body="AbandonInput",
    description="With a reason from the admins' list, by its text. The opportunity moves to the agent-admin pool "
                "of the caller's agent company (its former owner then gets 404); who, when and why are kept in its "
                "history. 404 for an opportunity that is not the caller's own; 422 without a reason from the list.",
    responses={200: ("The opportunity, now in the agent-admin pool", "Opportunity"), 400: None, 403: None,
               404: None, 413: None, 422: None},
)
def abandon_opportunity(opportunity_id):
    _require_library(g.api_user)
    body = json_object()
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        return invalid_response({"reason": _("%(field)s must be text.", field="reason")})
    opportunity = opps.abandon(db.session, g.api_user, opportunity_id, reason)
    db.session.commit()
    return opportunity_json(db.session.get(Opportunity, opportunity.id))


# --- the schemas of these calls ------------------------------------------------------------
add_schemas({
    "DuplicateError": {
        "allOf": [ref("Error"), {
            "type": "object",
            "required": ["matches"],
            "properties": {
                "error": {"enum": ["duplicate", "review_required"]},
                "matches": {"type": "array", "items": ref("Match")},
            },
        }],
        "description": "`duplicate`: the entry is refused. `review_required`: similar customers exist; send "
                       "the entry again with `confirm_review: true` to enter it anyway (the confirmation is logged).",
    },
    "LibraryFull": {
        "allOf": [ref("Error"), {
            "type": "object",
            "required": ["limit"],
            "properties": {"error": {"const": "library_full"}, "limit": {"type": "integer"}},
        }],
    },
    "PoolRuleRefusal": {
        "allOf": [ref("Error"), {
            "type": "object",
            "required": ["available_at"],
            "properties": {"error": {"enum": ["daily_claim_limit", "reclaim_cooldown", "new_arrival_embargo"]},
                           "available_at": {**TIME, "description": "when the claim becomes possible"}},
        }],
        "description": "A pool rule of the caller's company refuses the claim now; `message` names when it may.",
    },
    "ClaimRefused": {"oneOf": [ref("LibraryFull"), ref("PoolRuleRefusal")]},
    "EntryRefused": {
        "oneOf": [ref("DuplicateError"), ref("LibraryFull")],
        "description": "Why an entry was refused: a duplicate or a resemblance (with `matches`), or a full "
                       "library (with `limit`).",
    },
    "OpportunityDetail": {
        "allOf": [ref("Opportunity"), {
            "type": "object",
            "required": ["notes"],
            "properties": {"notes": {"type": "array", "items": ref("Note"),
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
            "next_contact_at": {**TIME, "type": ["string", "null"]},
            "created_at": TIME,
            "author": {"type": ["string", "null"],
                       "description": "the author's login (an imported note's: the importer, null on the command line)"},
            "imported": {"type": "boolean", "description": "a remark brought over by an import (导入的备注): no contact, "
                                                           "never a valid one"},
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
            "unreachable": nullable("boolean"),
            "busy": nullable("boolean"),
            "next_contact_at": {**TIME, "type": ["string", "null"],
                                "description": "ISO 8601, not in the past; without an offset it is in CRM_TIMEZONE"},
        },
    },
    "AssignInput": {
        "type": "object",
        "required": ["owner"],
        "examples": [{"owner": "zhangsan"}],
        "properties": {"owner": {"type": "string", "minLength": 1,
                                 "description": "the login of a salesperson, supervisor or manager the caller "
                                                "administers"}},
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
            "items": {"type": "array", "items": ref("Opportunity")},
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
            **{name: nullable("string", maxLength=FIELD_LIMITS[name]) for name in OPPORTUNITY_TEXT_FIELDS},
            "source": nullable("string", description="an information source, by name, from the admins' list"),
            "key_customer": nullable("boolean"),
            "confirm_review": nullable("boolean", description="enter it although similar customers exist"),
        },
    },
})
