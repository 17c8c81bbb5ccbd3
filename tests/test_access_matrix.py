"""Who may reach which account and department, by any URL (DOMAIN.md "Organisation").

An agent admin administers the users and departments of its own agent company only; a
subsystem admin administers everything; salespeople, supervisors and managers get 403 on
the administration; anonymous visitors are sent to /login. Each refusal is checked in the
database too: nothing was read into a page, nothing was written.
"""
import pytest

from conftest import csrf_token
from crm_pages import (
    all_departments,
    all_users,
    company_department_ids,
    company_user_ids,
    count,
    get_user,
    head_office_id,
    is_logged_in,
    logged_in_as,
    login,
    page,
    post_with_token,
    update_user,
)
from models import User
from services import clock

ADMINS = {"admin_a": ("华南代理", "华东代理"), "admin_b": ("华东代理", "华南代理")}
FOREIGN_USERS = {"admin_a": ["root", "admin_b", "sales_b"], "admin_b": ["root", "admin_a", "manager_a", "sales_a"]}


def foreign_department_ids(app, org, company_other):
    return company_department_ids(org, company_other) | {head_office_id(app)}


def lock(app, *names):
    for name in names:
        update_user(app, name, locked_at=clock.now(), lock_reason="admin")


# --- an agent admin stays inside its company ----------------------------------------------------


@pytest.mark.parametrize("admin", ADMINS)
def test_the_lists_show_only_the_own_company(app, org, admin):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)

    rows = set(page(client.get("/users/?page_size=500")).row_ids())
    assert rows == company_user_ids(app, org, own)

    depts = set(page(client.get("/departments/?page_size=500")).row_ids())
    assert depts == company_department_ids(org, own)

    # searching for the others finds nothing
    for name in FOREIGN_USERS[admin]:
        assert page(client.get(f"/users/?search={name}")).row_ids() == [], name
    assert page(client.get(f"/departments/?search={other}")).row_ids() == []


@pytest.mark.parametrize("admin", ADMINS)
def test_filtering_by_another_company_department_finds_nothing(app, org, admin):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    for dept in company_department_ids(org, other):
        response = client.get(f"/users/?flt0_0={dept}")
        assert response.status_code == 200
        assert page(response).row_ids() == [], dept


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("view", ["details", "edit"])
def test_other_accounts_cannot_be_opened(app, org, admin, view):
    client = logged_in_as(app, admin)
    for name in FOREIGN_USERS[admin]:
        user_id = org.users[name]
        for id_text in (str(user_id), f"0{user_id}", f"{user_id},{org.users[admin]}", f"{user_id}.0"):
            response = client.get(f"/users/{view}/?id={id_text}")
            assert response.status_code == 404, (name, id_text)
            assert name not in response.get_data(as_text=True)


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("view", ["details", "edit"])
def test_other_departments_cannot_be_opened(app, org, admin, view):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    for dept in foreign_department_ids(app, org, other):
        assert client.get(f"/departments/{view}/?id={dept}").status_code == 404, dept


@pytest.mark.parametrize("url, status", [
    ("/users/details/?id=99999999999999999999", 404),  # past INTEGER: an SQL error on PostgreSQL
    ("/users/edit/?id=99999999999999999999", 404),
    ("/users/details/?id=%C2%B2", 404),  # "²" passes str.isdigit but not int()
    ("/users/edit/?id=-1", 404),
    ("/users/edit/?id=", 302),
    ("/users/edit/", 302),  # Flask-Admin sends an edit without an id back to the list
    ("/departments/details/?id=99999999999999999999", 404),
    ("/departments/edit/?id=%C2%B2", 404),
    ("/departments/new/?parent=99999999999999999999", 200),
    ("/departments/new/?parent=%C2%B2", 200),
])
def test_odd_ids_are_not_found_rather_than_errors(app, org, url, status):
    response = logged_in_as(app, "admin_a").get(url)
    assert response.status_code == status
    if url.startswith("/departments/new/"):
        assert page(response).selected("parent") in ([], ["__None"])


