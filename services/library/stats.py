"""Daily statistics (manual §九): each person's day against the quotas, and the last 30 days for the charts.

"A day" is a calendar day in CRM_TIMEZONE (Asia/Shanghai by default): `day_bounds` turns it
into a UTC interval, and every count below is one grouped query over an indexed column
(notes by author and time, opportunities by owner), never one query per user or per day.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from models import ContactNote, Department, Opportunity, User, WebLead

from .. import clock, people
from . import capacity as library
from . import rules

SERIES_DAYS = 30


def zone():
    """CRM_TIMEZONE as a ZoneInfo (the app's setting; Asia/Shanghai outside an app)."""
    try:
        name = current_app.config["CRM_TIMEZONE"]
    except RuntimeError:  # no application context: a script or a unit test
        name = "Asia/Shanghai"
    return ZoneInfo(name)


def today(now=None, tz=None):
    """The calendar day it is now in CRM_TIMEZONE."""
    return (now or clock.now()).astimezone(tz or zone()).date()


def day_bounds(day, tz=None):
    """The UTC start (inclusive) and end (exclusive) of a local calendar day."""
    tz = tz or zone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def visible_user_clause(actor):
    """SQL condition on User: whose figures the actor sees.

    A salesperson only themself; supervisors and managers themselves and the people of
    their managed departments (with sub-departments); admins the users they administer.
    """
    if actor.role in people.MANAGING_ROLES:
        managed = [Department.path.startswith(d.path) for d in actor.managed_departments]
        if not managed:
            return User.id == actor.id
        return or_(User.id == actor.id, User.department_id.in_(select(Department.id).where(or_(*managed))))
    if actor.role in people.LIBRARY_ROLES:
        return User.id == actor.id
    return people.user_clause(actor)


def _people(actor):
    """The visible users who keep a library (the only ones with quotas), as a subquery of ids."""
    return select(User.id).where(visible_user_clause(actor), User.role.in_(people.LIBRARY_ROLES), User.active.is_(True),
                                 User.deleted_at.is_(None))


@dataclass
class DailyRow:
    """One person's day (the API's `users` item, plus what the dashboard shows)."""

    user_id: int
    login: str
    role: str
    department: str
    department_id: int
    company_id: int | None
    library_size: int = 0
    library_cap: int = 0
    new_key_customers: int = 0
    valid_contacts: int = 0
    overdue_leads: int = 0
    behind_key_customers: bool = False
    behind_valid_contacts: bool = False

    @property
    def behind(self):
        return self.behind_key_customers or self.behind_valid_contacts

    def api_json(self):
        return {"login": self.login, "library_size": self.library_size, "library_cap": self.library_cap,
                "new_key_customers": self.new_key_customers, "valid_contacts": self.valid_contacts,
                "overdue_leads": self.overdue_leads}


def _grouped(session, column, *where):
    """{user id: count} of rows grouped by `column` (a user id column)."""
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {user_id: count for user_id, count in rows}


# A new key customer (rule 2 of §九) is one a person entered, live: an imported one was entered by nobody.
NEW_KEY_CUSTOMER = (Opportunity.key_customer.is_(True), Opportunity.deleted_at.is_(None),
                    Opportunity.imported.is_(False))


def daily(session, actor, day, now=None, tz=None):
    """Per visible person: library, new key customers and valid contacts that day, overdue leads now."""
    now = now or clock.now()
    start, end = day_bounds(day, tz)
    people = _people(actor)
    users = session.execute(
        select(User.id, User.login, User.role, Department.name, Department.id, Department.path)
        .join(Department, User.department_id == Department.id)
        .where(User.id.in_(people)).order_by(Department.path, User.login)
    ).all()
    sizes = library.sizes(session, people)
    keys = _grouped(session, Opportunity.created_by_id, Opportunity.created_by_id.in_(people), *NEW_KEY_CUSTOMER,
                    Opportunity.created_at >= start, Opportunity.created_at < end)
    contacts = _grouped(session, ContactNote.author_id, ContactNote.author_id.in_(people),
                        ContactNote.valid.is_(True), ContactNote.created_at >= start, ContactNote.created_at < end)
    overdue = _grouped(session, Opportunity.owner_id, Opportunity.owner_id.in_(people), Opportunity.deleted_at.is_(None),
                       WebLead.opportunity_id == Opportunity.id, WebLead.met_at.is_(None), WebLead.due_at < now)
    quota = rules.current(session)
    rows = []
    for user_id, login, role, dept_name, dept_id, dept_path in users:
        row = DailyRow(user_id, login, role, dept_name, dept_id, Department.company_id_of(dept_path),
                       library_size=sizes.get(user_id, 0), library_cap=library.cap(session, _Role(role)),
                       new_key_customers=keys.get(user_id, 0), valid_contacts=contacts.get(user_id, 0),
                       overdue_leads=overdue.get(user_id, 0))
        row.behind_key_customers = row.new_key_customers < quota.quota_key_customers
        row.behind_valid_contacts = row.valid_contacts < quota.quota_valid_contacts
        rows.append(row)
    return rows


@dataclass
class _Role:
    """Just enough of a user for library.cap (the cap depends on the role only)."""

    role: str


@dataclass
class Group:
    """The figures of a department or an agent company: the sum of its people's."""

    name: str
    people: int = 0
    library_size: int = 0
    new_key_customers: int = 0
    valid_contacts: int = 0
    overdue_leads: int = 0
    behind: int = 0  # how many of its people are behind today


def group_rows(session, rows, by):
    """Sum daily rows per department (`by="department"`) or per agent company (`by="company"`)."""
    key = (lambda r: r.department_id) if by == "department" else (lambda r: r.company_id)
    names = department_names(session, {key(r) for r in rows})
    groups = {}
    for row in rows:
        group = groups.setdefault(key(row), Group(names.get(key(row), "—")))
        group.people += 1
        group.library_size += row.library_size
        group.new_key_customers += row.new_key_customers
        group.valid_contacts += row.valid_contacts
        group.overdue_leads += row.overdue_leads
        group.behind += int(row.behind)
    return sorted(groups.values(), key=lambda g: g.name)


def department_names(session, ids):
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Department.id, Department.name).where(Department.id.in_(ids))).all())


