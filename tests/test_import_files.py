"""Every file an office in China saves, through `flask opportunities import / check` (issue 10).

Workbooks saved by an office suite (tests/data/*-libreoffice.*, made by LibreOffice with
tests/data/make_office_files.py: a title row above the headers, a mobile stored as a number,
a date, a CONCATENATE formula), CSV in the encodings Excel writes, the header found below
title rows, a column mapping chosen by hand, a limit on rows; every bad file refused in one
Chinese line with nothing written; and the report in Chinese, as CSV and as .xlsx.
"""
import csv
import io
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from test_import import (
    DUPLICATE,
    INVALID,
    LIBRARY_FULL,
    NO,
    REPORT_HEADERS,
    REVIEW,
    YES,
    check_json,
    companies,
    count,
    read_report,
    run_import,
)

from conftest import zh
from models import Opportunity, db
from services import imports
from services.library import opportunities

DATA = Path(__file__).resolve().parent / "data"
OFFICE_FILES = ["customers-libreoffice.xlsx", "customers-libreoffice.xls", "customers-libreoffice.ods"]
OFFICE_COMPANIES = ["扬州恒达机械厂", "苏州精工模具有限公司", "杭州新星电子科技有限公司"]

NOT_A_SPREADSHEET = ("%(file)s is not a spreadsheet (perhaps another kind of file renamed): open it in Excel or WPS "
                     "and save it as .xlsx.")
DAMAGED = ("%(file)s is damaged or not a workbook we can read (%(error)s): open it in Excel or WPS and save it "
           "again as .xlsx.")
PASSWORD = "%(file)s is protected by a password: open it in Excel or WPS, remove the password and save it again."
EMPTY = "%(file)s is empty (0 bytes)."
EMPTY_SHEET = "The first sheet of %(file)s is empty."
NO_COMPANY = ("%(file)s has no company column: one of its first %(n)d rows must name the columns, one of them "
              "\"公司名称\" (or \"company\").")
NO_SUCH_COLUMN = "%(file)s has no column \"%(header)s\" in its first %(n)d rows."
UNKNOWN_FIELD = "Unknown field in the column mapping: %(field)s"
SUFFIX = "%(file)s: only .csv, .xlsx, .xls and .ods files can be imported."
UTF16 = "%(file)s is UTF-16 text: save it as CSV (UTF-8) or .xlsx."
NUL_BYTES = ("%(file)s is not a text file in UTF-8 or GB18030 (it holds NUL bytes); save it as CSV (UTF-8) "
             "or .xlsx.")
NOT_GB18030 = "%(file)s is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8) or .xlsx."
TOO_MANY_ROWS = ("%(file)s has %(rows)d rows, more than the %(max)d that can be imported at once "
                 "(CRM_IMPORT_MAX_ROWS): split it into smaller files.")
TOO_LONG = "%(field)s may have at most %(n)d characters."


def office_file(tmp_path, name):
    """A copy of a LibreOffice fixture (the report is written beside the file, never into tests/data)."""
    return Path(shutil.copy(DATA / name, tmp_path / name))


