"""Issue 14's small things, through the pages in Chinese: what a person noticed on a walk through the manual."""
import re

from sqlalchemy import select
from test_i18n import admin_text

from conftest import csrf_token, zh
from models import Department, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _place(app, company, location, owner=None, department=None, **fields):
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(login=owner)) if owner else None
        dept = db.session.get(Department, department) if department else None
        row = opportunities.insert_opportunity(db.session, user, OpportunityInput(company=company, **fields), location, dept)
        db.session.commit()
        return row.id


def test_an_edit_page_offers_no_save_and_add_another_and_no_section_marks(client, auth, org):
    auth.login("admin_a")
    add_another = admin_text("zh_Hans_CN", "Save and Add Another")
    assert add_another in client.get("/users/new/").get_data(as_text=True)  # a create page keeps it
    for url in (f"/users/edit/?id={org.users['sales_a']}", f"/departments/edit/?id={org.depts['华南代理/销售二部']}"):
        page = client.get(url).get_data(as_text=True)
        assert add_another not in page, url
        assert admin_text("zh_Hans_CN", "Save and Continue Editing") in page, url
        assert "§" not in page, url  # the manual's section numbers are for the manual, not the screen


def test_the_list_menus_read_naturally(app, client, auth, org):
    auth.login("root")
    page = client.get("/departments/").get_data(as_text=True)
    assert zh(app, "%(n)d per page", n=200) in page
    assert f"200 {admin_text('zh_Hans_CN', 'items')}" not in page
    users = client.get("/users/").get_data(as_text=True)
    assert zh(app, "Bulk actions") in users and admin_text("zh_Hans_CN", "With selected") not in users


def test_a_list_that_fits_one_page_has_no_pager(app, client, auth, org):
    for n in range(3):
        _place(app, f"苏州第{n}电子厂", "public_pool")
    auth.login("sales_a")
    assert 'class="pagination"' not in client.get("/pool/").get_data(as_text=True)
    for n in range(3, 21):  # past one page of 20: the pager comes back
        _place(app, f"苏州第{n}电子厂", "public_pool")
    assert 'class="pagination"' in client.get("/pool/?page_size=20").get_data(as_text=True)


def test_a_blank_maturity_shows_a_dash_and_the_search_box_says_what_it_takes(app, client, auth, org):
    _place(app, "无锡惠山机械厂", "agent_admin_pool", department=org.depts["华南代理/销售一部"])
    auth.login("admin_a")
    page = client.get("/agent-pool/").get_data(as_text=True)
    assert re.search(r'<td class="col-maturity">\s*—\s*</td>', page)
    auth.logout()
    auth.login("sales_a")
    for url in ("/opportunities/", "/pool/"):
        page = client.get(url).get_data(as_text=True)
        assert f'placeholder="{zh(app, "Company, phone or contact")}"' in page, url


def _text_of(page, element_id):
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:a|div|li)>', page, re.S)
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)) if match else ""


def test_the_days_contacts_have_one_name(app, client, auth, org):
    """The navigation bar, the home page's card and the list's tab call them the same: 今日待联系."""
    auth.login("sales_a")
    label = zh(app, "Due for contact today")
    home = client.get("/").get_data(as_text=True)
    assert label in _text_of(home, "nav-due-today") and label in _text_of(home, "due-today")
    mine = client.get("/opportunities/?show=due").get_data(as_text=True)
    assert re.search(r'class="nav-link active" id="show-due" href="/opportunities/\?show=due"[^>]*>' + label, mine)


def test_the_success_message_names_what_was_created(app, client, auth, org):
    auth.login("admin_a")
    token = csrf_token(client, "/departments/new/")
    response = client.post("/departments/new/", data={"parent": org.depts["华南代理"], "short_name": "销售三部",
                                                      "csrf_token": token}, follow_redirects=True)
    with app.app_context():
        created = db.session.scalar(select(Department).filter_by(short_name="销售三部"))
    page = response.get_data(as_text=True)
    assert zh(app, "Created: %(name)s", name=created.name) in page
    assert admin_text("zh_Hans_CN", "Record was successfully created.") not in page


def test_the_favicon_is_served_and_linked(client, auth, org):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_the_new_users_page_names_the_account(app, client, auth, org):
    auth.login("admin_a")
    token = csrf_token(client, "/users/new/")
    page = client.post("/users/new/", data={"login": "zhang.san", "role": "salesperson",
                                            "department": org.depts["华南代理/销售一部"], "email": "",
                                            "csrf_token": token}).get_data(as_text=True)
    assert zh(app, "Created: %(name)s", name="zhang.san") in page  # above the one-time password
    assert admin_text("zh_Hans_CN", "Record was successfully created.") not in page
