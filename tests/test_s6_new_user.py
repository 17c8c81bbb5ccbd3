"""Manual §六 新增用户: an agent admin adds an account through the pages.

The steps of the manual: enter the login account and check it is free, choose the role,
the department, and for a supervisor or manager the managed departments; save. The admin
then hands over a one-time password, which must be changed at the first login.
"""
from datetime import timedelta

import pytest

from conftest import csrf_token
from crm_pages import all_users, count, get_user, head_office_id, logged_in_as, login, page, redirects_to
from models import User
from services import clock
from services.people.passwords import verify_password


@pytest.fixture
def admin(app, org):
    return logged_in_as(app, "admin_a")


def new_user_form(client, **fields):
    """POST /users/new/ as the page's form does (token read from the form page itself)."""
    token = csrf_token(client, "/users/new/")
    data = {"login": "", "role": "salesperson", "department": "__None", "email": "", **fields, "csrf_token": token}
    return client.post("/users/new/", data=data)


def test_new_user_page_offers_the_manual_fields(admin, org):
    response = admin.get("/users/new/")
    assert response.status_code == 200
    form = page(response)
    for field in ("login", "role", "department", "managed_departments", "email"):
        assert form.by_id(field) is not None, field
    # the live check of step 3 is wired to the login field
    script = form.by_id("crm-users-js")
    assert script is not None and script["data-check-url"] == "/users/check-login"
    # roles an agent admin may give: none above its own
    assert form.option_values("role") == ["salesperson", "supervisor", "manager", "agent_admin"]


def test_admin_creates_a_salesperson_and_the_new_user_must_change_the_password(app, admin, org):
    before = count(app, User)
    response = new_user_form(admin, login="zhang.san", role="salesperson",
                             department=org.depts["华南代理/销售一部"], email="zhang.san@example.com")
    assert response.status_code == 200
    shown = page(response)
    one_time = shown.text("one-time-password")
    assert one_time and len(one_time) >= 8

    assert count(app, User) == before + 1
    user = get_user(app, "zhang.san")
    assert user.login == "zhang.san"
    assert user.role == "salesperson"
    assert user.department_id == org.depts["华南代理/销售一部"]
    assert user.email == "zhang.san@example.com"
    assert user.must_change_password is True
    assert user.active is True and user.locked_at is None
    assert user.managed_ids == []
    assert verify_password(user.password_hash, one_time)
    assert one_time not in user.password_hash  # stored as a hash only

    # The new user logs in with the one-time password and is sent to /password, whatever is asked.
    newcomer = app.test_client()
    response = login(newcomer, "zhang.san", one_time)
    assert response.status_code == 302
    for url in ("/", "/users/", "/departments/"):
        assert redirects_to(newcomer.get(url), "/password"), url
    assert newcomer.get("/password").status_code == 200

    # A wrong password is still refused for the new account.
    assert login(app.test_client(), "zhang.san", "not-the-password").status_code == 200


def test_a_32_character_login_is_accepted(app, admin, org):
    login_32 = "a" * 32
    response = new_user_form(admin, login=login_32, department=org.depts["华南代理"])
    assert page(response).text("one-time-password")
    assert get_user(app, login_32) is not None


def test_the_login_is_stored_as_typed_and_found_in_any_case(app, admin, org):
    response = new_user_form(admin, login="  LiSi  ", department=org.depts["华南代理/销售二部"])
    one_time = page(response).text("one-time-password")
    assert one_time
    assert get_user(app, "lisi").login == "LiSi"  # spaces dropped, case kept for display
    assert login(app.test_client(), "LISI", one_time).status_code == 302


@pytest.mark.parametrize(
    "login_name, free",
    [
        ("wang.wu", True),
        ("王五", True),
        ("sales_a", False),
        ("SALES_A", False),
        ("Sales_A", False),
        ("ｓａｌｅｓ＿ａ", False),  # full-width letters are the same account
        ("  sales_a ", False),
        ("root", False),
        ("sales_b", False),  # logins are unique across companies: another company's account counts
        ("", False),
        ("a" * 33, False),
        ("has space", False),
    ],
)
def test_live_login_check_answers_whether_the_login_is_free(admin, org, login_name, free):
    response = admin.get("/users/check-login", query_string={"login": login_name})
    assert response.status_code == 200
    assert response.is_json
    answer = response.get_json()
    assert answer["free"] is free
    assert answer["message"]


def test_live_login_check_follows_new_accounts(app, admin, org):
    assert admin.get("/users/check-login?login=zhao.liu").get_json()["free"] is True
    new_user_form(admin, login="Zhao.Liu", department=org.depts["华南代理"])
    assert admin.get("/users/check-login?login=zhao.liu").get_json()["free"] is False
    assert admin.get("/users/check-login?login=ZHAO.LIU").get_json()["free"] is False


