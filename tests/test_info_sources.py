"""§三 step 5's information source comes from a list the subsystem admin keeps."""
from conftest import csrf_token, post_form, zh
from models import InfoSource, db


def test_subsystem_admin_keeps_the_list_and_the_form_offers_it(client, auth, org, app):
    auth.login("root")
    response = post_form(client, "/info-sources/new/", {"name": "老客户转介绍", "active": "y"}, "/info-sources/new/")
    assert response.status_code == 302
    taken = post_form(client, "/info-sources/new/", {"name": "老客户转介绍", "active": "y"}, "/info-sources/new/")
    assert zh(app, "The source %(name)s exists already.", name="老客户转介绍") in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(InfoSource)
                                 .where(InfoSource.name == "老客户转介绍")) == 1
    auth.logout()
    auth.login("sales_a")
    assert "老客户转介绍" in client.get("/opportunities/new/").get_data(as_text=True)


def test_a_source_switched_off_is_no_longer_offered_nor_accepted(client, auth, org, app):
    with app.app_context():
        source = db.session.scalar(db.select(InfoSource).where(InfoSource.name == "展会"))
        source_id = source.id
    auth.login("root")
    post_form(client, f"/info-sources/edit/?id={source_id}", {"name": "展会"}, f"/info-sources/edit/?id={source_id}")
    auth.logout()
    auth.login("sales_a")
    assert ">展会<" not in client.get("/opportunities/new/").get_data(as_text=True)
    token = csrf_token(client, "/opportunities/new/")
    refused = client.post("/opportunities/new/", data={"company": "杭州绿源茶业有限公司", "source": "展会",
                                                       "csrf_token": token})
    assert zh(app, "Choose an information source from the list.") in refused.get_data(as_text=True)
    with app.app_context():
        db.session.get(InfoSource, source_id).active = True  # the seeded list is kept between tests
        db.session.commit()


def test_other_roles_cannot_reach_the_list(client, auth, org):
    for login in ("admin_a", "sales_a", "manager_a"):
        auth.login(login)
        assert client.get("/info-sources/").status_code == 403
        auth.logout()
