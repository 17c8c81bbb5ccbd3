"""Issue 5: soft delete of opportunities and users: hidden everywhere, restorable by an admin, audited.

Through the pages (row and bulk actions with the CSRF token) and the API, as the people would.
"""
import csv
import io
import json
import re

from conftest import PASSWORD, csrf_token, zh
from helpers import ApiClient, api_token
from models import AuditEntry, Opportunity, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _own(app, login, company, phone="0514-2398577", location="library", department=None):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login)) if login else None
        data = OpportunityInput(company=company, province="江苏省", city="扬州市", phone=phone)
        opportunity = opportunities.insert_opportunity(db.session, owner, data, location, department)
        db.session.commit()
        return opportunity.id


def _pooled(app, company, company_path):
    from services.people import departments

    with app.app_context():
        department = departments.resolve_path(db.session, company_path)
        data = OpportunityInput(company=company, province="江苏省", city="扬州市")
        opportunity = opportunities.insert_opportunity(db.session, None, data, "agent_admin_pool", department)
        db.session.commit()
        return opportunity.id


def _post(client, url, token_from, **data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_from)}, follow_redirects=True)


def _deleted_at(app, opportunity_id):
    with app.app_context():
        return db.session.get(Opportunity, opportunity_id).deleted_at


def _audit(app, action):
    with app.app_context():
        return [(e.actor_login, e.target_id, json.loads(e.details) if e.details else None)
                for e in db.session.scalars(db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))]


def _as(app, login):
    """A second browser: its own cookie jar."""
    other = app.test_client()
    token = csrf_token(other, "/login")
    other.post("/login", data={"username": login, "password": PASSWORD, "csrf_token": token})
    return other


def _listed(login, page):
    """Whether the users list has a row for `login`."""
    return re.search(r'class="col-login">\s*' + re.escape(login) + r'\s*<', page) is not None


def _csv(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_a_deleted_opportunity_is_hidden_everywhere_and_restorable(client, auth, org, app):
    kept = _own(app, "sales_a", "苏州新天地纺织厂", phone="0512-6543210")
    gone = _own(app, "sales_a", "扬州五环印花厂")
    sales = _as(app, "sales_a")
    assert "扬州五环印花厂" in sales.get("/opportunities/?show=all").get_data(as_text=True)
    auth.login("admin_a")
    done = _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=gone)
    assert zh(app, "%(n)d customers deleted. An admin can restore them from the Deleted view.", n=1) \
        in done.get_data(as_text=True)
    assert _deleted_at(app, gone) is not None
    assert _audit(app, "opportunity_deleted") == [
        ("admin_a", gone, {"company": "扬州五环印花厂", "location": "library", "owner": "sales_a"})]
    # the owner's list, details page, export, API and stats no longer know it
    listing = sales.get("/opportunities/?show=all").get_data(as_text=True)
    assert "扬州五环印花厂" not in listing and "苏州新天地纺织厂" in listing
    assert sales.get(f"/opportunities/details/?id={gone}").status_code == 404
    manager = _as(app, "manager_a")  # salespeople do not export; their manager does
    assert [row[0] for row in _csv(manager.get("/opportunities/export/csv/?show=all"))[1:]] == ["苏州新天地纺织厂"]
    api = ApiClient(app, sales, api_token(app, "sales_a"))
    assert [o["id"] for o in api.get("/opportunities").get_json()["items"]] == [kept]
    assert api.get(f"/opportunities/{gone}").status_code == 404
    assert zh(app, "Library %(n)d / %(cap)d", n=1, cap=130) in listing  # the cap counts live ones only
    admin_api = ApiClient(app, client, api_token(app, "admin_a"))
    sizes = {u["login"]: u["library_size"] for u in admin_api.get("/stats/daily").get_json()["users"]}
    assert sizes["sales_a"] == 1
    # the duplicate check ignores it: the same customer may be entered again
    assert api.get("/dedup", name="扬州五环印花厂", phone="0514-2398577").get_json()["matches"] == []
    # the admin's 已删除 view lists it, with a restore action
    deleted_view = client.get("/opportunities/?show=deleted").get_data(as_text=True)
    assert "扬州五环印花厂" in deleted_view and "苏州新天地纺织厂" not in deleted_view
    assert "/opportunities/restore/" in deleted_view
    restored = _post(client, "/opportunities/restore/", "/opportunities/?show=deleted", id=gone)
    assert zh(app, "%(n)d customers restored.", n=1) in restored.get_data(as_text=True)
    assert _deleted_at(app, gone) is None
    assert _audit(app, "opportunity_restored") == [("admin_a", gone, {"company": "扬州五环印花厂"})]
    assert sales.get(f"/opportunities/details/?id={gone}").status_code == 200


