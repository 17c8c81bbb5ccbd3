"""Returning neglected customers to the public pool (回收, manual §九), and the overdue web leads:
what `flask --app app rules run` applies, each night on the worker (services/nightly.py).

The rules' values (how many days, the exemptions, on or off) are the settings row of services/library/rules.py.
"""
from dataclasses import dataclass
from datetime import timedelta, timezone

from flask_babel import force_locale, gettext
from sqlalchemy import and_, exists, false, func, insert, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models import ContactNote, Notice, Opportunity, OpportunityEvent

from .. import audit
from . import leads
from .locks import take_lock
from .rules import current

_CHUNK = 500  # rows per statement: well under SQLite's and PostgreSQL's bound-parameter limits
# The notices this rule writes, by the names their deliveries (mail, robots, webhooks) give the event.
EVENT_NAMES = {"return_warning": "recycle_warning", "returned": "recycled"}


# --- returning to the public pool (回收) ----------------------------------------------
#
# An opportunity in a library is measured from its last valid contact there, or from when it
# entered the library if it has none yet (`basis`). Past `return_after_days` it is returned to
# the public pool by `rules run`; `return_warn_days` before that, its owner is told once.

@dataclass
class Summary:
    """What one `rules run` did (or, with dry_run, would do)."""

    enabled: bool  # the return rule is switched on
    dry_run: bool
    candidates: int = 0  # due for return now (whether or not the rule is on)
    warned: int = 0  # owners told for the first time that a customer is about to return
    returned: int = 0
    overdue_leads: int = 0  # filled once services.library.leads.notify_overdue is wired in
    duplicate_scan: bool = False  # a scan for duplicates already inside was queued (services/nightly.py)


def _basis():
    return func.coalesce(Opportunity.last_valid_contact_at, Opportunity.entered_at)


def _exempt_clause(rules, now):
    """The exemptions as one SQL condition (true when the opportunity is exempt)."""
    # a customer its owner locked (锁定, customer_locks.py) is never returned
    clauses = [and_(Opportunity.locked_by_id.is_not(None), Opportunity.locked_by_id == Opportunity.owner_id)]
    if rules.return_exempt_key_customers:
        clauses.append(Opportunity.key_customer.is_(True))
    if rules.return_exempt_note_days > 0:
        since = now - timedelta(days=rules.return_exempt_note_days)
        # an imported remark (导入的备注) is no contact: it exempts nothing
        clauses.append(exists().where(ContactNote.opportunity_id == Opportunity.id, ContactNote.created_at >= since,
                                      ContactNote.imported.is_(False)))
    return or_(*clauses) if clauses else false()


def _due_clause(rules, now, within_days=0):
    """In a library, not exempt, and its basis older than the return limit (`within_days` from now)."""
    cutoff = now - timedelta(days=rules.return_after_days - within_days)
    return and_(Opportunity.location == "library", Opportunity.deleted_at.is_(None), _basis() < cutoff, not_(_exempt_clause(rules, now)))


