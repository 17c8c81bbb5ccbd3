"""Manual §七 查询用户: find an account, restore a locked one, reset a lost password.

Through the pages as an agent admin does them: the user list with its search box and
filters, the row action and the bulk action "restore", the edit page's "reset password",
and the bulk action "deactivate". Every change is checked in the database and by what
the affected user can still do.
"""
from datetime import timedelta

import pytest

from conftest import csrf_token, zh
from crm_pages import (
    all_users,
    count,
    get_user,
    is_logged_in,
    logged_in_as,
    login,
    page,
    post_with_token,
    redirects_to,
    update_user,
)
from models import User
from services import clock
from services.people.passwords import verify_password

# Positions in UserView.column_filters: Flask-Admin's URL argument is flt<n>_<position>.
DEPARTMENT, ROLE, STATUS = 0, 1, 2


@pytest.fixture
def admin(app, org):
    return logged_in_as(app, "admin_a")


def listed(client, query=""):
    response = client.get("/users/" + query)
    assert response.status_code == 200
    return page(response).row_ids()


def ids(org, *logins):
    return {org.users[name] for name in logins}


def lock_by_admin(app, login_name):
    update_user(app, login_name, locked_at=clock.now(), lock_reason="admin")


def lock_by_disuse(app, login_name, days=91):
    update_user(app, login_name, last_seen_at=clock.now() - timedelta(days=days), locked_at=None)


# --- finding accounts -------------------------------------------------------------


def test_the_list_shows_the_company_accounts_sorted_by_login(admin, org):
    rows = listed(admin)
    logins = sorted(["admin_a", "manager_a", "super_a", "sales_a"])
    assert rows == [org.users[name] for name in logins]


@pytest.mark.parametrize("term, expected", [
    ("sales_a", {"sales_a"}),
    ("SALES", {"sales_a"}),  # case-insensitive, and 华东代理's sales_b is not found
    ("_a", {"admin_a", "manager_a", "super_a", "sales_a"}),
    ("sales_b", set()),
    ("root", set()),
    ("nobody", set()),
])
def test_search_by_login(admin, org, term, expected):
    assert set(listed(admin, f"?search={term}")) == ids(org, *expected)


@pytest.mark.parametrize("dept, expected", [
    ("华南代理", {"admin_a", "manager_a", "super_a", "sales_a"}),
    ("华南代理/销售一部", {"manager_a", "super_a", "sales_a"}),  # with its sub-department
    ("华南代理/销售一部/电话组", {"sales_a"}),
    ("华南代理/销售二部", set()),
])
def test_filter_by_department_takes_the_subtree(admin, org, dept, expected):
    assert set(listed(admin, f"?flt0_{DEPARTMENT}={org.depts[dept]}")) == ids(org, *expected)


@pytest.mark.parametrize("role, expected", [
    ("salesperson", {"sales_a"}),
    ("supervisor", {"super_a"}),
    ("manager", {"manager_a"}),
    ("agent_admin", {"admin_a"}),
    ("subsystem_admin", set()),  # root exists, but not in 华南代理
])
def test_filter_by_role(admin, org, role, expected):
    assert set(listed(admin, f"?flt0_{ROLE}={role}")) == ids(org, *expected)


def test_filter_by_status(app, admin, org):
    lock_by_disuse(app, "sales_a")
    lock_by_admin(app, "manager_a")
    update_user(app, "super_a", active=False)
    lock_by_admin(app, "sales_b")  # another company's locked account stays out of sight

    assert set(listed(admin, f"?flt0_{STATUS}=locked")) == ids(org, "sales_a", "manager_a")
    assert set(listed(admin, f"?flt0_{STATUS}=deactivated")) == ids(org, "super_a")
    assert set(listed(admin, f"?flt0_{STATUS}=active")) == ids(org, "admin_a")

    response = post_with_token(admin, "/users/new/", {"login": "newbie", "role": "salesperson",
                                                       "department": org.depts["华南代理"]}, token_from="/users/new/")
    assert page(response).text("one-time-password")
    assert set(listed(admin, f"?flt0_{STATUS}=must_change")) == {get_user(app, "newbie").id}


def test_filters_and_search_combine(app, admin, org):
    lock_by_disuse(app, "sales_a")
    lock_by_disuse(app, "super_a")
    query = f"?search=sales&flt0_{STATUS}=locked&flt1_{DEPARTMENT}={org.depts['华南代理/销售一部']}"
    assert set(listed(admin, query)) == ids(org, "sales_a")


