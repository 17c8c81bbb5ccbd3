"""The lists the subsystem admin keeps: §三's information sources and §五's abandon reasons."""
from conftest import csrf_token, post_form, zh
from models import InfoSource, db


def test_subsystem_admin_keeps_the_list_and_the_form_offers_it(client, auth, org, app):
    auth.login("root")
    response = post_form(client, "/info-sources/new/", {"name": "老客户转介绍", "active": "y"}, "/info-sources/new/")
    assert response.status_code == 302
    taken = post_form(client, "/info-sources/new/", {"name": "老客户转介绍", "active": "y"}, "/info-sources/new/")
    assert zh(app, "%(name)s is on the list already.", name="老客户转介绍") in taken.get_data(as_text=True)
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
        assert client.get("/abandon-reasons/").status_code == 403
        auth.logout()


def test_a_new_abandon_reason_is_offered_on_the_details_page(client, auth, org, app):
    from models import Opportunity
    from services.library import opportunities
    from services.library.opportunities import OpportunityInput

    auth.login("root")
    assert post_form(client, "/abandon-reasons/new/", {"name": "客户已搬迁", "active": "y"},
                     "/abandon-reasons/new/").status_code == 302
    auth.logout()
    with app.app_context():
        from models import User

        owner = db.session.get(User, org.users["sales_a"])
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company="杭州绿源茶业有限公司"),
                                            "library", None)
        db.session.commit()
        opportunity_id = opportunity.id
    auth.login("sales_a")
    assert "客户已搬迁" in client.get(f"/opportunities/details/?id={opportunity_id}").get_data(as_text=True)
    with app.app_context():  # the seeded list is kept between tests: take the addition out again
        from models import AbandonReason

        db.session.execute(db.delete(AbandonReason).where(AbandonReason.name == "客户已搬迁"))
        db.session.commit()
        assert db.session.get(Opportunity, opportunity_id) is not None
