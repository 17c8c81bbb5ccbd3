"""Manual §八 新增部门: the department tree of an agent company, through the pages.

"Click the company that gets a new department, click add, type the name (the company's
name goes in front), choose where it hangs, save." Here the parent is picked in a
dropdown of the admin's own company, and the company prefix is put in front for them.
"""
import pytest

from conftest import csrf_token
from crm_pages import all_departments, count, find_department, get_department, head_office_id, logged_in_as, page
from models import Department


@pytest.fixture
def admin(app, org):
    return logged_in_as(app, "admin_a")


def new_department(client, parent, short_name):
    token = csrf_token(client, "/departments/new/")
    return client.post("/departments/new/", data={"parent": parent, "short_name": short_name, "csrf_token": token})


def edit_department(client, department_id, parent, short_name):
    url = f"/departments/edit/?id={department_id}"
    token = csrf_token(client, url)
    return client.post(url, data={"parent": parent, "short_name": short_name, "csrf_token": token})


def delete_department(client, department_id):
    token = csrf_token(client, "/departments/")
    return client.post("/departments/delete/", data={"id": department_id, "url": "/departments/",
                                                     "csrf_token": token})


def refused(response, field):
    """The form again, with the field marked and nothing else said to be saved."""
    assert response.status_code == 200
    shown = page(response)
    assert shown.by_id("short_name") is not None  # still the form
    assert shown.field_invalid(field), f"{field} not marked invalid"
    return shown


# --- creating -------------------------------------------------------------------


def test_new_department_under_the_company_gets_the_company_prefix(app, admin, org):
    before = count(app, Department)
    response = new_department(admin, org.depts["华南代理"], "客服部")
    assert response.status_code == 302  # saved, back to the list
    assert count(app, Department) == before + 1

    new_id = find_department(app, "华南代理客服部")
    assert new_id is not None
    dept = get_department(app, new_id)
    assert dept.short_name == "客服部"
    assert dept.parent_id == org.depts["华南代理"]
    assert dept.depth == 2
    assert dept.path == get_department(app, org.depts["华南代理"]).path + f"{new_id:08d}/"
    # the list shows it
    assert new_id in page(admin.get("/departments/")).row_ids()


def test_a_sub_department_gets_the_company_prefix_too(app, admin, org):
    response = new_department(admin, org.depts["华南代理/销售一部"], "大客户组")
    assert response.status_code == 302
    new_id = find_department(app, "华南代理大客户组")
    assert new_id is not None
    dept = get_department(app, new_id)
    assert dept.parent_id == org.depts["华南代理/销售一部"]
    assert dept.depth == 3
    # and one more level down
    response = new_department(admin, new_id, "一班")
    assert response.status_code == 302
    deeper = get_department(app, find_department(app, "华南代理一班"))
    assert deeper.parent_id == new_id and deeper.depth == 4


def test_a_name_typed_with_the_prefix_is_not_prefixed_twice(app, admin, org):
    """The manual tells the admin to type the company name in front; the result is the same."""
    assert new_department(admin, org.depts["华南代理"], "华南代理客服部").status_code == 302
    assert find_department(app, "华南代理客服部") is not None
    assert find_department(app, "华南代理华南代理客服部") is None


def test_the_add_sub_department_link_preselects_the_parent(admin, org):
    listing = admin.get("/departments/").get_data(as_text=True)
    parent = org.depts["华南代理/销售一部"]
    assert f"/departments/new/?parent={parent}" in listing
    form = page(admin.get(f"/departments/new/?parent={parent}"))
    assert form.selected("parent") == [str(parent)]


def test_the_parent_dropdown_lists_only_the_company_tree_in_order(app, admin, org):
    form = page(admin.get("/departments/new/"))
    expected = sorted((path for path in org.depts if path.startswith("华南代理")),
                      key=lambda p: get_department(app, org.depts[p]).path)
    assert form.option_values("parent") == [org.depts[p] for p in expected]


def test_the_same_name_twice_under_one_parent_is_refused(app, admin, org):
    assert new_department(admin, org.depts["华南代理"], "客服部").status_code == 302
    before = all_departments(app)
    refused(new_department(admin, org.depts["华南代理"], "客服部"), "short_name")
    refused(new_department(admin, org.depts["华南代理"], "  客服部  "), "short_name")
    refused(new_department(admin, org.depts["华南代理"], "销售一部"), "short_name")  # one made by the CLI
    assert all_departments(app) == before


def test_a_name_that_would_display_like_a_sibling_is_refused(app, admin, org):
    """"客服部" and "华南代理客服部" under 华南代理 would both read 华南代理客服部."""
    assert new_department(admin, org.depts["华南代理"], "客服部").status_code == 302
    before = all_departments(app)
    refused(new_department(admin, org.depts["华南代理"], "华南代理客服部"), "short_name")
    assert all_departments(app) == before

    assert new_department(admin, org.depts["华南代理"], "华南代理市场部").status_code == 302
    before = all_departments(app)
    refused(new_department(admin, org.depts["华南代理"], "市场部"), "short_name")
    assert all_departments(app) == before


