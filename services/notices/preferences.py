"""The kinds of email a person receives, each of which they may switch off on their own page."""
from flask_babel import lazy_gettext as _l

MAIL_KINDS = {
    "lead_assigned": _l("A web lead assigned to me"),
    "lead_due_soon": _l("A web lead of mine about to pass its deadline"),
    "lead_overdue": _l("A web lead past its deadline (mine, or of the people I manage)"),
    "recycle_warning": _l("A customer of mine about to return to the public pool"),
    "daily_digest": _l("The morning list of today's contacts (when the administrator has switched it on)"),
}


def switched_off(user):
    return {kind for kind in (user.mail_off or "").split(",") if kind}


def wants(user, kind):
    return kind not in switched_off(user)


def may_mail(user, kind):
    """Whether `user` is mailed about `kind`: a live account with an address that has not switched it off."""
    return (user is not None and user.active and user.deleted_at is None and bool(user.email)
            and wants(user, kind))


def set_wanted(session, user, kinds):
    """Keep `kinds` (of MAIL_KINDS) on and switch the others off."""
    user.mail_off = ",".join(kind for kind in MAIL_KINDS if kind not in set(kinds))
    session.flush()