@dataclass
class Series:
    """Counts per day for the charts: `days` oldest first; per user id and in total."""

    days: list
    valid_contacts: dict = field(default_factory=dict)  # user id -> [count per day]
    new_key_customers: dict = field(default_factory=dict)

    def total(self, name):
        per_user = getattr(self, name).values()
        return [sum(counts) for counts in zip(*per_user)] if per_user else [0] * len(self.days)

    def summed(self, name, user_ids):
        per_user = [getattr(self, name)[u] for u in user_ids if u in getattr(self, name)]
        return [sum(counts) for counts in zip(*per_user)] if per_user else [0] * len(self.days)


def _day_index(column, bounds):
    """A SQL expression giving the index of the local day a timestamp falls on (the bounds carry DST)."""
    return case(*[(column < end, i) for i, (_start, end) in enumerate(bounds)], else_=len(bounds))


def series(session, actor, days=SERIES_DAYS, today_=None, tz=None):
    """Valid contacts and new key customers per visible person per day, for the last `days` days."""
    last = today_ or today(tz=tz)
    day_list = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    bounds = [day_bounds(d, tz) for d in day_list]
    start, end = bounds[0][0], bounds[-1][1]
    people = _people(actor)
    result = Series(days=day_list)
    for name, who, when, where in (
        ("valid_contacts", ContactNote.author_id, ContactNote.created_at, [ContactNote.valid.is_(True)]),
        ("new_key_customers", Opportunity.created_by_id, Opportunity.created_at, NEW_KEY_CUSTOMER),
    ):
        index = _day_index(when, bounds).label("day")
        rows = session.execute(select(who, index, func.count()).where(
            who.in_(people), when >= start, when < end, *where).group_by(who, index))
        target = getattr(result, name)
        for user_id, day_number, count in rows:
            target.setdefault(user_id, [0] * days)[day_number] = count
    return result


# --- what one person has to do (the salesperson's dashboard) ----------------------------------


def due_clause(user, now=None, tz=None):
    """What "due for contact today" means on every page (the bar's count, the home page's card, 我的机会's
    今日应联系 tab and its badge): a live customer of the user's own library whose next contact falls before
    the end of today in CRM_TIMEZONE, overdue ones included. One clause, so that they always agree."""
    end = day_bounds(today(now, tz), tz)[1]
    return and_(Opportunity.owner_id == user.id, Opportunity.next_contact_at < end, Opportunity.deleted_at.is_(None))


def due_today(session, user, now=None, tz=None, limit=50):
    """Opportunities of the user's library whose next contact is before the end of today, soonest first."""
    return session.scalars(select(Opportunity).where(due_clause(user, now, tz))
                           .order_by(Opportunity.next_contact_at, Opportunity.id).limit(limit)).all()


def due_today_count(session, user, now=None, tz=None):
    """The navigation bar's count: one indexed count on (owner_id, next_contact_at)."""
    return session.scalar(select(func.count()).select_from(Opportunity).where(due_clause(user, now, tz)))


def open_leads(session, opportunity_where, limit=50):
    """Web leads not yet followed up (no valid contact since they arrived), on the opportunities matched."""
    return session.execute(
        select(WebLead, Opportunity).join(Opportunity, WebLead.opportunity_id == Opportunity.id)
        .where(WebLead.met_at.is_(None), opportunity_where, Opportunity.deleted_at.is_(None))
        .order_by(WebLead.due_at, WebLead.id).limit(limit)
    ).all()


def overdue_leads(session, opportunity_where, now=None, limit=50):
    """Open web leads past their deadline, on the opportunities matched, and how many there are."""
    now = now or clock.now()
    where = [WebLead.met_at.is_(None), WebLead.due_at < now, opportunity_where, Opportunity.deleted_at.is_(None)]
    count = session.scalar(select(func.count()).select_from(WebLead)
                           .join(Opportunity, WebLead.opportunity_id == Opportunity.id).where(*where))
    rows = session.execute(
        select(WebLead, Opportunity).join(Opportunity, WebLead.opportunity_id == Opportunity.id)
        .where(*where).order_by(WebLead.due_at, WebLead.id).limit(limit)
        .options(selectinload(Opportunity.owner))  # the list names each owner: one query, not one per row
    ).all()
    return count, rows


def bad_day():
    """What is wrong with a date `parse_day` could not read."""
    return _l("The date must be a day from %(first)s to %(last)s, written YYYY-MM-DD, for example 2026-11-27.",
              first=clock.FIRST_DAY.isoformat(), last=clock.LAST_DAY.isoformat())


def parse_day(text):
    """`YYYY-MM-DD` exactly, a day from clock.FIRST_DAY to clock.LAST_DAY, as a date; None for anything else."""
    text = (text or "").strip()
    if len(text) != 10 or not text.isascii() or text[4] != "-" or text[7] != "-":
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if clock.in_range(day) else None