@pytest.mark.parametrize("admin", ADMINS)
def test_other_accounts_cannot_be_edited_by_post(app, org, admin):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    own_dept = org.depts[own]
    before = all_users(app)
    for name in FOREIGN_USERS[admin]:
        url = f"/users/edit/?id={org.users[name]}"
        response = client.post(url, data={"login": name, "role": "salesperson", "department": own_dept,
                                          "email": "hijack@example.com", "csrf_token": csrf_token(client, "/users/")})
        assert response.status_code == 404, name
    assert all_users(app) == before


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("endpoint", ["/users/unlock/", "/users/reset-password/"])
def test_other_accounts_cannot_be_restored_or_reset_by_row_endpoint(app, org, admin, endpoint):
    client = logged_in_as(app, admin)
    lock(app, *FOREIGN_USERS[admin])
    before = all_users(app)
    for name in FOREIGN_USERS[admin]:
        response = post_with_token(client, endpoint, {"id": org.users[name]})
        assert response.status_code == 404, name
        assert "one-time-password" not in response.get_data(as_text=True)
    assert all_users(app) == before


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("action", ["unlock", "deactivate", "reactivate"])
def test_bulk_actions_ignore_ids_of_other_companies(app, org, admin, action):
    own, other = ADMINS[admin]
    own_target = "sales_a" if own == "华南代理" else "sales_b"
    client = logged_in_as(app, admin)
    for name in FOREIGN_USERS[admin] + [own_target]:
        update_user(app, name, locked_at=clock.now(), lock_reason="admin", active=(action != "reactivate"))
    foreign = [org.users[name] for name in FOREIGN_USERS[admin]]
    before = all_users(app)

    # only foreign ids: nothing to do
    response = client.post("/users/action/", data={"action": action, "rowid": foreign,
                                                   "csrf_token": csrf_token(client, "/users/")})
    assert response.status_code in (302, 404)
    assert all_users(app) == before

    # mixed with an own account: the own one is done, the foreign ones are not
    response = client.post("/users/action/", data={"action": action, "rowid": foreign + [org.users[own_target]],
                                                   "csrf_token": csrf_token(client, "/users/")})
    assert response.status_code == 302
    after = all_users(app)
    for name in FOREIGN_USERS[admin]:
        assert after[name] == before[name], name
    assert after[own_target] != before[own_target]


@pytest.mark.parametrize("admin", ADMINS)
def test_other_departments_cannot_be_changed_or_deleted(app, org, admin):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    before = all_departments(app)
    for dept in sorted(foreign_department_ids(app, org, other)):
        token = csrf_token(client, "/departments/")
        response = client.post(f"/departments/edit/?id={dept}", data={"parent": org.depts[own], "short_name": "被劫持",
                                                                      "csrf_token": token})
        assert response.status_code == 404, dept
        response = client.post("/departments/delete/", data={"id": dept, "csrf_token": token})
        assert response.status_code == 404, dept
    token = csrf_token(client, "/departments/")
    foreign = sorted(foreign_department_ids(app, org, other))
    client.post("/departments/action/", data={"action": "delete", "rowid": foreign, "csrf_token": token})
    assert all_departments(app) == before


@pytest.mark.parametrize("rowid", [["99999999999999999999"], ["abc"], ["%C2%B2", "²"], [""]])
def test_bulk_delete_with_odd_ids_changes_nothing(app, org, rowid):
    client = logged_in_as(app, "admin_a")
    before = all_departments(app)
    response = client.post("/departments/action/", data={"action": "delete", "rowid": rowid,
                                                         "csrf_token": csrf_token(client, "/departments/")})
    assert response.status_code in (302, 404)
    assert all_departments(app) == before


@pytest.mark.parametrize("admin", ADMINS)
def test_dropdowns_offer_only_the_own_company(app, org, admin):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    own_depts = company_department_ids(org, own)

    new_user = page(client.get("/users/new/"))
    assert set(new_user.option_values("department")) == own_depts
    assert set(new_user.option_values("managed_departments")) == own_depts

    own_user = "sales_a" if own == "华南代理" else "sales_b"
    edit_user = page(client.get(f"/users/edit/?id={org.users[own_user]}"))
    assert set(edit_user.option_values("department")) == own_depts
    assert set(edit_user.option_values("managed_departments")) == own_depts

    assert set(page(client.get("/departments/new/")).option_values("parent")) == own_depts
    assert set(page(client.get(f"/departments/edit/?id={org.depts[own + '/销售一部']}")).option_values("parent")) \
        == own_depts

    assert set(page(client.get("/users/")).filter_options(0)) == own_depts
    # the preselection of the "add a sub-department" link does not reach past the company
    other_dept = org.depts[other + "/销售一部"]
    assert page(client.get(f"/departments/new/?parent={other_dept}")).selected("parent") in ([], ["__None"])


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("field", ["department", "managed_departments"])
def test_a_tampered_new_user_with_another_company_department_is_refused(app, org, admin, field):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    data = {"login": "intruder", "role": "supervisor", "department": org.depts[own], "email": ""}
    data[field] = org.depts[other + "/销售一部"]
    before = count(app, User)
    response = post_with_token(client, "/users/new/", data, token_from="/users/new/")
    assert response.status_code == 200
    shown = page(response)
    assert shown.text("one-time-password") is None
    assert shown.field_invalid(field)
    assert count(app, User) == before
    assert get_user(app, "intruder") is None


