"""Tables to files that Excel opens correctly: CSV (UTF-8 with a BOM) and .xlsx.

Plain functions over headers and rows, with no request inside, so that any list (the
opportunities, the contact notes, the daily statistics) is exported the same way. Every
text cell is neutralised: a cell that starts with = + - @ (or a tab or carriage return) is
read by a spreadsheet as a formula (CSV injection), so it gets a leading apostrophe.
"""
import csv
import io
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


def to_xlsx(headers, rows, sheet_title="Sheet1"):
    """.xlsx bytes from a write-only workbook: rows are streamed, not kept, so long lists fit."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(sheet_title))
    header_cells = [_xlsx_cell(sheet, h) for h in headers]
    for index, header in enumerate(header_cells, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, 2 * len(str(header)) + 4))
    sheet.freeze_panes = "A2"
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title):
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in str(title)).strip()
    return cleaned[:31] or "Sheet1"
