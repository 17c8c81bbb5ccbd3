"""Reading a customer list as an office in China saves it: rows of text under a header row.

A file is a .csv (UTF-8 with or without BOM, or GB18030 as Excel saves it in China) or a
workbook: .xlsx, .xls (BIFF, as WPS and Excel 97-2003 save it), .ods, read with
python-calamine, the first sheet. The header row is the first of the first
`HEADER_SEARCH_ROWS` rows that names a company column (`HEADERS`, English or Chinese), so a
title row or two above it is fine; unknown columns are ignored. A cell reads as the
spreadsheet shows it: a mobile stored as a number keeps its digits, a date is YYYY-MM-DD, a
formula its cached value.

Every problem with the file itself is an ImportFileError whose one-line message (translated)
says what to do; a problem with one row (a 3 MB cell) is left to the row's validation.
"""
from __future__ import annotations

import codecs
import csv
import io
import tempfile
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

import python_calamine
from flask_babel import lazy_gettext as _l

from .. import checking
from ..text import clean_cell
from . import table_sizes
from .table_sizes import HEADER_SEARCH_ROWS, FileTooLarge, Limits

FIELDS = ("company", "phone", "fax", "mobile", "wechat", "qq", "province", "city", "district", "town", "place", "address", "contact",
          "industry", "source", "email", "key_customer", "next_contact_at", "note", "owner")
# A field's headers as people write them: each row of a field is (stems, suffixes), every stem with every suffix
# ("" keeps the stem alone), so that 客户名称, 企业全称 and 单位名称 are one line, not a list of hundreds. A header is
# looked up folded (`_header_key`: Traditional to Simplified, full width to half, no spaces or punctuation), so
# 客戶名稱, "Company Name" and 客户名称(*) find the same entry. "place": the whole place in one column (地区:
# 广东省,深圳市,宝安区), split into province, city, district and town by the check's place parser.
_NUMBER = ("", "号码", "号")
_HEADER_TABLE = {
    "company": ((("company", "company name", "name", "公司", "企业", "客户", "单位", "商户", "厂家", "厂商", "门店"),
                 ("", "名称", "全称", "名")),),
    "phone": ((("phone", "landline", "tel", "telephone"), ("",)),
              (("电话", "固定电话", "固话", "座机", "座机电话", "联系电话", "办公电话", "公司电话", "单位电话", "客户电话"),
               _NUMBER)),
    "fax": ((("fax",), ("",)), (("传真", "联系传真", "公司传真", "传真电话"), _NUMBER)),
    "mobile": ((("mobile", "cell", "mobile phone"), ("",)),
               (("手机", "移动电话", "联系手机", "联系人手机", "客户手机"), _NUMBER)),
    "wechat": ((("wechat", "weixin", "wechat id"), ("",)), (("微信", "联系人微信", "客户微信"), ("", "号"))),
    "qq": ((("qq",), _NUMBER),),
    "province": ((("province",), ("",)), (("", "所在", "所属"), ("省", "省份"))),
    "city": ((("city",), ("",)), (("城市", "市", "地级市"), ("",))),
    "district": ((("district", "county"), ("",)), (("区县", "区/县", "区", "县", "县区"), ("",))),
    "town": ((("town", "township", "subdistrict", "town or subdistrict"), ("",)),
             (("乡镇", "镇", "乡", "街道", "乡镇街道", "乡镇/街道", "镇/街道"), ("",))),
    "place": ((("place", "region", "area", "location"), ("",)),
              (("", "所在", "所属", "客户", "公司"), ("地区", "区域", "省市区", "省市", "省市县", "省市区县", "省/市/区")),
              (("所在", "所属", "客户"), ("城市",))),
    "address": ((("address",), ("",)), (("", "详细", "公司", "联系", "客户", "单位", "办公", "通讯", "注册"), ("地址",))),
    "contact": ((("contact", "contact person", "contact name"), ("",)),
                (("联系人", "客户联系人", "主联系人", "首要联系人"), ("", "姓名", "名称", "名字"))),
    "industry": ((("industry",), ("",)),
                 (("", "所属", "客户", "公司"), ("行业",)), (("行业",), ("划分", "类别", "分类", "类型", "领域"))),
    "source": ((("source", "information source"), ("",)), (("", "信息", "客户", "线索"), ("来源",))),
    "email": ((("email", "e-mail", "mail", "qq/e-mail", "qq/email"), ("",)),
              (("邮箱", "电子邮箱", "电子邮件", "邮件", "联系邮箱", "qq邮箱", "qq/邮箱"), ("", "地址"))),
    "key_customer": ((("key_customer", "key customer"), ("",)), (("重点客户", "等级", "级别"), ("",)),
                     (("客户",), ("等级", "级别"))),
    "next_contact_at": ((("next_contact_at", "next contact"), ("",)),
                        (("下次联系", "下次跟进", "下次回访"), ("", "时间", "日期"))),
    "note": ((("note", "notes", "remark", "remarks"), ("",)), (("备注", "客户描述", "描述", "客户备注"), ("",))),
    "owner": ((("owner",), ("",)), (("负责人", "业务负责人", "客户负责人", "所属员工", "所属销售", "业务员"), ("",))),
}
# what people add to a header to say the column must be filled: 客户名称(*), 客户名称（必填）, *客户名称
_REQUIRED_MARKERS = ("必填", "必填项", "选填")


