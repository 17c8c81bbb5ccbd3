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


# The global rules by the names of the API (docs/contract.md, `GET /rules`): name -> (column(s), low, high).
# `library_cap` is every library role's cap at once (the settings page sets each role's).
API_FIELDS = {
    "library_cap": (tuple(CAP_COLUMNS.values()), 1, 10000),
    "daily_key_customers": (("quota_key_customers",), 0, 1000),
    "daily_valid_contacts": (("quota_valid_contacts",), 0, 10000),
    "lead_hours": (("lead_deadline_hours",), 1, 720),
    "return_after_days": (("return_after_days",), 1, 3650),
}


def api_values(session, user):
    """The global rules as the API names them; `library_cap` is `user`'s own (a salesperson's for an admin)."""
    row = current(session)
    values = {name: getattr(row, columns[0]) for name, (columns, _low, _high) in API_FIELDS.items()}
    values["library_cap"] = library_cap(session, user)
    return {**values, "return_enabled": row.return_enabled, "return_warn_days": row.return_warn_days}


def api_problems(session, values):
    """{API name: (low, high)} of the global values given out of range (the caller words the message). The return
    must come later than its warning: `return_after_days` starts above `return_warn_days`."""
    found = {}
    for name, (_columns, low, high) in API_FIELDS.items():
        if name == "return_after_days":
            low = max(low, current(session).return_warn_days + 1)
        value = values.get(name)
        if name in values and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            found[name] = (low, high)
    return found


def api_apply(session, values, when, actor_id):
    """Write the global values given (already checked); {column: (old, new)} of what changed."""
    row = current(session)
    changed = {}
    for name, (columns, _low, _high) in API_FIELDS.items():
        if name in values:
            for column in columns:
                if getattr(row, column) != values[name]:
                    changed[column] = {"old": getattr(row, column), "new": values[name]}
                setattr(row, column, values[name])
    if changed:
        row.updated_at, row.updated_by_id = when, actor_id
    return changed
