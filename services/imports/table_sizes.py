"""What a customer list says of its size, read before it is parsed, and the caps it must keep.

A workbook is a zip of XML (.xlsx, .ods) that a dense reader (calamine) turns into a grid of
rows x columns: a 1.6 KB .xlsx with one cell at XFD1048576, or an 876-byte .ods whose one cell
is repeated a thousand times in a row repeated a million times, asks it for billions of cells.
So before any parser runs, `measure` streams the file (never holding it whole, never trusting a
`<dimension>` element, which may be absent or lie) and finds:

- the zip's members: their uncompressed sizes and ratios (a zip bomb),
- the first sheet's extent: the last row and the last column that hold a value, counting the
  .ods repeat attributes.

`Limits` are the caps (app config `CRM_IMPORT_*`, docs/imports.md "Limits"); `check` refuses a
file beyond them with a message that names the cap and what to do. A stray cell far to the
right of an office file is no reason to refuse: the reader reads up to the header's width.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l

HEADER_SEARCH_ROWS = 10  # a header below a title row or two: the first rows searched for it
_CHUNK = 1 << 20
_SMALL_XML = 4 * 1024 * 1024  # workbook.xml and its relations: a few KB in any real file
_RATIO_FROM = 1024 * 1024  # a member this small may compress as well as it likes
_TAG = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*?)(/?)>")
_ATTR_R = re.compile(rb'\br="([A-Z]*)([0-9]*)"')
_ODS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class FileTooLarge(Exception):
    """The file is beyond a cap: `message` (translated) names it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Limits:
    """The caps of a customer list; every one is a setting (app.py, docs/imports.md)."""
    max_rows: int | None = 100_000  # data rows (None: the command line, which has no row limit)
    max_columns: int = 200  # the header's width
    max_cells: int = 20_000_000  # rows x the columns read, in a workbook (a dense grid of 32 bytes a cell)
    max_cell_chars: int = 1000  # a longer cell is cut to this many characters and one more (its row is refused)
    max_unzipped_mb: int = 400  # the XML a workbook unpacks to
    max_ratio: int = 200  # unpacked / packed size of one zip member over 1 MB
    memory_mb: int = 1536  # the address space of the process that parses
    seconds: int = 30  # the time a header may take to read (the upload waits for it)

    @classmethod
    def of(cls, config, command_line=False):
        values = {name: config[key] for name, key in _SETTINGS.items() if key in config}
        if command_line:
            values["max_rows"] = None
        return cls(**values)

    def as_dict(self):
        return asdict(self)


_SETTINGS = {"max_rows": "CRM_IMPORT_MAX_ROWS", "max_columns": "CRM_IMPORT_MAX_COLUMNS",
             "max_cells": "CRM_IMPORT_MAX_CELLS", "max_cell_chars": "CRM_IMPORT_MAX_CELL_CHARS",
             "max_unzipped_mb": "CRM_IMPORT_MAX_UNZIPPED_MB", "memory_mb": "CRM_IMPORT_PARSE_MEMORY_MB",
             "seconds": "CRM_IMPORT_PARSE_SECONDS"}


@dataclass
class Extent:
    """The first sheet's values: its last row and last column (1-based)."""
    rows: int = 0
    columns: int = 0

    def add(self, last_row, last_column):
        self.rows = max(self.rows, last_row)
        self.columns = max(self.columns, last_column)


def measure(file, name, limits):
    """The Extent of a workbook (.xlsx/.xlsm or .ods; None for any other file), `file` a binary file of its
    bytes or its path, after checking its zip members; FileTooLarge beyond a cap. `name` is the file's
    name for messages."""
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError):
        return None  # an .xls, or a damaged file: the reader says why
    with archive:
        _check_members(archive, name, limits)
        names = set(archive.namelist())
        if "content.xml" in names:
            return _ods_extent(archive, name, limits)
        sheet = _first_sheet_member(archive, names)
        return _xlsx_extent(archive, sheet, name, limits) if sheet else None


def _check_members(archive, name, limits):
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if info.file_size > _RATIO_FROM and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise FileTooLarge(_l("%(file)s unpacks to %(mb)d MB from %(kb)d KB (a zip bomb, or a damaged file): "
                                  "open it in Excel or WPS and save it again as .xlsx.", file=name,
                                  mb=info.file_size >> 20, kb=max(info.compress_size >> 10, 1)))
    if total > limits.max_unzipped_mb << 20:
        raise FileTooLarge(_unpacked(name, total, limits))


def _unpacked(name, size, limits):
    return _l("%(file)s unpacks to more than %(mb)d MB of data, the most a workbook may hold "
              "(CRM_IMPORT_MAX_UNZIPPED_MB): keep only the columns and rows to import, or save it as CSV.",
              file=name, mb=limits.max_unzipped_mb) if size else ""


def _stream(archive, member, name, limits):
    """The member's bytes in chunks, stopped at the unzipped cap whatever its header declared."""
    read = 0
    with archive.open(member) as handle:
        while chunk := handle.read(_CHUNK):
            read += len(chunk)
            if read > limits.max_unzipped_mb << 20:
                raise FileTooLarge(_unpacked(name, read, limits))
            yield chunk


