"""The delivery log an admin reads: what was sent, when, to whom, and each failure with its reason."""
from sqlalchemy import func, select

from models import Delivery

from .. import people
from .hooks import may_manage


def _scope(session, actor, query):
    """An agent admin reads its company's deliveries; a subsystem admin, all."""
    if actor.role == "subsystem_admin":
        return query
    company = people.company_department(session, actor.department)
    return query.where(Delivery.department_id == (company.id if company else -1))


def recent(session, actor, page=1, per_page=50):
    """(rows, total) of the actor's log, newest first."""
    if not may_manage(actor):
        return [], 0
    rows = session.scalars(_scope(session, actor, select(Delivery)).order_by(Delivery.created_at.desc(), Delivery.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    total = session.scalar(_scope(session, actor, select(func.count()).select_from(Delivery)))
    return rows, total
