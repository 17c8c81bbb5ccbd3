"""Web leads (网上注册会员, manual §九 rule 4): members who registered on the website, posted by an admin.

The duplicate check runs first. A company already in the CRM gets the lead recorded on its
opportunity and its owner told; a new one becomes an opportunity assigned, fairly in turn,
to a salesperson of the chosen department with room under the cap, or it waits in the
agent-admin pool of the department's agent company. Either way the lead must be followed
up (the first valid contact note after it arrived) within `lead_deadline_hours`.

The same lead posted twice is one record: its key (the caller's Idempotency-Key, else the
company's identity) is unique in the table, and the whole decision runs under the library
lock, so two posts at the same moment cannot both pass.
"""
import hashlib
import json
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models import Department, InfoSource, Notice, Opportunity, OpportunityPhone, User, WebLead

from .. import audit, checking, clock, people
from ..errors import RuleViolation
from . import capacity as library
from . import opportunities as opps
from . import rules
from .events import record_event
from .locks import take_lock

SOURCE_NAME = "网上注册会员"  # the information source the migration seeds for web leads
LEAD_FIELDS = ("company", "province", "city", "district", "town", "address", "contact", "phone", "mobile", "email",
               "industry")

FORBIDDEN = _l("Only an agent admin or a subsystem admin may post web leads.")


# --- input ----------------------------------------------------------------------------------


def lead_input(data):
    """The posted JSON as an OpportunityInput (only the fields a lead carries)."""
    return opps.OpportunityInput.from_mapping({name: data.get(name) for name in LEAD_FIELDS})


def validate(data):
    """Field problems of a posted lead as {field: message}: the same rules as entering a customer."""
    return opps.validate(lead_input(data))


def idempotency_key(actor, data, header=None):
    """The unique key of a lead: the caller's own key (per caller), else the company's identity.

    The identity is the normalised name with its place, and the normalised phone and email:
    a website that posts one registration twice sends the same company, spelt the same way.
    """
    if header:
        return "k:" + hashlib.sha256(f"{actor.id}\n{header}".encode()).hexdigest()
    item = lead_input(data)
    key = checking.company_key(item.company, item.province or None, item.city or None)
    phones = sorted(f"{p.area_code or ''}-{p.local}" for p in checking.phone_keys(item.phone or None)) \
        if item.phone and not checking.phone_problem(item.phone) else []
    identity = json.dumps([key.folded, key.province, key.city, phones, item.email.strip().casefold()],
                          ensure_ascii=False)
    return "c:" + hashlib.sha256(identity.encode()).hexdigest()


def _department(session, actor, path):
    """The department a lead goes to: PATH as in `departments create`, by default the admin's company."""
    if isinstance(path, str) and path.strip():
        department = _resolve(session, path)
    elif actor.role == "agent_admin":
        department = people.company_department(session, actor.department)
    else:
        raise RuleViolation(_l("Name the department the lead goes to."), field="department")
    if department is None or not people.may_administer_department(actor, department):
        raise RuleViolation(_l("Unknown department: %(path)s", path=path or ""), code="not_found",
                            field="department")
    if department.depth < 1:
        raise RuleViolation(_l("A lead goes to an agent company or one of its departments."), field="department")
    return department


def _resolve(session, path):
    """The department at PATH, or None: unknown and out of reach answer alike (404)."""
    try:
        return people.resolve_path(session, path)
    except RuleViolation:
        return None


def find(session, key):
    return session.scalar(select(WebLead).where(WebLead.idempotency_key == key))


# --- receiving ------------------------------------------------------------------------------


