"""The imports pages (导入, admins): the list, a new upload, an import's preview, run and report.

Each route reads the form, calls `services/imports/uploads.py` (the API's service too), commits and
redirects; the check and the run happen on the worker, and the page follows their progress
(static/js/imports.js polls `progress.json` and reloads when the status changes).
"""
import io

from flask import abort, current_app, flash, jsonify, redirect, request, send_file
from flask_admin import BaseView, expose
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from models import DataImport, Department, User, db
from services import imports, jobs
from services.checking import reasons
from services.errors import RuleViolation
from services.exports import to_xlsx
from services.imports import retention
from services.imports import uploads as import_jobs
from services.library.opportunities import FIELD_LABELS, LOCATION_LABELS
from services.people import access

from .api.openapi import XLSX
from .base import AdminRequiredMixin, parse_id
from .security import safe_next

PER_PAGE = 50
FIELD_CHOICES = {**FIELD_LABELS, "place": _l("Place (province, city, district in one column)"),
                 "key_customer": _l("Key customer"), "next_contact_at": _l("Next contact time"),
                 "note": _l("Remark"), "owner": _l("Salesperson in charge")}
# the template's columns: every field but the one-column place, which the four levels say better
TEMPLATE_FIELDS = tuple(name for name in imports.FIELDS if name != "place")
TEMPLATE_EXAMPLE = {"company": "上海市瑞丽服装有限公司", "province": "上海", "city": "上海", "district": "长宁区", "town": "新华路街道",
                    "address": "长宁区延安西路100号", "contact": "王经理", "phone": "021-62345678",
                    "mobile": "13902201234", "wechat": "wang_ruili88", "qq": "12345678",
                    "fax": "021-62345679", "email": "wang@example.com",
                    "industry": "服装", "source": "", "key_customer": "否"}


UPLOAD_ENDPOINTS = ("imports.new", "api.create_import")


def allow_uploads():
    """A customer list may be larger than any other request (MAX_CONTENT_LENGTH): raised for the two
    upload routes only, before anything reads the body (CSRFProtect reads the form first of all)."""
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = import_jobs.max_bytes() + 1024 * 1024  # the file and the form around it


def why(row_values, header_line=None):
    """What a preview row matched and where that record lives (an earlier row of the file by its
    line in the spreadsheet), or which field is wrong, in words."""
    errors = import_jobs.loads(row_values.errors, {})
    if errors:
        return "；".join(f"{FIELD_CHOICES.get(name, name)}：{message}" for name, message in errors.items())
    parts = []
    for match in import_jobs.loads(row_values.matches, [])[:3]:
        if match["location"] == "file":
            where = _("row %(row)d of this file", row=match["row"] + (header_line or 0))
        else:
            where = str(LOCATION_LABELS.get(match["location"], match["location"]))
            if match.get("owner"):
                where += f" {match['owner']}"
        said = "、".join(reasons.said(match.get("reasons")))
        parts.append(f"{match['company']}（{where}）" + (f"：{said}" if said else ""))
    return "；".join(parts)