def test_the_same_name_under_another_parent_is_allowed(app, admin, org):
    """Only siblings must differ: 销售二部 may have its own 电话组."""
    assert new_department(admin, org.depts["华南代理/销售二部"], "电话组").status_code == 302
    assert count(app, Department) == len(org.depts) + 2  # + head office + the new one


@pytest.mark.parametrize("name", ["", "   ", "部" * 65, "销售/三部"])
def test_bad_names_are_refused(app, admin, org, name):
    before = all_departments(app)
    refused(new_department(admin, org.depts["华南代理"], name), "short_name")
    assert all_departments(app) == before


def test_a_64_character_name_is_accepted(app, admin, org):
    name = "部" * 64
    assert new_department(admin, org.depts["华南代理"], name).status_code == 302
    assert find_department(app, "华南代理" + name) is not None


@pytest.mark.parametrize("parent", ["__None", "", "987654", "abc"])
def test_a_parent_is_required(app, admin, org, parent):
    before = all_departments(app)
    refused(new_department(admin, parent, "无上级部"), "parent")
    assert all_departments(app) == before


def test_an_agent_admin_cannot_add_a_company(app, admin, org):
    before = all_departments(app)
    refused(new_department(admin, head_office_id(app), "华西代理"), "parent")
    assert all_departments(app) == before


def test_the_subsystem_admin_adds_a_company_under_the_head_office(app, org):
    root = logged_in_as(app, "root")
    assert new_department(root, head_office_id(app), "华西代理").status_code == 302
    company = get_department(app, find_department(app, "华西代理"))
    assert company.depth == 1 and company.parent_id == head_office_id(app)
    # its departments carry its name
    assert new_department(root, company.id, "销售部").status_code == 302
    assert find_department(app, "华西代理销售部") is not None


# --- editing ------------------------------------------------------------------------


def test_a_department_cannot_be_its_own_parent(app, admin, org):
    target = org.depts["华南代理/销售一部"]
    before = all_departments(app)
    refused(edit_department(admin, target, target, "销售一部"), "parent")
    assert all_departments(app) == before


@pytest.mark.parametrize("child", ["华南代理/销售一部/电话组"])
def test_a_department_cannot_move_under_its_own_child(app, admin, org, child):
    target = org.depts["华南代理/销售一部"]
    before = all_departments(app)
    refused(edit_department(admin, target, org.depts[child], "销售一部"), "parent")
    assert all_departments(app) == before


def test_a_department_cannot_move_under_a_grandchild(app, admin, org):
    assert new_department(admin, org.depts["华南代理/销售一部/电话组"], "夜班").status_code == 302
    grandchild = find_department(app, "华南代理夜班")
    target = org.depts["华南代理/销售一部"]
    before = all_departments(app)
    refused(edit_department(admin, target, grandchild, "销售一部"), "parent")
    assert all_departments(app) == before


def test_moving_a_department_moves_its_subtree(app, admin, org):
    """The positive case beside the refusals: a legal move is saved, with its sub-department."""
    assert new_department(admin, org.depts["华南代理/销售一部/电话组"], "夜班").status_code == 302
    night = find_department(app, "华南代理夜班")
    moved = org.depts["华南代理/销售一部/电话组"]
    new_parent = org.depts["华南代理/销售二部"]

    assert edit_department(admin, moved, new_parent, "电话组").status_code == 302

    dept = get_department(app, moved)
    assert dept.parent_id == new_parent
    assert dept.path == get_department(app, new_parent).path + f"{moved:08d}/"
    child = get_department(app, night)
    assert child.path == dept.path + f"{night:08d}/" and child.depth == dept.depth + 1
    # the filter by 销售二部 now finds the salesperson of 电话组
    assert page(admin.get(f"/users/?flt0_0={new_parent}")).row_ids() == [org.users["sales_a"]]


def test_renaming_keeps_the_prefix(app, admin, org):
    target = org.depts["华南代理/销售二部"]
    assert edit_department(admin, target, org.depts["华南代理"], "渠道部").status_code == 302
    dept = get_department(app, target)
    assert (dept.short_name, dept.name) == ("渠道部", "华南代理渠道部")


def test_renaming_to_a_sibling_name_is_refused(app, admin, org):
    target = org.depts["华南代理/销售二部"]
    before = all_departments(app)
    refused(edit_department(admin, target, org.depts["华南代理"], "销售一部"), "short_name")
    assert all_departments(app) == before


def test_the_edit_form_shows_the_name_as_typed(admin, org):
    form = page(admin.get(f"/departments/edit/?id={org.depts['华南代理/销售一部']}"))
    assert form.by_id("short_name")["value"] == "销售一部"
    assert form.selected("parent") == [str(org.depts["华南代理"])]


