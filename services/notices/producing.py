"""What is delivered: the dashboard's notices turned into deliveries, the lead warnings, the morning digest,
and an abandoned customer announced to its company's hooks.

Each step claims its sources with a conditional UPDATE (a notice's `fanned_out_at`, a lead's `warned_at`),
so two workers never both take one; the deliveries' unique keys back this up. The caller commits.
"""
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select, update

from models import Delivery, Department, Notice, Opportunity, User, Webhook, WebLead

from .. import clock, library
from . import recording, texts
from .preferences import may_mail

# the notices' kinds (services/library/leads.py, returns.py) as the events they are
EVENTS = {"lead": "lead_assigned", "lead_overdue": "lead_overdue", "return_warning": "recycle_warning",
          "recycle_warning": "recycle_warning", "returned": "recycled"}
MAILED = ("lead_assigned", "lead_due_soon", "lead_overdue", "recycle_warning")  # the contract's mail
BATCH = 500


def mail_on():
    return bool(current_app.config.get("CRM_SMTP_URL"))


def _claimed(session, column, ids, now):
    """The ids of `ids` whose `column` this call set (it was empty): the rows this worker takes."""
    if not ids:
        return set()
    table = column.class_
    statement = (update(table).where(table.id.in_(ids), column.is_(None)).values({column.key: now})
                 .returning(table.id).execution_options(synchronize_session=False))
    return set(session.scalars(statement))


# --- the dashboard's notices --------------------------------------------------------------

def fan_out(session, now=None):
    """Deliveries for the notices written since the last run: mail to their user, posts to their company's hooks."""
    now = now or clock.now()
    notices = session.scalars(select(Notice).where(Notice.fanned_out_at.is_(None)).order_by(Notice.id)
                              .limit(BATCH)).all()
    taken = _claimed(session, Notice.fanned_out_at, [n.id for n in notices], now)
    rows = []
    for notice in notices:
        if notice.id in taken and notice.kind in EVENTS:
            rows += notice_rows(session, notice)
    return recording.insert(session, rows)


def _event_key(event, notice):
    if notice.lead_id:
        return f"{event}:lead:{notice.lead_id}"
    return f"{event}:opportunity:{notice.opportunity_id}:{notice.created_at.timestamp():.0f}"


def _facts(opportunity, lead):
    """The values of an event's sentences and the `data` of its webhook payload."""
    owner = opportunity.owner if opportunity is not None else None
    url = texts.customer_link(opportunity.id, opportunity.location) if opportunity is not None else None
    values = {"company": opportunity.company if opportunity is not None else (lead.company if lead else ""),
              "owner": owner.login if owner else "", "due": texts.when(lead.due_at) if lead else ""}
    data = {"opportunity_id": opportunity.id if opportunity is not None else None, "company": values["company"],
            "owner": owner.login if owner else None, "location": opportunity.location if opportunity else None,
            "url": url}
    if lead is not None:
        data.update(lead_id=lead.id, due_at=lead.due_at.isoformat())
    return values, data, url


def notice_rows(session, notice):
    event = EVENTS[notice.kind]
    user, key = notice.user, _event_key(event, notice)
    values, data, url = _facts(notice.opportunity, notice.lead)
    rows = []
    scope = user.department.scope_id if user is not None and user.department else None
    if mail_on() and event in MAILED and may_mail(user, event):
        rows.append(recording.mail_row(event, key, user, texts.event_text(event, values, url, user.locale), data,
                                       notice.created_at, scope))
    if scope is not None:
        rows += recording.hook_rows(session, event, key, scope, texts.event_text(event, values, url), data,
                                    notice.created_at)
    return rows


# --- a web lead whose deadline nears --------------------------------------------------------

def warn_leads(session, hours, now=None):
    """Mail the owner of each open lead due within `hours` (once per lead); 0 hours: off."""
    now = now or clock.now()
    if hours <= 0:
        return 0
    leads = session.scalars(select(WebLead).where(WebLead.met_at.is_(None), WebLead.warned_at.is_(None),
                                                  WebLead.due_at > now, WebLead.due_at <= now + timedelta(hours=hours))
                            .order_by(WebLead.id).limit(BATCH)).all()
    taken = _claimed(session, WebLead.warned_at, [lead.id for lead in leads], now)
    rows = []
    for lead in leads:
        owner = lead.opportunity.owner
        if lead.id in taken and mail_on() and may_mail(owner, "lead_due_soon"):
            values, data, url = _facts(lead.opportunity, lead)
            rows.append(recording.mail_row("lead_due_soon", f"lead_due_soon:lead:{lead.id}", owner,
                                           texts.event_text("lead_due_soon", values, url, owner.locale), data, now,
                                           owner.department.scope_id))
    return recording.insert(session, rows)


