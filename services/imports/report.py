"""The report of an import: the rows not imported, and the review rows imported, each by its line
in the spreadsheet, with the reason and what it matched, in the user's language; as CSV (UTF-8 with
BOM, for Excel) or .xlsx, text cells neutralised against formulas (services/exports.py)."""
import contextvars
import os
from contextlib import contextmanager
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .. import checking, exports, library

REPORT_COLUMNS = ("row", "verdict", "reason", "company", "matched", "imported")
_REPORT_TEXT_MAX = 300


def report_path_for(path):
    """FILE.report.csv beside the file."""
    path = Path(path)
    return path.with_name(path.name + ".report.csv")


def truncate(value, limit=_REPORT_TEXT_MAX):
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- the report: the rows not imported, and the review rows, with the reason -------------
# A report row is a dict of REPORT_COLUMNS (verdicts and "yes"/"no" as codes, so that any code
# can build one); only the written table speaks the user's language (REPORT_HEADERS...).

REPORT_HEADERS = {"row": _l("Line"), "verdict": _l("Conclusion"), "reason": _l("Reason"),
                  "company": _l("Company name"), "matched": _l("Matched records"), "imported": _l("Imported?")}
REPORT_VERDICTS = {checking.DUPLICATE: _l("Duplicate"), checking.REVIEW: _l("Needs confirmation"),
                   "invalid": _l("Invalid"), "library_full": _l("Library full"),
                   "owner_not_placed": _l("Not in its owner's library")}
REPORT_YES_NO = {"yes": _l("Yes"), "no": _l("No")}
REPORT_LINE = contextvars.ContextVar("report_line", default=None)


@contextmanager
def report_lines(line):
    """Within it, a report row names a data row by `line(number)`, its line in the spreadsheet
    (`RowReader.line`): the line a person finds when opening the file, whatever rows sit
    above the header. `import_file` reports so."""
    token = REPORT_LINE.set(line)
    try:
        yield
    finally:
        REPORT_LINE.reset(token)


def report_line(number):
    line = REPORT_LINE.get()
    return line(number) if line is not None and number is not None else number


def _describe(match):
    if match["location"] == "file":
        where = str(_l("row %(row)d of this file", row=report_line(match["row"])))
    else:
        where = f"#{match['opportunity_id']} {str(library.LOCATION_LABELS[match['location']])}"
        if match["owner"]:
            where += f" {match['owner']}"
    return str(_l("%(company)s (%(where)s)", company=match["company"], where=where))


def report_row(number, verdict, reason, company, matched=(), imported=False):
    """`reason`: a text, or a list of reasons (`Reason`s, stored ones, texts) said when the table is written."""
    return {"row": report_line(number), "verdict": verdict, "reason": [reason] if isinstance(reason, str) else reason,
            "company": truncate(company or ""), "matched": truncate(str(_l("; ")).join(_describe(m) for m in matched), 2000),
            "imported": "yes" if imported else "no"}


def match_reason(matches):
    """The reasons of the first three matches given (each row's strongest first), unsaid yet."""
    return [reason for m in matches[:3] for reason in m["reasons"]]


def said_reason(reason):
    """A report row's reason in the current language (the reasons from their codes); a text as it is."""
    return truncate(str(_l("; ")).join(checking.reasons_said([reason] if isinstance(reason, str) else reason)))


def report_table(rows):
    """(headers, rows of cells) of the report in the current language."""
    headers = [str(REPORT_HEADERS[name]) for name in REPORT_COLUMNS]
    cells = ([row["row"], str(REPORT_VERDICTS.get(row["verdict"], row["verdict"])), said_reason(row["reason"]),
              row["company"],
              row["matched"], str(REPORT_YES_NO.get(row["imported"], row["imported"]))] for row in rows)
    return headers, cells


def _write_whole(path, data):
    """Write the file whole, then move it into place: never half a report."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_report(path, rows):
    """The report as CSV, UTF-8 with BOM (Excel), text cells neutralised against formulas."""
    _write_whole(path, exports.to_csv(*report_table(rows)))


def report_xlsx(rows):
    """The report as .xlsx bytes (openpyxl, write-only), text cells neutralised against formulas."""
    headers, cells = report_table(rows)
    return exports.to_xlsx(headers, cells, sheet_title=str(_l("Import report")), fit_widths=True)


def write_report_xlsx(path, rows):
    _write_whole(path, report_xlsx(rows))
