"""Locked customers (锁定): each person who keeps a library may lock up to `lock_limit` of its customers (their
company's pool rules, pool_rules.py), which the return rule then never takes back to the pool (returns.py).

A lock is the owner's (`locked_by_id`): it is in force only while the customer is still in that person's library,
so it ends by itself however the customer leaves (abandon, return, merge, an admin's move); the abandon and the
return also clear it, so that a customer coming back later does not come back locked. Key customers are exempt from
the return rule already (when that setting is on): they need no lock and do not count toward the limit. Not to be
confused with locks.py, the database lock every write of a library takes.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select

from models import Opportunity

from .. import clock
from ..errors import RuleViolation
from . import pool_rules, rules
from .locks import take_lock


def in_force_clause():
    """SQL condition on Opportunity: locked by its present owner."""
    return and_(Opportunity.location == "library", Opportunity.locked_by_id == Opportunity.owner_id)


def is_locked(opportunity):
    return opportunity.location == "library" and opportunity.locked_by_id is not None \
        and opportunity.locked_by_id == opportunity.owner_id


def locked_count(session, owner):
    """How many of `owner`'s customers count toward the lock limit (locked, live, not key customers)."""
    return session.scalar(select(func.count()).select_from(Opportunity).where(
        Opportunity.owner_id == owner.id, in_force_clause(), Opportunity.deleted_at.is_(None),
        Opportunity.key_customer.is_(False)))


def _own(session, actor, opportunity_id):
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.deleted_at is not None or actor is None \
            or opportunity.location != "library" or opportunity.owner_id != actor.id:
        raise RuleViolation(_l("This customer is not in your library."), code="not_found")
    return opportunity


def lock(session, actor, opportunity_id):
    """Lock a customer of one's own library, within the lock limit; locking a locked one changes nothing."""
    take_lock(session)  # two locks at once are counted one after the other
    opportunity = _own(session, actor, opportunity_id)
    if is_locked(opportunity):
        return opportunity
    if opportunity.key_customer and rules.current(session).return_exempt_key_customers:
        raise RuleViolation(_l("%(company)s is a key customer: the return rule never takes it, no lock is needed.",
                               company=opportunity.company), code="conflict")
    limit = pool_rules.for_user(session, actor).lock_limit
    if locked_count(session, actor) >= limit:
        raise RuleViolation(_l("You may lock at most %(n)d customers. Unlock one first.", n=limit), code="lock_limit")
    opportunity.locked_by_id, opportunity.locked_at = actor.id, clock.now()
    return opportunity


def unlock(session, actor, opportunity_id):
    """Unlock a customer of one's own library; the return rule may take it again."""
    opportunity = _own(session, actor, opportunity_id)
    opportunity.locked_by_id = opportunity.locked_at = None
    return opportunity