def _header_key(text):
    """A header as it is looked up: folded, and without the marks of a required column (客户名称(*), *手机,
    联系人（必填）): the brackets and stars go with the punctuation, the words here."""
    key = checking.fold(text)
    for marker in _REQUIRED_MARKERS:
        if key.endswith(marker) and len(key) > len(marker):
            return key[:-len(marker)]
    return key


def _headers():
    """{field: (header, ...)} of `_HEADER_TABLE`, every stem with every suffix, in the table's order."""
    return {name: tuple(dict.fromkeys(stem + suffix for stems, suffixes in rows for stem in stems
                                      for suffix in suffixes if stem + suffix))
            for name, rows in _HEADER_TABLE.items()}


HEADERS = _headers()
_HEADER_INDEX = {}
for _name, _aliases in HEADERS.items():
    for _alias in _aliases:
        _HEADER_INDEX.setdefault(_header_key(_alias), _name)  # the first field of a key wins (none is shared)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")  # what calamine reads (by content, not by suffix)
_FIELD_SIZE_MAX = 256 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, .ods
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any workbook encrypted with a password


class ImportFileError(Exception):
    """The file cannot be read as customers: the one-line message says why."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message

    def as_json(self):
        """The message untranslated, {"error": msgid, "params": {...}}, for another process to translate
        (services/imports/table_sandbox.py): a lazy string keeps its msgid and parameters."""
        msgid = getattr(self.message, "_args", (str(self.message),))[0]
        return {"error": msgid, "params": dict(getattr(self.message, "_kwargs", {}))}


def header_field(cell):
    """The field a header names (`HEADERS`, folded), or None."""
    return _HEADER_INDEX.get(_header_key(str(cell or "")))


def cell_text(value):
    """A workbook cell as the spreadsheet shows it: 13902201234.0 -> "13902201234", a date -> "2026-03-01"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # every number of a workbook is a float: an integer is shown without ".0", and a
        # fraction with Excel's 15 significant digits (0.1+0.2 shows 0.3)
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, timedelta):  # a duration cell ([h]:mm:ss)
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"
    return str(value).strip()


class TableSource:
    """A customer list's bytes: given (an upload, kept in the database), or a path's, read from the file.

    `name` is the file as messages call it (a path's own name by default); `folder`, where the one copy
    on disk that calamine may need is written (`as_file`), by default the system's temporary folder."""

    def __init__(self, source, name=None, folder=None):
        if isinstance(source, TableSource):
            name, folder = name or source.name, folder or source.folder
            source = source.data if source.data is not None else source.path
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data, self.path = bytes(source), None
            self.name = name or "upload"
        else:
            self.data, self.path = None, Path(source)
            self.name = name or self.path.name
        self.folder = folder

    @property
    def suffix(self):
        return Path(self.name if self.path is None else self.path).suffix.lower()

    def exists(self):
        return self.data is not None or self.path.is_file()

    def size(self):
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def open(self):
        """A binary file of the bytes, from their start (each pass over the list opens one)."""
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")

    @contextmanager
    def as_file(self):
        """A path of the bytes with the file's suffix: calamine picks its reader by a path's suffix, and
        only that reader says why a file fails (a password). Given bytes are written to a temporary folder
        of their own, removed after (the sandbox passes its own folder, removed whatever the child did)."""
        if self.path is not None:
            yield self.path
            return
        with tempfile.TemporaryDirectory(prefix="crm-import-", dir=self.folder) as folder:
            path = Path(folder) / f"file{self.suffix}"
            path.write_bytes(self.data)
            yield path