@pytest.mark.parametrize("admin", ADMINS)
@pytest.mark.parametrize("field", ["department", "managed_departments"])
def test_a_tampered_edit_with_another_company_department_is_refused(app, org, admin, field):
    own, other = ADMINS[admin]
    client = logged_in_as(app, admin)
    target = "sales_a" if own == "华南代理" else "sales_b"
    url = f"/users/edit/?id={org.users[target]}"
    data = {"login": target, "role": "supervisor", "department": org.depts[own], "email": ""}
    data[field] = org.depts[other + "/销售一部"]
    before = all_users(app)
    response = post_with_token(client, url, data, token_from=url)
    assert response.status_code == 200
    assert page(response).field_invalid(field)
    assert all_users(app) == before


def test_the_edit_form_does_not_rename_the_login(app, org):
    client = logged_in_as(app, "admin_a")
    url = f"/users/edit/?id={org.users['sales_a']}"
    response = post_with_token(client, url, {"login": "renamed", "role": "salesperson",
                                             "department": org.depts["华南代理/销售二部"], "email": ""}, token_from=url)
    assert response.status_code == 302
    user = get_user(app, org.users["sales_a"])
    assert user.login == "sales_a" and user.department_id == org.depts["华南代理/销售二部"]


def test_an_agent_admin_cannot_give_a_role_above_its_own_by_edit(app, org):
    client = logged_in_as(app, "admin_a")
    url = f"/users/edit/?id={org.users['sales_a']}"
    before = all_users(app)
    response = post_with_token(client, url, {"login": "sales_a", "role": "subsystem_admin",
                                             "department": org.depts["华南代理"], "email": ""}, token_from=url)
    assert response.status_code == 200 and page(response).field_invalid("role")
    assert all_users(app) == before


def test_an_agent_admin_cannot_change_its_own_role(app, org):
    client = logged_in_as(app, "admin_a")
    url = f"/users/edit/?id={org.users['admin_a']}"
    before = all_users(app)
    response = post_with_token(client, url, {"login": "admin_a", "role": "salesperson",
                                             "department": org.depts["华南代理"], "email": ""}, token_from=url)
    assert response.status_code == 200 and page(response).field_invalid("role")
    assert all_users(app) == before


def test_an_agent_admin_cannot_touch_root(app, org):
    """root, the subsystem admin, works at head office: out of every agent admin's reach."""
    client = logged_in_as(app, "admin_a")
    root_id = org.users["root"]
    before = all_users(app)
    assert client.get(f"/users/details/?id={root_id}").status_code == 404
    assert client.get(f"/users/edit/?id={root_id}").status_code == 404
    response = post_with_token(client, f"/users/edit/?id={root_id}",
                               {"login": "root", "role": "salesperson", "department": org.depts["华南代理"]})
    assert response.status_code == 404
    assert post_with_token(client, "/users/reset-password/", {"id": root_id}).status_code == 404
    assert post_with_token(client, "/users/unlock/", {"id": root_id}).status_code == 404
    post_with_token(client, "/users/action/", {"action": "deactivate", "rowid": root_id})
    assert all_users(app) == before
    assert login(app.test_client(), "root").status_code == 302


def test_an_agent_admin_cannot_change_a_subsystem_admin_placed_in_its_company(app, org):
    """Rank, not only place: a subsystem admin working in 华南代理 is still above admin_a."""
    root = logged_in_as(app, "root")
    response = post_with_token(root, "/users/new/", {"login": "boss", "role": "subsystem_admin",
                                                     "department": org.depts["华南代理"]}, token_from="/users/new/")
    assert page(response).text("one-time-password")
    boss = get_user(app, "boss").id
    update_user(app, "boss", must_change_password=False, locked_at=clock.now(), lock_reason="admin")

    client = logged_in_as(app, "admin_a")
    before = all_users(app)
    url = f"/users/edit/?id={boss}"
    response = post_with_token(client, url, {"login": "boss", "role": "subsystem_admin",
                                             "department": org.depts["华南代理"], "email": "x@example.com"},
                               token_from="/users/")
    assert response.status_code in (200, 404)
    response = post_with_token(client, "/users/reset-password/", {"id": boss})
    assert response.status_code in (403, 404)
    assert "one-time-password" not in response.get_data(as_text=True)
    post_with_token(client, "/users/unlock/", {"id": boss})
    post_with_token(client, "/users/action/", {"action": "deactivate", "rowid": boss})
    assert all_users(app) == before


# --- the subsystem admin sees everything -------------------------------------------------------


