"""Issue 21, points 2 and 5, through the pages (test client, CSRF on, in Chinese).

2: 我的机会 opens on 全部 (after an abandon the rest is there), 今日应联系 is ?show=due and counts what the bar and
   the home page count; every tabbed list has exactly one selected tab; an empty list says why and links on.
5: 联系小记 has cards for a phone; the public pool's cards carry the tick box 批量操作 reads.
"""
import re
from datetime import timedelta

from conftest import csrf_token, zh
from models import Opportunity, User, db
from services import clock
from services.library import notes, opportunities
from services.library.opportunities import OpportunityInput

FLASK_ADMIN_EMPTY = "表中没有任何记录"


def _own(app, login, company, location="library", next_contact_in=None):
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login)) if login else None
        opportunity = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company),
                                                       location, None)
        if next_contact_in is not None:
            opportunity.next_contact_at = clock.now() + next_contact_in
        db.session.commit()
        return opportunity.id


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _tabs(page):
    """The list's tab bar (the first ul.nav-tabs) and the texts of its selected tabs."""
    bar = re.search(r'<ul class="nav nav-tabs">(.*?)</ul>', page, re.S).group(1)
    selected = re.findall(r'<a [^>]*class="nav-link[^"]*\bactive\b[^"]*"[^>]*>(.*?)</a>', bar, re.S)
    return bar, [re.sub(r"<[^>]+>|\s+", " ", s).strip() for s in selected]


def _text(page, element_id):
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', page, re.S)
    return match.group(1).strip() if match else None


