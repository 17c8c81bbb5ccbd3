"""CSRF: every POST of the pages, row and bulk actions included, is refused without a valid
token, and refused before it changes anything. The API (Bearer tokens, no cookies) is exempt.

The list of POST routes is read from the app itself, so a new form cannot be forgotten here.
"""
import pytest
from sqlalchemy import select

from conftest import csrf_token, zh
from models import Opportunity, User, db
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _post_routes(app):
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "POST" in rule.methods and not rule.rule.startswith("/api/") and "<" not in rule.rule})


def test_every_page_post_without_a_token_is_refused(app, client, auth, org):
    auth.login("root")
    routes = _post_routes(app)
    assert len(routes) > 50 and "/users/action/" in routes and "/opportunities/note/" in routes
    for route in routes:
        response = client.post(route, data={"id": "1"})
        assert response.status_code == 400, route
    assert client.get("/").status_code == 200  # still signed in: the refusals changed nothing


def test_a_wrong_or_stale_token_is_refused_too(app, client, auth, org):
    auth.login("admin_a")
    token = csrf_token(client, "/users/")
    for bad in ("", "x" * 40, token[:-4] + "abcd"):
        assert client.post("/users/unlock/", data={"id": "1", "csrf_token": bad}).status_code == 400


def test_the_refusal_is_explained_in_chinese(app, client, auth, org):
    auth.login("admin_a")
    page = client.post("/users/reset-password/", data={"id": "1"}).get_data(as_text=True)
    assert zh(app, "The form expired or was sent from elsewhere. Reload the page and try again.") in page


@pytest.fixture
def victims(app, org):
    with app.app_context():
        sales = db.session.scalar(select(User).filter_by(login="sales_a"))
        mine = opportunities.insert_opportunity(db.session, sales, OpportunityInput(company="扬州五环印花厂"), "library", None)
        pooled = opportunities.insert_opportunity(db.session, None, OpportunityInput(company="广州恒达五金制品厂"), "public_pool",
                                       None)
        db.session.commit()
        return {"sales": sales.id, "mine": mine.id, "pooled": pooled.id}


def test_actions_without_a_token_change_nothing(app, client, auth, victims):
    auth.login("admin_a")
    client.post("/users/action/", data={"action": "deactivate", "rowid": [str(victims["sales"])]})
    client.post("/users/reset-password/", data={"id": str(victims["sales"])})
    client.post("/opportunities/soft-delete/", data={"id": str(victims["mine"])})
    auth.logout()
    auth.login("sales_a")  # still active, same password
    client.post("/pool/claim/", data={"id": str(victims["pooled"])})
    client.post("/opportunities/note/", data={"id": str(victims["mine"]), "method": "phone", "content": "伪造",
                                              "maturity": "3"})
    client.post("/opportunities/abandon/", data={"id": str(victims["mine"]), "reason": "客户无需求"})
    with app.app_context():
        sales = db.session.get(User, victims["sales"])
        assert sales.active and not sales.must_change_password
        mine, pooled = db.session.get(Opportunity, victims["mine"]), db.session.get(Opportunity, victims["pooled"])
        assert mine.location == "library" and mine.deleted_at is None and mine.last_contact_at is None
        assert pooled.location == "public_pool"