def detect_encoding(source):
    """'utf-8-sig' or 'gb18030': the first that decodes the whole file strictly.

    Read in blocks with incremental decoders, so a large file is never held whole.
    """
    source = TableSource(source)
    with source.open() as handle:
        head = handle.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ImportFileError(_l("%(file)s is UTF-16 text: save it as CSV (UTF-8) or .xlsx.", file=source.name))
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with source.open() as handle:
                while block := handle.read(1 << 20):
                    if b"\x00" in block:
                        raise ImportFileError(_l("%(file)s is not a text file in UTF-8 or GB18030 (it holds NUL "
                                                 "bytes); save it as CSV (UTF-8) or .xlsx.", file=source.name))
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError(_l("%(file)s is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8) or .xlsx.",
                             file=source.name))


def _first_sheet(source):
    """The first sheet of a workbook, read whole by calamine; an ImportFileError says why not."""
    with source.open() as handle:
        # by content, not by suffix: a .xlsx saved under the name .xls reads too
        sheet, error = _calamine(lambda: python_calamine.CalamineWorkbook.from_filelike(handle))
    if isinstance(error, python_calamine.CalamineError):
        # the reader of the file's suffix knows better why: a password, a broken zip (not after
        # a panic: a file that panics the sniffing reader panics the suffix's reader too)
        with source.as_file() as path:
            sheet, error = _calamine(lambda: python_calamine.CalamineWorkbook.from_path(path))
    if sheet is not None:
        return sheet
    if isinstance(error, python_calamine.PasswordError):
        raise ImportFileError(_l("%(file)s is protected by a password: open it in Excel or WPS, remove the "
                                 "password and save it again.", file=source.name))
    if _magic(source) not in (_ZIP_MAGIC, _OLE_MAGIC):
        raise ImportFileError(_l("%(file)s is not a spreadsheet (perhaps another kind of file renamed): open "
                                 "it in Excel or WPS and save it as .xlsx.", file=source.name))
    words = " ".join(str(error).split())[:200]  # calamine's own, on the one line
    raise ImportFileError(_l("%(file)s is damaged or not a workbook we can read (%(error)s): open it in Excel "
                             "or WPS and save it again as .xlsx.", file=source.name, error=words))


def _calamine(open_workbook):
    """(the first sheet, None) or (None, the error): calamine's own errors, and a Rust panic
    on a malformed file (a damaged .xls), which reaches Python as a BaseException (pyo3's
    PanicException); Rust prints the panic on standard error, which we cannot silence."""
    try:
        return open_workbook().get_sheet_by_index(0), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - any failure to read is the file's, said in one line
        return None, error


def _magic(source):
    with source.open() as handle:
        head = handle.read(8)
    return head if head == _OLE_MAGIC else head[:4]


def _checked_overrides(columns):
    """{header text: field or None} of a column mapping chosen by hand, its fields checked."""
    overrides = {}
    for header, name in (columns or {}).items():
        if name and name not in FIELDS:
            raise ImportFileError(_l("Unknown field in the column mapping: %(field)s", field=str(name)))
        overrides[str(header).strip()] = name or None
    return overrides


def map_columns(header, overrides=None):
    """{field: column index} of a header row: the mapping chosen by hand first, then the
    known names (`HEADERS`) of the other columns; the first column of a field wins."""
    overrides = overrides or {}
    texts = [clean_cell(cell) for cell in header]
    columns = {}
    for index, text in enumerate(texts):
        name = overrides.get(text)
        if name and name not in columns:
            columns[name] = index
    for index, text in enumerate(texts):
        name = None if text in overrides else header_field(text)
        if name and name not in columns:
            columns[name] = index
    return columns