def write_text(path, text, encoding="utf-8"):
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def write_sheet(path, rows, start="A1"):
    """An .xlsx with `rows` from cell `start` on (openpyxl, as a program would export it)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    first = sheet[start]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.cell(row=first.row + r, column=first.column + c, value=value)
    workbook.save(path)
    return path


def mobiles_and_addresses(app):
    with app.app_context():
        return sorted(db.session.execute(select(Opportunity.company, Opportunity.mobile, Opportunity.address)).all())


def refused(runner, path, *options):
    """The one line each command prints for a file it refuses (the same for all three)."""
    outputs = set()
    for command in (["import", str(path)], ["import", str(path), "--skip-check"], ["check", str(path), "--json"]):
        result = runner.invoke(args=["opportunities", *command, *options])
        assert result.exit_code == 1, (command, result.output)
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
        assert result.stdout == ""
        assert len(result.output.strip().splitlines()) == 1, result.output
        outputs.add(result.output.strip())
    [line] = outputs
    assert line.startswith("Error: ")
    return line[len("Error: "):]


# --- workbooks saved by an office suite ----------------------------------------------------------

@pytest.mark.parametrize("name", OFFICE_FILES)
def test_a_workbook_saved_by_libreoffice_imports(runner, org, tmp_path, app, name):
    path = office_file(tmp_path, name)
    results = check_json(runner, path)
    assert [(r["row"], r["verdict"]) for r in results] == [(1, "new"), (2, "new"), (3, "new")]
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "read 3, imported 3, duplicates 0, invalid 0" in result.output
    # the mobile stored as a number keeps its digits; the formula gives its cached value
    assert mobiles_and_addresses(app) == sorted([
        ("扬州恒达机械厂", "13902201234", "江苏扬州市邗江区"), ("苏州精工模具有限公司", "13700001111", "江苏苏州市吴中区"),
        ("杭州新星电子科技有限公司", "13800002222", "")])
    assert read_report(path) == []


@pytest.mark.parametrize("name", OFFICE_FILES)
def test_the_report_names_the_lines_of_the_sheet_below_its_title_row(runner, org, tmp_path, app, name):
    path = office_file(tmp_path, name)
    assert run_import(runner, path).exit_code == 0
    again = run_import(runner, path)
    assert again.exit_code == 0 and "imported 0, duplicates 3" in again.output
    report = read_report(path)
    # the title on line 1, an empty line 2, the headers on line 3: the customers are lines 4 to 6
    assert [(r["row"], r["verdict"], r["company"], r["imported"]) for r in report] == [
        ("4", DUPLICATE, "扬州恒达机械厂", NO), ("5", DUPLICATE, "苏州精工模具有限公司", NO),
        ("6", DUPLICATE, "杭州新星电子科技有限公司", NO)]


def test_the_reader_of_a_libreoffice_xls(app):
    reader = imports.RowReader(DATA / "customers-libreoffice.xls")
    assert reader.headers == ["公司名称", "电话", "手机", "省份", "城市", "地址", "登记日期", "备注"]
    assert reader.header_line == 3 and reader.line(1) == 4 and reader.estimate == 3
    assert reader.columns == {"company": 0, "phone": 1, "mobile": 2, "province": 3, "city": 4, "address": 5,
                              "note": 7}  # 备注: the customer's first note (an imported one)
    rows = list(imports.RowReader(DATA / "customers-libreoffice.xls",
                                  columns={"登记日期": "contact", "备注": "industry", "地址": None}))
    assert rows[0] == (1, {"company": "扬州恒达机械厂", "phone": "0514-2398577", "mobile": "13902201234",
                           "province": "江苏", "city": "扬州", "contact": "2026-03-01", "industry": "老客户"})
    assert [number for number, _values in rows] == [1, 2, 3]


def test_a_column_mapping_on_the_command_line(runner, org, tmp_path, app):
    """--column HEADER=FIELD reads a column the names do not give (here the date, as the sheet shows it)."""
    path = office_file(tmp_path, "customers-libreoffice.xls")
    result = run_import(runner, path, "--column", "登记日期=contact", "--column", "备注=industry",
                        "--column", "手机=")
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.execute(select(Opportunity.company, Opportunity.contact, Opportunity.industry,
                                         Opportunity.mobile).order_by(Opportunity.id)).all()
    assert [tuple(r) for r in rows] == [("扬州恒达机械厂", "2026-03-01", "老客户", ""),
                                        ("苏州精工模具有限公司", "2026-03-02", "", ""),
                                        ("杭州新星电子科技有限公司", "", "重点", "")]


def test_cells_read_as_the_sheet_shows_them(app, tmp_path):
    path = write_sheet(tmp_path / "cells.xlsx", [
        ["公司名称", "电话", "手机", "联系人", "地址", "行业", "邮箱", "重点客户"],
        ["扬州恒达机械厂", 65432100, 13902201234.0, datetime(2026, 3, 1, 9, 30), date(2026, 3, 2), 0.1 + 0.2,
         1.5, True],
    ], start="B3")  # nothing above or left of the table: its lines are still the sheet's
    reader = imports.RowReader(path)
    assert reader.header_line == 3 and reader.line(1) == 4
    [(number, values)] = list(reader)
    assert number == 1
    assert values == {"company": "扬州恒达机械厂", "phone": "65432100", "mobile": "13902201234",
                      "contact": "2026-03-01 09:30", "address": "2026-03-02", "industry": "0.3", "email": "1.5",
                      "key_customer": "TRUE"}
    assert imports.row_input(values).key_customer is True


# --- CSV ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("header", ["公司名称,电话,手机,城市", "Company,Phone,Mobile,City"])
def test_csv_below_a_title_row_in_the_encodings_excel_writes(runner, org, tmp_path, app, encoding, header):
    path = write_text(tmp_path / "客户.csv", f"2026年客户名单,,,\n,,,\n{header}\n"
                                            "廣州市美華陶瓷有限公司,020-83334444,13902201234,广州\n"
                                            "廣州市美华陶瓷有限公司,,,广州\n", encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert companies(app) == ["廣州市美華陶瓷有限公司"]
    [row] = read_report(path)
    assert (row["row"], row["verdict"], row["imported"]) == ("5", DUPLICATE, NO)
    assert zh(app, "row %(row)d of this file", row=4) in row["matched"]


def test_csv_column_mapping_and_its_mistakes(runner, org, tmp_path, app):
    path = write_text(tmp_path / "a.csv", "抬头,电话\n扬州恒达机械厂,0514-2398577\n")
    assert refused(runner, path) == zh(app, NO_COMPANY, file="a.csv", n=10)
    assert refused(runner, path, "--column", "抬头=moon") == zh(app, UNKNOWN_FIELD, field="moon")
    assert refused(runner, path, "--column", "客户=company") == zh(app, NO_SUCH_COLUMN, file="a.csv", header="客户",
                                                                   n=10)
    assert count(app) == 0
    result = run_import(runner, path, "--column", "抬头=company", "--column", "电话=")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(Opportunity.company, Opportunity.phone)).one() == ("扬州恒达机械厂", "")


def test_a_mapping_that_ignores_the_company_column_is_refused(runner, org, tmp_path, app):
    path = write_text(tmp_path / "b.csv", "公司名称,电话\n扬州恒达机械厂,0514-2398577\n")
    assert refused(runner, path, "--column", "公司名称=") == zh(app, NO_COMPANY, file="b.csv", n=10)
    assert count(app) == 0


def test_the_header_is_searched_in_the_first_ten_rows_only(runner, org, tmp_path, app):
    path = write_text(tmp_path / "c.csv", "说明\n" * 10 + "公司名称\n扬州恒达机械厂\n")
    assert refused(runner, path) == zh(app, NO_COMPANY, file="c.csv", n=10)
    write_text(path, "说明\n" * 9 + "公司名称\n扬州恒达机械厂\n")
    assert run_import(runner, path).exit_code == 0 and count(app) == 1


# --- max_rows ----------------------------------------------------------------------------------

def test_max_rows_of_a_workbook(runner, org, tmp_path, app):
    path = office_file(tmp_path, "customers-libreoffice.xls")
    assert refused(runner, path, "--max-rows", "2") == zh(app, TOO_MANY_ROWS, file=path.name, rows=3, max=2)
    assert count(app) == 0 and not imports.report_path_for(path).exists()
    assert run_import(runner, path, "--max-rows", "3").exit_code == 0 and count(app) == 3


def test_max_rows_of_a_csv_counts_rows_not_lines(runner, org, tmp_path, app):
    path = write_text(tmp_path / "d.csv", "公司名称,地址\n扬州恒达机械厂,\"江苏省\n扬州市\n邗江区\"\n苏州精工模具有限公司,\n"
                                          "杭州新星电子科技有限公司,\n")
    assert refused(runner, path, "--max-rows", "2") == zh(app, TOO_MANY_ROWS, file="d.csv", rows=3, max=2)
    assert count(app) == 0
    # six lines below the header, but three rows: a cell spanning lines is one row
    assert run_import(runner, path, "--max-rows", "3").exit_code == 0 and count(app) == 3


# --- bad input -----------------------------------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _truncated(path):
    data = (DATA / f"customers-libreoffice{path.suffix}").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _no_company_sheet(path):
    write_sheet(path, [["2026年客户名单"], ["电话", "城市"], ["0514-2398577", "扬州"]])


def _empty_sheet(path):
    openpyxl.Workbook().save(path)


BAD_FILES = [  # (name, how to make it, message, its variables but the file's name)
    ("picture.xlsx", lambda p: p.write_bytes(PNG), NOT_A_SPREADSHEET, {}),
    ("picture.xls", lambda p: p.write_bytes(PNG), NOT_A_SPREADSHEET, {}),
    ("truncated.xlsx", _truncated, DAMAGED, {"error": ...}),
    ("truncated.xls", _truncated, DAMAGED, {"error": ...}),
    ("encrypted-libreoffice.xlsx", lambda p: shutil.copy(DATA / p.name, p), PASSWORD, {}),
    ("encrypted-libreoffice.xls", lambda p: shutil.copy(DATA / p.name, p), PASSWORD, {}),
    ("empty.xlsx", lambda p: p.write_bytes(b""), EMPTY, {}),
    ("empty.xls", lambda p: p.write_bytes(b""), EMPTY, {}),
    ("empty.csv", lambda p: p.write_bytes(b""), EMPTY, {}),
    ("no_company.xlsx", _no_company_sheet, NO_COMPANY, {"n": 10}),
    ("blank.xlsx", _empty_sheet, EMPTY_SHEET, {}),
    ("utf16.csv", lambda p: p.write_bytes("公司名称\r\n扬州恒达机械厂\r\n".encode("utf-16")), UTF16, {}),
    ("utf16le.csv", lambda p: p.write_bytes("公司名称\r\n扬州恒达机械厂\r\n".encode("utf-16-le")), NUL_BYTES, {}),
    ("latin1.csv", lambda p: p.write_bytes("company,city\r\nCafé,Paris\r\n".encode("latin-1")), NOT_GB18030, {}),
    ("customers.numbers", lambda p: p.write_bytes(b"PK\x03\x04"), SUFFIX, {}),
    ("customers.txt", lambda p: p.write_bytes("公司名称\r\n扬州恒达机械厂\r\n".encode()), SUFFIX, {}),
]


@pytest.mark.parametrize("name, make, message, variables", BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_bad_files_are_refused_in_one_chinese_line(runner, org, tmp_path, app, name, make, message, variables):
    path = tmp_path / name
    make(path)
    line = refused(runner, path)
    if variables.get("error") is ...:  # calamine's own words in the middle
        pattern = re.escape(zh(app, message, file=name, error="\x00")).replace("\x00", ".+")
        assert re.fullmatch(pattern, line), line
    else:
        assert line == zh(app, message, file=name, **variables)
    assert count(app) == 0
    assert not imports.report_path_for(path).exists()


def test_a_3mb_cell_of_a_workbook_is_an_invalid_row_and_the_rest_imports(runner, org, tmp_path, app):
    big = "瑞" * (3 * 1024 * 1024 // 3)
    path = write_sheet(tmp_path / "big.xlsx", [["公司名称", "电话"], [big, "0514-2398577"],
                                               ["苏州精工模具有限公司", "0512-65432100"]])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "read 2, imported 1, duplicates 0, invalid 1" in result.output
    assert companies(app) == ["苏州精工模具有限公司"]
    [row] = read_report(path)
    limit = opportunities.FIELD_LIMITS["company"]
    assert (row["row"], row["verdict"]) == ("2", INVALID)
    assert row["reason"] == zh(app, TOO_LONG, field=zh(app, "Company name"), n=limit)
    assert len(row["company"]) <= 300


# --- the report in Chinese -----------------------------------------------------------------------

VERDICTS = {"duplicate": DUPLICATE, "review": REVIEW, "invalid": INVALID, "library_full": LIBRARY_FULL}
REPORT_ROWS = [  # as any code builds them: the keys and codes of imports.REPORT_COLUMNS
    {"row": 4, "verdict": "duplicate", "reason": "名称相同", "company": "扬州恒达机械厂", "matched": "扬州恒达机械厂 (#1 公海)",
     "imported": "no"},
    {"row": 5, "verdict": "review", "reason": "名称相似", "company": "扬州恒达机械有限公司", "matched": "", "imported": "yes"},
    {"row": 6, "verdict": "invalid", "reason": "公司名称过短", "company": "=HYPERLINK(\"http://x\")", "matched": "",
     "imported": "no"},
    {"row": 7, "verdict": "library_full", "reason": "库已满（130个客户）", "company": "苏州精工模具有限公司", "matched": "",
     "imported": "no"},
]
WRITTEN = [["4", DUPLICATE, "名称相同", "扬州恒达机械厂", "扬州恒达机械厂 (#1 公海)", NO],
           ["5", REVIEW, "名称相似", "扬州恒达机械有限公司", "", YES],
           ["6", INVALID, "公司名称过短", "'=HYPERLINK(\"http://x\")", "", NO],  # never a formula
           ["7", LIBRARY_FULL, "库已满（130个客户）", "苏州精工模具有限公司", "", NO]]


def test_the_report_in_chinese_as_csv_and_as_xlsx(app, tmp_path):
    with app.app_context():  # the command line's language: Babel's default, Simplified Chinese
        imports.write_report(tmp_path / "r.csv", REPORT_ROWS)
        imports.write_report_xlsx(tmp_path / "r.xlsx", REPORT_ROWS)
    raw = (tmp_path / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(raw.decode("utf-8-sig")))) == [REPORT_HEADERS, *WRITTEN]
    sheet = CalamineWorkbook.from_path(tmp_path / "r.xlsx").get_sheet_by_index(0)
    assert [[_text(v) for v in row] for row in sheet.to_python()] == [REPORT_HEADERS, *WRITTEN]
    workbook = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert workbook.active.title == zh(app, "Import report")
    assert workbook.active["D4"].data_type == "s"  # text, not a formula
    assert not (tmp_path / "r.csv.tmp").exists() and not (tmp_path / "r.xlsx.tmp").exists()


def _text(value):
    return str(int(value)) if isinstance(value, float) else value


def test_the_verdict_labels_are_the_catalogs(app):
    """The labels written are the catalog's, so that a change of wording reaches the tests here."""
    labels = {"duplicate": "Duplicate", "review": "Needs confirmation", "invalid": "Invalid",
              "library_full": "Library full"}
    for verdict, msgid in labels.items():
        assert zh(app, msgid) == VERDICTS[verdict]
        assert imports.REPORT_VERDICTS[verdict]._args[0] == msgid
    assert [zh(app, imports.REPORT_HEADERS[name]._args[0]) for name in imports.REPORT_COLUMNS] == REPORT_HEADERS
    assert (zh(app, "Yes"), zh(app, "No")) == (YES, NO)


def test_an_import_writes_every_label_of_the_report(runner, org, tmp_path, app):
    """Through the command line: duplicate, review and invalid rows, the review one imported."""
    path = write_text(tmp_path / "e.csv", "公司名称,省份\n上海市瑞丽服装有限公司,上海\n上海市瑞丽服装有限公司,上海\n"
                                          "上海睿丽服装有限公司,上海\n鑫,\n")
    assert run_import(runner, path).exit_code == 0
    assert [(r["row"], r["verdict"], r["imported"]) for r in read_report(path)] == [
        ("3", DUPLICATE, NO), ("4", REVIEW, YES), ("5", INVALID, NO)]
