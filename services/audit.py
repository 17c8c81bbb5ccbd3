"""The audit log (issue 5): one append-only entry per thing worth answering for later.

`record` adds the entry to the caller's transaction, so an action and its entry are
committed together or not at all; a refused action that rolls back records its refusal
with `record_now` in a transaction of its own. Never update or delete an entry (the
database refuses updates; see migration 0005).
"""
import json

from models import AuditEntry

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


def record(session, actor, action, target=None, details=None, department_id=None, login=None, ip=None):
    """Add an entry to the current transaction. `target` is a model instance (its table and id are kept)."""
    assert action in ACTIONS, action
    if department_id is None:
        department_id = getattr(target, "department_id", None) or getattr(actor, "department_id", None)
    entry = AuditEntry(
        created_at=clock.now(), actor_id=getattr(actor, "id", None), actor_login=login or getattr(actor, "login", None),
        action=action, target_type=target.__tablename__ if target is not None else None,
        target_id=getattr(target, "id", None), department_id=department_id,
        details=json.dumps(details, ensure_ascii=False, default=str) if details else None, ip=ip,
    )
    session.add(entry)
    return entry
