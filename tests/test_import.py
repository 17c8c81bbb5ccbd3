"""`flask opportunities import` and `opportunities check` (docs/contract.md): files in, the
duplicate check and validation per row, the report, one transaction."""
import csv
import io
import json
import re
import zipfile

import openpyxl
import pytest
from flask_babel import lazy_gettext
from sqlalchemy import func, select, text

from conftest import set_rules
from models import Opportunity, OpportunityPhone, OpportunityTerm, ReviewConfirmation, db
from services import imports
from services.checking import dedup
from services.library import opportunities

ZH_HEADER = ["公司名称", "电话", "传真", "手机", "省份", "城市", "联系人", "行业", "信息来源", "备注"]
EN_HEADER = ["company", "phone", "fax", "mobile", "province", "city", "contact", "industry", "source"]


def write_csv(path, rows, header=ZH_HEADER, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path, rows, header=ZH_HEADER):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def count(app, model=Opportunity):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def companies(app):
    with app.app_context():
        return sorted(db.session.scalars(select(Opportunity.company)))


REPORT_HEADERS = ["行号", "结论", "原因", "公司名称", "匹配记录", "是否导入"]  # the CLI speaks Chinese
DUPLICATE, REVIEW, INVALID, LIBRARY_FULL, YES, NO = "撞单", "需确认", "无效", "库已满", "是", "否"


