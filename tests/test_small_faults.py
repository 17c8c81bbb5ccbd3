"""Issue 19's small fault points, through the API and the pages as a user meets them: JSON nested
hundreds of levels deep, 70,000 review rows ticked at once (PostgreSQL's parameter limit), a `next`
that leaves the site, a file name of 300 characters, the tokens of closed accounts, an upload too
large for the page."""
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update
from test_imports import upload, uploaded, xlsx

from app import create_app
from conftest import PASSWORD, AuthActions, _config, csrf_token, post_form, zh
from helpers import ApiClient, api_token
from models import DataImport, DataImportRow, User, db
from services import clock
from services.people import accounts

TOO_DEEP = "The JSON body is nested too deeply: no call of this API takes more than a few levels."
ACCOUNT_CLOSED = ("The account of this API token is deactivated or locked: its tokens work again when an "
                  "administrator restores it.")


def _chinese(text):
    return any("\u4e00" <= c <= "\u9fff" for c in text)


# --- 1. JSON nested too deep ---------------------------------------------------------------------

@pytest.mark.parametrize("depth", [990, 100_000])
def test_json_nested_deep_answers_400_on_every_call_that_reads_json(app, api, depth):
    sales, admin = api("sales_a"), api("admin_a")
    item = uploaded(admin)
    nested = "[" * depth + "]" * depth
    calls = [(sales, "/opportunities"), (sales, "/opportunities/1/notes"), (sales, "/opportunities/1/abandon"),
             (admin, f"/imports/{item['id']}/run"), (admin, "/merges"), (admin, "/leads")]
    for caller, path in calls:
        for body in (nested, '{"company": ' + nested + "}", '{"review_rows": ' + nested + "}"):
            answer = caller.post(path, data=body)
            assert answer.status_code == 400, (path, answer.status_code, answer.get_json())
            refused = answer.get_json()
            assert refused["error"] == "bad_request" and _chinese(refused["message"]), refused
            if body.startswith("{"):  # an object: refused for its depth, and told so
                assert refused["message"] == zh(app, TOO_DEEP)
    entered = sales.post("/opportunities", {"company": "深圳嵌套测试电子有限公司", "phone": "0755-86001234"})
    assert entered.status_code == 201  # the API still answers


def test_json_a_few_levels_deep_is_still_read(api):
    """The depth limit is far above what any call takes: an import's `values` are three levels."""
    admin = api("admin_a")
    item = uploaded(admin)
    answer = admin.post(f"/imports/{item['id']}/run", {"values": {"source": {"朋友推荐": "客户介绍"}},
                                                       "review_rows": "all"})
    assert answer.status_code == 202, answer.get_json()


def test_a_list_value_where_text_is_chosen_is_refused_not_a_500(api):
    admin = api("admin_a")
    item = uploaded(admin)
    answer = admin.post(f"/imports/{item['id']}/run", {"values": {"source": {"朋友推荐": [[["客户介绍"]]]}}})
    assert answer.status_code == 422 and answer.get_json()["error"] == "invalid"


# --- 2. 70,000 review rows ticked at once ----------------------------------------------------------

ROWS_TICKED = 70_000


def test_ticking_70000_review_rows_through_the_api(app, org, tmp_path):
    """Over the 65,535 parameters psycopg allows in one statement: the rows are one parameter."""
    queued = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                         "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"})  # no worker: the run waits
    admin = ApiClient(queued, queued.test_client(), api_token(queued, "admin_a"))
    import_id = upload(admin, xlsx([["上海瑞丽服装厂", "021-62345678", "上海", ""]])).get_json()["id"]
    with queued.app_context():  # the check's preview, as a worker would have written it for a long file
        for start in range(1, ROWS_TICKED + 1, 10_000):
            db.session.execute(insert(DataImportRow), [
                {"import_id": import_id, "row": row, "line": row + 1, "verdict": "review", "company": f"公司{row}",
                 "values": "{}", "matches": "[]", "include": False}
                for row in range(start, min(start + 10_000, ROWS_TICKED + 1))])
        db.session.execute(update(DataImport).where(DataImport.id == import_id).values(
            status="ready", rows_total=ROWS_TICKED, counts='{"review": 70000}'))
        db.session.commit()
    every_other = list(range(1, ROWS_TICKED + 1, 2)) + list(range(2, ROWS_TICKED + 1, 2))
    answer = admin.post(f"/imports/{import_id}/run", {"review_rows": every_other[:ROWS_TICKED - 1]})
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["status"] == "importing"
    with queued.app_context():
        ticked = set(db.session.scalars(select(DataImportRow.row).where(
            DataImportRow.import_id == import_id, DataImportRow.include.is_(True))))
    assert len(ticked) == ROWS_TICKED - 1 and ROWS_TICKED not in ticked


