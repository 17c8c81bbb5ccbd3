"""The database's backstop under the duplicate check: a unique index on mobile numbers (issue 5).

The LibraryLock serialises every entry, so the check itself refuses a second record with
a known mobile (tests/test_concurrency*.py). The partial unique index
uq_opportunity_phone_mobile (migration 0006: (field, local) where kind = 'mobile') is the last
word when a record was written around the check: its collision must be the same clean
refusal, a 409 `duplicate` in Chinese, never a 500. Around it: the migration clears the
collisions that `--skip-check` imports left, a soft-deleted customer holds no mobile key (so
it blocks no new entry, and its restore is refused in words), and the import fast path
reports a held mobile as a duplicate row instead of failing the whole file.
"""
from datetime import datetime, timezone

import pytest
from sqlalchemy import column, create_engine, func, insert, inspect, select, table, text
from sqlalchemy.exc import IntegrityError
from test_import import DUPLICATE, NO, read_report, run_import, write_csv
from test_soft_delete import _deleted_at, _post

from app import create_app
from conftest import zh
from helpers import ApiClient, api_token
from models import Opportunity, OpportunityPhone, OpportunityTerm, db
from services import imports
from services.checking import dedup
from services.library import opportunities
from services.library.opportunities import OpportunityInput

INDEX = "uq_opportunity_phone_mobile"
MISSED = "A customer with this phone number exists already and cannot be entered."
RESTORE_HELD = "%(company)s cannot be restored: its mobile %(number)s now belongs to another customer."
HELD = "mobile %(number)s belongs to another customer already"
EARLIER_ROW = "mobile %(number)s is on row %(row)d of this file already"


def _check_that_misses(monkeypatch):
    """The check finds nothing, as if the first record had been written around it."""
    real, real_many = dedup.check, dedup.check_many
    monkeypatch.setattr(dedup, "check", lambda session, **_keys: real(session, company="毫不相干测试公司"))
    monkeypatch.setattr(dedup, "check_many", lambda session, queries, exclude_ids=None, counts=None: real_many(
        session, [{"company": "毫不相干测试公司"}] * len(queries)))  # a file's rows are checked in batches


def _mobile_keys(app):
    """{(company, field, local)} of every mobile key in the database."""
    with app.app_context():
        return set(db.session.execute(select(Opportunity.company, OpportunityPhone.field, OpportunityPhone.local)
                                      .join(Opportunity).where(OpportunityPhone.kind == "mobile")).all())


def test_the_index_comes_from_the_migrations(app):
    with app.app_context():
        indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("opportunity_phone")}
    assert indexes[INDEX]["unique"] and indexes[INDEX]["column_names"] == ["field", "local"]


def test_a_mobile_the_check_missed_is_refused_by_the_index_with_a_409(app, org, monkeypatch):
    sales_a = ApiClient(app, app.test_client(), api_token(app, "sales_a"))
    sales_b = ApiClient(app, app.test_client(), api_token(app, "sales_b"))
    first = sales_a.post("/opportunities", {"company": "深圳华强电子有限公司", "mobile": "138-1234-5678"})
    assert first.status_code == 201
    _check_that_misses(monkeypatch)
    second = sales_b.post("/opportunities", {"company": "东莞长安五金厂", "phone": "+86 138 1234 5678"})
    assert second.status_code == 409
    assert second.get_json()["error"] == "duplicate"
    assert second.get_json()["message"] == zh(app, MISSED)
    with app.app_context():
        assert db.session.scalars(db.select(Opportunity.company)).all() == ["深圳华强电子有限公司"]


def test_with_the_check_the_index_changes_nothing(app, org):
    """The check refuses first, naming where the customer lives; the same mobile as phone and fax is allowed."""
    sales_a = ApiClient(app, app.test_client(), api_token(app, "sales_a"))
    sales_b = ApiClient(app, app.test_client(), api_token(app, "sales_b"))
    both = sales_a.post("/opportunities", {"company": "深圳华强电子有限公司", "mobile": "13812345678",
                                           "fax": "13812345678"})
    assert both.status_code == 201
    again = sales_b.post("/opportunities", {"company": "东莞长安五金厂", "mobile": "13812345678"})
    assert again.status_code == 409 and again.get_json()["matches"]
    assert again.get_json()["message"] != zh(app, MISSED)


def test_a_mobile_typed_twice_in_one_record_is_one_key(app, org):
    """Once with an extension, once without: one row, not a collision of the record with itself."""
    sales_a = ApiClient(app, app.test_client(), api_token(app, "sales_a"))
    entered = sales_a.post("/opportunities", {"company": "深圳华强电子有限公司", "phone": "13812345678转1",
                                              "mobile": "13812345678"})
    assert entered.status_code == 201
    assert _mobile_keys(app) == {("深圳华强电子有限公司", "phone", "13812345678")}