# --- the tree list ---------------------------------------------------------------------


def test_the_list_shows_the_tree_depth_first(app, admin, org):
    # made in an order that differs from the tree's: a later sub-department of an earlier one
    assert new_department(admin, org.depts["华南代理/销售一部"], "大客户组").status_code == 302
    assert new_department(admin, org.depts["华南代理"], "客服部").status_code == 302
    big = find_department(app, "华南代理大客户组")
    service = find_department(app, "华南代理客服部")

    expected = [
        org.depts["华南代理"],
        org.depts["华南代理/销售一部"],
        org.depts["华南代理/销售一部/电话组"],
        big,
        org.depts["华南代理/销售二部"],
        service,
    ]
    assert page(admin.get("/departments/")).row_ids() == expected


def test_the_subsystem_admin_sees_the_whole_tree_depth_first(app, org):
    rows = page(logged_in_as(app, "root").get("/departments/")).row_ids()
    by_path = sorted(all_departments(app).items(), key=lambda item: item[1][2])
    assert rows == [dept_id for dept_id, _ in by_path]
    assert rows[0] == head_office_id(app)
    # each company's subtree is contiguous
    south = [org.depts[p] for p in org.depts if p.startswith("华南代理")]
    positions = sorted(rows.index(d) for d in south)
    assert positions == list(range(positions[0], positions[0] + len(south)))


def test_the_list_indents_by_depth(app, admin, org):
    """The tree reads as a tree: deeper rows are indented more (structure, not words)."""
    html = admin.get("/departments/").get_data(as_text=True)

    def name_cell(dept_id):
        row = html.split(f'name="rowid" class="action-checkbox" value="{dept_id}"', 1)[1]
        return row.split('class="col-name"', 1)[1].split("</td>", 1)[0]

    assert name_cell(org.depts["华南代理"]).count("&emsp;") == 0
    assert name_cell(org.depts["华南代理/销售一部"]).count("&emsp;") == 1
    assert name_cell(org.depts["华南代理/销售一部/电话组"]).count("&emsp;") == 2


# --- deleting -----------------------------------------------------------------------------


def test_a_department_with_users_cannot_be_deleted(app, admin, org):
    target = org.depts["华南代理/销售一部/电话组"]  # sales_a works here
    before = all_departments(app)
    response = delete_department(admin, target)
    assert response.status_code == 302
    assert all_departments(app) == before
    assert page(admin.get("/departments/")).error_alerts()  # told why


def test_a_department_with_sub_departments_cannot_be_deleted(app, admin, org):
    assert new_department(admin, org.depts["华南代理/销售二部"], "一组").status_code == 302
    before = all_departments(app)
    delete_department(admin, org.depts["华南代理/销售二部"])  # no users, one child
    assert all_departments(app) == before
    assert page(admin.get("/departments/")).error_alerts()


def test_the_company_itself_cannot_be_deleted_by_its_admin(app, admin, org):
    before = all_departments(app)
    delete_department(admin, org.depts["华南代理"])
    assert all_departments(app) == before


def test_an_empty_department_is_deleted(app, admin, org):
    target = org.depts["华南代理/销售二部"]
    response = delete_department(admin, target)
    assert response.status_code == 302
    assert get_department(app, target) is None
    assert target not in page(admin.get("/departments/")).row_ids()


def test_bulk_delete_removes_only_the_empty_ones(app, admin, org):
    assert new_department(admin, org.depts["华南代理"], "客服部").status_code == 302
    service = find_department(app, "华南代理客服部")
    busy = org.depts["华南代理/销售一部/电话组"]
    token = csrf_token(admin, "/departments/")
    response = admin.post("/departments/action/", data={"action": "delete", "rowid": [service, busy],
                                                        "csrf_token": token})
    assert response.status_code == 302
    assert get_department(app, service) is None
    assert get_department(app, busy) is not None


def test_the_head_office_cannot_be_deleted(app, org):
    root = logged_in_as(app, "root")
    before = all_departments(app)
    delete_department(root, head_office_id(app))
    assert all_departments(app) == before


def test_an_agent_admin_cannot_rename_or_delete_its_own_company(org, app):
    """The company node is the subsystem admin's: the rule says so in words, not by a side effect."""
    import pytest

    from conftest import zh
    from models import Department, User, db
    from services.errors import RuleViolation
    from services.people import departments

    with app.app_context():
        admin_a = db.session.get(User, org.users["admin_a"])
        company = db.session.get(Department, org.depts["华南代理"])
        for attempt in (lambda: departments.update_department(db.session, admin_a, company, company.parent, "改名代理"),
                        lambda: departments.delete_department(db.session, admin_a, company)):
            with pytest.raises(RuleViolation) as refused:
                attempt()
            assert str(refused.value.message) == zh(app, "Only a subsystem admin may change an agent company or the head office.")
        db.session.rollback()
        assert db.session.get(Department, org.depts["华南代理"]).short_name == "华南代理"
