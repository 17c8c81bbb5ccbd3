"""Who may see and change what: roles, agent companies, managed departments.

Every page, API call and dropdown that reaches a user or a department is scoped
through these functions, so the rule lives in one place.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, true

from models import ROLES, Department, Opportunity, User

RANK = {role: rank for rank, role in enumerate(ROLES)}
ADMIN_ROLES = frozenset({"agent_admin", "subsystem_admin"})
MANAGING_ROLES = frozenset({"supervisor", "manager"})
LIBRARY_ROLES = MANAGING_ROLES | {"salesperson"}  # the roles that keep a library (§九 rule 1)

ROLE_LABELS = {
    "salesperson": _l("Salesperson"),
    "supervisor": _l("Supervisor"),
    "manager": _l("Manager"),
    "agent_admin": _l("Agent admin"),
    "subsystem_admin": _l("Subsystem admin"),
}


def is_admin(actor):
    return actor is not None and actor.role in ADMIN_ROLES


def company_path(department):
    """The path prefix of the agent company a department belongs to ("" for the head office)."""
    parts = [p for p in department.path.strip("/").split("/") if p]
    return "/" + "/".join(parts[:2]) + "/" if len(parts) >= 2 else ""


def company_department(session, department):
    """The agent company (a Department of depth 1) that a department belongs to, or None."""
    prefix = company_path(department) if department is not None else ""
    return session.scalar(select(Department).where(Department.path == prefix)) if prefix else None


def department_clause(actor):
    """SQL condition on Department: the departments the actor administers."""
    if actor is None or actor.role == "subsystem_admin":
        return true()  # the CLI (no actor) and subsystem admins reach everything
    if actor.role == "agent_admin":
        prefix = company_path(actor.department)
        return Department.path.startswith(prefix) if prefix else false()
    return false()


def user_clause(actor):
    """SQL condition on User: the accounts the actor administers."""
    if actor is None or actor.role == "subsystem_admin":
        return true()
    return User.department_id.in_(select(Department.id).where(department_clause(actor)))


def may_administer_department(actor, department):
    if actor is None or actor.role == "subsystem_admin":
        return True
    prefix = company_path(actor.department) if actor.role == "agent_admin" else ""
    return bool(prefix) and department.path.startswith(prefix)


def may_administer_user(actor, user):
    """An admin reaches the accounts of its scope whose role is not above its own."""
    if actor is None:
        return True
    return (
        is_admin(actor)
        and may_administer_department(actor, user.department)
        and RANK[user.role] <= RANK[actor.role]
    )


def assignable_roles(actor):
    """Roles the actor may give: none above its own."""
    if actor is None:
        return list(ROLES)
    return [role for role in ROLES if RANK[role] <= RANK[actor.role]] if is_admin(actor) else []


def scoped_departments(session, actor):
    return session.scalars(select(Department).where(department_clause(actor)).order_by(Department.path)).all()


def _subtree_ids(departments):
    clauses = [Department.path.startswith(d.path) for d in departments]
    return select(Department.id).where(or_(*clauses)) if clauses else None


def opportunity_clause(actor):
    """SQL condition on Opportunity: what the actor sees in "my opportunities".

    Salespeople their own library; supervisors and managers also their managed
    departments' libraries; agent admins their company's libraries and agent-admin pool.
    Soft-deleted opportunities are hidden from everyone here (see deleted_opportunity_clause).
    """
    return and_(Opportunity.deleted_at.is_(None), _opportunity_scope(actor))


def deleted_opportunity_clause(actor):
    """SQL condition on Opportunity: the soft-deleted ones an admin may see and restore."""
    # not the hidden rows of an import still running (services/imports/staging.py): nobody sees those
    return and_(Opportunity.deleted_at.is_not(None), Opportunity.pending_import_id.is_(None),
                _opportunity_scope(actor)) if actor is None or is_admin(actor) else false()


def may_delete_opportunity_clause(actor):
    """The opportunities an admin may delete: its scope (agent admins: their company's; subsystem admins: all)."""
    return _opportunity_scope(actor) if actor is None or is_admin(actor) else false()


def public_pool_clause():
    """SQL condition on Opportunity: live and in the public pool (公海), which every user may browse."""
    return and_(Opportunity.location == "public_pool", Opportunity.deleted_at.is_(None))


def may_merge_public_pool(actor):
    """The public pool is shared by every company: only a subsystem admin (or the CLI) merges its records."""
    return actor is None or actor.role == "subsystem_admin"


def duplicate_reach_clause(actor):
    """SQL condition on Opportunity: the records an admin's groups of duplicates show. Its own (live, in the
    scope it may delete from), and for an agent admin the public pool's too, which it sees as anyone sees the
    pool but may not merge (may_merge_public_pool)."""
    own = and_(opportunity_clause(actor), may_delete_opportunity_clause(actor))
    return own if may_merge_public_pool(actor) else or_(own, public_pool_clause())


def _opportunity_scope(actor):
    if actor is None or actor.role == "subsystem_admin":
        return true()
    own = Opportunity.owner_id == actor.id
    if actor.role in MANAGING_ROLES:
        managed = _subtree_ids(actor.managed_departments)
        return or_(own, Opportunity.department_id.in_(managed)) if managed is not None else own
    if actor.role == "agent_admin":
        prefix = company_path(actor.department)
        return Opportunity.department_id.in_(select(Department.id).where(Department.path.startswith(prefix))) \
            if prefix else false()
    return own