def test_restoring_is_refused_while_the_same_customer_exists_again(client, auth, org, app):
    gone = _own(app, "sales_a", "扬州五环印花厂")
    auth.login("admin_a")
    _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=gone)
    _own(app, "sales_a", "扬州五环印花厂")  # entered again while the first was deleted
    refused = _post(client, "/opportunities/restore/", "/opportunities/?show=deleted", id=gone)
    assert zh(app, "%(company)s cannot be restored: the same customer exists again (%(other)s, in %(place)s).",
              company="扬州五环印花厂", other="扬州五环印花厂",
              place=zh(app, "the library of %(owner)s", owner="sales_a")) in refused.get_data(as_text=True)
    assert _deleted_at(app, gone) is not None and _audit(app, "opportunity_restored") == []


def test_bulk_delete_in_the_pools_and_the_agent_admins_scope(client, auth, org, app):
    mine = _pooled(app, "扬州五环印花厂", "华南代理")
    theirs = _pooled(app, "杭州东方丝绸厂", "华东代理")
    theirs_library = _own(app, "sales_b", "南京金陵机械厂", phone="025-5551234")
    public = _own(app, None, "无锡太湖电子厂", phone="0510-7654321", location="public_pool")
    auth.login("admin_a")
    assert "扬州五环印花厂" in client.get("/agent-pool/").get_data(as_text=True)
    token = csrf_token(client, "/agent-pool/")
    client.post("/agent-pool/action/", data={"action": "soft_delete", "rowid": [mine], "csrf_token": token})
    assert _deleted_at(app, mine) is not None
    assert "扬州五环印花厂" not in client.get("/agent-pool/").get_data(as_text=True)
    assert "扬州五环印花厂" in client.get("/agent-pool/?show=deleted").get_data(as_text=True)
    # 华东代理's records are out of admin_a's reach: neither deleted nor restored, in bulk or by row
    for url, ids in (("/agent-pool/action/", [theirs]), ("/opportunities/action/", [theirs_library])):
        client.post(url, data={"action": "soft_delete", "rowid": ids, "csrf_token": token})
    refused = _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=theirs_library)
    assert zh(app, "This customer does not exist or is out of your reach.") in refused.get_data(as_text=True)
    assert _deleted_at(app, theirs) is None and _deleted_at(app, theirs_library) is None
    auth.logout()
    auth.login("root")  # the subsystem admin reaches the public pool, and deletes 华东's
    _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=theirs_library)
    token = csrf_token(client, "/pool/")
    client.post("/opportunities/action/", data={"action": "soft_delete", "rowid": [public], "csrf_token": token})
    assert "无锡太湖电子厂" not in client.get("/pool/").get_data(as_text=True)
    auth.logout()
    auth.login("admin_a")
    client.post("/opportunities/action/", data={"action": "restore", "rowid": [theirs_library],
                                                "csrf_token": csrf_token(client, "/opportunities/?show=deleted")})
    assert _deleted_at(app, theirs_library) is not None  # admin_a cannot restore 华东's either
    assert "南京金陵机械厂" not in client.get("/opportunities/?show=deleted").get_data(as_text=True)
    # a salesperson deletes nothing, and a POST without the CSRF token is refused
    auth.logout()
    auth.login("sales_b")
    own = _own(app, "sales_b", "合肥长江化工厂", phone="0551-3334444")
    refused = _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=own)
    assert zh(app, "Only admins delete and restore customers.") in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity).where(
            Opportunity.company == "合肥长江化工厂", Opportunity.deleted_at.is_(None))) == 1
    auth.logout()
    auth.login("admin_a")
    assert client.post("/opportunities/soft-delete/", data={"id": theirs}).status_code == 400
    assert client.get("/opportunities/?show=deleted").status_code == 200


