"""The JSON API of docs/contract.md (`/api/v1`): Bearer tokens, JSON errors, the duplicate check,
entering, listing, reading and claiming opportunities.

Every call authenticates with `Authorization: Bearer TOKEN` (services.accounts.token_owner and may_use:
a closed account's token is refused with why; the wait after wrong passwords does not stop tokens);
no session cookie is read for it or made by it, so the blueprint is exempt from CSRF.
`g.api_user` is the caller: app.select_locale reads its saved language from there.
Errors are always `{"error": CODE, "message": TEXT}` (`error_response`); rules broken in
services/ arrive as RuleViolation, which one handler (`_refused`) rolls back and turns into its
status (`_STATUS`): a call commits when the rule passed and says nothing of refusals.

Each route carries its OpenAPI fragment (`@operation`, views/openapi.py); `/openapi.json`
is assembled from them and from the URL map.
"""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from extensions import csrf
from models import Opportunity, db
from services import access, accounts, audit, clock, dedup, entry_check, import_jobs, leads, library, merges, notes, stats, text
from services import opportunities as opps
from services.errors import RuleViolation

from . import openapi
from ..errors import ERROR_CODES as _HTTP_CODES
from ..errors import MESSAGES as HTTP_MESSAGES
from ..errors import too_large_message
from .openapi import operation, query

bp = Blueprint("api", __name__, url_prefix=openapi.PREFIX)

PER_PAGE, MAX_PER_PAGE = 50, 200
MAX_JSON_DEPTH = 32  # the deepest body of any call is 3 levels (an import's `values`); 990 was a 500
# RuleViolation codes (services/) -> HTTP status
_STATUS = {"invalid": 422, "duplicate": 409, "review_required": 409, "library_full": 409, "not_found": 404,
           "forbidden": 403, "conflict": 409, "merged": 409, "too_large": 413, "not_ready": 409,
           "nothing_to_import": 409, "unavailable": 503, "public_pool_merge": 403}
_PUBLIC_ENDPOINTS = {"api.openapi_json"}
# The calls on one opportunity of the caller's own library: one out of reach answers as an unknown id would (the
# plain 404, telling nothing of where it is), and a full library is the caller's, whose cap the answer names.
_OWN_OPPORTUNITY = {"api.claim_opportunity", "api.add_note", "api.abandon_opportunity"}
_INTO_OWN_LIBRARY = {"api.create_opportunity", "api.claim_opportunity"}
_TEXT_FIELDS = ("company", "province", "city", "district", "town", "address", "contact", "phone", "fax", "mobile",
                "email", "industry", "source")
_FLAG_FIELDS = ("key_customer", "confirm_review")

UNAUTHORIZED = _l("A valid API token is needed: send the header Authorization: Bearer TOKEN.")
ACCOUNT_CLOSED = _l("The account of this API token is deactivated or locked: its tokens work again when an "
                    "administrator restores it.")
NO_LIBRARY = _l("Only salespeople, supervisors and managers have a library to enter or claim customers into.")
BAD_PAGE = _l("The page must be a whole number from 1 on.")
TOO_DEEP = _l("The JSON body is nested too deeply: no call of this API takes more than a few levels.")


def register(app):
    csrf.exempt(bp)  # Bearer tokens, never cookies: nothing for a forged request to ride on
    app.register_blueprint(bp)


# --- answers ----------------------------------------------------------------------------


def error_response(status, code, message, **extra):
    response = jsonify({"error": code, "message": str(message), **extra})
    response.status_code = status
    return response


def invalid_response(fields, message=None):
    fields = {name: str(text) for name, text in fields.items()}
    return error_response(422, "invalid", message or next(iter(fields.values())), fields=fields)


def violation_response(violation, **extra):
    status = _STATUS.get(violation.code, 422)
    if violation.code == "invalid":
        return invalid_response({violation.field or "body": violation.message}, violation.message)
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