def _first_sheet_member(archive, names):
    """The zip member of the first sheet as calamine picks it: the first <sheet> of xl/workbook.xml."""
    if "xl/workbook.xml" not in names:
        return None
    try:
        workbook = _small_xml(archive, "xl/workbook.xml")
        relations = _small_xml(archive, "xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names \
            else None
    except (ElementTree.ParseError, ValueError):
        return None
    first = next((e for e in workbook.iter() if e.tag.rsplit("}", 1)[-1] == "sheet"), None)
    if first is None or relations is None:
        return None
    rid = next((v for k, v in first.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
    target = next((e.get("Target") for e in relations.iter() if e.get("Id") == rid), None)
    if not target:
        return None
    member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return member if member in names else None


def _small_xml(archive, member):
    info = archive.getinfo(member)
    if info.file_size > _SMALL_XML:
        raise ValueError(member)
    return ElementTree.fromstring(archive.read(member))


def _xlsx_extent(archive, member, name, limits):
    """The extent of an .xlsx sheet's cells that may hold a value (not self-closing), by their `r`
    references, or by their position where a writer left `r` out, as calamine reads them."""
    extent, row, column, tail = Extent(), 0, 0, b""
    for chunk in _stream(archive, member, name, limits):
        data = tail + chunk
        cut = data.rfind(b"<")
        data, tail = (data[:cut], data[cut:]) if cut >= 0 else (data, b"")
        if len(tail) > _CHUNK:  # no tag is that long: padding after a "<", not a cell to find
            tail = b""
        for match in _TAG.finditer(data):
            kind, attributes, empty = match.groups()
            reference = _ATTR_R.search(attributes)
            if kind == b"row":
                row = int(reference.group(2)) if reference and reference.group(2) else row + 1
                column = 0
                continue
            if reference and reference.group(1):
                column = _column_number(reference.group(1))
                row = int(reference.group(2) or row)
            else:
                column += 1
            if not empty:
                extent.add(row, column)
    return extent


def _column_number(letters):
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _ods_extent(archive, name, limits):
    """The extent of an .ods first table's non-empty cells, their repeat attributes counted."""
    extent, row = Extent(), 0
    row_repeat = f"{{{_ODS}}}number-rows-repeated"
    column_repeat = f"{{{_ODS}}}number-columns-repeated"
    cell_tags = (f"{{{_ODS}}}table-cell", f"{{{_ODS}}}covered-table-cell")
    column, last = 0, 0
    for event, element in _first_table_events(archive, name, limits):
        tag = element.tag
        if event == "start" and tag == f"{{{_ODS}}}table-row":
            column, last = 0, 0
        elif event == "end" and tag in cell_tags:
            repeat = _count(element.get(column_repeat))
            column += repeat
            if _has_value(element):
                last = column
            element.clear()
        elif event == "end" and tag == f"{{{_ODS}}}table-row":
            repeat = _count(element.get(row_repeat))
            if last:
                extent.add(row + repeat, last)
            row += repeat
            element.clear()
    return extent


def _first_table_events(archive, name, limits):
    """The (event, element) pairs of content.xml's first table, read as it streams: calamine reads
    the first table only, so the reading stops where the second begins."""
    tables = 0
    parser = ElementTree.XMLPullParser(("start", "end"))
    for chunk in _stream(archive, "content.xml", name, limits):
        parser.feed(chunk)
        for event, element in parser.read_events():
            if event == "start" and element.tag == f"{{{_ODS}}}table":
                tables += 1
            if tables > 1:
                return
            if tables == 1:
                yield event, element


def _count(value):
    try:
        return max(int(value or 1), 1)
    except ValueError:
        return 1


def _has_value(cell):
    return bool(cell.get(f"{{{_ODS_OFFICE}}}value-type")) or any(True for _ in cell.iter() if _ is not cell)


def check(extent, name, limits):
    """Refuse a sheet with more rows than the cap, before any reader allocates them (the reader checks
    the header's width, and the cells it reads, once it has found the header)."""
    if extent is not None and limits.max_rows is not None and extent.rows - 1 > limits.max_rows:
        raise FileTooLarge(too_many_rows(name, extent.rows, limits.max_rows))


def dense(extent, limits):
    """Whether a dense reader (calamine: 32 bytes a cell of the sheet's whole extent, stray cells
    included) may read the sheet whole: its extent within the cap of cells."""
    return extent is None or extent.rows * extent.columns <= limits.max_cells


def too_many_rows(name, rows, max_rows):
    return _l("%(file)s has %(rows)d rows, more than the %(max)d that can be imported at once "
              "(CRM_IMPORT_MAX_ROWS): split it into smaller files.", file=name, rows=rows, max=max_rows)


def too_wide(name, columns, max_columns):
    return _l("The header row of %(file)s has %(columns)d columns, more than the %(max)d a list may have "
              "(CRM_IMPORT_MAX_COLUMNS): delete the columns not to import.", file=name, columns=columns,
              max=max_columns)


def too_many_cells(name, extent, limits):
    return _l("%(file)s spans %(rows)d rows by %(columns)d columns, more than the %(max)d cells a list may have "
              "(CRM_IMPORT_MAX_CELLS): delete what lies beyond the customers (select the empty rows and "
              "columns after them, delete them) and save it again.", file=name, rows=extent.rows,
              columns=extent.columns, max=limits.max_cells)
