"""An opportunity's history (OpportunityEvent): abandoned, reassigned, released, a lead, merged, returned.

Written by the rules that move a customer (services/library/opportunities.py, leads.py, merges.py; the
nightly return writes its rows in bulk, services/library/returns.py) and read by its details page.
"""
from sqlalchemy import select

from models import OpportunityEvent

from .. import clock


def record_event(session, opportunity, kind, actor, from_owner_id=None, to_owner_id=None, reason=None):
    session.add(OpportunityEvent(opportunity_id=opportunity.id, kind=kind, actor_id=actor.id if actor else None,
                                 from_owner_id=from_owner_id, to_owner_id=to_owner_id, reason=reason,
                                 created_at=clock.now()))


def history(session, opportunity_id):
    """Where the opportunity went (abandoned, reassigned, released): newest first."""
    return session.scalars(select(OpportunityEvent).where(OpportunityEvent.opportunity_id == opportunity_id)
                           .order_by(OpportunityEvent.created_at.desc(), OpportunityEvent.id.desc())).all()


def last_abandon(session, opportunity_ids):
    """{opportunity_id: its latest abandon event} for a page of the agent-admin pool."""
    if not opportunity_ids:
        return {}
    events = session.scalars(select(OpportunityEvent).where(OpportunityEvent.opportunity_id.in_(opportunity_ids),
                                                            OpportunityEvent.kind == "abandon")
                             .order_by(OpportunityEvent.created_at, OpportunityEvent.id)).all()
    return {event.opportunity_id: event for event in events}
