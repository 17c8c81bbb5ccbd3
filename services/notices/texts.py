"""The short texts of each event, in the recipient's language (Simplified Chinese by default).

A text names the customer and, when CRM_EXTERNAL_URL is set, links to it. Robots and webhooks read the
company's language: Simplified Chinese.
"""
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from .. import library

DEFAULT_LOCALE = "zh_Hans_CN"

SUBJECTS = {
    "lead_assigned": _l("New web lead: %(company)s"),
    "lead_due_soon": _l("Web lead due soon: %(company)s"),
    "lead_overdue": _l("Web lead overdue: %(company)s"),
    "recycle_warning": _l("Soon back in the public pool: %(company)s"),
    "recycled": _l("Returned to the public pool: %(company)s"),
    "abandoned": _l("Customer abandoned: %(company)s"),
}
BODIES = {
    "lead_assigned": _l("A web lead of %(company)s is yours; follow it up before %(due)s."),
    "lead_due_soon": _l("The web lead of %(company)s must be followed up before %(due)s."),
    "lead_overdue": _l("The web lead of %(company)s (%(owner)s) passed its deadline, %(due)s, without a valid contact."),
    "recycle_warning": _l("%(company)s returns to the public pool unless it gets a valid contact soon."),
    "recycled": _l("%(company)s went back to the public pool: no valid contact for too long."),
    "abandoned": _l("%(owner)s abandoned %(company)s; it waits in the agent-admin pool."),
}


@dataclass
class Text:
    subject: str
    body: str


def link(path):
    """An absolute link into the CRM, or None without CRM_EXTERNAL_URL."""
    base = (current_app.config.get("CRM_EXTERNAL_URL") or "").rstrip("/")
    return f"{base}{path}" if base else None


def customer_link(opportunity_id, location="library"):
    view = {"public_pool": "pool", "agent_admin_pool": "agent-pool"}.get(location, "opportunities")
    return link(f"/{view}/details/?id={opportunity_id}") if opportunity_id else None


def when(value):
    """A time as the recipient reads it: YYYY-MM-DD HH:MM in CRM_TIMEZONE."""
    return value.astimezone(library.zone()).strftime("%Y-%m-%d %H:%M") if value else ""


def event_text(event, values, url, locale=None):
    """The subject and body of an event; `values` fill its sentences (company, owner, due)."""
    with force_locale(locale or DEFAULT_LOCALE):
        subject = str(SUBJECTS[event]) % values  # the sentence in the recipient's language, then its values
        body = str(BODIES[event]) % values
        if url:
            body += "\n" + gettext("Open: %(url)s", url=url)
    return Text(subject[:200], body)


def digest_text(opportunities, locale=None):
    """The morning mail: today's due contacts, each with its time and link."""
    with force_locale(locale or DEFAULT_LOCALE):
        subject = gettext("Today's contacts: %(n)d customers", n=len(opportunities))
        lines = [gettext("Customers to contact today:")]
        for item in opportunities:
            url = customer_link(item.id)
            lines.append(f"- {item.company}  {when(item.next_contact_at)}" + (f"  {url}" if url else ""))
    return Text(subject, "\n".join(lines))


def quota_text(company, day, groups, rules):
    """The morning summary of a company's departments: yesterday's valid contacts and new key customers."""
    with force_locale(DEFAULT_LOCALE):
        subject = gettext("Yesterday's quotas: %(company)s, %(day)s", company=company, day=day.isoformat())
        lines = [gettext("Per person and day: %(contacts)d valid contacts, %(keys)d new key customers.",
                         contacts=rules.quota_valid_contacts, keys=rules.quota_key_customers)]
        for group in groups:
            lines.append("- " + gettext("%(department)s: %(contacts)d valid contacts, %(keys)d new key customers, "
                                        "%(behind)d of %(people)d people behind", department=group.name,
                                        contacts=group.valid_contacts, keys=group.new_key_customers,
                                        behind=group.behind, people=group.people))
    return Text(subject[:200], "\n".join(lines))