@pytest.mark.parametrize("query", [f"?flt0_{STATUS}=bogus", f"?flt0_{ROLE}=bogus", f"?flt0_{DEPARTMENT}=bogus",
                                   f"?flt0_{DEPARTMENT}=99999", f"?flt0_{DEPARTMENT}=99999999999999999999",
                                   "?flt0_9=1"])
def test_a_made_up_filter_value_does_not_break_the_list(admin, org, query):
    response = admin.get("/users/" + query)
    assert response.status_code == 200
    assert set(page(response).row_ids()) <= ids(org, "admin_a", "manager_a", "super_a", "sales_a")


def test_the_dashboard_link_to_locked_accounts_lists_them(app, admin, org):
    lock_by_disuse(app, "sales_a")
    dashboard = admin.get("/").get_data(as_text=True)
    link = f"/users/?flt0_{STATUS}=locked"
    assert link in dashboard
    assert listed(admin, link[len("/users/"):]) == [org.users["sales_a"]]


# --- restoring a locked account -------------------------------------------------------------


def test_an_unused_account_is_locked_and_restored_by_the_row_action(app, admin, org):
    lock_by_disuse(app, "sales_a")
    # The user cannot log in, and the refusal records the lock.
    assert login(app.test_client(), "sales_a").status_code == 200
    locked = get_user(app, "sales_a")
    assert locked.locked_at is not None and locked.lock_reason == "inactive"

    # §七 steps 1-3: search for the account, click restore on its row.
    response = admin.get("/users/?search=sales_a")
    forms = page(response).forms("/users/unlock/")
    assert [f["id"] for f in forms] == [str(org.users["sales_a"])]
    response = admin.post("/users/unlock/", data={k: v for k, v in forms[0].items() if k != "__action__"})
    assert response.status_code == 302

    restored = get_user(app, "sales_a")
    assert restored.locked_at is None and restored.lock_reason is None
    assert clock.now() - restored.last_seen_at < timedelta(minutes=1)
    assert login(app.test_client(), "sales_a").status_code == 302
    # the row action is gone from a restored account
    assert page(admin.get("/users/?search=sales_a")).forms("/users/unlock/") == []


def test_no_restore_button_on_an_account_that_is_not_locked(admin, org):
    assert page(admin.get("/users/")).forms("/users/unlock/") == []


def test_locked_accounts_are_restored_by_the_bulk_action(app, admin, org):
    lock_by_admin(app, "manager_a")
    lock_by_disuse(app, "super_a", days=400)
    for name in ("manager_a", "super_a"):
        assert login(app.test_client(), name).status_code == 200
    untouched = get_user(app, "sales_a")

    token = csrf_token(admin, "/users/")
    response = admin.post("/users/action/", data={
        "action": "unlock", "rowid": [org.users["manager_a"], org.users["super_a"]], "csrf_token": token})
    assert response.status_code == 302

    for name in ("manager_a", "super_a"):
        user = get_user(app, name)
        assert user.locked_at is None, name
        assert login(app.test_client(), name).status_code == 302, name
    assert get_user(app, "sales_a") == untouched


def test_restoring_an_account_lifts_the_wait_after_wrong_passwords(app, admin, org):
    client = app.test_client()
    for _ in range(app.config["CRM_LOGIN_MAX_FAILURES"]):
        assert login(client, "sales_a", "wrong password").status_code == 200
    assert login(client, "sales_a").status_code == 200  # the right password waits too
    response = post_with_token(admin, "/users/unlock/", {"id": org.users["sales_a"]}, token_from="/users/")
    assert response.status_code == 302
    assert login(app.test_client(), "sales_a").status_code == 302


def _wrong_passwords(app, login_name):
    client = app.test_client()
    for _ in range(app.config["CRM_LOGIN_MAX_FAILURES"]):
        assert login(client, login_name, "wrong password").status_code == 200
    return client


