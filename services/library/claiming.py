"""A fair public pool: who may claim a customer now, under the claimer's company's pool rules (pool_rules.py).

- the daily claim limit: claims per person and calendar day in CRM_TIMEZONE, counted from the claims' history
  (the 'claim' events), so that a claim undone by an abandon still counts;
- the cooling-off: whoever let the customer leave their library (abandoned, returned by the rule) in the last N
  days may not claim it back; others may. Read from the record's history, which a merge carries to the kept
  record (services/duplicates/merges.py moves the events), so a merge does not wash the former owner away;
- the embargo on new arrivals: a customer that came into the pool less than N hours ago waits for the admins
  (who assign at once). The arrival is `entered_at`, which every way into the pool sets (release, the return
  rule, an import into the pool) and the pool page shows as "in the pool since".

`check` runs inside `opportunities.claim`, after the library lock: claims at the same moment are counted one
after the other. Each refusal names when the claim becomes possible (`available_at`).
"""
from datetime import timedelta

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from models import OpportunityEvent

from .. import people
from ..errors import RuleViolation
from . import pool_rules, stats

LEAVING_KINDS = ("abandon", "return")  # the events of a customer leaving its owner's library


def _when(moment):
    """A moment as a refusal names it: to the minute, in the reader's time zone."""
    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def claims_today(session, actor, now):
    """How many customers `actor` claimed today (a calendar day in CRM_TIMEZONE)."""
    start, end = stats.day_bounds(stats.today(now))
    return session.scalar(select(func.count()).select_from(OpportunityEvent).where(
        OpportunityEvent.kind == "claim", OpportunityEvent.to_owner_id == actor.id,
        OpportunityEvent.created_at >= start, OpportunityEvent.created_at < end))


def _daily_limit(session, actor, rules, now):
    if rules.daily_claim_limit and claims_today(session, actor, now) >= rules.daily_claim_limit:
        _start, tomorrow = stats.day_bounds(stats.today(now))
        raise RuleViolation(_l("You have claimed %(n)d customers today, the most a day allows. You may claim again "
                               "from %(time)s.", n=rules.daily_claim_limit, time=_when(tomorrow)),
                            code="daily_claim_limit", available_at=tomorrow)


def left_by(session, actor, opportunity_id, since):
    """The latest time after `since` that the customer left `actor`'s library, or None."""
    return session.scalar(select(func.max(OpportunityEvent.created_at)).where(
        OpportunityEvent.opportunity_id == opportunity_id, OpportunityEvent.from_owner_id == actor.id,
        OpportunityEvent.kind.in_(LEAVING_KINDS), OpportunityEvent.created_at > since))


def _cooldown(session, actor, opportunity, rules, now):
    if not rules.reclaim_cooldown_days:
        return
    period = timedelta(days=rules.reclaim_cooldown_days)
    left = left_by(session, actor, opportunity.id, now - period)
    if left is not None:
        available = left + period
        raise RuleViolation(_l("%(company)s left your library on %(left)s: a former owner may claim it back only "
                               "after %(days)d days, from %(time)s.", company=opportunity.company, left=_when(left),
                               days=rules.reclaim_cooldown_days, time=_when(available)),
                            code="reclaim_cooldown", available_at=available)


def _embargo(actor, opportunity, rules, now):
    if not rules.new_arrival_embargo_hours or people.is_admin(actor):
        return
    available = opportunity.entered_at + timedelta(hours=rules.new_arrival_embargo_hours)
    if available > now:
        raise RuleViolation(_l("%(company)s came into the public pool less than %(hours)d hours ago: it may be "
                               "claimed from %(time)s.", company=opportunity.company,
                               hours=rules.new_arrival_embargo_hours, time=_when(available)),
                            code="new_arrival_embargo", available_at=available)


def check(session, actor, opportunity, now):
    """Refuse the claim (RuleViolation with its code and `available_at`) if a pool rule of the actor's company
    forbids it now; the caller holds the library lock."""
    rules = pool_rules.for_user(session, actor)
    _embargo(actor, opportunity, rules, now)
    _cooldown(session, actor, opportunity, rules, now)
    _daily_limit(session, actor, rules, now)