# --- the migration ----------------------------------------------------------------------------


@pytest.fixture
def empty_database(_schema, tmp_path):
    """(url, engine options) of an empty database of its own: a file on SQLite, a schema on PostgreSQL."""
    if _schema.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path / "migrated.sqlite3"), {}
        return
    engine = create_engine(_schema)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS backstop_migration CASCADE"))
        conn.execute(text("CREATE SCHEMA backstop_migration"))
    yield _schema, {"connect_args": {"options": "-csearch_path=backstop_migration"}}
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA backstop_migration CASCADE"))
    engine.dispose()


def _stored(session, company, created, deleted=False, **phones):
    """A record as a `--skip-check` import of an older release left it: no check, its own created_at.

    Written with the columns the old schema has (the model holds columns of later migrations)."""
    data = OpportunityInput(company=company, **phones)
    keys = dedup.query_keys(data.company, None, None, data.phone, data.fax, data.mobile)
    key = keys["company_key"]
    at = datetime(*created, tzinfo=timezone.utc)
    values = {"company": company, "phone": data.phone, "mobile": data.mobile, "fax": data.fax,
              "province": key.province, "city": key.city, "key_customer": False, "location": "public_pool",
              "entered_at": at, "created_at": at, "name_folded": key.folded, "name_core": key.core,
              "norm_province": key.province, "norm_city": key.city, "norm_district": key.district,
              "deleted_at": datetime(2026, 6, 1, tzinfo=timezone.utc) if deleted else None}
    # a bare table of these columns only: the model's insert would add its later columns' defaults (imported)
    old_table = table("opportunity", column("id"), *(column(name) for name in values))
    opportunity_id = session.execute(insert(old_table).values(**values).returning(old_table.c.id)).scalar_one()
    rows = dedup.phone_rows(opportunity_id, keys)
    if rows:
        session.execute(insert(OpportunityPhone), rows)
    session.execute(insert(OpportunityTerm), dedup.index_rows(opportunity_id, keys))
    return opportunity_id


def test_the_migration_keeps_each_mobile_on_its_oldest_live_customer(empty_database):
    from flask_migrate import downgrade, upgrade

    url, engine_options = empty_database
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "tests-only-secret",
                      "CRM_CAPTCHA": False, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **engine_options}})
    with app.app_context():
        migrations = app.extensions["migrate"].directory
        upgrade(directory=migrations, revision="0005")
        s = db.session
        # entered later but with the lower id: the age decides, not the id
        later = _stored(s, "深圳华强电子有限公司", (2026, 3, 1), mobile="13812345678", phone="0755-26668888")
        oldest = _stored(s, "东莞长安五金厂", (2025, 1, 1), mobile="138 1234 5678", fax="13812345678")
        deleted = _stored(s, "广州恒达五金制品厂", (2024, 1, 1), deleted=True, mobile="13812345678")
        alone = _stored(s, "佛山市南海区里水惠翔印刷厂", (2026, 1, 1), mobile="13900001111")
        landline = _stored(s, "扬州五环印花厂", (2026, 2, 1), phone="0755-26668888")
        s.commit()
        s.close()
        upgrade(directory=migrations, revision="0006")
        mobiles = s.execute(select(OpportunityPhone.opportunity_id, OpportunityPhone.field, OpportunityPhone.local)
                            .where(OpportunityPhone.kind == "mobile")).all()
        assert sorted(mobiles) == sorted([(oldest, "phone", "13812345678"), (oldest, "fax", "13812345678"),
                                          (alone, "phone", "13900001111")])
        # the customers and their numbers as typed stay; landlines are left to the check
        assert s.scalar(select(func.count()).select_from(Opportunity)) == 5
        # (columns named: the model holds columns of later migrations than this schema)
        assert s.scalar(select(Opportunity.mobile).where(Opportunity.id == later)) == "13812345678"
        assert s.scalar(select(Opportunity.mobile).where(Opportunity.id == deleted))
        assert s.scalar(select(func.count()).select_from(OpportunityPhone).where(
            OpportunityPhone.local == "26668888")) == 2
        assert dedup.check(s, mobile="13812345678").verdict == "duplicate"  # the oldest still refuses
        # and a search by the mobile still finds every record that has it
        found = s.scalars(select(Opportunity.id).where(opportunities.search_clause("13812345678"))).all()
        assert sorted(found) == sorted([later, oldest, deleted])
        # the database now refuses a second holder
        with pytest.raises(IntegrityError):
            s.execute(insert(OpportunityPhone), [{"opportunity_id": later, "field": "phone", "kind": "mobile",
                                                  "local": "13812345678", "area_code": ""}])
        s.rollback()
        s.close()
        downgrade(directory=migrations, revision="0005")
        assert INDEX not in {i["name"] for i in inspect(db.engine).get_indexes("opportunity_phone")}
        s.execute(insert(OpportunityPhone), [{"opportunity_id": landline, "field": "phone", "kind": "mobile",
                                              "local": "13812345678", "area_code": ""}])
        s.commit()
        s.close()
        db.engine.dispose()


