"""The daily limit of duplicate checks per user (issue 5: the check cannot harvest the database).

Every check a person asks for (the check page, the entry form's live check, the API) goes
through `checked`: it is audited as `dedup_check` with its query and hit count, and counted:
the user's `dedup_check` entries since the start of today in CRM_TIMEZONE (an index range on
ix_audit_entry_actor_created). The live check fires as the salesperson types (debounced), so
each request counts; the limit (ResourceRules.daily_check_limit, 500 by default) is generous
for real work. A refused check is not a check: it is not counted again.

The save's own re-check inside services.library.opportunities.enter, imports and the CLI call
services.checking.dedup.check directly: they are never limited (never stop real work) and not counted.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import AuditEntry, Department, Notice, User

from .. import audit, clock, library, people
from ..errors import RuleViolation
from . import dedup

QUERY_FIELDS = ("company", "province", "city", "phone", "fax", "mobile", "wechat")


class CheckLimitReached(RuleViolation):
    def __init__(self, limit):
        super().__init__(_l("You have reached today's limit of %(n)d duplicate checks. The limit keeps the customer "
                            "database from being copied out; it starts again tomorrow. Entering customers still "
                            "works.", n=limit), code="check_limit")
        self.limit = limit


def _today(now):
    return library.day_bounds(now.astimezone(library.zone()).date())


def checks_today(session, actor, now=None):
    """How many duplicate checks `actor` made since the start of today (local time)."""
    start, end = _today(now or clock.now())
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_id == actor.id, AuditEntry.created_at >= start, AuditEntry.created_at < end,
        AuditEntry.action == "dedup_check"))


def checked(session, actor, **fields):
    """The duplicate-check result for `actor`, audited and counted; CheckLimitReached past the limit.

    The caller commits (the audit entry, and the first refusal's notices, are in the session).
    """
    limit = library.current_rules(session).daily_check_limit
    if checks_today(session, actor) >= limit:
        _tell_admins_once(session, actor, limit)
        raise CheckLimitReached(limit)
    result = dedup.check(session, **fields)
    query = {name: fields[name] for name in QUERY_FIELDS if fields.get(name)}
    audit.record(session, actor, "dedup_check", details={**query, "hits": result.total})
    return result


def admins_of(session, user):
    """Who is told: the agent admins of the user's agent company and every subsystem admin."""
    prefix = people.company_path(user.department) if user.department is not None else ""
    company_admin = (User.role == "agent_admin") & User.department_id.in_(
        select(Department.id).where(Department.path.startswith(prefix))) if prefix else None
    clause = User.role == "subsystem_admin"
    if company_admin is not None:
        clause = clause | company_admin
    return session.scalars(select(User).where(clause, User.active.is_(True), User.deleted_at.is_(None),
                                              User.id != user.id).order_by(User.id)).all()


def notice_key(user_id, day, admin_id):
    return f"check_limit:{user_id}:{day.isoformat()}:{admin_id}"


def _tell_admins_once(session, actor, limit):
    """The first refusal of the day: a `check_limit_passed` entry and a notice to each admin.

    The notices' unique keys (user, day, admin) make a second refusal, or two at once on two
    servers, tell nobody twice: a key already there rolls back this attempt's savepoint.
    """
    now = clock.now()
    day = now.astimezone(library.zone()).date()
    start, end = _today(now)
    if session.scalar(select(AuditEntry.id).where(
            AuditEntry.actor_id == actor.id, AuditEntry.created_at >= start, AuditEntry.created_at < end,
            AuditEntry.action == "check_limit_passed").limit(1)) is not None:
        return
    try:
        with session.begin_nested():
            audit.record(session, actor, "check_limit_passed", target=actor, details={"limit": limit})
            for admin in admins_of(session, actor):
                session.add(Notice(key=notice_key(actor.id, day, admin.id), user_id=admin.id, kind="check_limit",
                                   created_at=now))
    except IntegrityError:
        pass  # another request told them a moment ago


def subject_of(notice):
    """The id of the user a `check_limit` notice is about (kept in its key), or None."""
    parts = (notice.key or "").split(":")
    return int(parts[1]) if notice.kind == "check_limit" and len(parts) == 4 and parts[1].isdigit() else None