def read_report(path):
    """The report's rows as {REPORT_COLUMNS key: the text written}, its Chinese header checked."""
    raw = imports.report_path_for(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the report is UTF-8 with a BOM, for Excel"
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    assert header == REPORT_HEADERS
    return [dict(zip(imports.REPORT_COLUMNS, row)) for row in rows]


def run_import(runner, path, *options):
    result = runner.invoke(args=["opportunities", "import", str(path), *options])
    assert "Traceback" not in result.output
    return result


def check_json(runner, path):
    result = runner.invoke(args=["opportunities", "check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


# A file with every kind of row (Chinese headers, 备注 a first note):
MIXED = [
    ["上海市瑞丽服装有限公司", "021-62345678", "", "", "上海", "上海", "张三", "服装", "展会", "x"],
    ["扬州恒达机械厂", "0514-2398577", "0514-2398578", "13800138000", "江苏省", "扬州市", "", "", "", ""],
    ["上海瑞麗服裝廠", "(021) 6234 5678", "", "", "", "", "", "", "", ""],  # row 1 in other spellings
    ["", "021-55556666", "", "", "", "", "", "", "", ""],  # no name
    ["鑫", "", "", "", "", "", "", "", "", ""],  # one character
    ["北京宏发贸易有限公司", "0514-23985ab", "", "", "", "", "", "", "", ""],  # letters in the phone
    ["北京睿丽服装有限公司", "", "", "", "北京", "", "", "", "", ""],  # like row 1, another city: review? no: new
    ["上海睿丽服装有限公司", "", "", "", "上海", "", "", "", "", ""],  # similar to row 1: review
    ["杭州新星电子科技有限公司", "0571-88776655", "", "", "浙江", "杭州", "", "", "电视广告", ""],  # unknown source
]


def test_check_json_prints_one_object_per_row_in_order(runner, org, tmp_path):
    path = write_csv(tmp_path / "客户.csv", MIXED)
    results = check_json(runner, path)
    assert [r["row"] for r in results] == list(range(1, len(MIXED) + 1))
    verdicts = [r["verdict"] for r in results]
    assert verdicts == ["new", "new", "duplicate", "invalid", "invalid", "invalid", "new", "review", "invalid"]
    duplicate = results[2]["matches"][0]
    assert duplicate == {"opportunity_id": None, "company": "上海市瑞丽服装有限公司", "location": "file", "owner": None,
                         "matched_on": ["name", "phone"], "score": 1.0, "verdict": "duplicate",
                         "reasons": duplicate["reasons"], "row": 1}
    assert set(results[3]["errors"]) == {"company"} and set(results[5]["errors"]) == {"phone"}
    assert set(results[8]["errors"]) == {"source"}
    assert {(m["row"], m["verdict"]) for m in results[7]["matches"]} == {(1, "review"), (3, "review"), (7, "review")}
    for r in results:
        assert set(r) <= {"row", "verdict", "matches", "errors", "truncated"}
    out = runner.invoke(args=["opportunities", "check", str(path), "--json"]).stdout
    assert "上海市瑞丽服装有限公司" in out  # ensure_ascii=False
    assert count(runner.app) == 0  # check imports nothing


def test_import_writes_new_and_review_rows_and_reports_the_rest(runner, org, tmp_path, app):
    path = write_csv(tmp_path / "客户.csv", MIXED)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "read 9, imported 4, duplicates 1, invalid 4, review 1" in result.output
    assert "rows/s" in result.output
    assert companies(app) == sorted(["上海市瑞丽服装有限公司", "扬州恒达机械厂", "北京睿丽服装有限公司", "上海睿丽服装有限公司"])
    report = read_report(path)
    # rows by their line in the spreadsheet: data row 3 is line 4, below the header
    assert [(r["row"], r["verdict"], r["imported"]) for r in report] == [
        ("4", DUPLICATE, NO), ("5", INVALID, NO), ("6", INVALID, NO), ("7", INVALID, NO),
        ("9", REVIEW, YES), ("10", INVALID, NO)]
    by_row = {r["row"]: r for r in report}
    with app.app_context():  # the CLI's language: Babel's default (Chinese) outside a request
        line_2 = str(lazy_gettext("row %(row)d of this file", row=2))
    assert "上海市瑞丽服装有限公司" in by_row["4"]["matched"] and line_2 in by_row["4"]["matched"]
    assert "62345678" in by_row["4"]["reason"]
    # the reasons said from their codes in Chinese, no English word left (issue 21)
    assert not any(re.search(r"[A-Za-z]{3,}", r["reason"]) for r in report), [r["reason"] for r in report]
    assert "公司名称" in by_row["5"]["reason"]  # the CLI speaks Chinese by default
    assert by_row["6"]["company"] == "鑫" and by_row["6"]["reason"]
    assert by_row["9"]["company"] == "上海睿丽服装有限公司" and "上海市瑞丽服装有限公司" in by_row["9"]["matched"]
    with app.app_context():
        entered = db.session.scalar(select(Opportunity).where(Opportunity.company == "扬州恒达机械厂"))
        assert entered.location == "public_pool" and entered.owner_id is None
        assert {(p.field, p.kind, p.local, p.area_code) for p in entered.phones} == {
            ("phone", "landline", "2398577", "0514"), ("phone", "mobile", "13800138000", ""),
            ("fax", "landline", "2398578", "0514")}
        confirmations = db.session.scalars(select(ReviewConfirmation)).all()
        assert len(confirmations) == 1 and "上海市瑞丽服装有限公司" in confirmations[0].resembled
        source = db.session.scalar(select(Opportunity).where(Opportunity.company == "上海市瑞丽服装有限公司")).source
        assert source.name == "展会"


def test_the_same_file_twice_adds_nothing_the_second_time(runner, org, tmp_path, app):
    path = write_csv(tmp_path / "a.csv", MIXED)
    assert run_import(runner, path).exit_code == 0
    before = count(app)
    again = run_import(runner, path)
    assert again.exit_code == 0
    assert count(app) == before
    assert "imported 0" in again.output
    report = read_report(path)
    dup = [r for r in report if r["verdict"] == DUPLICATE]
    assert {r["row"] for r in dup} == {"2", "3", "4", "8", "9"}
    assert all("#" in r["matched"] for r in dup)  # the database's records, by id


def test_a_duplicate_of_a_customer_in_a_library_names_its_owner(runner, org, tmp_path, app):
    with app.app_context():
        from models import User

        sales_a = db.session.get(User, org.users["sales_a"])
        opportunities.enter(db.session, sales_a, opportunities.OpportunityInput(
            company="上海市瑞丽服装有限公司", province="上海", city="上海", phone="021-62345678"))
        db.session.commit()
    path = write_csv(tmp_path / "b.csv", [["瑞丽服装（上海）有限公司", "", "", "", "", "", "", "", "", ""],
                                          ["上海某某公司", "62345678", "", "", "上海", "", "", "", "", ""]])
    results = check_json(runner, path)
    assert [r["verdict"] for r in results] == ["duplicate", "duplicate"]
    match = results[0]["matches"][0]
    assert match["location"] == "library" and match["owner"] == "sales_a" and match["opportunity_id"]
    assert "phone" in results[1]["matches"][0]["matched_on"]
    result = run_import(runner, path)
    assert result.exit_code == 0 and "imported 0, duplicates 2" in result.output
    assert "sales_a" in read_report(path)[0]["matched"]
    assert count(app) == 1


def test_review_of_a_database_row_is_imported_and_listed(runner, org, tmp_path, app):
    write_csv(tmp_path / "first.csv", [["上海市瑞丽服装有限公司", "", "", "", "上海", "", "", "", "", ""]])
    assert run_import(runner, tmp_path / "first.csv").exit_code == 0
    path = write_csv(tmp_path / "second.csv", [["上海睿丽服装有限公司", "", "", "", "上海", "", "", "", "", ""]])
    [result] = check_json(runner, path)
    assert result["verdict"] == "review" and result["matches"][0]["location"] == "public_pool"
    assert run_import(runner, path).exit_code == 0
    assert count(app) == 2
    [row] = read_report(path)
    assert row["verdict"] == REVIEW and row["imported"] == YES and "上海市瑞丽服装有限公司" in row["matched"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_excel_uses(runner, org, tmp_path, app, encoding):
    rows = [["廣州市美華陶瓷有限公司", "020-83334444", "", "", "广东", "广州", "李四", "陶瓷", "", ""],
            ["深圳市鑫源电子有限公司", "0755-26668888", "", "", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert companies(app) == sorted(r[0] for r in rows)
    with app.app_context():
        contact = db.session.scalar(select(Opportunity.contact).where(Opportunity.company.like("廣州%")))
    assert contact == "李四"


def test_english_headers_with_a_bom_and_extra_columns(runner, org, tmp_path, app):
    header = ["Company", "Phone", "notes", "Province", "City", "district", "address", "email", "key_customer"]
    rows = [["Ningbo Haitian Plastics Co., Ltd.", "0574-86182222", "call back", "浙江", "宁波", "北仑区",
             "北仑区大港路1号", "sales@haitian.example.com", "yes"]]
    path = write_csv(tmp_path / "en.csv", rows, header=header, encoding="utf-8-sig")
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        o = db.session.scalar(select(Opportunity))
        assert (o.company, o.district, o.email, o.key_customer) == (
            "Ningbo Haitian Plastics Co., Ltd.", "北仑区", "sales@haitian.example.com", True)


def test_xlsx_with_numbers_in_phone_cells(runner, org, tmp_path, app):
    rows = [["扬州恒达机械厂", "0514-2398577", None, 13800138000, "江苏", "扬州", None, None, None, None],
            ["扬州市恒达机械有限公司", None, None, None, None, None, None, None, None, None],
            [None, None, None, None, None, None, None, None, None, None],  # blank: skipped
            ["苏州精工模具有限公司", 65432100, None, None, "江苏", "苏州", None, None, None, None]]
    path = write_xlsx(tmp_path / "客户.xlsx", rows)
    results = check_json(runner, path)
    assert [(r["row"], r["verdict"]) for r in results] == [(1, "new"), (2, "duplicate"), (4, "new")]
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert companies(app) == ["扬州恒达机械厂", "苏州精工模具有限公司"]
    with app.app_context():
        phones = db.session.scalars(select(OpportunityPhone.local)).all()
    assert sorted(phones) == ["13800138000", "2398577", "65432100"]


def test_a_3mb_field_and_a_row_without_the_company_column_value(runner, org, tmp_path, app):
    big = "瑞" * (3 * 1024 * 1024 // 3)
    path = write_csv(tmp_path / "big.csv", [[big, "", "", "", "", "", "", "", "", ""],
                                            ["宁波海天塑料有限公司", "", "", "", "", "", "", "", "", big]])
    results = check_json(runner, path)
    assert [r["verdict"] for r in results] == ["invalid", "new"]  # the big unknown column is ignored
    assert set(results[0]["errors"]) == {"company"}
    result = run_import(runner, path)
    assert result.exit_code == 0
    assert companies(app) == ["宁波海天塑料有限公司"]
    [row] = read_report(path)
    assert row["verdict"] == INVALID and len(row["company"]) <= 300


@pytest.mark.parametrize("name, content, words", [
    ("no_company.csv", "电话,城市\r\n021-62345678,上海\r\n".encode(), ["公司名称", "no_company.csv"]),
    ("utf16.csv", "公司名称,电话\r\n上海瑞丽服装厂,021-62345678\r\n".encode("utf-16"), ["UTF-16"]),
    ("utf16le.csv", "company,phone\r\nabc,123\r\n".encode("utf-16-le"), ["utf16le.csv"]),
    ("random.csv", bytes(range(256)) * 40, ["random.csv"]),
    ("binary.csv", bytes(range(1, 256)) * 40, ["binary.csv", "GB18030"]),
    ("broken.xlsx", b"PK\x03\x04 this is not a workbook" * 10, ["broken.xlsx", ".xlsx"]),
    ("text.xlsx", "公司名称\r\n上海瑞丽服装厂\r\n".encode(), ["text.xlsx"]),
    ("data.txt", b"company\r\nabc\r\n", [".csv"]),
    ("empty.csv", b"", ["empty.csv", "0"]),
])
def test_unreadable_files_fail_with_one_line_and_import_nothing(runner, org, tmp_path, app, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    for command in (["import", str(path)], ["import", str(path), "--skip-check"], ["check", str(path), "--json"]):
        result = runner.invoke(args=["opportunities", *command])
        assert result.exit_code != 0, command
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
        message = result.output.strip()
        assert len(message.splitlines()) == 1, message
        for word in words:
            assert word in message, (word, message)
        assert result.stdout == ""
    assert count(app) == 0
    assert not imports.report_path_for(path).exists()


def test_an_xlsx_zip_without_a_workbook(runner, org, tmp_path, app):
    path = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    result = runner.invoke(args=["opportunities", "import", str(path)])
    assert result.exit_code != 0 and "zip.xlsx" in result.output and "Traceback" not in result.output


def test_a_missing_file(runner, org, tmp_path):
    result = runner.invoke(args=["opportunities", "check", str(tmp_path / "nope.csv"), "--json"])
    assert result.exit_code != 0 and "nope.csv" in result.output and result.stdout == ""


def test_a_failure_mid_import_rolls_everything_back(runner, org, tmp_path, app, monkeypatch):
    path = write_csv(tmp_path / "a.csv", [[f"上海{w}贸易有限公司", "", "", "", "上海", "", "", "", "", ""]
                                          for w in ("恒达", "华鑫", "鑫源", "宏发", "金泰")])
    real_insert = opportunities.insert_opportunity
    calls = []

    def failing_insert(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(opportunities, "insert_opportunity", failing_insert)
    result = runner.invoke(args=["opportunities", "import", str(path)])
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert count(app) == 0 and count(app, OpportunityTerm) == 0 and count(app, OpportunityPhone) == 0
    assert not imports.report_path_for(path).exists()
    monkeypatch.undo()
    assert run_import(runner, path).exit_code == 0 and count(app) == 5  # the lock was released


def test_a_failure_mid_fast_import_rolls_everything_back(runner, org, tmp_path, app, monkeypatch):
    path = write_csv(tmp_path / "a.csv", [[f"上海{w}贸易有限公司", f"021-6234567{i}", "", "", "", "", "", "", "", ""]
                                          for i, w in enumerate(("恒达", "华鑫", "鑫源", "宏发", "金泰"))])
    monkeypatch.setattr(imports.bulk, "BATCH", 2)
    real_write = imports.bulk.write_batch
    calls = []

    def failing_write(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C
        return real_write(*args)

    monkeypatch.setattr(imports.bulk, "write_batch", failing_write)
    result = runner.invoke(args=["opportunities", "import", str(path), "--skip-check"])
    assert result.exit_code != 0
    assert count(app) == 0 and count(app, OpportunityTerm) == 0 and count(app, OpportunityPhone) == 0


def test_owner_library_up_to_its_cap(runner, org, tmp_path, app):
    set_rules(app, cap=3)
    with app.app_context():
        from models import User

        sales_a = db.session.get(User, org.users["sales_a"])
        opportunities.enter(db.session, sales_a, opportunities.OpportunityInput(company="广州市美华陶瓷有限公司"))
        db.session.commit()
    rows = [[f"上海{w}贸易有限公司", "", "", "", "", "", "", "", "", ""] for w in ("恒达", "华鑫", "鑫源", "宏发")]
    path = write_csv(tmp_path / "lib.csv", rows)
    result = run_import(runner, path, "--owner", "SALES_A")
    assert result.exit_code == 0, result.output
    assert "imported 2" in result.output and "library full 2" in result.output
    with app.app_context():
        owned = db.session.scalars(select(Opportunity).where(Opportunity.owner_id == org.users["sales_a"])).all()
        assert len(owned) == 3 and all(o.location == "library" for o in owned)
    report = read_report(path)
    assert [(r["row"], r["verdict"]) for r in report] == [("4", LIBRARY_FULL), ("5", LIBRARY_FULL)]
    fast = write_csv(tmp_path / "lib2.csv", [["杭州新星电子科技有限公司", "", "", "", "", "", "", "", "", ""]])
    result = run_import(runner, fast, "--owner", "sales_a", "--skip-check")
    assert result.exit_code == 0 and "imported 0" in result.output and "library full 1" in result.output


@pytest.mark.parametrize("options, word", [
    (["--owner", "nobody"], "nobody"),
    (["--owner", "admin_a"], "admin_a"),
    (["--owner", "sales_a", "--pool", "telesales"], None),
    (["--pool", "agent_admin"], "--department"),
    (["--pool", "agent_admin", "--department", "无此公司"], "无此公司"),
    (["--pool", "moon"], None),
])
def test_bad_targets_are_refused(runner, org, tmp_path, app, options, word):
    path = write_csv(tmp_path / "a.csv", MIXED[:2])
    result = run_import(runner, path, *options)
    assert result.exit_code != 0
    if word:
        assert word in result.output
    assert count(app) == 0


def test_pools(runner, org, tmp_path, app):
    for i, (options, _location) in enumerate([
            (["--pool", "telesales"], "telesales"), (["--pool", "industry"], "industry"),
            (["--pool", "agent_admin", "--department", "华南代理/销售一部"], "agent_admin_pool"),
            ([], "public_pool")]):
        path = write_csv(tmp_path / f"{i}.csv", [[f"上海{'恒达华鑫鑫源宏发'[2 * i:2 * i + 2]}贸易有限公司"] + [""] * 9])
        assert run_import(runner, path, *options).exit_code == 0
    with app.app_context():
        rows = db.session.execute(select(Opportunity.location, Opportunity.department_id)
                                  .order_by(Opportunity.id)).all()
    assert [r.location for r in rows] == ["telesales", "industry", "agent_admin_pool", "public_pool"]
    assert rows[2].department_id == org.depts["华南代理"]


def _terms_by_opportunity(app):
    with app.app_context():
        rows = db.session.execute(select(Opportunity.company, OpportunityTerm.term)
                                  .join(OpportunityTerm, OpportunityTerm.opportunity_id == Opportunity.id)).all()
        phones = db.session.execute(select(Opportunity.company, OpportunityPhone.field, OpportunityPhone.kind,
                                           OpportunityPhone.local, OpportunityPhone.area_code)
                                    .join(OpportunityPhone)).all()
        opps = db.session.execute(select(Opportunity.company, Opportunity.province, Opportunity.city,
                                         Opportunity.name_core, Opportunity.name_folded, Opportunity.norm_city,
                                         Opportunity.location, Opportunity.key_customer)).all()
    terms = {}
    for company, term in rows:
        terms.setdefault(company, set()).add(term)
    return terms, sorted(phones), sorted(opps)


CLEAN = [
    ["上海市瑞丽服装有限公司", "021-62345678", "021-62345679", "13800138000", "上海", "上海", "", "", "", ""],
    ["扬州恒达机械厂", "0514-2398577/78", "", "13900001111", "江苏", "扬州", "", "", "展会", ""],
    ["杭州新星电子科技有限公司", "", "", "13700001111", "", "", "", "", "", ""],
    ["北京宏發貿易有限公司（北京）", "010-66667777", "", "", "", "", "", "", "", ""],
    ["鑫", "", "", "", "", "", "", "", "", ""],  # invalid: reported, not imported
]


@pytest.mark.parametrize("parallel", [False, True])
def test_skip_check_writes_the_same_rows_phones_and_terms(runner, org, tmp_path, app, monkeypatch, parallel):
    path = write_csv(tmp_path / "clean.csv", CLEAN)
    assert run_import(runner, path).exit_code == 0
    expected = _terms_by_opportunity(app)
    with app.app_context():
        db.session.execute(Opportunity.__table__.delete())
        db.session.commit()
        indexes_before = sorted(imports.bulk.BulkWriter(db.session).deferred_structures())
        db.session.rollback()
    if parallel:  # worker processes, and the indexes (and on PostgreSQL keys) dropped and built again
        monkeypatch.setattr(imports.bulk, "PARALLEL_FROM", 1)
        monkeypatch.setattr(imports.bulk, "CHUNK", 2)
    result = run_import(runner, path, "--skip-check")
    assert result.exit_code == 0, result.output
    assert "read 5, imported 4, duplicates 0, invalid 1" in result.output
    assert _terms_by_opportunity(app) == expected
    with app.app_context():
        assert sorted(imports.bulk.BulkWriter(db.session).deferred_structures()) == indexes_before
        # the index finds them, and ids keep coming from where the import left them
        found = dedup.check(db.session, company="瑞丽服装(上海)有限公司")
        assert found.verdict == "duplicate"
        assert dedup.check(db.session, phone="2398578").verdict == "duplicate"
        db.session.rollback()
    more = write_csv(tmp_path / "more.csv", [["宁波海天塑料有限公司"] + [""] * 9])
    assert run_import(runner, more).exit_code == 0 and count(app) == 5
    with app.app_context():
        ids = db.session.scalars(select(Opportunity.id)).all()
        assert len(set(ids)) == 5


def test_term_hashes_equal_dedup_term_hash():
    terms = ["n:瑞丽服装", "g:瑞丽", "d:瑞服装", "p:62345678", "g:瑞丽", "n:x"]
    assert imports.term_hashes(terms) == [dedup.term_hash(t) for t in terms]


def test_progress_bar_on_long_imports(runner, org, tmp_path, app):
    rows = [[f"上海{a}{b}贸易有限公司"] + [""] * 9 for a in "恒华鑫宏金永天锦隆福" for b in "达源发泰盛成华兴瑞禾"]
    path = write_csv(tmp_path / "p.csv", rows)
    seen = []
    with app.app_context():
        summary = imports.import_file(db.session, path, skip_check=True, progress=lambda n, total: seen.append(
            (n, total)), report=False)
    assert summary.imported == 100 and sum(n for n, _ in seen) == 100 and seen[0][1] == 100


def test_check_without_json_is_one_line_per_row(runner, org, tmp_path):
    path = write_csv(tmp_path / "a.csv", MIXED[:3])
    result = runner.invoke(args=["opportunities", "check", str(path)])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[2].startswith("3\tduplicate")


def test_database_lock_row_is_taken(runner, org, tmp_path, app):
    with app.app_context():
        before = db.session.scalar(text("SELECT counter FROM library_lock WHERE id = 1"))
    path = write_csv(tmp_path / "a.csv", MIXED[:1])
    assert run_import(runner, path).exit_code == 0
    with app.app_context():
        assert db.session.scalar(text("SELECT counter FROM library_lock WHERE id = 1")) == before + 1


def test_a_phone_duplicate_is_found_beside_a_too_common_keyword(runner, org, tmp_path, app, monkeypatch):
    """The exact candidates (phone, name) are never the ones the candidate limit leaves out."""
    rows = [[f"上海瑞丽{w}贸易有限公司", "", "", "", "上海", "", "", "", "", ""] for w in "甲乙丙丁戊己庚辛"]
    rows.append(["深圳市宏发电子有限公司", "0755-26668888", "", "", "广东", "深圳", "", "", "", ""])
    assert run_import(runner, write_csv(tmp_path / "a.csv", rows), "--skip-check").exit_code == 0
    monkeypatch.setattr(dedup, "CANDIDATE_LIMIT", 5)
    with app.app_context():
        result = dedup.check(db.session, company="瑞丽", phone="26668888")
        assert result.truncated and result.verdict == "duplicate"
        assert result.hits[0].opportunity.company == "深圳市宏发电子有限公司"
        assert len(result.hits) == 5
        db.session.rollback()


def test_the_same_phone_spelled_two_ways_under_two_names_is_an_in_file_duplicate(runner, org, tmp_path, app):
    path = write_csv(tmp_path / "p.csv", [["扬州恒达机械厂", "0514-2398577", "", "", "", "", "", "", "", ""],
                                          ["扬州宏发贸易有限公司", "", "(0514) 239 8577", "", "", "", "", "", "", ""]])
    results = check_json(runner, path)
    assert [r["verdict"] for r in results] == ["new", "duplicate"]
    [match] = results[1]["matches"]
    assert match["row"] == 1 and match["matched_on"] == ["fax"] and match["location"] == "file"
    result = run_import(runner, path)
    assert "imported 1, duplicates 1" in result.output
    assert companies(app) == ["扬州恒达机械厂"]