def receive(session, actor, data, idempotency_key_header=None):
    """Record a posted lead; (lead, replayed). A lead already recorded under its key is returned as it is."""
    if actor is None or actor.role not in people.ADMIN_ROLES:
        raise RuleViolation(FORBIDDEN, code="forbidden")
    item = lead_input(data)
    problems = opps.validate(item)
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleViolation(message, field=field)
    key = idempotency_key(actor, data, idempotency_key_header)
    take_lock(session)  # serialises leads with every entry and claim: fair turns, caps, one record per key
    lead = find(session, key)
    if lead is not None:
        return lead, True
    department = _department(session, actor, data.get("department"))
    now = clock.now()
    due = now + timedelta(hours=rules.current(session).lead_deadline_hours)
    result = checking.check(session, company=item.company, province=item.province, city=item.city,
                            phone=item.phone, mobile=item.mobile)
    if result.verdict == checking.DUPLICATE:
        found = next(h for h in result.hits if h.match.verdict == checking.DUPLICATE).opportunity
        opportunity, existing = session.get(Opportunity, found.id), True
    else:  # a lead is never refused: new, or similar (no one is there to confirm it: see docs/dedup.md)
        # like a customer the agents may not take (opps.entry_rule): to the agent admins, not a salesperson
        closed = any(opps.blocks_entry(h) for h in result.hits)
        opportunity, existing = _new_or_mobile_holder(session, actor, item, department, to_admins=closed)
    lead = WebLead(idempotency_key=key, opportunity_id=opportunity.id, existing=existing, company=item.company,
                   phone=item.phone or None, contact=item.contact or None, email=item.email or None,
                   payload=json.dumps(data, ensure_ascii=False, default=str)[:20000], department_id=department.id,
                   assigned_to_id=opportunity.owner_id, posted_by_id=actor.id, received_at=now, due_at=due)
    session.add(lead)
    session.flush()
    record_event(session, opportunity, "lead", actor, to_owner_id=opportunity.owner_id)
    audit.record(session, actor, "lead", target=opportunity, department_id=department.id,
                 details={"lead_id": lead.id, "company": item.company, "existing": existing,
                          "assigned_to": opportunity.owner.login if opportunity.owner_id else None})
    # an owner hears of the lead; a customer without one (a pool), the agent admins it was sent to
    told = [opportunity.owner_id] if opportunity.owner_id is not None else _agent_admins(session, department)
    _notify(session, told, "lead", lead, now)
    session.flush()
    return lead, False


def _new_or_mobile_holder(session, actor, item, department, to_admins=False):
    """(opportunity, existing): a new opportunity, or the customer that holds the lead's mobile
    when the unique index refuses it (the check did not reach that holder: too many candidates)."""
    opportunity, taken = opps.unless_mobile_taken(session, lambda: _new_opportunity(session, actor, item, department,
                                                                                         to_admins))
    if not taken:
        return opportunity, False
    keys = checking.query_keys(phone=item.phone, mobile=item.mobile)
    numbers = [key.local for key in keys["phone_keys"] if key.kind == "mobile"]
    holder = session.scalar(select(Opportunity).join(OpportunityPhone).where(
        OpportunityPhone.kind == "mobile", OpportunityPhone.field == "phone", OpportunityPhone.local.in_(numbers))
        .limit(1))
    return holder, True


def _new_opportunity(session, actor, item, department, to_admins=False):
    source = session.scalar(select(InfoSource).where(InfoSource.name == SOURCE_NAME, InfoSource.active.is_(True)))
    item.source = source.name if source else ""
    person = None if to_admins else next_assignee(session, department)
    if person is None:
        return opps.insert_opportunity(session, actor, item, "agent_admin_pool", people.company_department(session, department))
    opportunity = opps.insert_opportunity(session, person, item, "library", None)
    opportunity.created_by_id = actor.id  # the admin posted it; the salesperson received it
    return opportunity


def next_assignee(session, department):
    """The salesperson whose turn it is (library.assignees' order) with room under the cap, or None."""
    people = library.assignees(session, department)
    if not people:
        return None
    sizes = library.sizes(session, [p.id for p in people])
    return next((p for p in people if sizes.get(p.id, 0) < library.cap(session, p)), None)


# --- the deadline ---------------------------------------------------------------------------