def test_the_wait_after_wrong_passwords_shows_as_locked_with_the_row_action(app, admin, org):
    """Issue 14: the account the login makes wait is 已锁定 in the list and the filter, and §七's
    steps (search, click 恢复 on the row) lift it; the user was told an administrator can."""
    refused = login(_wrong_passwords(app, "sales_a"), "sales_a")
    assert zh(app, "Too many failed attempts. Try again in %(n)d minutes, or ask your administrator to restore "
                   "the account.", n=15) in refused.get_data(as_text=True)

    found = admin.get("/users/?search=sales_a").get_data(as_text=True)
    assert zh(app, "Locked") in found and zh(app, "too many wrong passwords") in found
    assert set(listed(admin, f"?flt0_{STATUS}=locked")) == ids(org, "sales_a")
    assert org.users["sales_a"] not in listed(admin, f"?flt0_{STATUS}=active")
    forms = page(admin.get("/users/?search=sales_a")).forms("/users/unlock/")
    assert [f["id"] for f in forms] == [str(org.users["sales_a"])]

    assert admin.post("/users/unlock/", data=forms[0]).status_code == 302
    assert login(app.test_client(), "sales_a").status_code == 302
    assert page(admin.get("/users/?search=sales_a")).forms("/users/unlock/") == []
    assert org.users["sales_a"] in listed(admin, f"?flt0_{STATUS}=active")


def test_the_wait_ends_by_itself_and_the_list_says_so(app, admin, org, monkeypatch):
    _wrong_passwords(app, "sales_a")
    later = clock.now() + timedelta(minutes=app.config["CRM_LOGIN_WAIT_MINUTES"] + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert org.users["sales_a"] not in listed(admin, f"?flt0_{STATUS}=locked")
    assert page(admin.get("/users/?search=sales_a")).forms("/users/unlock/") == []


@pytest.mark.parametrize("lock, label", [(lock_by_admin, "locked by an administrator"),
                                         (lock_by_disuse, "not used for a long time")])
def test_the_status_says_which_lock(app, admin, org, lock, label):
    lock(app, "sales_a")
    found = admin.get("/users/?search=sales_a").get_data(as_text=True)
    assert zh(app, "Locked") in found and zh(app, label) in found


def test_restore_returns_only_to_a_page_of_this_site(app, admin, org):
    lock_by_admin(app, "sales_a")
    response = post_with_token(admin, "/users/unlock/", {"id": org.users["sales_a"],
                                                         "url": "https://evil.example/phish"}, token_from="/users/")
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]
    assert get_user(app, "sales_a").locked_at is None


# --- resetting a lost password ----------------------------------------------------------------


def _reset_from_edit_page(admin, user_id):
    """§七 lost password: find the account, open its edit page, reset the password there."""
    edit = admin.get(f"/users/edit/?id={user_id}")
    assert edit.status_code == 200
    forms = page(edit).forms("/users/reset-password/")
    assert len(forms) == 1 and forms[0]["id"] == str(user_id)
    response = admin.post("/users/reset-password/", data={k: v for k, v in forms[0].items() if k != "__action__"})
    assert response.status_code == 200
    one_time = page(response).text("one-time-password")
    assert one_time
    return one_time


def test_reset_password_gives_a_one_time_password_and_ends_the_old_one(app, admin, org):
    elsewhere = logged_in_as(app, "sales_a")  # the user's own browser, logged in before the reset
    assert is_logged_in(elsewhere)
    before = get_user(app, "sales_a")

    one_time = _reset_from_edit_page(admin, org.users["sales_a"])

    after = get_user(app, "sales_a")
    assert after.password_hash != before.password_hash
    assert verify_password(after.password_hash, one_time)
    assert after.must_change_password is True
    expected_expiry = clock.now() + timedelta(hours=24)
    assert abs(after.temp_password_expires_at - expected_expiry) < timedelta(minutes=1)
    assert after.session_version > before.session_version

    # The session opened before the reset has ended.
    assert redirects_to(elsewhere.get("/"), "/login")
    # The old password no longer works.
    assert login(app.test_client(), "sales_a").status_code == 200
    # The temporary one does, and the user must change it before anything else.
    fresh = app.test_client()
    assert login(fresh, "sales_a", one_time).status_code == 302
    assert redirects_to(fresh.get("/"), "/password")
    # The admin's own session is untouched.
    assert is_logged_in(admin)


def test_reset_from_the_list_row_action(app, admin, org):
    forms = [f for f in page(admin.get("/users/")).forms("/users/reset-password/")
             if f["id"] == str(org.users["super_a"])]
    assert len(forms) == 1
    response = admin.post("/users/reset-password/", data={k: v for k, v in forms[0].items() if k != "__action__"})
    one_time = page(response).text("one-time-password")
    assert one_time and verify_password(get_user(app, "super_a").password_hash, one_time)


