"""A person's library (库) as one set of rules: how many customers it holds, how many it may hold (rule 1 of
§九, by role), whether it has room, and what each action says when it has none.

Every path that puts a customer into a library (entry, claim, reassign, restore, a merge and its undo, web
leads, imports) asks here, so "the library is full" is decided one way; the refusal is one message per action,
so that 录入 and 领取 keep saying what a person doing them needs to hear. The caller holds the library lock
(services/library/locks.py) when the answer decides a write.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from models import Department, Opportunity, User, WebLead

from ..errors import RuleViolation
from . import rules

# What each action says when the library is full: `n` is the cap, `user` the owner's login, `company` the
# customer (only where the message names it).
_REFUSALS = {
    "enter": lambda p: _l("Your library is full (%(n)d customers). Abandon or close some before entering new ones.",
                          n=p["n"]),
    "claim": lambda p: _l("Your library is full (%(n)d customers). Abandon or close some before claiming.", n=p["n"]),
    "reassign": lambda p: _l("The library of %(user)s is full (%(n)d customers).", user=p["user"], n=p["n"]),
    "restore": lambda p: _l("%(company)s cannot be restored: the library of %(user)s is full.",
                            company=p["company"], user=p["user"]),
    "merge": lambda p: _l("The library of %(user)s is full (%(n)d customers): the merged customer cannot go there. "
                          "Keep it where it is, or make room first.", user=p["user"], n=p["n"]),
    "undo_merge": lambda p: _l("The merge cannot be undone: the library of %(user)s is full (%(n)d customers).",
                               user=p["user"], n=p["n"]),
    "import": lambda p: _l("library full (%(n)d customers)", n=p["n"]),
}


# Who receives customers in turn (web leads, an import given round robin): salespeople only; supervisors and
# managers keep a library but lead the team.
ASSIGNEE_ROLES = ("salesperson",)


def assignees(session, department):
    """The people of `department`'s subtree who receive customers in turn (active, unlocked, not deleted), in the
    one turn order of leads and imports: whoever was given a new lead longest ago first (never: first of all),
    ties by id. The last lead's id, not its time, orders them: it grows in arrival order under the lock, so a
    frozen clock or two leads in one second cannot tie it."""
    last_lead = (select(WebLead.assigned_to_id.label("user_id"), func.max(WebLead.id).label("last_id"))
                 .where(WebLead.existing.is_(False), WebLead.assigned_to_id.is_not(None))
                 .group_by(WebLead.assigned_to_id).subquery())
    subtree = select(Department.id).where(Department.path.startswith(department.path))
    return session.scalars(
        select(User).outerjoin(last_lead, last_lead.c.user_id == User.id)
        .where(User.role.in_(ASSIGNEE_ROLES), User.active.is_(True), User.locked_at.is_(None),
               User.deleted_at.is_(None), User.department_id.in_(subtree))
        .order_by(last_lead.c.last_id.is_not(None), last_lead.c.last_id, User.id)).all()


def cap(session, owner):
    """How many customers `owner`'s library may hold (None: the salesperson's cap, as for an admin's entries)."""
    return rules.library_cap(session, owner)


def size(session, owner):
    """How many live customers `owner` holds now (deleted ones do not count; merged ones are deleted)."""
    return sizes(session, [owner.id]).get(owner.id, 0)


def sizes(session, owner_ids):
    """{owner id: live customers} for many people (a list of ids, or a select of them) in one query; a person
    holding none is absent."""
    return dict(session.execute(select(Opportunity.owner_id, func.count())
                                .where(Opportunity.owner_id.in_(owner_ids), Opportunity.deleted_at.is_(None))
                                .group_by(Opportunity.owner_id)).all())


def has_room(session, owner, adding=1):
    """Whether `adding` more customers fit (0: whether what was just flushed in still fits, as after a merge)."""
    return size(session, owner) + adding <= cap(session, owner)


def refusal_message(action, session, owner, **params):
    """What `action` says when the library of `owner` is full (the import's row reason, the entry's decision)."""
    return _REFUSALS[action]({"n": cap(session, owner), "user": getattr(owner, "login", ""), **params})


def row_refusal(cap):
    """An import row's reason when its library is full: an import counts its rows in, not the database."""
    return _REFUSALS["import"]({"n": cap})


def require_room(session, owner, action, adding=1, **params):
    """Raise the `action`'s refusal (code library_full) unless `adding` more customers fit in `owner`'s library."""
    if not has_room(session, owner, adding):
        raise RuleViolation(refusal_message(action, session, owner, **params), code="library_full")