def _refusals(app, org):
    other_company = org.depts["华东代理/销售一部"]
    ok = {"login": "fresh.user", "role": "salesperson", "department": org.depts["华南代理/销售一部"], "email": ""}
    return {
        "taken login": ({**ok, "login": "sales_a"}, "login"),
        "taken login, other case": ({**ok, "login": "SALES_A"}, "login"),
        "taken login, mixed case": ({**ok, "login": "Manager_A"}, "login"),
        "taken login of another company": ({**ok, "login": "sales_b"}, "login"),
        "missing login": ({**ok, "login": ""}, "login"),
        "blank login": ({**ok, "login": "   "}, "login"),
        "33-character login": ({**ok, "login": "b" * 33}, "login"),
        "login with a space": ({**ok, "login": "fresh user"}, "login"),
        "no department": ({**ok, "department": "__None"}, "department"),
        "unknown department id": ({**ok, "department": 987654}, "department"),
        "non-numeric department id": ({**ok, "department": "abc"}, "department"),
        "other company's department": ({**ok, "department": other_company}, "department"),
        "head office department": ({**ok, "department": head_office_id(app)}, "department"),
        "role above agent admin": ({**ok, "role": "subsystem_admin"}, "role"),
        "unknown role": ({**ok, "role": "boss"}, "role"),
        "invalid email": ({**ok, "email": "not-an-email"}, "email"),
        "email without domain": ({**ok, "email": "someone@"}, "email"),
        "managed department of another company": (
            {**ok, "role": "supervisor", "managed_departments": [org.depts["华南代理/销售一部"], other_company]},
            "managed_departments",
        ),
    }


REFUSAL_CASES = [
    "taken login", "taken login, other case", "taken login, mixed case", "taken login of another company",
    "missing login", "blank login", "33-character login", "login with a space", "no department",
    "unknown department id", "non-numeric department id", "other company's department", "head office department",
    "role above agent admin", "unknown role", "invalid email", "email without domain",
    "managed department of another company",
]


@pytest.mark.parametrize("case", REFUSAL_CASES)
def test_a_refused_new_user_writes_nothing_and_says_why(app, admin, org, case):
    data, field = _refusals(app, org)[case]
    users_before = {u.login: u for u in all_users(app).values()}
    before = count(app, User)

    response = new_user_form(admin, **data)

    assert response.status_code == 200  # the form again, not a redirect to the list
    shown = page(response)
    assert shown.text("one-time-password") is None
    assert shown.by_id("login") is not None  # still the form
    assert shown.field_invalid(field), f"{field} not marked invalid"
    assert count(app, User) == before
    # nothing else changed either: the taken account keeps its row as it was
    after = {u.login: u for u in all_users(app).values()}
    assert after == users_before


def test_the_form_keeps_what_was_typed_after_a_refusal(admin, org):
    response = new_user_form(admin, login="keep.me", role="manager", department=org.depts["华南代理/销售一部"],
                             email="bad@")
    shown = page(response)
    assert shown.by_id("login")["value"] == "keep.me"
    assert shown.selected("role") == ["manager"]
    assert shown.selected("department") == [str(org.depts["华南代理/销售一部"])]


@pytest.mark.parametrize("role", ["supervisor", "manager"])
def test_managed_departments_are_stored_for_a_supervisor_or_manager(app, admin, org, role):
    managed = [org.depts["华南代理/销售一部"], org.depts["华南代理/销售二部"]]
    response = new_user_form(admin, login=f"new.{role}", role=role, department=org.depts["华南代理/销售一部"],
                             managed_departments=managed)
    assert page(response).text("one-time-password")
    user = get_user(app, f"new.{role}")
    assert user.role == role
    assert user.managed_ids == sorted(managed)


@pytest.mark.parametrize("role", ["salesperson", "agent_admin"])
def test_managed_departments_are_dropped_for_other_roles(app, admin, org, role):
    response = new_user_form(admin, login=f"new.{role}", role=role, department=org.depts["华南代理/销售一部"],
                             managed_departments=[org.depts["华南代理/销售一部"], org.depts["华南代理/销售二部"]])
    assert page(response).text("one-time-password")
    user = get_user(app, f"new.{role}")
    assert user.role == role
    assert user.managed_ids == []


def test_the_one_time_password_is_shown_once(app, admin, org):
    response = new_user_form(admin, login="once.only", department=org.depts["华南代理"])
    one_time = page(response).text("one-time-password")
    assert one_time
    # neither the list, nor the details, nor the edit page shows it again
    user_id = get_user(app, "once.only").id
    for url in ("/users/", f"/users/details/?id={user_id}", f"/users/edit/?id={user_id}"):
        body = admin.get(url).get_data(as_text=True)
        assert one_time not in body, url


def test_a_new_account_counts_as_used_from_its_creation(app, admin, org, monkeypatch):
    """A fresh account is not "unused for a long time": it logs in although it never logged in before."""
    response = new_user_form(admin, login="fresh.start", department=org.depts["华南代理"])
    one_time = page(response).text("one-time-password")
    real_now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: real_now + timedelta(days=30))
    assert login(app.test_client(), "fresh.start", one_time).status_code == 302