# --- 3. `next` stays on the site ----------------------------------------------------------------

OFF_SITE = ["/\t/evil.example/", "/\n/evil.example", "/\\evil.example", "//evil.example", "https://evil.example",
            "/\r//evil.example", " //evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_next_never_leaves_the_site(client, org, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "root", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_login_next_keeps_a_path_of_the_site(client, org):
    response = client.post("/login", query_string={"next": "/imports/?page=2"},
                           data={"username": "root", "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/imports/?page=2"


def test_the_import_forms_next_never_leaves_the_site(app, client, auth, api):
    item = uploaded(api("admin_a"))
    auth.login("admin_a")
    page = f"/imports/{item['id']}/"
    for target in OFF_SITE:
        response = post_form(client, f"/imports/{item['id']}/include", {"action": "all", "next": target},
                             token_from=page)
        assert response.status_code == 302 and response.headers["Location"] == f"{page}?verdict=review", target
    back = post_form(client, f"/imports/{item['id']}/include", {"action": "none", "next": f"{page}?page=2"},
                     token_from=page)
    assert back.headers["Location"] == f"{page}?page=2"


# --- 4. a long file name keeps its suffix -------------------------------------------------------

def test_a_300_character_file_name_keeps_its_suffix(app, client, auth, org):
    auth.login("admin_a")
    name = "渠道客户名单" * 49 + "2026.csv"  # 302 characters
    assert len(name) > 300
    token = csrf_token(client, "/imports/new/")
    data = "公司名称,电话\n上海瑞丽服装厂,021-62345678\n".encode()
    response = client.post("/imports/new/", content_type="multipart/form-data", data={
        "csrf_token": token, "target": "public_pool", "file": (io.BytesIO(data), name)})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    with app.app_context():
        item = db.session.scalar(select(DataImport))
        assert len(item.file_name) == 255 and item.file_name.endswith(".csv") and item.status == "ready"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert item.file_name in html


# --- 5. tokens of closed accounts ------------------------------------------------------------------

def _refused_token(app, answer):
    assert answer.status_code == 401 and answer.get_json()["error"] == "unauthorized"
    assert answer.get_json()["message"] == zh(app, ACCOUNT_CLOSED)


def test_a_deactivated_accounts_token_stops_working(app, api):
    sales = api("sales_a")
    assert sales.get("/opportunities").status_code == 200
    with app.app_context():
        root = db.session.scalar(select(User).filter_by(login="root"))
        accounts.deactivate(db.session, root, db.session.scalar(select(User).filter_by(login="sales_a")))
        db.session.commit()
    _refused_token(app, sales.get("/opportunities"))
    _refused_token(app, sales.post("/opportunities", {"company": "深圳停用测试有限公司"}))


def test_a_token_of_an_account_unused_too_long_stops_working(app, api):
    sales = api("sales_a")
    with app.app_context():
        days = app.config["CRM_INACTIVE_LOCK_DAYS"]
        db.session.execute(update(User).where(User.login == "sales_a").values(
            last_seen_at=clock.now() - timedelta(days=days + 1)))
        db.session.commit()
    _refused_token(app, sales.get("/opportunities"))
    with app.app_context():  # using the token did not count as using the account
        assert accounts.is_locked(db.session.scalar(select(User).filter_by(login="sales_a")))


def test_an_admin_lock_stops_the_token_and_a_restore_brings_it_back(app, api):
    sales = api("sales_a")
    with app.app_context():
        root = db.session.scalar(select(User).filter_by(login="root"))
        user = db.session.scalar(select(User).filter_by(login="sales_a"))
        accounts.lock(db.session, root, user)
        db.session.commit()
    _refused_token(app, sales.get("/opportunities"))
    with app.app_context():
        root = db.session.scalar(select(User).filter_by(login="root"))
        accounts.unlock(db.session, root, db.session.scalar(select(User).filter_by(login="sales_a")))
        db.session.commit()
    assert sales.get("/opportunities").status_code == 200


def test_wrong_passwords_stop_the_login_form_not_the_token(app, client, api):
    sales = api("sales_a")
    for _attempt in range(app.config["CRM_LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": "sales_a", "password": "guess", "csrf_token": csrf_token(client)})
    refused = client.post("/login", data={"username": "sales_a", "password": PASSWORD,
                                          "csrf_token": csrf_token(client)})
    assert refused.status_code == 200 and "/login" in refused.request.path
    assert zh(app, "Too many failed attempts. Try again in %(n)d minutes, or ask your administrator to restore "
                   "the account.", n=app.config["CRM_LOGIN_WAIT_MINUTES"])[:6] in refused.get_data(as_text=True)
    answer = sales.get("/opportunities")  # the integration goes on working meanwhile
    assert answer.status_code == 200, answer.get_json()
    assert sales.post("/opportunities", {"company": "深圳令牌照常有限公司"}).status_code == 201


def test_an_unknown_token_still_gets_the_usual_401(app, client, org):
    answer = ApiClient(app, client, "no-such-token").get("/opportunities")
    assert answer.status_code == 401
    assert answer.get_json()["message"] == zh(app, "A valid API token is needed: send the header Authorization: "
                                                   "Bearer TOKEN.")


# --- 6. an upload too large names the limit ----------------------------------------------------------

TOO_LARGE = "The file is larger than %(n)d MB: split it, or keep only the columns to import."


@pytest.fixture
def small(app, org, tmp_path):
    return create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path), "CRM_IMPORT_MAX_MB": 1})


