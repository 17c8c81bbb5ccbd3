"""The duplicates page (重复客户, admins): the scan, the groups it found, the merge page and the merges.

Each route reads the form, calls `services/duplicates/scan.py` or `services/duplicates/merges.py` (the API's
services too), commits and redirects; the scan runs on the worker, and the page follows its
progress (static/js/duplicates.js polls `progress.json` and reloads when the status changes).
"""
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from models import db
from services import jobs
from services.checking import places, reasons
from services.duplicates import merges
from services.duplicates import scan as duplicates
from services.errors import RuleViolation
from services.library.opportunities import FIELD_LABELS, LOCATION_LABELS
from services.people import access

from .base import AdminRequiredMixin, format_time, parse_id, parse_ids
from .dedup import VERDICT_LABELS
from .security import safe_next

PER_PAGE = 20
VERDICTS = ("duplicate", "review")
STATUS_LABELS = {"queued": _l("Waiting for the background worker"), "running": _l("Searching"),
                 "done": _l("Finished"), "failed": _l("Failed")}
MERGE_LABELS = {**FIELD_LABELS, "key_customer": _l("Key customer"), "maturity": _l("Maturity"),
                "owner": _l("Owner and location")}


def place(o):
    return places.text(o) or "—"


def where(o):
    """Where the customer lives: 库 · its owner, or the pool."""
    label = str(LOCATION_LABELS.get(o.location, o.location))
    return f"{label} · {o.owner.login}" if o.owner else label


def shown(o, name):
    """A merge field's value as the page shows it."""
    if name == "owner":
        return where(o)
    if name == "source":
        return o.source.name if o.source else "—"
    if name == "key_customer":
        return _("Yes") if o.key_customer else _("No")
    value = merges.field_value(o, name)
    return "—" if value is None or value == "" else str(value)


def pool_place(o):
    """The place as the public pool's list shows it: province and city."""
    return " ".join(dict.fromkeys(p for p in (o.province, o.city) if p)) or "—"


def card_rows(records, notes, masked=frozenset()):
    """The rows of a group's card: (label, [value per record], whether they differ). A record in `masked` (the
    public pool's, for an agent admin) shows only what the pool's list shows: its contact details belong to
    whoever claims it."""
    hidden = str(_("Not shown for the public pool"))

    def shown(o, value):
        return hidden if o.id in masked else value()

    rows = [
        (_("Company name"), [o.company for o in records]),
        (_("Place"), [pool_place(o) if o.id in masked else place(o) for o in records]),
        (_("Contact person"), [shown(o, lambda o=o: o.contact or "—") for o in records]),
        (_("Phones"), [shown(o, lambda o=o: " / ".join(p for p in (o.phone, o.mobile, o.fax) if p) or "—")
                       for o in records]),
        (_("WeChat"), [shown(o, lambda o=o: o.wechat or "—") for o in records]),
        (_("Owner and location"), [where(o) for o in records]),
        (_("Maturity"), [shown(o, lambda o=o: "—" if o.maturity is None else str(o.maturity)) for o in records]),
        (_("Last contact"), [shown(o, lambda o=o: format_time(o.last_contact_at)) for o in records]),
        (_("Contact notes"), [shown(o, lambda o=o: str(notes.get(o.id, 0))) for o in records]),
    ]
    return [(label, values, len(set(values)) > 1) for label, values in rows]


def masked_of(records):
    """The ids of the records the viewer sees as the public pool's list shows them (an agent admin's view)."""
    if access.may_merge_public_pool(current_user):
        return frozenset()
    return frozenset(o.id for o in records if duplicates.in_public_pool(o))


def merge_rows(records):
    """The merge page's fields: (name, label, [(record, shown value, empty)], whether they differ)."""
    out = []
    for name in merges.FIELDS:
        cells = [(o, shown(o, name), merges.is_empty(o, name)) for o in records]
        differ = len({repr(merges.field_value(o, name)) for o in records}) > 1
        out.append((name, MERGE_LABELS[name], cells, differ))
    return out


