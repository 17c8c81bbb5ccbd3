"""POST /leads: a web lead (网上注册会员, manual §九 rule 4) from the website, with the schemas only it uses.

services/library/leads.py decides: the duplicate check first, then assignment in turn; this module reads the
body and the Idempotency-Key header, and answers a repeat with the first answer.
"""
from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from models import Opportunity, db
from services import clock
from services.library import leads
from services.library.opportunities import FIELD_LIMITS
from services.people import access

from . import bp
from .errors import error_response, invalid_response
from .inputs import json_object, json_time, label
from .openapi import LOCATIONS, TIME, add_schemas, nullable, operation, ref
from .opportunities import opportunity_json, visible

NULLABLE_TIME = {**TIME, "type": ["string", "null"]}


def lead_json(lead):
    return {
        "id": lead.id, "company": lead.company, "phone": lead.phone, "contact": lead.contact, "email": lead.email,
        "received_at": json_time(lead.received_at), "due_at": json_time(lead.due_at), "met_at": json_time(lead.met_at),
        "overdue": leads.is_overdue(lead, clock.now()), "existing": bool(lead.existing),
        "opportunity_id": lead.opportunity_id, "assigned_to": lead.assigned_to.login if lead.assigned_to else None,
    }


def _lead_answer(lead, replayed):
    """The lead and its opportunity: in full when the caller may see it, else only where it lives."""
    opportunity = visible(lead.opportunity_id)
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
    fields = {name: _("%(field)s must be text.", field=label(name))
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


# --- the schemas of these calls ------------------------------------------------------------
add_schemas({
    "LeadInput": {
        "type": "object",
        "required": ["company"],
        "description": "A member who registered on the website. Unknown members are ignored; text members may be "
                       "null or left out.",
        "examples": [{"company": "扬州五环印花厂", "phone": "0514-2398577", "contact": "王经理",
                      "email": "wang@example.com", "city": "扬州"}],
        "properties": {
            "company": {"type": "string", "maxLength": FIELD_LIMITS["company"]},
            **{name: nullable("string", maxLength=FIELD_LIMITS[name])
               for name in leads.LEAD_FIELDS if name != "company"},
            "department": nullable("string", description="the department PATH the lead goes to (Company/Dept), "
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
            "phone": nullable("string"), "contact": nullable("string"), "email": nullable("string"),
            "received_at": TIME,
            "due_at": {**TIME, "description": "the follow-up deadline: received_at + lead_deadline_hours"},
            "met_at": {**NULLABLE_TIME, "description": "the first valid contact note after arrival"},
            "overdue": {"type": "boolean", "description": "not met and past due_at"},
            "existing": {"type": "boolean", "description": "the company was already in the CRM"},
            "opportunity_id": {"type": "integer"},
            "assigned_to": nullable("string", description="the login it was assigned to on arrival; null: it "
                                                           "waits in the agent-admin pool"),
        },
    },
    "OpportunityBrief": {
        "type": "object",
        "description": "An opportunity the caller may not see in full: where it lives and whose it is.",
        "required": ["id", "company", "location", "owner"],
        "properties": {"id": {"type": "integer"}, "company": {"type": "string"}, "location": {"enum": LOCATIONS},
                       "owner": nullable("string")},
    },
    "LeadResult": {
        "type": "object",
        "required": ["existing", "replayed", "lead", "opportunity"],
        "properties": {
            "existing": {"type": "boolean", "description": "the company was already in the CRM"},
            "replayed": {"type": "boolean", "description": "this lead was posted before: nothing new recorded"},
            "lead": ref("Lead"),
            "opportunity": {"anyOf": [ref("Opportunity"), ref("OpportunityBrief")]},
        },
    },
})