def test_an_upload_too_large_for_the_page_gets_the_form_again_naming_the_limit(small):
    client = small.test_client()
    AuthActions(client).login("admin_a")
    token = csrf_token(client, "/imports/new/")
    response = client.post("/imports/new/", content_type="multipart/form-data", data={
        "csrf_token": token, "target": "public_pool", "file": (io.BytesIO(b"a" * (3 * 1024 * 1024)), "大.csv")})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert 'id="import-form"' in html and zh(small, TOO_LARGE, n=1) in html
    with small.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataImport)) == 0
    assert client.get("/imports/new/").status_code == 200  # the session goes on


def test_an_upload_too_large_from_someone_who_may_not_import_gets_the_error_page(small):
    client = small.test_client()
    AuthActions(client).login("sales_a")
    token = csrf_token(client, "/")
    response = client.post("/imports/new/", content_type="multipart/form-data", data={
        "csrf_token": token, "file": (io.BytesIO(b"a" * (3 * 1024 * 1024)), "大.csv")})
    html = response.get_data(as_text=True)
    assert response.status_code == 413 and 'id="import-form"' not in html
    assert zh(small, "The request is larger than %(n)d MB, the most this page accepts.", n=2) in html


def test_an_upload_too_large_for_the_api_names_the_limit(small):
    admin = ApiClient(small, small.test_client(), api_token(small, "admin_a"))
    for size in (1536 * 1024, 3 * 1024 * 1024):  # read and refused; refused before it is read
        answer = upload(admin, b"a" * size, "大.csv")
        assert answer.status_code == 413
        assert answer.get_json() == {"error": "too_large", "message": zh(small, TOO_LARGE, n=1), "limit_mb": 1}


def test_a_json_body_too_large_names_its_limit(app, api):
    sales = api("sales_a")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    answer = sales.post("/opportunities", data='{"company": "' + "a" * (2 * 1024 * 1024) + '"}')
    assert answer.status_code == 413 and answer.get_json()["limit_mb"] == 1
    assert _chinese(answer.get_json()["message"])
