"""Tables to files that Excel opens correctly: CSV (UTF-8 with a BOM) and .xlsx.

Plain functions over headers and rows, with no request inside, so that any list (the
opportunities, the contact notes, the daily statistics) is exported the same way. Every
text cell is neutralised: a cell that starts with = + - @ (or a tab or carriage return) is
read by a spreadsheet as a formula (CSV injection), so it gets a leading apostrophe.
"""
import csv
import io
import unicodedata
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

MAX_ROWS = 100_000  # a list longer than this is cut (the response says so in a header)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT = "%Y-%m-%d %H:%M"
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm"
_ILLEGAL_XLSX = {c: None for c in range(32) if chr(c) not in "\t\n\r"}  # control characters XML refuses


def neutralise(value):
    """The cell as text a spreadsheet shows, never runs: None -> "", "=1+1" -> "'=1+1"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, datetime, date)):
        return value  # numbers and times are not formulas
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_cell(value):
    value = neutralise(value)
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_csv(headers, rows):
    """CSV bytes, UTF-8 with a BOM (without it, Excel reads Chinese as GBK and garbles it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value):
    value = neutralise(value)
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))  # Excel has no time zones
        cell.number_format = XLSX_TIME_FORMAT
        return cell
    if isinstance(value, str):
        value = value.translate(_ILLEGAL_XLSX)
    return value


def to_xlsx(headers, rows, sheet_title="Sheet1", fit_widths=False):
    """.xlsx bytes from a write-only workbook: rows are streamed, not kept, so long lists fit; the
    header row frozen and filtered. `fit_widths`: each column as wide as its longest cell (up to
    MAX_WIDTH), which reads the rows first (a report's few thousand, not a list of 100,000)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(sheet_title))
    header_cells = [_xlsx_cell(sheet, h) for h in headers]
    if fit_widths:
        rows = [[_xlsx_cell(sheet, v) for v in row] for row in rows]
        widths = [max((display_width(row[i]) for row in rows if i < len(row)), default=0)
                  for i in range(len(headers))]
    else:
        widths = [0] * len(headers)
    for index, (header, width) in enumerate(zip(header_cells, widths), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            MIN_WIDTH, min(MAX_WIDTH, max(width, display_width(header)) + 2))
    sheet.freeze_panes = "A2"
    count = 0
    sheet.append(header_cells)
    for row in rows:
        sheet.append(row if fit_widths else [_xlsx_cell(sheet, v) for v in row])
        count += 1
    if headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MIN_WIDTH, MAX_WIDTH = 8, 60  # a column's width in Excel's units (about one Latin character each)


def display_width(value):
    """The width a cell's text takes: a Chinese (wide) character counts two; a time its format's."""
    if getattr(value, "number_format", None) == XLSX_TIME_FORMAT:  # a time's cell (`_xlsx_cell`)
        return len(XLSX_TIME_FORMAT)
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _sheet_title(title):
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in str(title)).strip()
    return cleaned[:31] or "Sheet1"