# --- the morning digest ---------------------------------------------------------------------

def digests(session, rules, now=None):
    """Once a day, from the hour the admin set (read each time: no restart), each person's due contacts."""
    now = now or clock.now()
    local = now.astimezone(library.zone())
    if not rules.digest_enabled or local.hour < rules.digest_hour or not mail_on():
        return 0
    end = library.day_bounds(local.date())[1]
    owners = session.scalars(select(User).where(User.active.is_(True), User.deleted_at.is_(None),
                                                User.email.is_not(None), User.id.in_(
                                                    select(Opportunity.owner_id).where(
                                                        Opportunity.next_contact_at < end,
                                                        Opportunity.deleted_at.is_(None))))).all()
    keys = {user.id: f"daily_digest:{local.date().isoformat()}" for user in owners}
    done = set(session.scalars(select(Delivery.user_id).where(
        Delivery.key.in_([f"{key}|mail:{uid}" for uid, key in keys.items()])))) if keys else set()
    rows = []
    for user in owners:
        due = library.due_today(session, user, now)
        if user.id not in done and due and may_mail(user, "daily_digest"):
            data = {"date": local.date().isoformat(), "opportunity_ids": [o.id for o in due]}
            rows.append(recording.mail_row("daily_digest", keys[user.id], user, texts.digest_text(due, user.locale),
                                           data, now, user.department.scope_id))
    return recording.insert(session, rows)


# --- an abandoned customer ------------------------------------------------------------------

def abandoned(session, opportunity, actor, reason, now=None):
    """Announce an abandon to the hooks of the salesperson's company that ticked it (in the abandon's transaction)."""
    now = now or clock.now()
    values = {"company": opportunity.company, "owner": actor.login, "due": ""}
    url = texts.customer_link(opportunity.id, "agent_admin_pool")
    data = {"opportunity_id": opportunity.id, "company": opportunity.company, "owner": actor.login,
            "reason": reason, "location": "agent_admin_pool", "url": url}
    key = f"abandoned:opportunity:{opportunity.id}:{now.timestamp():.6f}"
    rows = recording.hook_rows(session, "abandoned", key, actor.department.scope_id,
                               texts.event_text("abandoned", values, url), data, now)
    return recording.insert(session, rows)


# --- the daily quota summary of each company's departments ----------------------------------

def quota_summaries(session, rules, now=None):
    """From the morning hour (the digest's), yesterday's figures per department to the hooks that ticked
    `quota_summary`, once a day and company."""
    now = now or clock.now()
    local = now.astimezone(library.zone())
    if local.hour < rules.digest_hour:
        return 0
    day = local.date() - timedelta(days=1)
    scopes = set(session.scalars(select(Webhook.department_id).where(
        Webhook.active.is_(True), Webhook.events.contains("quota_summary"))))
    rows = []
    for scope_id in sorted(scopes):
        key = f"quota_summary:{scope_id}:{day.isoformat()}"
        if session.scalar(select(Delivery.id).where(Delivery.key.startswith(key + "|")).limit(1)) is None:
            rows += _quota_rows(session, rules, session.get(Department, scope_id), day, key, now)
    return recording.insert(session, rows)


def _quota_rows(session, rules, company, day, key, now):
    everyone = SimpleNamespace(role="subsystem_admin")  # the figures of all people, then this company's
    head = _head_id(session)
    people = [r for r in library.daily(session, everyone, day, now) if (r.company_id or head) == company.id]
    groups = library.group_rows(session, people, "department")
    data = {"date": day.isoformat(), "company": company.name, "quota_valid_contacts": rules.quota_valid_contacts,
            "quota_key_customers": rules.quota_key_customers,
            "departments": [{"name": g.name, "people": g.people, "valid_contacts": g.valid_contacts,
                             "new_key_customers": g.new_key_customers, "behind": g.behind,
                             "overdue_leads": g.overdue_leads} for g in groups]}
    return recording.hook_rows(session, "quota_summary", key, company.id,
                               texts.quota_text(company.name, day, groups, rules), data, now)


def _head_id(session):
    return session.scalar(select(Department.id).where(Department.depth == 0))