class RowReader:
    """The rows of a customer list as (number, {field: text}), after its header row.

    `columns` {header text: field or None} overrides the automatic mapping of those headers
    (None: the column is ignored); `max_rows` refuses a file with more data rows than that.
    Opening finds the header (and, for a CSV, checks the encoding of the whole file): any
    problem is an ImportFileError before a single row is returned.

    `headers`: the header row's texts, in column order; `header_line`: its line in the
    spreadsheet (1-based); `columns`: {field: column index}; `estimate`: the data rows
    (for a CSV, from its line count); `line(number)`: the spreadsheet line of data row `number`.
    """

    def __init__(self, source, columns=None, max_rows=None, limits=None, name=None, folder=None):
        self.source = TableSource(source, name, folder)
        self.name = self.source.name
        self.limits = limits or Limits(max_rows=max_rows)
        self.width = None  # the header's width: no cell to its right is read
        if not self.source.exists():
            raise ImportFileError(_l("%(file)s: no such file.", file=str(source)))
        suffix = self.source.suffix
        if suffix != ".csv" and suffix not in WORKBOOK_SUFFIXES:
            raise ImportFileError(_l("%(file)s: only .csv, .xlsx, .xls and .ods files can be imported.",
                                     file=self.name))
        if self.source.size() == 0:
            raise ImportFileError(_l("%(file)s is empty (0 bytes).", file=self.name))
        overrides = _checked_overrides(columns)
        self._sheet = self._stream = None
        if suffix == ".csv":
            self.kind = "csv"
            self.encoding = detect_encoding(self.source)
            lines = self._count_lines()
        else:
            self.kind = "workbook"
            self.encoding = None
            lines = self._open_workbook()
        self.header_line, header, self.columns = self._find_header(overrides)
        while header and not header[-1]:
            header.pop()
        self.headers = header
        self.width = max(len(header), max(self.columns.values(), default=-1) + 1)
        self.estimate = max(lines - self.header_line, 0)
        self._check_width(lines)
        if self.limits.max_rows is not None:
            self._check_size(self.limits.max_rows)

    def _open_workbook(self):
        """The first sheet, sized first (services/imports/table_sizes.py): read whole by calamine when its extent
        is within the caps, else (a stray cell far away in an .xlsx) row by row by openpyxl, up to the
        header's width; its lines."""
        try:
            with self.source.open() as handle:
                extent = table_sizes.measure(handle, self.name, self.limits)
            table_sizes.check(extent, self.name, self.limits)
        except FileTooLarge as error:
            raise ImportFileError(error.message) from None
        if not table_sizes.dense(extent, self.limits):
            if self.source.suffix not in (".xlsx", ".xlsm") or _magic(self.source) != _ZIP_MAGIC:
                raise ImportFileError(table_sizes.too_many_cells(self.name, extent, self.limits))
            self._stream = _StreamedSheet(self.source)
            return extent.rows
        self._sheet = _first_sheet(self.source)
        if self._sheet.end is None:
            raise ImportFileError(_l("The first sheet of %(file)s is empty.", file=self.name))
        return self._sheet.end[0] + 1  # calamine's rows start at the sheet's line 1

    def _check_width(self, lines):
        """The header's width, and for a workbook the cells read (its lines by that width), within the caps."""
        limits = self.limits
        if len(self.headers) > limits.max_columns:
            raise ImportFileError(table_sizes.too_wide(self.name, len(self.headers), limits.max_columns))
        if self.kind == "workbook" and lines * self.width > limits.max_cells:
            raise ImportFileError(table_sizes.too_many_cells(
                self.name, table_sizes.Extent(lines, self.width, self.width), limits))

    def line(self, number):
        """The spreadsheet line of data row `number` (for a CSV, exact without multi-line cells)."""
        return self.header_line + number

    # --- the header ---------------------------------------------------------------

    def _raw_rows(self):
        """Every row of the file as a list of texts, from the sheet's first line, up to the header's
        width once it is known, each cell cut to the cap (a longer one still fails its field's check)."""
        if self.kind == "csv":
            rows = self._csv_rows()
        elif self._stream is not None:
            rows = self._stream.rows(self.width)
        else:
            rows = self._sheet.iter_rows()
        return self._cut(rows)

    def _cut(self, rows):
        width, chars = self.width, self.limits.max_cell_chars + 1
        for row in rows:
            row = row[:width] if width is not None else row
            yield [cell_text(v)[:chars] if self.kind == "workbook" else (v if len(v) <= chars else v[:chars])
                   for v in row]

    def _find_header(self, overrides):
        """(line, texts, {field: column}) of the first row that names a company column."""
        rows = self._raw_rows()
        for line, row in zip(range(1, HEADER_SEARCH_ROWS + 1), rows):
            while row and not row[-1]:
                row.pop()
            columns = map_columns(row, overrides)
            if "company" in columns:
                rows.close()
                return line, [clean_cell(cell) for cell in row], columns
        rows.close()
        chosen = [header for header, name in overrides.items() if name == "company"]
        if chosen:
            raise ImportFileError(_l("%(file)s has no column \"%(header)s\" in its first %(n)d rows.",
                                     file=self.name, header=chosen[0], n=HEADER_SEARCH_ROWS))
        raise ImportFileError(_l("%(file)s has no company column: one of its first %(n)d rows must name the "
                                 "columns, one of them \"公司名称\" (or \"company\").", file=self.name,
                                 n=HEADER_SEARCH_ROWS))

    def _check_size(self, max_rows):
        rows = self.estimate
        if rows > max_rows and self.kind == "csv":
            rows = self._count_records()  # lines overcount the rows when cells span lines
        if rows > max_rows:
            raise ImportFileError(table_sizes.too_many_rows(self.name, rows, max_rows))

    # --- CSV -------------------------------------------------------------------------

    def _count_lines(self):
        count, last = 0, b"\n"
        with self.source.open() as handle:
            while block := handle.read(1 << 20):
                count += block.count(b"\n")
                last = block[-1:]
        return count + (last != b"\n")

    def _count_records(self):
        """The non-blank rows after the header, read (not estimated)."""
        return sum(1 for _number, _values in self)

    def _csv_rows(self):
        if csv.field_size_limit() < _FIELD_SIZE_MAX:
            csv.field_size_limit(_FIELD_SIZE_MAX)  # a huge cell is a row to refuse, not a file to give up on
        with io.TextIOWrapper(self.source.open(), encoding=self.encoding, newline="") as handle:
            try:
                yield from csv.reader(handle)
            except csv.Error as error:
                raise ImportFileError(_l("%(file)s is not a CSV file we can read: %(error)s",
                                         file=self.name, error=str(error))) from None

    # --- the rows --------------------------------------------------------------------

    def __iter__(self):
        """(row number, {field: text}) for each non-blank row after the header; row 1 is
        the one right below the header (blank rows are counted, not returned)."""
        rows = self._raw_rows()
        for _ in range(self.header_line):
            next(rows, None)
        columns = list(self.columns.items())
        number = 0
        for raw in rows:
            number += 1
            if not any(c.strip() for c in raw if c):
                continue
            width = len(raw)
            # control characters dropped here, for the command line and the browser's imports alike (services/text.py)
            yield number, {name: (clean_cell(raw[i]) if i < width else "") for name, i in columns}


class _StreamedSheet:
    """The first sheet of an .xlsx read row by row (openpyxl's read-only mode), never as a grid: for
    a sheet whose extent a dense reader cannot hold (a stray cell far to the right or below)."""

    def __init__(self, source):
        import openpyxl  # here: only such files need it, and the child process that reads them

        self.book = openpyxl.load_workbook(source.open(), read_only=True, data_only=True)
        self.sheet = self.book.worksheets[0]

    def rows(self, width=None):
        """Rows as lists of values, `width` cells each once the header is known; before, the header
        rows as wide as they are written (the check of their width refuses a wide one)."""
        if width is None:
            rows = self.sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
        else:
            rows = self.sheet.iter_rows(max_col=max(width, 1), values_only=True)
        return (list(row) for row in rows)