def test_the_temporary_password_expires_after_24_hours(app, admin, org, monkeypatch):
    one_time = _reset_from_edit_page(admin, org.users["sales_a"])
    reset_at = clock.now()

    monkeypatch.setattr(clock, "now", lambda: reset_at + timedelta(hours=25))
    late = app.test_client()
    assert login(late, "sales_a", one_time).status_code == 200
    assert redirects_to(late.get("/"), "/login")  # not logged in
    assert get_user(app, "sales_a").must_change_password is True

    monkeypatch.setattr(clock, "now", lambda: reset_at + timedelta(hours=23))
    in_time = app.test_client()
    assert login(in_time, "sales_a", one_time).status_code == 302
    assert redirects_to(in_time.get("/"), "/password")


def test_a_new_reset_replaces_the_previous_temporary_password(app, admin, org):
    first = _reset_from_edit_page(admin, org.users["sales_a"])
    second = _reset_from_edit_page(admin, org.users["sales_a"])
    assert first != second
    assert login(app.test_client(), "sales_a", first).status_code == 200
    assert login(app.test_client(), "sales_a", second).status_code == 302


def test_reset_lifts_the_wait_after_wrong_passwords(app, admin, org):
    client = app.test_client()
    for _ in range(app.config["CRM_LOGIN_MAX_FAILURES"]):
        login(client, "sales_a", "wrong password")
    one_time = _reset_from_edit_page(admin, org.users["sales_a"])
    assert login(app.test_client(), "sales_a", one_time).status_code == 302


# --- deactivating ---------------------------------------------------------------------------------


def test_deactivate_by_bulk_action_ends_sessions_and_refuses_login(app, admin, org):
    victim = logged_in_as(app, "sales_a")
    bystander = logged_in_as(app, "super_a")
    before = get_user(app, "sales_a")

    token = csrf_token(admin, "/users/")
    response = admin.post("/users/action/", data={"action": "deactivate", "rowid": [org.users["sales_a"]],
                                                  "csrf_token": token})
    assert response.status_code == 302

    after = get_user(app, "sales_a")
    assert after.active is False
    assert after.session_version > before.session_version
    assert redirects_to(victim.get("/"), "/login")
    assert login(app.test_client(), "sales_a").status_code == 200
    # others go on
    assert is_logged_in(bystander)
    assert get_user(app, "super_a").active is True
    # the account is kept, not deleted
    assert count(app, User) == 7


def test_reactivate_by_bulk_action(app, admin, org):
    update_user(app, "sales_a", active=False)
    token = csrf_token(admin, "/users/")
    response = admin.post("/users/action/", data={"action": "reactivate", "rowid": [org.users["sales_a"]],
                                                  "csrf_token": token})
    assert response.status_code == 302
    assert get_user(app, "sales_a").active is True
    assert login(app.test_client(), "sales_a").status_code == 302


def test_an_admin_cannot_deactivate_itself(app, admin, org):
    token = csrf_token(admin, "/users/")
    response = admin.post("/users/action/", data={"action": "deactivate", "rowid": [org.users["admin_a"]],
                                                  "csrf_token": token})
    assert response.status_code == 302
    assert get_user(app, "admin_a").active is True
    assert is_logged_in(admin)


def test_users_are_never_deleted_through_the_pages(app, admin, org):
    token = csrf_token(admin, "/users/")
    admin.post("/users/delete/", data={"id": org.users["sales_a"], "csrf_token": token})
    admin.post("/users/action/", data={"action": "delete", "rowid": [org.users["sales_a"]], "csrf_token": token})
    assert get_user(app, "sales_a") is not None
    assert count(app, User) == 7


# --- CSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, data", [
    ("/users/unlock/", lambda org: {"id": org.users["sales_a"]}),
    ("/users/reset-password/", lambda org: {"id": org.users["sales_a"]}),
    ("/users/action/", lambda org: {"action": "unlock", "rowid": [org.users["sales_a"]]}),
    ("/users/action/", lambda org: {"action": "deactivate", "rowid": [org.users["sales_a"]]}),
    ("/users/edit/?id={sales_a}", lambda org: {"login": "sales_a", "role": "manager",
                                               "department": org.depts["华南代理"], "email": ""}),
    ("/users/new/", lambda org: {"login": "forged", "role": "salesperson", "department": org.depts["华南代理"]}),
])
@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, admin, org, url, data, token):
    lock_by_admin(app, "sales_a")
    victim = logged_in_as(app, "super_a")
    before = all_users(app)

    form = data(org)
    if token is not None:
        form["csrf_token"] = token
    response = admin.post(url.format(sales_a=org.users["sales_a"]), data=form)

    assert response.status_code == 400
    assert all_users(app) == before
    assert is_logged_in(victim)