class DuplicatesView(AdminRequiredMixin, BaseView):
    """Agent admins within their company, subsystem admins everywhere; others 403."""

    def _refused(self, violation):
        db.session.rollback()
        if violation.code == "not_found":
            abort(404)
        flash(str(violation.message), "error")

    @expose("/")
    def index(self):
        verdict = request.args.get("verdict") if request.args.get("verdict") in VERDICTS else "duplicate"
        page = parse_id(request.args.get("page", "1")) or 1
        items, total, scan = duplicates.groups(db.session, current_user, verdict, page, PER_PAGE)
        counts = {verdict: total}
        for other in VERDICTS:
            if other != verdict:
                counts[other] = duplicates.groups(db.session, current_user, other, 1, 0)[1]
        newest = duplicates.last_scan(db.session, current_user)
        progress = duplicates.scan_progress(db.session, newest) if newest is not None else (0, None)
        notes = duplicates.note_counts(db.session, [o.id for _item, records in items for o in records])
        cards = [(item, records, card_rows(records, notes, masked_of(records)), reasons.said(duplicates.reasons(item)),
                  duplicates.merge_refused(current_user, records)) for item, records in items]
        db.session.commit()  # a dead worker's scan, marked failed on the way
        return self.render("duplicates/index.html", cards=cards, total=total, page=page, per_page=PER_PAGE,
                           verdict=verdict, counts=counts, scan=scan, newest=newest, progress=progress,
                           labels=STATUS_LABELS, verdicts=VERDICT_LABELS, format_time=format_time,
                           with_pool=not access.may_merge_public_pool(current_user))

    @expose("/scan", methods=("POST",))
    def scan(self):
        try:
            duplicates.start_scan(db.session, current_user)
            jobs.commit(db.session)  # the queue down: the message on the page, no scan left waiting
        except RuleViolation as violation:
            self._refused(violation)
        return redirect(self.get_url(".index"))

    @expose("/progress.json")
    def progress(self):
        newest = duplicates.last_scan(db.session, current_user)
        if newest is None:
            return jsonify({"status": "none", "done": 0, "total": None})
        done, total = duplicates.scan_progress(db.session, newest)
        status = newest.status
        db.session.commit()
        return jsonify({"status": status, "label": str(STATUS_LABELS.get(status, status)), "done": done,
                        "total": total})

    @expose("/group/<group_id>/dismiss", methods=("POST",))
    def dismiss(self, group_id):
        try:
            duplicates.dismiss(db.session, current_user, parse_id(group_id) or 0)
            db.session.commit()
            flash(_("The group was marked as not duplicates: the next scans will not show these records together."),
                  "success")
        except RuleViolation as violation:
            self._refused(violation)
        return redirect(safe_next(request.form.get("next")) or self.get_url(".index"))

    def _group(self, group_id):
        try:
            return duplicates.group_of(db.session, current_user, parse_id(group_id) or 0)
        except RuleViolation:
            abort(404)

    @expose("/group/<group_id>/", methods=("GET", "POST"))
    def group(self, group_id):
        """The merge page: the records side by side, the one to keep, and field by field whose value."""
        item, records = self._group(group_id)
        if duplicates.merge_refused(current_user, records):  # the page would show the pool's contact details too
            flash(str(merges.POOL_REFUSED), "error")
            return redirect(self.get_url(".index", verdict=item.verdict))
        posted = request.form if request.method == "POST" else None
        if posted is not None:
            done = self._merge(records, posted)
            if done is not None:
                return done
        ids = {o.id for o in records}
        keep = parse_id(posted.get("keep", "")) if posted else None
        keep = keep if keep in ids else records[0].id
        kept = next(o for o in records if o.id == keep)
        others = [o for o in records if o.id != keep]
        chosen = merges.default_sources(kept, others)
        included = ids - {keep}
        if posted is not None:
            included = set(parse_ids(posted.getlist("merge"))) & ids
            chosen.update({name: source for name in merges.FIELDS
                           if (source := parse_id(posted.get(f"value-{name}", ""))) in ids})
        notes = duplicates.note_counts(db.session, list(ids))
        return self.render("duplicates/merge.html", item=item, records=records, rows=merge_rows(records),
                           keep=keep, chosen=chosen, included=included, notes=notes, format_time=format_time,
                           verdicts=VERDICT_LABELS, reasons=reasons.said(duplicates.reasons(item)))

    def _merge(self, records, form):
        """Merge as posted; the redirect to the kept record, or None (refused: the page again, as chosen)."""
        ids = {o.id for o in records}
        keep = parse_id(form.get("keep", ""))
        merged = [i for i in parse_ids(form.getlist("merge")) if i in ids and i != keep]
        sources = {keep, *merged}
        values = {name: source for name in merges.FIELDS
                  if (source := parse_id(form.get(f"value-{name}", ""))) in sources}  # an unticked record's: ignored
        try:
            item = merges.merge(db.session, current_user, keep if keep in ids else 0, merged, values)
            kept = item.kept
            companies = [company for _i, company in merges.merged_companies(item)]
            db.session.commit()
        except RuleViolation as violation:
            db.session.rollback()
            if violation.code == "not_found":
                abort(404)
            flash(str(violation.message), "error")
            return None
        flash(self._undo_message(item.id, kept.company, companies), "success")
        return redirect(url_for("opportunities.details_view", id=kept.id))

    def _undo_message(self, merge_id, kept, companies):
        """"Merged …" with the 撤销 button right there (a POST form with the CSRF token)."""
        text = _("%(merged)s merged into %(kept)s.", merged="、".join(companies), kept=kept)
        return Markup('{} <form method="post" action="{}" class="d-inline crm-undo-form" id="merge-undo-now">'
                      '<input type="hidden" name="csrf_token" value="{}">'
                      '<button type="submit" class="btn btn-sm btn-outline-secondary ml-2">{}</button></form>').format(
            text, self.get_url(".undo", merge_id=merge_id), generate_csrf(), _("Undo"))

    @expose("/merges/")
    def merges(self):
        """The latest merges, or with `?merge=ID` that one alone (the link of a record's history line)."""
        one = parse_id(request.args.get("merge", ""))
        if one is not None:
            try:
                items = [merges.find(db.session, current_user, one)]
            except RuleViolation:
                abort(404)
        else:
            items = merges.merges_of(db.session, current_user)
        rows = [(item, merges.merged_companies(item), merges.undoable(item)) for item in items]
        return self.render("duplicates/merges.html", rows=rows, format_time=format_time, undo_days=merges.UNDO_DAYS,
                           one=one)

    @expose("/merges/<merge_id>/undo", methods=("POST",))
    def undo(self, merge_id):
        try:
            item = merges.undo(db.session, current_user, parse_id(merge_id) or 0)
            companies = [company for _i, company in merges.merged_companies(item)]
            kept = item.kept.company
            db.session.commit()
            flash(_("The merge was undone: %(companies)s are separate customers again.",
                    companies="、".join([kept, *companies])), "success")
        except RuleViolation as violation:
            self._refused(violation)
        return redirect(self.get_url(".merges"))