class ImportView(AdminRequiredMixin, BaseView):
    """Agent admins import into their own company, subsystem admins anywhere; others 403."""

    def _item(self, import_id):
        item = import_jobs.find(db.session, current_user, parse_id(import_id))
        if item is None:
            abort(404)
        return item

    @expose("/")
    def index(self):
        page = parse_id(request.args.get("page", "1")) or 1
        query = select(DataImport).where(import_jobs.visible_clause(current_user))
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        items = db.session.scalars(query.options(*import_jobs.LIST_ONLY).order_by(DataImport.id.desc())
                                   .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
        running = [item for item in items if item.status in ("checking", "importing")]
        progress = {item.id: import_jobs.progress_of(db.session, item) for item in running}
        waiting = {item.id: import_jobs.waiting_of(db.session, item) for item in running}
        db.session.commit()  # a dead worker's job, marked failed on the way
        return self.render("imports/list.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           progress=progress, waiting=waiting, queued_words=import_jobs.queued_words,
                           labels=import_jobs.STATUS_LABELS,
                           targets=import_jobs.TARGET_LABELS,
                           format_time=format_datetime, counts=import_jobs.loads)

    @expose("/new/", methods=("GET", "POST"))
    def new(self):
        errors, chosen, status = {}, request.form, 200
        if request.method == "POST":
            upload = request.files.get("file")
            try:
                department_id = parse_id(chosen.get("department") or "")
                where = import_jobs.placement(db.session, current_user, chosen.get("target"), owner=chosen.get("owner"),
                                              department=db.session.get(Department, department_id)
                                              if department_id else None)
                if upload is None or not upload.filename:
                    raise RuleViolation(_l("Choose a file to upload."), field="file")
                item = import_jobs.new_import(db.session, current_user, upload.filename,
                                              upload.read(import_jobs.max_bytes() + 1), where)
                import_id = item.id  # read before the commit: a fast worker may cancel and purge the import at once
                jobs.commit(db.session)
                return redirect(self.get_url(".details", import_id=import_id))
            except RuleViolation as refused:
                db.session.rollback()
                errors[refused.field or "file"] = str(refused.message)
                status = 503 if refused.code == "unavailable" else 200  # the queue is down: nothing kept
        page = self.render("imports/new.html", errors=errors, chosen=chosen, targets=import_jobs.TARGET_LABELS,
                           people=self._people(), departments=access.scoped_departments(db.session, current_user),
                           max_mb=import_jobs.max_bytes() // (1024 * 1024))
        return page, status

    def too_large(self):
        """The upload form again, 413, naming the limit: the request was larger than allow_uploads lets in,
        so nothing of it was read (not even the form's other fields). None for someone who may not import:
        the app's own 413 page then."""
        if not self.is_accessible():
            return None
        errors = {"file": str(import_jobs.too_large())}
        return self.render("imports/new.html", errors=errors, chosen={}, targets=import_jobs.TARGET_LABELS,
                           people=self._people(), departments=access.scoped_departments(db.session, current_user),
                           max_mb=import_jobs.max_bytes() // (1024 * 1024)), 413

    def _people(self):
        return db.session.scalars(select(User).where(
            access.user_clause(current_user), User.role.in_(access.LIBRARY_ROLES), User.active.is_(True),
            User.deleted_at.is_(None)).order_by(User.login)).all()

    @expose("/template.xlsx")
    def template(self):
        headers = [str(FIELD_CHOICES[name]) for name in TEMPLATE_FIELDS]  # each one a header the preview maps
        data = to_xlsx(headers, [[TEMPLATE_EXAMPLE.get(name, "") for name in TEMPLATE_FIELDS]], _("Customers"))
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="客户导入模板.xlsx")

    @expose("/<import_id>/")
    def details(self, import_id):
        item = self._item(import_id)
        verdict = request.args.get("verdict") if request.args.get("verdict") in import_jobs.VERDICTS else None
        page = parse_id(request.args.get("page", "1")) or 1
        rows, total = import_jobs.rows(db.session, item, verdict, page, PER_PAGE)
        done, rows_total = import_jobs.progress_of(db.session, item)
        waiting = import_jobs.waiting_of(db.session, item)
        db.session.commit()
        lists = import_jobs.list_values(db.session)
        columns, columns_hidden = import_jobs.shown_columns(item)
        return self.render(
            "imports/details.html", item=item, rows=rows, total=total, page=page, per_page=PER_PAGE,
            verdict=verdict, done=done, rows_total=rows_total, waiting=waiting,
            queued_words=import_jobs.queued_words, why=why, loads=import_jobs.loads,
            labels=import_jobs.STATUS_LABELS, verdicts=import_jobs.VERDICT_LABELS, targets=import_jobs.TARGET_LABELS,
            fields=FIELD_CHOICES, lists=lists, format_time=format_datetime,
            ticked=import_jobs.ticked(db.session, item), nothing=import_jobs.nothing_to_import(db.session, item),
            columns=columns, columns_hidden=columns_hidden, header_shown=import_jobs.HEADER_SHOWN,
            unknown=import_jobs.first(import_jobs.loads(item.unknown_values, {}).get("source", [])),
            levels=import_jobs.first(import_jobs.loads(item.unknown_values, {}).get("key_customer", [])),
            unplaced=import_jobs.first(import_jobs.loads(item.unknown_values, {}).get("owner", [])),
            rows_deleted=item.status not in ("checking", "importing") and not import_jobs.file_kept(db.session, item),
            retention_days=current_app.config["CRM_IMPORT_RETENTION_DAYS"])

    @expose("/<import_id>/progress.json")
    def progress(self, import_id):
        item = self._item(import_id)
        done, total = import_jobs.progress_of(db.session, item)
        waiting = import_jobs.waiting_of(db.session, item)
        db.session.commit()
        return jsonify({"status": item.status, "label": str(import_jobs.STATUS_LABELS[item.status]),
                        "done": done, "total": total, "queue_position": waiting.ahead if waiting else None,
                        "worker_down": bool(waiting and waiting.down),
                        "queued": import_jobs.queued_words(waiting)})

    @expose("/<import_id>/mapping", methods=("POST",))
    def mapping(self, import_id):
        item = self._item(import_id)
        headers = import_jobs.loads(item.headers, [])
        # the columns the page showed (an old import's header may be too wide to show whole): the others keep theirs
        columns = {header: request.form.get(f"column-{index}") or None for index, header in enumerate(headers)
                   if header and f"column-{index}" in request.form}
        unknown = import_jobs.loads(item.unknown_values, {})
        values = {name: {given: request.form.get(f"value-{name}-{index}", "")
                         for index, given in enumerate(unknown.get(name, [])) if f"value-{name}-{index}" in request.form}
                  for name in import_jobs.LIST_FIELDS}
        def choose_and_check():
            import_jobs.choose(db.session, item, columns=columns, values=values)
            import_jobs.recheck(db.session, item)

        self._apply(choose_and_check, _("The file is being checked again with your choices."))
        return redirect(self.get_url(".details", import_id=item.id))

    @expose("/<import_id>/include", methods=("POST",))
    def include(self, import_id):
        item = self._item(import_id)
        action = request.form.get("action")

        def tick():
            if action in ("all", "none"):
                import_jobs.include(db.session, item, "all", on=action == "all")
                return
            shown = [r for r in map(parse_id, request.form.getlist("shown")) if r is not None]
            ticked = {r for r in map(parse_id, request.form.getlist("row")) if r is not None}
            import_jobs.include(db.session, item, [r for r in shown if r not in ticked], on=False)
            import_jobs.include(db.session, item, sorted(ticked))

        self._apply(tick, _("Your choice of rows that need confirmation was saved."))
        return redirect(safe_next(request.form.get("next"))
                        or self.get_url(".details", import_id=item.id, verdict="review"))

    @staticmethod
    def _apply(rule, done=None):
        """Apply a rule and commit, flashing `done`; or roll back, flashing why it was refused."""
        try:
            rule()
            jobs.commit(db.session)  # a check or a run the queue refuses: undone, and its message shown
            if done:
                flash(done, "info")
        except RuleViolation as refused:
            db.session.rollback()
            flash(str(refused.message), "error")

    @expose("/<import_id>/run", methods=("POST",))
    def run(self, import_id):
        item = self._item(import_id)
        self._apply(lambda: import_jobs.start_run(db.session, current_user, item))
        return redirect(self.get_url(".details", import_id=item.id))

    @expose("/<import_id>/cancel", methods=("POST",))
    def cancel(self, import_id):
        item = self._item(import_id)
        self._apply(lambda: import_jobs.cancel(db.session, item),
                    _("The import was cancelled: nothing was imported, and its file and preview were deleted."))
        retention.checkpoint(db.session)  # the preview may have been large
        return redirect(self.get_url(".index"))

    @expose("/<import_id>/report.xlsx")
    def report(self, import_id):
        item = self._item(import_id)
        data = import_jobs.report(db.session, item)
        if data is None:
            abort(404)
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=import_jobs.report_name(item.file_name))

