"""The dashboard at `/` by role (manual §九), the navigation bar's reminders, and marking notices read.

- salespeople: today against the quotas, the library against the cap, what is due for contact
  today, their open web leads with the time left, their notices;
- supervisors and managers: their own day as above, then each person of their managed
  departments (who is behind today) and the last 30 days as a chart;
- admins: the same per department and per agent company, the agent-admin pool, overdue leads.

Figures come from services/library/stats.py; the chart data goes into the page as JSON and
static/js/dashboard.js draws it with the vendored Chart.js (no inline script, no CDN).
"""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from models import Notice, Opportunity, User, db
from services import clock
from services.checking import check_limit
from services.library import rules, stats
from services.people.access import LIBRARY_ROLES, MANAGING_ROLES, ROLE_LABELS, is_admin, opportunity_clause

from .base import CRMIndexView, format_time, parse_id
from .exports import may_export, send_table

NOTICE_LABELS = {
    "lead": _l("A web lead arrived on your customer"),
    "lead_overdue": _l("A web lead is overdue"),
    "return_warning": _l("This customer will soon return to the public pool"),
    "returned": _l("This customer returned to the public pool"),
    "check_limit": _l("A user passed the daily limit of duplicate checks"),  # services/checking/check_limit.py
    "merged": _l("A customer of yours was merged into this one"),  # services/duplicates/merges.py
}


def _notice_subject(notice):
    """The login a check_limit notice is about (services/checking/check_limit.py keeps its id in the key)."""
    user_id = check_limit.subject_of(notice)
    user = db.session.get(User, user_id) if user_id else None
    return user.login if user else None


def time_left(due_at, now):
    """"3小时20分" before the deadline, "超时2小时5分" after it: what a lead's row says."""
    seconds = int((due_at - now).total_seconds())
    hours, minutes = divmod(abs(seconds) // 60, 60)
    if seconds < 0:
        return _("Overdue by %(h)d h %(m)d min", h=hours, m=minutes)
    return _("%(h)d h %(m)d min left", h=hours, m=minutes)


def _chart(series, names):
    """The chart's data as plain JSON: day labels and one line per (label, counts)."""
    return {"labels": [d.strftime("%m-%d") for d in series.days],
            "datasets": [{"label": str(label), "data": data} for label, data in names]}


DAILY_HEADERS = (_l("Date"), _l("Login"), _l("Department"), _l("Valid contacts"), _l("New key customers"),
                 _l("Library size"), _l("Library cap"), _l("Overdue leads"), _l("Behind today"))

CHART_GROUPS = 8  # more lines than this no longer read as a chart


def _group_chart(session, series, rows, by):
    """Valid contacts per day per agent company (subsystem admin) or per department (agent admin)."""
    key = (lambda r: r.company_id) if by == "company" else (lambda r: r.department_id)
    members = {}
    for row in rows:
        members.setdefault(key(row), []).append(row.user_id)
    names = stats.department_names(session, members)
    lines = [(names.get(group, "—"), series.summed("valid_contacts", ids)) for group, ids in members.items()]
    lines.sort(key=lambda line: (-sum(line[1]), line[0]))
    return _chart(series, lines[:CHART_GROUPS])


class DashboardView(CRMIndexView):
    @expose("/")
    def index(self):
        session, now = db.session, clock.now()
        day = stats.today(now)
        context = {"user": current_user, "role_label": ROLE_LABELS[current_user.role],
                   "is_admin": is_admin(current_user), "keeps_library": current_user.role in LIBRARY_ROLES,
                   "quota": rules.current(session), "now": now, "format_time": format_time,
                   "time_left": lambda due: time_left(due, now), "day": day}
        rows = stats.daily(session, current_user, day, now)  # one grouped pass for the user and their people
        if context["keeps_library"]:
            context.update(self._own_day(session, rows, now))
        if current_user.role in MANAGING_ROLES or context["is_admin"]:
            context.update(self._team(session, rows, day, now))
        context["notices"] = session.scalars(
            select(Notice).where(Notice.user_id == current_user.id)
            .order_by(Notice.read_at.is_not(None), Notice.created_at.desc(), Notice.id.desc()).limit(20)).all()
        context["notice_label"] = lambda kind: NOTICE_LABELS.get(kind, kind)
        context["notice_subject"] = _notice_subject
        context["may_export"] = may_export(current_user)
        return self.render("dashboard.html", **context)

    def _own_day(self, session, rows, now):
        """The salesperson's part (also a supervisor's and a manager's own library)."""
        return {
            "mine": next((row for row in rows if row.user_id == current_user.id), None),
            "due": stats.due_today(session, current_user, now),
            "due_count": stats.due_today_count(session, current_user, now),
            "leads": stats.open_leads(session, Opportunity.owner_id == current_user.id),
        }

    def _team(self, session, rows, day, now):
        """Each visible person today, the last 30 days, and for admins the groups, pool and overdue leads."""
        series = stats.series(session, current_user, today_=day)
        context = {
            "rows": rows,
            "chart": _chart(series, [(_l("Valid contacts"), series.total("valid_contacts")),
                                     (_l("New key customers"), series.total("new_key_customers"))]),
        }
        if is_admin(current_user):
            scope = opportunity_clause(current_user)
            count, overdue = stats.overdue_leads(session, scope, now)
            companies = stats.group_rows(session, rows, "company")
            by = "company" if current_user.role == "subsystem_admin" else "department"
            context["group_chart"] = _group_chart(session, series, rows, by)
            context.update(
                departments=stats.group_rows(session, rows, "department"), companies=companies,
                pool_size=session.scalar(select(func.count()).select_from(Opportunity).where(
                    Opportunity.location == "agent_admin_pool", scope)),
                overdue_count=count, overdue=overdue,
            )
        return context

    @expose("/stats/export/<fmt>/")
    def export_daily(self, fmt):
        """Each visible person's day (?date=YYYY-MM-DD, today by default) as .xlsx or CSV, for admins and managers."""
        if not may_export(current_user):
            abort(403)
        raw = request.args.get("date", "")
        day = stats.parse_day(raw) if raw else stats.today()
        if day is None:
            flash(str(stats.bad_day()), "error")
            return redirect(url_for(".index"))
        rows = stats.daily(db.session, current_user, day)
        table = ([day, r.login, r.department, r.valid_contacts, r.new_key_customers, r.library_size, r.library_cap,
                  r.overdue_leads, _("Behind") if r.behind else _("On track")] for r in rows)
        return send_table(DAILY_HEADERS, table, _("Daily statistics"), fmt)

    @expose("/notices/read/", methods=["POST"])
    def read_notice(self):
        """Mark one of the user's own notices read (another user's id changes nothing)."""
        notice_id = parse_id(request.form.get("id", ""))
        notice = None
        if notice_id is not None:
            notice = db.session.scalar(select(Notice).where(Notice.id == notice_id,
                                                            Notice.user_id == current_user.id))
        if notice is None:
            flash(_("This notice does not exist."), "error")
        elif notice.read_at is None:
            notice.read_at = clock.now()
            db.session.commit()
        return redirect(url_for(".index"))


def reminders():
    """The navigation bar's counts for the signed-in user, computed only when the bar asks for them."""
    if not current_user.is_authenticated or current_user.must_change_password:
        return None
    due = stats.due_today_count(db.session, current_user) if current_user.role in LIBRARY_ROLES else None
    unread = db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == current_user.id, Notice.read_at.is_(None)))
    return {"due_today": due, "unread_notices": unread}


def register(app):
    @app.context_processor
    def _reminders():
        return {"crm_reminders": reminders}