# --- soft delete and restore --------------------------------------------------------------------


def _entered(app, login, **fields):
    response = ApiClient(app, app.test_client(), api_token(app, login)).post("/opportunities", fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_deleted_customers_mobile_blocks_no_entry_and_comes_back_with_it(client, auth, org, app):
    gone = _entered(app, "sales_a", company="深圳华强电子有限公司", mobile="13812345678", fax="13812345678")
    auth.login("admin_a")
    _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=gone)
    assert _mobile_keys(app) == set()
    # the admin still finds it by its mobile in the 已删除 view
    assert "深圳华强电子有限公司" in client.get("/opportunities/?show=deleted&search=13812345678").get_data(as_text=True)
    assert "深圳华强电子有限公司" not in client.get("/opportunities/?show=deleted&search=13812345679").get_data(
        as_text=True)
    # another company with that mobile is entered (the check ignores deleted ones; so does the index)
    _entered(app, "sales_b", company="东莞长安五金厂", mobile="13900001111")
    assert _mobile_keys(app) == {("东莞长安五金厂", "phone", "13900001111")}
    restored = _post(client, "/opportunities/restore/", "/opportunities/?show=deleted", id=gone)
    assert zh(app, "%(n)d customers restored.", n=1) in restored.get_data(as_text=True)
    assert _mobile_keys(app) == {("东莞长安五金厂", "phone", "13900001111"),
                                 ("深圳华强电子有限公司", "phone", "13812345678"),
                                 ("深圳华强电子有限公司", "fax", "13812345678")}


def test_a_deleted_customers_mobile_may_be_entered_again_and_then_its_restore_is_refused(client, auth, org, app):
    gone = _entered(app, "sales_a", company="深圳华强电子有限公司", mobile="13812345678")
    auth.login("admin_a")
    _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=gone)
    _entered(app, "sales_b", company="东莞长安五金厂", mobile="+86 138 1234 5678")
    refused = _post(client, "/opportunities/restore/", "/opportunities/?show=deleted", id=gone)
    message = zh(app, "%(company)s cannot be restored: the same customer exists again (%(other)s, in %(place)s).",
                 company="深圳华强电子有限公司", other="东莞长安五金厂",
                 place=zh(app, "the library of %(owner)s", owner="sales_b"))
    assert message in refused.get_data(as_text=True)
    assert _deleted_at(app, gone) is not None
    assert _mobile_keys(app) == {("东莞长安五金厂", "phone", "13812345678")}


def test_a_restore_the_check_lets_through_is_refused_by_the_index_in_words(client, auth, org, app, monkeypatch):
    gone = _entered(app, "sales_a", company="深圳华强电子有限公司", mobile="13812345678")
    auth.login("admin_a")
    _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=gone)
    _entered(app, "sales_b", company="东莞长安五金厂", mobile="13812345678")
    _check_that_misses(monkeypatch)  # its holder beyond the candidates the check judges
    refused = _post(client, "/opportunities/restore/", "/opportunities/?show=deleted", id=gone)
    assert refused.status_code == 200
    assert zh(app, RESTORE_HELD, company="深圳华强电子有限公司", number="13812345678") in refused.get_data(as_text=True)
    assert _deleted_at(app, gone) is not None
    assert _mobile_keys(app) == {("东莞长安五金厂", "phone", "13812345678")}


# --- imports ------------------------------------------------------------------------------------


def _file(tmp_path, rows):
    """Rows of (company, phone, fax, mobile) as a CSV with the Chinese header."""
    return write_csv(tmp_path / "mobiles.csv", [[company, phone, fax, mobile, "", "", "", "", "", ""]
                                                for company, phone, fax, mobile in rows])


