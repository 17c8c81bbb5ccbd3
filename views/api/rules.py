"""GET and PATCH /rules: the resource rules (global: the cap, the quotas, the lead deadline, the return rule) and
the public pool's rules of the caller's company (services/library/pool_rules.py), with their schemas.

Everyone reads the rules they work under. A subsystem admin changes the global rules and the head office's pool
rules (every company's default; `?company=PATH` for one company's); an agent admin its own company's pool rules.
"""
from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models import db
from services import audit, clock
from services.errors import RuleViolation
from services.library import pool_rules, rules
from services.people import departments

from . import bp
from .errors import error_response, invalid_response
from .inputs import json_object
from .openapi import add_schemas, operation, query

ADMINS_ONLY = _l("Only admins change the rules: a subsystem admin the global ones and the head office's pool rules, "
                 "an agent admin its own company's pool rules.")


def _company(actor):
    """The company whose pool rules the call is about: `?company=PATH` (subsystem admins), else the caller's."""
    path = (request.args.get("company") or "").strip()
    if not path or actor.role != "subsystem_admin":
        return pool_rules.company_of(db.session, actor)
    try:
        department = departments.resolve_path(db.session, path)
    except RuleViolation:  # an unknown company answers as one out of reach would
        return None
    return department if department is not None and department.depth in (0, 1) else None


def _answer(actor, company):
    in_force = pool_rules.for_company(db.session, company)
    return {**rules.api_values(db.session, actor), **in_force.values(), "company": company.name,
            "pool_rules_from": in_force.source}


@bp.get("/rules")
@operation(
    "The rules in force for the caller's company", tags=["rules"],
    description="The global resource rules (the cap, the daily quotas, the lead deadline, the return rule) and the "
                "public pool's rules of the caller's agent company (its own, else the head office's, else all off). "
                "A subsystem admin reads the head office's, or a company's with `company`.",
    parameters=[query("company", "a subsystem admin's: the PATH of an agent company (`/` the head office)",
                      {"type": "string", "examples": ["华南代理"]})],
    responses={200: ("The rules", "Rules"), 404: None},
)
def get_rules():
    company = _company(g.api_user)
    if company is None:
        return error_response(404, "not_found", _("No such agent company."))
    answer = _answer(g.api_user, company)
    db.session.rollback()  # read only
    return answer


def _global_problems(body):
    return {name: _("%(field)s: a whole number from %(low)d to %(high)d.", field=name, low=low, high=high)
            for name, (low, high) in rules.api_problems(db.session, body).items()}


@bp.patch("/rules")
@operation(
    "Change the rules (audited)", tags=["rules"], body="RulesInput",
    description="Any of the fields of `GET /rules`. A subsystem admin changes the global ones and the head "
                "office's pool rules (or a company's, with `company`); an agent admin only its own company's pool "
                "rules (403 for a global one). 422 with `fields` for a value out of range: nothing is changed.",
    parameters=[query("company", "a subsystem admin's: the PATH of the agent company whose pool rules change",
                      {"type": "string"})],
    responses={200: ("The rules after the change", "Rules"), 400: None, 403: None, 404: None, 413: None},
)
def patch_rules():
    actor = g.api_user
    body = json_object()
    company = _company(actor)
    if company is None:
        return error_response(404, "not_found", _("No such agent company."))
    global_values = {name: body[name] for name in rules.API_FIELDS if name in body}
    if not pool_rules.may_edit(actor, company) or (global_values and actor.role != "subsystem_admin"):
        return error_response(403, "forbidden", ADMINS_ONLY)
    found = {**_global_problems(global_values), **pool_rules.problems(body)}
    if found:
        return invalid_response(found)
    changed = rules.api_apply(db.session, global_values, clock.now(), actor.id)
    if changed:
        audit.record(db.session, actor, "rules_changed", target=rules.current(db.session), details=changed)
    pool_values = {name: body[name] for name in pool_rules.FIELDS if name in body}
    if pool_values:
        pool_rules.save(db.session, actor, company, pool_values)
    db.session.commit()
    return _answer(actor, company)


# --- the schemas of these calls ------------------------------------------------------------
_POOL_PROPERTIES = {
    "daily_claim_limit": {"type": "integer", "minimum": 0, "maximum": 1000,
                          "description": "claims per person and calendar day (CRM_TIMEZONE); 0 = no limit"},
    "reclaim_cooldown_days": {"type": "integer", "minimum": 0, "maximum": 365,
                              "description": "days before whoever let a customer leave their library (abandoned, "
                                             "returned) may claim it back; 0 = none"},
    "new_arrival_embargo_hours": {"type": "integer", "minimum": 0, "maximum": 720,
                                  "description": "hours after its arrival in the public pool before salespeople may "
                                                 "claim a customer (admins assign at once); 0 = none"},
    "lock_limit": {"type": "integer", "minimum": 0, "maximum": 1000,
                   "description": "customers each library may lock (锁定: never returned by the return rule)"},
    "mask_pool_contacts": {"type": "boolean",
                           "description": "salespeople see the public pool's phone, mobile, fax and email masked "
                                          "until claimed"},
}
_GLOBAL_PROPERTIES = {
    "library_cap": {"type": "integer", "minimum": 1, "maximum": 10000,
                    "description": "the caller's library cap; a change sets every library role's"},
    "daily_key_customers": {"type": "integer", "minimum": 0, "maximum": 1000},
    "daily_valid_contacts": {"type": "integer", "minimum": 0, "maximum": 10000},
    "lead_hours": {"type": "integer", "minimum": 1, "maximum": 720},
    "return_after_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                          "description": "days without a valid contact before the return rule takes a customer; "
                                         "more than `return_warn_days`"},
}
add_schemas({
    "Rules": {
        "type": "object",
        "required": [*_GLOBAL_PROPERTIES, "return_enabled", "return_warn_days", *_POOL_PROPERTIES, "company",
                     "pool_rules_from"],
        "properties": {
            **_GLOBAL_PROPERTIES,
            "return_enabled": {"type": "boolean"},
            "return_warn_days": {"type": "integer", "minimum": 0},
            **_POOL_PROPERTIES,
            "company": {"type": "string", "description": "whose pool rules these are"},
            "pool_rules_from": {"enum": ["own", "head_office", "defaults"],
                                "description": "the company's own pool rules, the head office's, or the defaults"},
        },
    },
    "RulesInput": {
        "type": "object",
        "description": "Any of the rules; unknown members are ignored.",
        "examples": [{"daily_claim_limit": 3, "reclaim_cooldown_days": 30}],
        "properties": {**_GLOBAL_PROPERTIES, **_POOL_PROPERTIES},
    },
})
