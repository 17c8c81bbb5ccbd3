"""The resource rules (资源规则, manual §九): the cap per role, the daily quotas, the lead deadline,
the return to the public pool.

One row (`ResourceRules`, id 1) that a subsystem admin changes on the settings page;
every rule reads it here, so that pages, API, imports and `rules run` agree. Applying the
return rule each night is services/library/returns.py's: this module imports no other rule, so that
any rule may read the cap here.
"""
from models import ResourceRules

CAP_COLUMNS = {"salesperson": "cap_salesperson", "supervisor": "cap_supervisor", "manager": "cap_manager"}


def current(session):
    """The rules in force (the migration writes the row; a missing one is recreated with the defaults)."""
    rules = session.get(ResourceRules, 1)
    if rules is None:
        rules = ResourceRules(id=1)
        session.add(rules)
        session.flush()
    return rules


def library_cap(session, user):
    """Rule 1: how many customers `user`'s library may hold (by role; admins' entries count as a salesperson's)."""
    column = CAP_COLUMNS.get(getattr(user, "role", None), "cap_salesperson")
    return getattr(current(session), column)