@bp.before_request
def _authenticate():
    g.api_user = None
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return None
    scheme, _sep, token = request.headers.get("Authorization", "").strip().partition(" ")
    user = accounts.token_owner(db.session, token.strip()) if scheme.lower() == "bearer" else None
    if user is None or not accounts.may_use(user):  # deactivated, deleted or locked: its tokens stop working
        response = error_response(401, "unauthorized", UNAUTHORIZED if user is None else ACCOUNT_CLOSED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="crm"'
        return response
    g.api_user = user
    if accounts.touch(user):  # using the API counts as using the account (no lock for disuse)
        db.session.commit()
    return None


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def json_time(value):
    return value.astimezone(ZoneInfo(current_app.config["CRM_TIMEZONE"])).isoformat() if value else None


def opportunity_json(opportunity):
    """An opportunity as every answer shows it (docs/contract.md); empty text is null."""
    return {
        "id": opportunity.id,
        "company": opportunity.company,
        **{name: getattr(opportunity, name) or None for name in openapi.OPPORTUNITY_TEXT_FIELDS},
        "source": opportunity.source.name if opportunity.source else None,
        "key_customer": bool(opportunity.key_customer),
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
        "author": note.author.login if note.author else None,
    }


# --- input ------------------------------------------------------------------------------


class BadInput(Exception):
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
        raise BadInput(invalid_response({shown: text.problem(_label(shown))}))
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


def _label(name):
    return opps.FIELD_LABELS.get(name, name)


def _typed(body):
    """Text members must be strings (or null), flags booleans (or null): 422 otherwise."""
    fields = {}
    for name in _TEXT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            fields[name] = _("%(field)s must be text.", field=_label(name))
    for name in _FLAG_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            fields[name] = _("%(field)s must be true or false.", field=name)
    if fields:
        raise BadInput(invalid_response(fields))
    return body


def whole_number(name, default, maximum, message):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadInput(invalid_response({name: message}))
    return int(raw)


def _require_library(user):
    if user.role not in access.LIBRARY_ROLES:
        raise BadInput(error_response(403, "forbidden", NO_LIBRARY))


def _visible(opportunity_id):
    """The opportunity if the caller may see it, else None (absent and hidden look the same)."""
    return db.session.scalar(
        select(Opportunity).where(Opportunity.id == opportunity_id, access.opportunity_clause(g.api_user))
        .options(selectinload(Opportunity.owner), selectinload(Opportunity.source))
    )


# --- calls ------------------------------------------------------------------------------


@bp.get("/openapi.json")
@operation("This document", auth=False, tags=["meta"],
           responses={200: ("The OpenAPI 3.1 description of the API", None)})
def openapi_json():
    return jsonify(openapi.document(current_app))


@bp.get("/dedup")
@operation(
    "Duplicate check (撞单检测)", tags=["opportunities"],
    description="Where a company already lives, by name keyword (fuzzy), landline, mobile and fax (area codes "
                "ignored). Shows each match's name, place and owner only. Give at least one of name, phone, "
                "mobile, fax; province and city tell apart same-named companies of different places.",
    parameters=[
        query("name", "company name or keyword", {"type": "string", "examples": ["扬州五环"]}),
        query("phone", "landline, with or without area code"),
        query("mobile", "mobile number"), query("fax", "fax, with or without area code"),
        query("province", "province, to tell same-named companies apart"), query("city", "city, likewise"),
    ],
    responses={200: ("The duplicate-check result", "DedupResult"), 422: None, 429: None},
)
def dedup_check():
    """Through the one front door of a person's check (services/entry_check.py), as the page."""
    raw = {name: request.args.get(name) for name in ("phone", "mobile", "fax", "province", "city")}
    checked = entry_check.check_entry(db.session, g.api_user, {"company": request.args.get("name"), **raw})
    if checked.problems:
        return invalid_response({("name" if name == "company" else name): text
                                 for name, text in checked.problems.items()})
    if checked.refused is not None:
        db.session.commit()  # the first refusal tells the admins
        return error_response(429, "check_limit", checked.refused.message)
    result, decision = checked.result, checked.decision
    answer = {**dedup.result_json(result, words=True), "truncated": result.truncated,
              "outcome": decision.outcome, "message": str(decision.message) if decision.message else ""}
    db.session.commit()  # the dedup_check audit entry, once the hits are read (a commit expires them)
    return answer


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
    response = jsonify(opportunity_json(_visible(opportunity.id)))
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
                "agent admin's its company's; newest first.",
    parameters=[
        query("q", "any known detail: company name or keyword, landline, mobile or fax (area code optional), "
                   "contact person", {"type": "string", "examples": ["扬州"]}),
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
    where = [access.opportunity_clause(g.api_user)]
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
    return {"items": [opportunity_json(o) for o in items], "total": total, "page": page, "per_page": per_page}


@bp.get("/opportunities/<id:opportunity_id>")
@operation("One opportunity, with its contact notes", tags=["opportunities"],
           responses={200: ("The opportunity", "OpportunityDetail"), 404: None})
def get_opportunity(opportunity_id):
    opportunity = _visible(opportunity_id)
    if opportunity is None:
        kept = merges.merged_into(db.session, g.api_user, opportunity_id)
        if kept is not None:  # an old id of a merged record answers where the customer went
            return error_response(404, "merged", _l("This customer was merged into %(company)s (%(id)d).",
                                                    company=kept.company, id=kept.id), merged_into=kept.id)
        return error_response(404, "not_found", HTTP_MESSAGES[404])
    return {**opportunity_json(opportunity), "notes": [note_json(n) for n in notes.notes_of(db.session, opportunity.id)]}


@bp.post("/opportunities/<id:opportunity_id>/claim")
@operation(
    "Claim an opportunity from the public pool (公海) into the caller's library", tags=["opportunities"],
    description="404 when it is not (or no longer) in the public pool; 409 `library_full` at the cap; admins 403.",
    responses={200: ("The opportunity, now in the caller's library", "Opportunity"), 403: None, 404: None,
               409: ("`library_full` (with `limit`)", "LibraryFull")},
)
def claim_opportunity(opportunity_id):
    _require_library(g.api_user)
    opportunity = opps.claim(db.session, g.api_user, opportunity_id)
    db.session.commit()
    return opportunity_json(_visible(opportunity.id))


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


# --- web leads (manual §九 rule 4) ----------------------------------------------------------


def lead_json(lead):
    return {
        "id": lead.id, "company": lead.company, "phone": lead.phone, "contact": lead.contact, "email": lead.email,
        "received_at": json_time(lead.received_at), "due_at": json_time(lead.due_at), "met_at": json_time(lead.met_at),
        "overdue": leads.is_overdue(lead, clock.now()), "existing": bool(lead.existing),
        "opportunity_id": lead.opportunity_id, "assigned_to": lead.assigned_to.login if lead.assigned_to else None,
    }


def _lead_answer(lead, replayed):
    """The lead and its opportunity: in full when the caller may see it, else only where it lives."""
    opportunity = _visible(lead.opportunity_id)
    if opportunity is None:  # a company of another agent: name, place and owner, as the duplicate check shows
        other = db.session.get(Opportunity, lead.opportunity_id)
        shown = {"id": other.id, "company": other.company, "location": other.location,
                 "owner": other.owner.login if other.owner else None}
    else:
        shown = opportunity_json(opportunity)
    response = jsonify({"existing": bool(lead.existing), "replayed": replayed, "lead": lead_json(lead),
                        "opportunity": shown})
    response.status_code = 201 if not (lead.existing or replayed) else 200
    return response


@bp.post("/leads")
@operation(
    "Receive a web lead (网上注册会员) from the website", tags=["leads"], body="LeadInput",
    description="An admin's token. The duplicate check runs first: a company already in the CRM gets the lead "
                "recorded on its opportunity and its owner told (200, `existing: true`); a new company becomes an "
                "opportunity assigned in turn to a salesperson of `department` with room under the cap, or left "
                "in the agent-admin pool when nobody has room (201). The lead is due `lead_deadline_hours` (24) "
                "after arrival; the first valid contact note meets it. The same lead posted again (same "
                "`Idempotency-Key` header, else the same company, phone and email) returns the first answer "
                "with `replayed: true` and records nothing. Salespeople 403; a department out of reach 404.",
    parameters=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string",
                 "maxLength": 255}, "description": "the sender's key for this lead; a repeat is recorded once"}],
    responses={200: ("The lead, on a company already in the CRM, or a repeat", "LeadResult"),
               201: ("A new lead and the opportunity made for it", "LeadResult"),
               400: None, 403: None, 404: None, 413: None, 422: None},
)
def receive_lead():
    if g.api_user.role not in access.ADMIN_ROLES:
        return error_response(403, "forbidden", leads.FORBIDDEN)
    body = json_object()
    fields = {name: _("%(field)s must be text.", field=_label(name))
              for name in (*leads.LEAD_FIELDS, "department") if body.get(name) is not None
              and not isinstance(body[name], str)}
    header = request.headers.get("Idempotency-Key", "").strip()
    if len(header) > 255:
        fields["Idempotency-Key"] = _("The Idempotency-Key header may have at most %(n)d characters.", n=255)
    if fields:
        return invalid_response(fields)
    problems = leads.validate(body)
    if problems:
        return invalid_response(problems)
    try:
        lead, replayed = leads.receive(db.session, g.api_user, body, header or None)
        db.session.commit()
    except IntegrityError:  # the same key committed by another request a moment before: answer as a repeat
        db.session.rollback()
        lead, replayed = leads.find(db.session, leads.idempotency_key(g.api_user, body, header or None)), True
        if lead is None:
            raise
    return _lead_answer(lead, replayed)


# --- daily statistics (manual §九) ------------------------------------------------------------


@bp.get("/stats/daily")
@operation(
    "Daily statistics (§九) of the people the caller may see", tags=["stats"],
    description="Per person who keeps a library: its size and cap, the new key customers they entered and the "
                "valid contacts they logged that day (a calendar day in CRM_TIMEZONE), and their web leads overdue "
                "now. A salesperson sees themself; supervisors and managers their managed departments; agent admins "
                "their company; subsystem admins everyone.",
    parameters=[query("date", "YYYY-MM-DD; today by default", {"type": "string", "format": "date"})],
    responses={200: ("The day's figures per person", "DailyStats"), 422: None},
)
def stats_daily():
    raw = request.args.get("date")
    day = stats.today() if raw is None or raw == "" else stats.parse_day(raw)
    if day is None:
        return invalid_response({"date": str(stats.bad_day())})
    rows = stats.daily(db.session, g.api_user, day)
    db.session.rollback()  # read only
    return {"date": day.isoformat(), "users": [row.api_json() for row in rows]}
