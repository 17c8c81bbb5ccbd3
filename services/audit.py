"""The audit log (issue 5): one append-only entry per thing worth answering for later.

`record` adds the entry to the caller's transaction, so an action and its entry are
committed together or not at all; a refused action that rolls back records its refusal
with `record_refusal` in a transaction of its own. The client's address comes from the
view layer (`use_ip`, once per request), so the services stay free of the request. Never update or delete an entry (the
database refuses updates; see migration 0005).
"""
import json

from models import AuditEntry, Department

from . import clock

# The vocabulary of `action` (what the log page filters by).
ACTIONS = (
    "login", "login_failed", "logout", "account_locked", "account_unlocked", "password_changed", "password_reset",
    "user_created", "user_changed", "user_deactivated", "user_deleted", "user_restored",
    "department_created", "department_changed",
    "opportunity_entered", "entry_refused", "review_confirmed", "opportunity_deleted", "opportunity_restored",
    "claim", "abandon", "reassign", "release", "return", "lead", "import",
    "dedup_check", "check_limit_passed", "export", "rules_changed",
)
ACTIONS += ("user_reactivated",)
ACTIONS += ("duplicate_scan", "duplicates_dismissed", "merge", "merge_undone")  # issue 11  # issue 5 (audit hooks): reactivating a deactivated account

IP_KEY = "audit_ip"  # session.info key: the client address of the request the session serves


def record(session, actor, action, target=None, details=None, department_id=None, login=None, ip=None):
    """Add an entry to the current transaction. `target` is a model instance (its table and id are kept)."""
    assert action in ACTIONS, action
    if department_id is None:
        department_id = getattr(target, "department_id", None) or getattr(actor, "department_id", None)
    department_id = _company_of(session, department_id)
    entry = AuditEntry(
        created_at=clock.now(), actor_id=getattr(actor, "id", None), actor_login=(login or getattr(actor, "login", None) or "")[:32] or None,
        action=action, target_type=target.__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None), department_id=department_id,
        details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
        ip=ip or session.info.get(IP_KEY),
    )
    session.add(entry)
    return entry


def _company_of(session, department_id):
    """The agent company (or the head office) of a department: what an entry is filed under.

    Admins see entries by company, so the company is what matters; the id is kept without a
    foreign key, so that deleting a department never has to touch the log.
    """
    department = session.get(Department, department_id) if department_id else None
    if department is None:
        return department_id
    return department.scope_id



def use_ip(session, ip):
    """Entries recorded in this session (until it is removed at the end of the request) carry `ip`."""
    session.info[IP_KEY] = (ip or "")[:45] or None


def record_refusal(session, actor, action, target=None, details=None, **kwargs):
    """Record a refused action after its own transaction was rolled back, and commit the entry alone.

    The refusal must leave a trace even though nothing of the action itself was written. The entry is
    built first (reading the actor and the department), then added to a fresh transaction whose first
    statement is its INSERT: on SQLite a read before the write could not be upgraded to a write
    while other writers commit (SQLITE_BUSY at once, not a wait).
    """
    entry = record(session, actor, action, target=target, details=details, **kwargs)
    session.expunge(entry)
    session.rollback()
    session.add(entry)
    session.commit()
    return entry


MAX_COLLISIONS = 20  # the worst hits come first; an entry names at most this many


def collisions(result):
    """What an entry collided with, from a dedup CheckResult: ids, companies, where and how alike."""
    return [{"opportunity_id": hit.opportunity.id, "company": hit.opportunity.company,
             "location": hit.opportunity.location, "verdict": hit.match.verdict,
             "score": round(hit.match.score, 2)} for hit in result.hits[:MAX_COLLISIONS]]


def entry_refusal(refusal, company):
    """`details` of an entry_refused entry: why (duplicate, review_required, library_full), what was typed and
    what it collided with."""
    details = {"code": refusal.code, "company": company}
    result = getattr(refusal, "result", None)
    if result is not None:
        details["verdict"] = result.verdict
        details["collided"] = collisions(result)
    return details


def changes(before, after):
    """{name: {"old": ..., "new": ...}} for the values that differ (a settings row before and after a save)."""
    return {name: {"old": before.get(name), "new": value} for name, value in after.items()
            if before.get(name) != value}