def test_a_deleted_user_cannot_log_in_is_hidden_and_restorable(client, auth, org, app):
    owned = _own(app, "sales_a", "扬州五环印花厂")
    captured = _as(app, "sales_a")
    assert captured.get("/opportunities/").status_code == 200
    auth.login("admin_a")
    # a user who still owns customers is not deleted: reassign or abandon them first
    refused = _post(client, "/users/soft-delete/", "/users/", id=org.users["sales_a"])
    assert zh(app, "%(login)s still owns %(n)d customers: reassign them or have them abandoned before deleting "
                   "the account.", login="sales_a", n=1) in refused.get_data(as_text=True)
    _post(client, "/opportunities/soft-delete/", "/opportunities/?show=all", id=owned)  # deleted ones do not count
    done = _post(client, "/users/soft-delete/", "/users/", id=org.users["sales_a"])
    assert zh(app, "The account %(login)s has been deleted.", login="sales_a") in done.get_data(as_text=True)
    assert _audit(app, "user_deleted") == [("admin_a", org.users["sales_a"], {"login": "sales_a"})]
    # its sessions end, its login is refused, it is gone from the list, the stats and the API
    assert captured.get("/opportunities/").status_code in (302, 401)
    token = api_token(app, "sales_a")
    assert ApiClient(app, app.test_client(), token).get("/opportunities").status_code == 401
    other = app.test_client()
    login = other.post("/login", data={"username": "sales_a", "password": PASSWORD,
                                       "csrf_token": csrf_token(other, "/login")}, follow_redirects=True)
    assert zh(app, "This account has been deactivated. Ask your administrator.") in login.get_data(as_text=True)
    users = client.get("/users/").get_data(as_text=True)
    assert _listed("sales_a", users) is False and _listed("manager_a", users) is True
    admin_api = ApiClient(app, client, api_token(app, "admin_a"))
    assert "sales_a" not in {u["login"] for u in admin_api.get("/stats/daily").get_json()["users"]}
    deleted_view = client.get("/users/?show=deleted").get_data(as_text=True)
    assert _listed("sales_a", deleted_view) is True and _listed("manager_a", deleted_view) is False
    assert client.get(f"/users/edit/?id={org.users['sales_a']}").status_code == 404
    # restored: active again, with its own password
    _post(client, "/users/undelete/", "/users/?show=deleted", id=org.users["sales_a"])
    assert _audit(app, "user_restored") == [("admin_a", org.users["sales_a"], {"login": "sales_a"})]
    assert _as(app, "sales_a").get("/opportunities/").status_code == 200
    assert _listed("sales_a", client.get("/users/").get_data(as_text=True)) is True


def test_an_agent_admin_deletes_and_restores_only_its_own_companys_users(client, auth, org, app):
    auth.login("admin_a")
    client.post("/users/soft-delete/", data={"id": org.users["sales_b"], "csrf_token": csrf_token(client, "/users/")})
    token = csrf_token(client, "/users/")
    client.post("/users/action/", data={"action": "soft_delete", "rowid": [org.users["sales_b"]], "csrf_token": token})
    refused = _post(client, "/users/soft-delete/", "/users/", id=org.users["admin_a"])
    assert zh(app, "You may not do this to your own account.") in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, org.users["sales_b"]).deleted_at is None
        assert db.session.get(User, org.users["admin_a"]).deleted_at is None
    auth.logout()
    auth.login("admin_b")
    _post(client, "/users/soft-delete/", "/users/", id=org.users["sales_b"])
    auth.logout()
    auth.login("admin_a")
    assert client.post("/users/undelete/", data={"id": org.users["sales_b"],
                                                 "csrf_token": csrf_token(client, "/users/")}).status_code == 404
    assert _listed("sales_b", client.get("/users/?show=deleted").get_data(as_text=True)) is False
    with app.app_context():
        assert db.session.get(User, org.users["sales_b"]).deleted_at is not None