def test_root_sees_both_companies(app, org):
    client = logged_in_as(app, "root")
    assert set(page(client.get("/users/")).row_ids()) == set(org.users.values())
    assert set(page(client.get("/departments/")).row_ids()) == set(all_departments(app))
    every_dept = set(all_departments(app))
    assert set(page(client.get("/users/new/")).option_values("department")) == every_dept
    assert set(page(client.get("/departments/new/")).option_values("parent")) == every_dept
    assert set(page(client.get("/users/")).filter_options(0)) == every_dept
    for name in ("sales_a", "sales_b", "admin_b"):
        assert client.get(f"/users/details/?id={org.users[name]}").status_code == 200
        assert client.get(f"/users/edit/?id={org.users[name]}").status_code == 200
    for dept in every_dept:
        assert client.get(f"/departments/edit/?id={dept}").status_code == 200
    # and administers them: a reset in 华东代理
    response = post_with_token(client, "/users/reset-password/", {"id": org.users["sales_b"]})
    assert page(response).text("one-time-password")
    assert get_user(app, "sales_b").must_change_password is True


def test_root_may_give_every_role(app, org):
    client = logged_in_as(app, "root")
    assert page(client.get("/users/new/")).option_values("role") == [
        "salesperson", "supervisor", "manager", "agent_admin", "subsystem_admin"]


# --- front-line roles get 403, anonymous visitors go to /login -----------------------------------

FRONT_LINE = ["sales_a", "super_a", "manager_a"]


def _get_urls(org):
    user, dept = org.users["sales_a"], org.depts["华南代理/销售一部"]
    return [
        "/users/", "/users/new/", f"/users/details/?id={user}", f"/users/edit/?id={user}",
        "/users/check-login?login=someone", "/users/?search=sales", "/users/?flt0_2=locked",
        "/departments/", "/departments/new/", f"/departments/new/?parent={dept}",
        f"/departments/details/?id={dept}", f"/departments/edit/?id={dept}",
    ]


def _post_requests(org):
    user, dept = org.users["sales_a"], org.depts["华南代理/销售二部"]
    return [
        ("/users/unlock/", {"id": user}),
        ("/users/reset-password/", {"id": user}),
        ("/users/action/", {"action": "deactivate", "rowid": user}),
        ("/users/action/", {"action": "unlock", "rowid": user}),
        ("/users/new/", {"login": "sneaky", "role": "salesperson", "department": dept}),
        (f"/users/edit/?id={user}", {"login": "sales_a", "role": "manager", "department": dept}),
        ("/departments/new/", {"parent": dept, "short_name": "偷偷部"}),
        (f"/departments/edit/?id={dept}", {"parent": org.depts["华南代理"], "short_name": "改名部"}),
        ("/departments/delete/", {"id": dept}),
        ("/departments/action/", {"action": "delete", "rowid": dept}),
    ]


@pytest.mark.parametrize("who", FRONT_LINE)
@pytest.mark.parametrize("index", range(12))
def test_front_line_roles_get_403_on_administration_pages(app, org, who, index):
    url = _get_urls(org)[index]
    client = logged_in_as(app, who)
    response = client.get(url)
    assert response.status_code == 403, url
    assert "sales_b" not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", FRONT_LINE)
@pytest.mark.parametrize("index", range(10))
def test_front_line_roles_get_403_on_administration_posts(app, org, who, index):
    url, data = _post_requests(org)[index]
    update_user(app, "sales_a" if who != "sales_a" else "super_a", locked_at=clock.now(), lock_reason="admin")
    client = logged_in_as(app, who)
    users, depts = all_users(app), all_departments(app)
    response = post_with_token(client, url, data)  # with a valid token: refused for the role, not the token
    assert response.status_code == 403, url
    assert all_users(app) == users
    assert all_departments(app) == depts
    assert is_logged_in(client)


@pytest.mark.parametrize("index", range(12))
def test_anonymous_visitors_are_sent_to_login(app, org, index):
    url = _get_urls(org)[index]
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("index", range(10))
def test_anonymous_posts_are_sent_to_login_and_change_nothing(app, org, index):
    url, data = _post_requests(org)[index]
    update_user(app, "sales_a", locked_at=clock.now(), lock_reason="admin")
    client = app.test_client()
    users, depts = all_users(app), all_departments(app)
    response = post_with_token(client, url, data, token_from="/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert all_users(app) == users
    assert all_departments(app) == depts


def test_a_user_who_must_change_the_password_cannot_administer_yet(app, org):
    """An agent admin with a one-time password reaches /password, not the administration."""
    update_user(app, "admin_a", must_change_password=True)
    client = logged_in_as(app, "admin_a")
    for url in ("/users/", "/departments/", f"/users/edit/?id={org.users['sales_a']}"):
        assert client.get(url).headers.get("Location", "").startswith("/password"), url
    before = all_users(app)
    response = post_with_token(client, "/users/reset-password/", {"id": org.users["sales_a"]}, token_from="/password")
    assert response.status_code in (302, 403)
    assert all_users(app) == before
