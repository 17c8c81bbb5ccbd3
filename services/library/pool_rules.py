"""The public pool's rules (公海规则) per agent company: the daily claim limit, the former owners' cooling-off,
the new arrivals' embargo, the lock limit and the masked contacts.

The cap, the quotas and the return rule stay the one global row of rules.py; these are kept per agent company
(a department of depth 1), the head office's row being the default of every company without its own, and the
code's defaults (every rule off) standing in while the head office has none. A subsystem admin sets the head
office's and any company's; an agent admin its own company's. Every change is audited.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import Department, PoolRules

from .. import audit, clock, people
from ..errors import RuleViolation


@dataclass(frozen=True)
class Limit:
    """A whole-number rule's range, and what it is called where a message names it."""

    low: int
    high: int
    label: object


LIMITS = {
    "daily_claim_limit": Limit(0, 1000, _l("Claims per person and day (0: no limit)")),
    "reclaim_cooldown_days": Limit(0, 365, _l("Days before a former owner may claim a customer back")),
    "new_arrival_embargo_hours": Limit(0, 720, _l("Hours before salespeople may claim a new arrival")),
    "lock_limit": Limit(0, 1000, _l("Customers each library may lock")),
}
FLAGS = {"mask_pool_contacts": _l("Hide the contacts of pool customers from salespeople until claimed")}
FIELDS = (*LIMITS, *FLAGS)
DEFAULTS = {"daily_claim_limit": 0, "reclaim_cooldown_days": 0, "new_arrival_embargo_hours": 0, "lock_limit": 0,
            "mask_pool_contacts": False}


@dataclass(frozen=True)
class InForce:
    """The rules a company works under, and whose row they come from (`source`: "own", "head_office",
    "defaults")."""

    daily_claim_limit: int
    reclaim_cooldown_days: int
    new_arrival_embargo_hours: int
    lock_limit: int
    mask_pool_contacts: bool
    source: str = "defaults"

    def values(self):
        return {name: getattr(self, name) for name in FIELDS}


def head_office(session):
    return session.scalar(select(Department).where(Department.depth == 0).order_by(Department.id).limit(1))


def company_of(session, user):
    """The agent company whose pool rules `user` works under; the head office for its own staff."""
    department = getattr(user, "department", None)
    return people.company_department(session, department) or head_office(session)


def _row(session, department):
    return session.scalar(select(PoolRules).where(PoolRules.department_id == department.id)) if department else None


def _in_force(row, source):
    return InForce(**{name: getattr(row, name) for name in FIELDS}, source=source)


def for_company(session, department):
    """The rules in force for an agent company (or, given the head office, the defaults of all)."""
    own = _row(session, department)
    if own is not None:
        return _in_force(own, "own" if department.depth else "head_office")
    office = _row(session, head_office(session))
    return _in_force(office, "head_office") if office is not None else InForce(**DEFAULTS)


def for_user(session, user):
    """The rules in force where `user` works."""
    return for_company(session, company_of(session, user))


def may_edit(actor, department):
    """A subsystem admin sets any company's rules and the head office's; an agent admin its own company's."""
    if actor is None or department is None:
        return False
    if actor.role == "subsystem_admin":
        return department.depth in (0, 1)
    return actor.role == "agent_admin" and department.depth == 1 and actor.department.path.startswith(department.path)


def problems(values):
    """{field: message} for the values out of range (a whole number within each rule's limits; a flag true/false)."""
    found = {}
    for name, limit in LIMITS.items():
        value = values.get(name)
        if name in values and (isinstance(value, bool) or not isinstance(value, int)
                               or not limit.low <= value <= limit.high):
            found[name] = _l("%(field)s: a whole number from %(low)d to %(high)d.", field=limit.label,
                             low=limit.low, high=limit.high)
    for name, label in FLAGS.items():
        if name in values and not isinstance(values[name], bool):
            found[name] = _l("%(field)s: true or false.", field=label)
    return found


def save(session, actor, department, values):
    """Change some of `department`'s pool rules (missing ones keep what is in force), audited; the rules in force
    after. Raises RuleViolation (code invalid, `fields`) for values out of range, forbidden outside one's reach."""
    if not may_edit(actor, department):
        raise RuleViolation(_l("You may not change the pool rules of this company."), code="forbidden")
    values = {name: value for name, value in values.items() if name in FIELDS}
    found = problems(values)
    if found:
        raise RuleViolation(next(iter(found.values())), field=next(iter(found)), fields=found)
    before = for_company(session, department).values()
    row = _row(session, department) or PoolRules(department_id=department.id, **before)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = clock.now(), actor.id
    session.add(row)
    session.flush()
    changed = audit.changes(before, {name: getattr(row, name) for name in FIELDS})
    if changed:  # old and new value of each changed rule, under the company it rules
        audit.record(session, actor, "rules_changed", target=row, department_id=department.id,
                     details=changed)
    return for_company(session, department)