def test_after_an_abandon_my_opportunities_shows_the_rest_under_all(app, client, auth, org):
    kept = _own(app, "sales_a", "苏州新天地纺织厂", next_contact_in=timedelta(days=3))  # not due today
    gone = _own(app, "sales_a", "扬州五环印花厂")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/")
    page = client.post("/opportunities/abandon/", data={"id": gone, "reason": "客户无需求", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert zh(app, "%(company)s was abandoned and is now in the agent-admin pool.", company="扬州五环印花厂") in page
    assert f'data-id="{kept}"' in page and "苏州新天地纺织厂" in page  # the remaining customer, not an empty list
    assert FLASK_ADMIN_EMPTY not in page
    assert zh(app, "Library %(n)d / %(cap)d", n=1, cap=130) in page
    _bar, selected = _tabs(page)
    assert selected == [f'{zh(app, "All")} (1)']  # exactly one, 全部, with its count; no 列表 beside it
    assert 'id="show-due"' in _bar


def test_an_empty_due_tab_says_why_and_links_to_all(app, client, auth, org):
    _own(app, "sales_a", "苏州新天地纺织厂", next_contact_in=timedelta(days=3))
    auth.login("sales_a")
    page = _page(client, "/opportunities/?show=due")
    assert FLASK_ADMIN_EMPTY not in page and "苏州新天地纺织厂" not in page
    assert zh(app, "Nobody is due for contact today.") in page
    assert zh(app, "A customer comes here on the day of the next contact set in a contact note.") in page
    assert re.search(r'class="btn [^"]*crm-empty-link" href="/opportunities/">' + zh(app, "All customers"), page)
    assert _tabs(page)[1] == [zh(app, "Due for contact today")]
    everything = _page(client, "/opportunities/")  # the link's page lists the customer
    assert "苏州新天地纺织厂" in everything


def test_the_bar_the_home_page_and_the_due_tab_count_the_same_customers(app, client, auth, org):
    _own(app, "sales_a", "苏州新天地纺织厂", next_contact_in=-timedelta(days=2))  # overdue: due
    _own(app, "sales_a", "扬州五环印花厂", next_contact_in=-timedelta(minutes=5))  # due now
    _own(app, "sales_a", "杭州绿源茶业有限公司", next_contact_in=timedelta(days=2))  # later
    _own(app, "sales_a", "南京金陵机械厂")  # new, no next contact: under 全部 only
    _own(app, "sales_b", "无锡太湖电子厂", next_contact_in=-timedelta(days=1))  # someone else's
    auth.login("sales_a")
    home = _page(client, "/")
    due = _page(client, "/opportunities/?show=due")
    listed = set(re.findall(r'id="opportunity-cards".*', due, re.S)[0].split('data-id="')[1:])
    assert _text(home, "nav-due-today-count") == _text(home, "due-today-count") == "2" == str(len(listed))
    assert "苏州新天地纺织厂" in due and "扬州五环印花厂" in due
    assert not any(name in due for name in ("杭州绿源茶业有限公司", "南京金陵机械厂", "无锡太湖电子厂"))
    assert _tabs(due)[1] == [f'{zh(app, "Due for contact today")} (2)']
    assert 'href="/opportunities/?show=due"' in home  # the bar and the card lead to the tab
    everything = _page(client, "/opportunities/")
    assert everything.index("苏州新天地纺织厂") < everything.index("南京金陵机械厂")  # due first
    assert everything.index("扬州五环印花厂") < everything.index("杭州绿源茶业有限公司")


def test_every_tabbed_list_has_exactly_one_selected_tab(app, client, auth, org):
    _own(app, "sales_a", "苏州新天地纺织厂")
    auth.login("admin_a")
    expected = {
        "/opportunities/": zh(app, "All"), "/opportunities/?show=deleted": zh(app, "Deleted"),
        "/opportunities/?show=due": zh(app, "All"),  # an admin keeps no library: no 今日应联系 tab
        "/users/": zh(app, "Users"), "/users/?show=deleted": zh(app, "Deleted"),
        "/agent-pool/": zh(app, "Agent-admin pool"), "/agent-pool/?show=deleted": zh(app, "Deleted"),
    }
    for url, label in expected.items():
        _bar, selected = _tabs(_page(client, url))
        assert len(selected) == 1 and selected[0].startswith(label), (url, selected)
    for url in ("/pool/", "/notes/", "/audit/"):  # lists without tabs keep Flask-Admin's one 列表 tab
        assert len(_tabs(_page(client, url))[1]) == 1, url


def test_empty_views_say_why_in_chinese(app, client, auth, org):
    auth.login("sales_b")  # nothing in the library yet
    page = _page(client, "/opportunities/")
    assert FLASK_ADMIN_EMPTY not in page and zh(app, "Your library has no customers yet.") in page
    assert re.search(r'crm-empty-link" href="/dedup/">', page) and re.search(r'crm-empty-link" href="/pool/">', page)
    _own(app, "sales_b", "无锡太湖电子厂")
    searched = _page(client, "/opportunities/?search=没有这家公司")
    assert zh(app, "Nothing matches the search or the filters.") in searched
    assert re.search(r'crm-empty-link" href="/opportunities/(\?page_size=50)?">' + zh(app, "Clear the search"),
                     searched)
    auth.logout()
    auth.login("admin_a")
    deleted = _page(client, "/opportunities/?show=deleted")
    assert zh(app, "No deleted customers.") in deleted and FLASK_ADMIN_EMPTY not in deleted
    assert re.search(r'crm-empty-link" href="/opportunities/">' + zh(app, "All"), deleted)
    assert zh(app, "No deleted users.") in _page(client, "/users/?show=deleted")
    assert zh(app, "No customer is waiting in the agent-admin pool.") in _page(client, "/agent-pool/")


def test_the_notes_list_has_a_card_per_note(app, client, auth, org):
    opportunity_id = _own(app, "sales_a", "苏州新天地纺织厂")
    with app.app_context():
        sales = db.session.scalar(db.select(User).filter_by(login="sales_a"))
        notes.add_note(db.session, sales, opportunity_id, "phone", "王经理说下周下单，要报价单", 3)
        db.session.commit()
    auth.login("sales_a")
    page = _page(client, "/notes/")
    cards = page[page.index('id="note-cards"'):]
    assert "苏州新天地纺织厂" in cards and "王经理说下周下单，要报价单" in cards
    assert zh(app, "Valid contact: %(answer)s", answer=zh(app, "Yes")) in cards
    assert 'class="d-none d-md-block"' in page  # the table only from md up


def test_a_pool_card_can_be_ticked_and_claimed_through_bulk_actions(app, client, auth, org):
    first = _own(app, None, "苏州吴中电子厂有限责任公司", location="public_pool")
    second = _own(app, None, "无锡太湖电子厂", location="public_pool")
    auth.login("sales_a")
    page = _page(client, "/pool/")
    cards = page[page.index('id="pool-cards"'):]
    assert re.search(rf'<input type="checkbox" name="rowid" class="action-checkbox crm-card-tick[^"]*" '
                     rf'id="pool-tick-{first}" value="{first}"', cards)
    assert 'data-crm-action="claim"' in page
    # a card's tick and its hidden table row's tick both posted: claimed once, no refusal
    token = csrf_token(client, "/pool/")
    done = client.post("/pool/action/", data={"action": "claim", "rowid": [str(first), str(first)],
                                              "url": "/pool/", "csrf_token": token}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert zh(app, "%(n)d customers are now in your library.", n=1) in text
    assert 'alert-danger' not in text
    with app.app_context():
        assert db.session.get(Opportunity, first).location == "library"
        assert db.session.get(Opportunity, second).location == "public_pool"