def meet(session, opportunity_id, when):
    """A valid contact note written at `when` meets the open leads of the opportunity that arrived before it."""
    session.execute(update(WebLead).where(WebLead.opportunity_id == opportunity_id, WebLead.met_at.is_(None),
                                          WebLead.received_at <= when).values(met_at=when)
                    .execution_options(synchronize_session=False))


def lead_status(lead, now):
    """("met" | "overdue" | "open", time left or None) of a lead at `now`."""
    if lead.met_at is not None:
        return "met", None
    if lead.due_at <= now:
        return "overdue", None
    return "open", lead.due_at - now


def is_overdue(lead, now):
    return lead_status(lead, now)[0] == "overdue"


def leads_of(session, opportunity_id):
    """The leads of one opportunity, newest first."""
    return session.scalars(select(WebLead).where(WebLead.opportunity_id == opportunity_id)
                           .order_by(WebLead.received_at.desc(), WebLead.id.desc())).all()


def states(session, opportunity_ids, now):
    """{opportunity_id: "overdue" | "open"} for a page of a list: the worst unmet lead of each."""
    if not opportunity_ids:
        return {}
    rows = session.execute(select(WebLead.opportunity_id, func.min(WebLead.due_at))
                           .where(WebLead.opportunity_id.in_(opportunity_ids), WebLead.met_at.is_(None))
                           .group_by(WebLead.opportunity_id)).all()
    return {oid: ("overdue" if _aware(due) <= now else "open") for oid, due in rows}


def _aware(value):
    """min() over a column skips the type's conversion on SQLite: read it back as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


# --- notices --------------------------------------------------------------------------------


def _insert_ignoring_duplicates(session, rows):
    """Insert notices whose key exists already as nothing: two servers running at once tell once."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    session.execute(insert(Notice).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def _notify(session, user_ids, kind, lead, now):
    rows = [{"key": f"{kind}:{lead.id}:{uid}", "user_id": uid, "kind": kind, "opportunity_id": lead.opportunity_id,
             "lead_id": lead.id, "created_at": now} for uid in dict.fromkeys(user_ids)]
    _insert_ignoring_duplicates(session, rows)


def _agent_admins(session, department):
    prefix = people.company_path(department)
    if not prefix:
        return []
    return session.scalars(select(User.id).join(Department, User.department_id == Department.id)
                           .where(User.role == "agent_admin", User.active.is_(True),
                                  Department.path.startswith(prefix))).all()


def overdue_recipients(session, lead):
    """The owner, the supervisors and managers whose managed departments cover the customer,
    its company's agent admins; for a customer in no department (a pool), those of the
    department the lead was sent to."""
    opportunity = lead.opportunity
    ids = [opportunity.owner_id] if opportunity.owner_id else []
    department = opportunity.department or lead.department
    if department is None:
        return ids
    parts = [p for p in department.path.strip("/").split("/") if p]
    covering = ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]  # it and its ancestors
    managers = session.scalars(
        select(User).where(User.role.in_(people.MANAGING_ROLES), User.active.is_(True),
                           User.managed_departments.any(Department.path.in_(covering)))).all()
    return ids + [m.id for m in managers] + _agent_admins(session, department)


def notify_overdue(session, now=None):
    """Tell about each lead past its deadline, once: returns how many leads were newly told about.

    Each lead is claimed by setting `overdue_notified_at` where it is still empty, so two
    runs (or two servers) never both tell; the notices' unique keys back this up.
    """
    now = now or clock.now()
    due = session.scalars(select(WebLead).where(WebLead.met_at.is_(None), WebLead.due_at < now,
                                                WebLead.overdue_notified_at.is_(None))
                          .order_by(WebLead.id)).all()
    told = 0
    for lead in due:
        claimed = session.execute(update(WebLead).where(WebLead.id == lead.id,
                                                        WebLead.overdue_notified_at.is_(None))
                                  .values(overdue_notified_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            continue
        _notify(session, overdue_recipients(session, lead), "lead_overdue", lead, now)
        told += 1
    session.flush()
    return told