def days_left(rules, opportunity, now):
    """距回收 N 天: whole days (rounded up) before the return rule takes this customer of a library, 0 when due
    tonight; None when it never will as things stand (the rule off, or the customer exempt: locked, a key customer,
    a recent note, where those exemptions are on). The same rule as `_due_clause`, for one record."""
    if not rules.return_enabled or opportunity.location != "library" or _exempt(rules, opportunity, now):
        return None
    basis = opportunity.last_valid_contact_at or opportunity.entered_at
    left = basis + timedelta(days=rules.return_after_days) - now
    return max(-(-left // timedelta(days=1)), 0)


def _exempt(rules, opportunity, now):
    if opportunity.locked_by_id is not None and opportunity.locked_by_id == opportunity.owner_id:
        return True
    if rules.return_exempt_key_customers and opportunity.key_customer:
        return True
    # every note sets the last contact time, so it stands for "any note in the last N days"
    recent = now - timedelta(days=rules.return_exempt_note_days)
    return rules.return_exempt_note_days > 0 and opportunity.last_contact_at is not None \
        and opportunity.last_contact_at >= recent


def _rows(session, clause, limit=None):
    query = (select(Opportunity.id, Opportunity.owner_id, _basis().label("basis"))
             .where(clause).order_by(_basis(), Opportunity.id))
    return session.execute(query.limit(limit) if limit else query).all()


def return_candidates(session, rules, now, limit=None):
    """(id, owner_id, basis) of the opportunities the rule returns now, the longest-neglected first.

    `rules` is the ResourceRules row or anything with its return_* attributes (the settings page
    passes the values being edited, to show their dry run before they are saved).
    """
    return _rows(session, _due_clause(rules, now), limit)


def _warning_clause(rules, now):
    if rules.return_warn_days <= 0:
        return false()
    return and_(_due_clause(rules, now, within_days=rules.return_warn_days),
                _basis() >= now - timedelta(days=rules.return_after_days))


def warning_candidates(session, rules, now, limit=None):
    """(id, owner_id, basis) of those that will be returned within `return_warn_days` (not yet due)."""
    return _rows(session, _warning_clause(rules, now), limit)


def _count(session, clause):
    return session.scalar(select(func.count()).select_from(Opportunity).where(clause))


def preview(session, rules, now, limit=20):
    """What the settings page shows: how many would return tonight and the first of them in full."""
    first = [row.id for row in return_candidates(session, rules, now, limit)]
    opportunities = {o.id: o for o in session.scalars(select(Opportunity).where(Opportunity.id.in_(first)))} \
        if first else {}
    return {"count": _count(session, _due_clause(rules, now)), "rows": [opportunities[i] for i in first],
            "warnings": _count(session, _warning_clause(rules, now))}


def _notice_key(kind, row):
    """One notice per opportunity, owner and basis: a rerun or a second server finds it written."""
    return f"{kind}:{row.id}:{row.owner_id}:{row.basis.astimezone(timezone.utc).isoformat()}"


def _insert_notices(session, kind, rows, now):
    """Insert the notices that do not exist yet; a key written meanwhile by another run is skipped."""
    dialect = session.get_bind().dialect.name
    insert_ = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    written = 0
    for start in range(0, len(rows), _CHUNK):
        values = [{"key": _notice_key(kind, row), "user_id": row.owner_id, "kind": kind, "opportunity_id": row.id,
                   "created_at": now} for row in rows[start:start + _CHUNK]]
        statement = insert_(Notice).values(values).on_conflict_do_nothing(index_elements=["key"])
        written += len(session.execute(statement.returning(Notice.id)).all())
    return written


def _unwarned(session, rows):
    """The rows whose warning has not been written yet (for a dry run's count)."""
    keys = {_notice_key("return_warning", row): row for row in rows}
    seen = set()
    names = list(keys)
    for start in range(0, len(names), _CHUNK):
        seen.update(session.scalars(select(Notice.key).where(Notice.key.in_(names[start:start + _CHUNK]))))
    return [row for key, row in keys.items() if key not in seen]


def _return_reason(days):
    """The reason kept in the history, in the manual's language (a record, like the abandon reasons)."""
    with force_locale("zh_Hans_CN"):
        return gettext("%(n)d days without a valid contact", n=days)


def _return_to_pool(session, rows, rules, now):
    """Move the rows to the public pool with a 'return' event each; the former owners are told."""
    reason = _return_reason(rules.return_after_days)
    ids = [row.id for row in rows]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(update(Opportunity).where(Opportunity.id.in_(chunk), Opportunity.location == "library")
                        .values(location="public_pool", owner_id=None, department_id=None, entered_at=now,
                                last_valid_contact_at=None, locked_by_id=None, locked_at=None).execution_options(synchronize_session=False))
    session.execute(insert(OpportunityEvent), [
        {"opportunity_id": row.id, "kind": "return", "actor_id": None, "from_owner_id": row.owner_id,
         "reason": reason, "created_at": now} for row in rows])
    _insert_notices(session, "returned", rows, now)
    return len(rows)


def _audit_return(session, rows, rules):
    """One audit entry per run that returned customers: how many, after how long, and which."""
    audit.record(session, None, "return", target=None, details={
        "returned": len(rows), "return_after_days": rules.return_after_days,
        "opportunity_ids": [row.id for row in rows[:_AUDIT_IDS]], "ids_cut": len(rows) > _AUDIT_IDS})


_AUDIT_IDS = 1000  # a run that returns more names its first ones: the history of each customer has them all


def run(session, now, dry_run=False):
    """The nightly rules (`flask --app app rules run`): warn owners, return neglected customers.

    Idempotent and safe on two servers at once: the library lock serialises the runs (and every
    entry, claim and reassignment), the candidates are selected again after it, so a second run
    finds nothing left to return, and the notices' unique keys make each warning once.
    The caller commits.
    """
    if not dry_run:
        take_lock(session)
    rules = current(session)
    summary = Summary(enabled=rules.return_enabled, dry_run=dry_run)
    due = return_candidates(session, rules, now)
    summary.candidates = len(due)
    if rules.return_enabled:
        warn = warning_candidates(session, rules, now)
        if dry_run:
            summary.warned, summary.returned = len(_unwarned(session, warn)), len(due)
        else:
            summary.warned = _insert_notices(session, "return_warning", warn, now)
            summary.returned = _return_to_pool(session, due, rules, now) if due else 0
            if due:
                _audit_return(session, due, rules)
    if not dry_run:
        # the overdue web leads: owner, their supervisors and the agent admins told once
        summary.overdue_leads = leads.notify_overdue(session, now)
    session.flush()
    return summary