IMPORTED = [  # with 深圳华强电子有限公司 (13812345678) in the database
    ("东莞长安五金厂", "", "", "138 1234 5678"),  # 1: held in the database
    ("佛山市南海区里水惠翔印刷厂", "", "", "13900001111"),  # 2: imported
    ("扬州五环印花厂", "", "", "139-0000-1111"),  # 3: row 2's mobile
    ("广州恒达五金制品厂", "", "13900001111", ""),  # 4: row 2's mobile as a fax: another key, imported
    ("苏州新天地纺织厂", "13700001111转8", "", "13700001111"),  # 5: its own mobile twice: imported, one key
]


@pytest.mark.parametrize("parallel", [False, True])
def test_the_fast_path_reports_mobiles_held_in_the_database_or_by_an_earlier_row(runner, org, tmp_path, app,
                                                                                 monkeypatch, parallel):
    _entered(app, "sales_a", company="深圳华强电子有限公司", mobile="13812345678")
    if parallel:  # worker processes prepare the rows
        monkeypatch.setattr(imports.bulk, "PARALLEL_FROM", 1)
        monkeypatch.setattr(imports.bulk, "CHUNK", 2)
    path = _file(tmp_path, IMPORTED)
    result = run_import(runner, path, "--skip-check")
    assert result.exit_code == 0, result.output
    assert "read 5, imported 3, duplicates 2, invalid 0" in result.output
    report = read_report(path)
    assert [(r["row"], r["verdict"], r["imported"]) for r in report] == [("2", DUPLICATE, NO),
                                                                         ("4", DUPLICATE, NO)]
    assert report[0]["reason"] == zh(app, HELD, number="13812345678")
    assert report[0]["matched"].startswith("深圳华强电子有限公司（#")
    assert report[1]["reason"] == zh(app, EARLIER_ROW, number="13900001111", row=3)  # its line, as the report's
    assert _mobile_keys(app) == {("深圳华强电子有限公司", "phone", "13812345678"),
                                 ("佛山市南海区里水惠翔印刷厂", "phone", "13900001111"),
                                 ("广州恒达五金制品厂", "fax", "13900001111"),
                                 ("苏州新天地纺织厂", "phone", "13700001111")}


def test_a_migration_load_with_repeated_mobiles_builds_the_index_again(runner, org, tmp_path, app, monkeypatch):
    """Into an empty table the indexes are dropped for the load: the repeated rows are kept out, so the
    unique index is built again at the end, and the database is never asked about mobiles."""
    monkeypatch.setattr(imports.bulk, "PARALLEL_FROM", 1)
    monkeypatch.setattr(imports.bulk, "CHUNK", 2)
    monkeypatch.setattr(imports.mobiles, "held_mobiles", lambda *_: pytest.fail("an empty table was asked"))
    path = _file(tmp_path, IMPORTED[1:])
    result = run_import(runner, path, "--skip-check")
    assert result.exit_code == 0, result.output
    assert "read 4, imported 3, duplicates 1" in result.output
    assert [(r["row"], r["verdict"]) for r in read_report(path)] == [("3", DUPLICATE)]
    with app.app_context():
        indexes = {i["name"]: i for i in inspect(db.engine).get_indexes("opportunity_phone")}
    assert indexes[INDEX]["unique"]


def test_the_checked_import_reports_a_held_mobile_the_check_missed(runner, org, tmp_path, app, monkeypatch):
    _entered(app, "sales_a", company="深圳华强电子有限公司", mobile="13812345678")
    _check_that_misses(monkeypatch)
    path = _file(tmp_path, IMPORTED[:2] + IMPORTED[4:])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "read 3, imported 2, duplicates 1" in result.output
    [held] = read_report(path)
    assert (held["row"], held["verdict"], held["reason"]) == ("2", DUPLICATE, zh(app, HELD, number="13812345678"))
    assert _mobile_keys(app) == {("深圳华强电子有限公司", "phone", "13812345678"),
                                 ("佛山市南海区里水惠翔印刷厂", "phone", "13900001111"),
                                 ("苏州新天地纺织厂", "phone", "13700001111")}


# --- web leads ----------------------------------------------------------------------------------


def test_a_lead_whose_mobile_the_check_missed_goes_to_the_customer_that_holds_it(app, org, monkeypatch):
    holder = _entered(app, "sales_a", company="深圳华强电子有限公司", mobile="13812345678")
    _check_that_misses(monkeypatch)
    admin = ApiClient(app, app.test_client(), api_token(app, "admin_a"))
    answer = admin.post("/leads", {"company": "东莞长安五金厂", "mobile": "138 1234 5678", "department": "华南代理"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["existing"] is True and body["opportunity"]["id"] == holder
    with app.app_context():
        assert db.session.scalars(select(Opportunity.company)).all() == ["深圳华强电子有限公司"]
