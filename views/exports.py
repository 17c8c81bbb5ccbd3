"""Sending a table as a download, and the export route that lists share.

`send_table(headers, rows, basename, fmt)` is the one way a view answers with a file;
`ExportMixin` gives a Flask-Admin model view `export/<fmt>/`, which exports what its list
shows: the viewer's scope (the view's `get_query`), the current search, filters and sort.
"""
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app
from flask_admin import expose
from flask_login import current_user

from models import db
from services import audit, clock, exports
from services.people.access import ADMIN_ROLES, MANAGING_ROLES

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
EXPORT_ROLES = ADMIN_ROLES | MANAGING_ROLES  # issue 4: the lists an admin or a manager sees


def may_export(user):
    return user.is_authenticated and user.role in EXPORT_ROLES


def local_time(value):
    """An aware time as the wall-clock time of CRM_TIMEZONE (what the lists show), else unchanged."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(ZoneInfo(current_app.config["CRM_TIMEZONE"])).replace(tzinfo=None)
    return value


def file_name(basename, fmt):
    """"机会列表-20261127-0930.xlsx": the list's name and the local time of the export."""
    stamp = local_time(clock.now()).strftime("%Y%m%d-%H%M")
    return f"{basename}-{stamp}.{fmt}"


def send_table(headers, rows, basename, fmt):
    """Answer with the table as an .xlsx or CSV download; an unknown format is a 404.

    The Chinese file name goes in `filename*` (RFC 6266/5987); `filename` carries an ASCII
    fallback for old clients.
    """
    if fmt not in FORMATS:
        abort(404)
    headers = [str(h) for h in headers]  # lazy translations become text in the request's language
    counted = []
    rows = (counted.append(1) or [local_time(v) for v in row] for row in rows)
    body = exports.to_xlsx(headers, rows, basename) if fmt == "xlsx" else exports.to_csv(headers, rows)
    _audit_export(basename, fmt, len(counted))
    name = file_name(basename, fmt)
    response = Response(body, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"export.{fmt}\"; filename*=UTF-8''{quote(name, safe='')}")
    response.headers["Cache-Control"] = "no-store"
    return response


def _audit_export(basename, fmt, rows):
    """Every file that leaves the CRM is in the audit log, with how many rows it held."""
    audit.record(db.session, current_user, "export", details={"list": str(basename), "format": fmt, "rows": rows},
                 department_id=current_user.department_id)
    db.session.commit()


class ExportMixin:
    """`export/<fmt>/` on a ScopedModelView: its list as a file, for admins and managers only.

    A subclass names the file (`export_basename`) and the columns (`export_columns`: a list
    of (header, function(row) -> value)).
    """

    export_basename = "export"
    export_columns = ()
    export_options = ()  # loader options for the relations the columns read (no query per row)

    def export_query(self):
        """The list's query for the current URL, without pagination, up to MAX_ROWS + 1 rows."""
        args = self._get_list_extra_args()
        sort = self._get_column_by_idx(args.sort)
        _count, query = self.get_list(None, sort[0] if sort else None, args.sort_desc, args.search, args.filters,
                                      execute=False, page_size=exports.MAX_ROWS + 1)
        return query.options(*self.export_options)

    @expose("/export/<fmt>/")
    def export(self, fmt):
        """Replaces Flask-Admin's own export (same URL and endpoint), which needs tablib for .xlsx."""
        if not may_export(current_user):
            abort(403)
        if fmt not in FORMATS:
            abort(404)
        cut = []

        def table():  # streamed from the database: a long list is never held in memory as objects
            for number, row in enumerate(self.export_query().yield_per(1000)):
                if number == exports.MAX_ROWS:
                    cut.append(True)
                    break
                yield [get(row) for _header, get in self.export_columns]

        response = send_table([header for header, _get in self.export_columns], table(), str(self.export_basename),
                              fmt)
        if cut:
            response.headers["X-Export-Truncated"] = str(exports.MAX_ROWS)
        return response
