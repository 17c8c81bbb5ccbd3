"""The notice pages: each person's kinds of mail (/my-notices/), and an admin's robots, webhooks and
delivery log (/notices/). The rules are services/notices/'s; these read the form, call them, render."""
from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from models import WEBHOOK_EVENTS, WEBHOOK_KINDS, db
from services.errors import RuleViolation
from services.notices import hooks, log, preferences

from .base import AdminRequiredMixin, CRMView, format_time
from .ids import parse_id


class MyNoticesView(CRMView):
    """Which kinds of email one receives: each may be switched off."""

    def is_visible(self):
        return False  # reached from the user menu, beside 修改密码

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "POST":
            preferences.set_wanted(db.session, current_user, request.form.getlist("mail"))
            db.session.commit()
            flash(_("Your notice settings were saved."), "success")
            return redirect(self.get_url(".index"))
        return self.render("notices/mine.html", kinds=preferences.MAIL_KINDS,
                           off=preferences.switched_off(current_user))


class NoticesView(AdminRequiredMixin, CRMView):
    """A company's robots and webhooks (set by its agent admin; the head office's by a subsystem admin) and
    the log of what was delivered."""

    @expose("/", methods=("GET",))
    def index(self):
        return self._page()

    @expose("/add", methods=("POST",))
    def add(self):
        form = request.form
        try:
            hook = hooks.create(db.session, current_user, form.get("url", ""), form.get("kind", ""),
                                form.getlist("events"), form.get("secret") or None, form.get("department") or None)
        except RuleViolation as refused:
            db.session.rollback()
            return self._page(error=refused.message, entered=form), 422
        db.session.commit()
        if hook.kind == "generic":  # shown once: the receiver needs it to check the signatures
            flash(_("The webhook was added. Its secret, for checking the signatures: %(secret)s", secret=hook.secret),
                  "success")
        else:
            flash(_("The robot was added."), "success")
        return redirect(self.get_url(".index"))

    @expose("/delete", methods=("POST",))
    def delete(self):
        try:
            hooks.delete(db.session, current_user, parse_id(request.form.get("id", "")) or 0)
        except RuleViolation:
            db.session.rollback()
            flash(_("This webhook does not exist, or you may not see it."), "error")
            return redirect(self.get_url(".index"))
        db.session.commit()
        flash(_("Deleted; what it was sent stays in the log below."), "success")
        return redirect(self.get_url(".index"))

    def _page(self, error=None, entered=None):
        page = parse_id(request.args.get("page", "1")) or 1  # as a row id: digits in INTEGER's range
        rows, total = log.recent(db.session, current_user, page)
        return self.render("notices/index.html", hooks=hooks.hooks(db.session, current_user), rows=rows,
                           total=total, page=page, kinds=WEBHOOK_KINDS, events=WEBHOOK_EVENTS,
                           kind_labels=hooks.KIND_LABELS, event_labels=hooks.EVENT_LABELS, error=error,
                           entered=entered or {}, format_time=format_time,
                           head_office=current_user.role == "subsystem_admin")
