"""The duplicates pages (重复客户, issue 11) as admins use them, in Chinese with CSRF on: the scan (here the
job runs at once: conftest's immediate queue), the groups side by side, the merge page, "not duplicates",
the merges list and its undo, and old links to a merged record. The services are tested on their own
(tests/test_duplicates*.py); the browser walk is tests/test_browser_duplicates.py."""
import csv
import io
import re

import pytest
from sqlalchemy import func, select

from conftest import csrf_token, post_form, zh
from models import ContactNote, DuplicateScan, Opportunity, User, db
from services import jobs
from services.library import notes
from services.library import opportunities as opps

# Two records of one company in 华南代理 (a salesperson's, with a note, and an old list's in the
# agent-admin pool, loaded with --skip-check), and a pair of another company in 华东代理.
SOUTH = [("上海瑞丽服装厂", "021-62345678", "上海", "王经理", "sales_a"),
         ("上海市瑞丽服装有限公司", "62345678", "上海", "李经理", "华南代理")]
EAST = [("杭州明辉灯饰厂", "0571-88776655", "杭州", "陈经理", "sales_b"),
        ("杭州明辉灯饰有限公司", "88776655", "杭州", "", "华东代理")]


def entered(app, login, company, phone, city, contact):
    """A customer entered by its salesperson through the rules, with one contact note."""
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(login=login))
        data = opps.OpportunityInput.from_mapping({"company": company, "phone": phone, "province": city,
                                                   "city": city, "contact": contact})
        record = opps.enter(db.session, user, data)
        notes.add_note(db.session, user, record.id, "phone", f"{contact}说下周下单", 3)
        db.session.commit()
        return record.id


def imported(app, runner, tmp_path, company, phone, city, contact, company_path):
    """The same company from an old list, into the agent-admin pool without the check (a migration)."""
    path = tmp_path / f"{company}.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["公司名称", "电话", "省份", "城市", "联系人"], [company, phone, city, city, contact]])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(args=["opportunities", "import", str(path), "--skip-check", "--pool", "agent_admin",
                                 "--department", company_path])
    assert result.exit_code == 0, result.output
    with app.app_context():
        return db.session.scalar(select(Opportunity.id).filter_by(company=company))


@pytest.fixture
def pairs(app, org, runner, tmp_path):
    ids = {}
    for pair in (SOUTH, EAST):
        (company, phone, city, contact, login), other = pair
        ids[company] = entered(app, login, company, phone, city, contact)
        ids[other[0]] = imported(app, runner, tmp_path, *other)
    return ids


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def scanned(client):
    """Start the scan from the page, as the button does; the immediate queue runs it at once."""
    response = post_form(client, "/duplicates/scan", {}, token_from="/duplicates/")
    assert response.status_code == 302
    return page(client, "/duplicates/")


def group_ids(html):
    return [int(i) for i in re.findall(r'data-group="(\d+)"', html)]


def test_only_admins_reach_the_page(client, auth, org, pairs):
    for login in ("sales_a", "super_a", "manager_a"):
        auth.login(login)
        for url in ("/duplicates/", "/duplicates/merges/", "/duplicates/progress.json"):
            assert client.get(url).status_code == 403, (login, url)
        token = csrf_token(client, "/")
        assert client.post("/duplicates/scan", data={"csrf_token": token}).status_code == 403
        auth.logout()
    assert client.get("/duplicates/").status_code == 302  # signed out: to the login page


def test_the_scan_finds_the_company_s_pair_side_by_side(app, client, auth, pairs):
    auth.login("admin_a")
    html = page(client, "/duplicates/")
    assert zh(app, "Duplicate customers") in html and zh(app, "Search for duplicates") in html
    assert zh(app, "Start a search to find the duplicates among your customers.") in html
    html = scanned(client)
    assert zh(app, "No search has finished yet.") not in html
    groups = group_ids(html)
    assert len(groups) == 1  # 华东代理's pair is out of admin_a's reach
    card = html[html.index(f'id="group-{groups[0]}"'):]
    for company, _phone, _city, contact, _where in SOUTH:
        assert company in card and contact in card
    assert "杭州明辉" not in html
    assert f"{zh(app, 'Library')} · sales_a" in card and zh(app, "Agent-admin pool") in card
    # the engine's reason, said whole from its code in the catalog's words
    assert zh(app, "same trade name %(name)s, same place %(place)s", name="瑞丽服装", place="上海市") in card
    assert 'class="crm-differs"' in card  # the contacts differ
    tab = re.search(r'data-verdict="duplicate"[^>]*>[^<]*<span class="badge[^"]*">(\d+)<', html)
    assert tab and tab.group(1) == "1"
    progress = client.get("/duplicates/progress.json").get_json()
    assert progress["status"] == "done"

    auth.logout()
    auth.login("admin_b")
    html = scanned(client)
    assert len(group_ids(html)) == 1 and "杭州明辉灯饰厂" in html and "瑞丽" not in html
    assert client.get(f"/duplicates/group/{groups[0]}/").status_code == 404  # admin_a's group


def test_the_page_follows_a_scan_that_waits_for_the_worker(app, client, auth, pairs, monkeypatch):
    monkeypatch.setattr(jobs, "_send", lambda app, ids: None)  # no worker: the job stays queued
    auth.login("admin_a")
    html = scanned(client)
    assert 'data-scan-progress="/duplicates/progress.json"' in html and zh(app, "Waiting for the background worker") in html
    assert re.search(r'id="duplicates-start"\s+disabled', html)  # one search at a time
    assert client.get("/duplicates/progress.json").get_json() == {
        "status": "queued", "label": zh(app, "Waiting for the background worker"), "done": 0, "total": None}
    scanned(client)  # a second click answers the search already waiting
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DuplicateScan)) == 1


def test_merging_from_the_page_keeps_one_record_with_both_notes(app, client, auth, pairs):
    library_id, pool_id = pairs["上海瑞丽服装厂"], pairs["上海市瑞丽服装有限公司"]
    with app.app_context():
        old = db.session.get(Opportunity, pool_id)
        db.session.add(ContactNote(opportunity_id=pool_id, author_id=db.session.scalar(
            select(User.id).filter_by(login="admin_a")), method="phone", content="旧系统的小记", maturity=2,
            valid=True, created_at=old.entered_at))
        db.session.commit()
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    html = page(client, f"/duplicates/group/{group}/")
    assert f'name="keep" value="{library_id}" id="keep-{library_id}" checked' in html  # the oldest, by default
    assert f'id="value-contact-{library_id}" checked' in html  # the kept record's own value, by default
    assert 'name="value-company"' in html and 'name="value-industry"' not in html  # only what differs

    response = post_form(client, f"/duplicates/group/{group}/", {
        "keep": library_id, "merge": pool_id, "value-contact": pool_id, "value-company": library_id,
        "value-owner": library_id}, token_from=f"/duplicates/group/{group}/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/opportunities/details/?id={library_id}")
    details = page(client, response.headers["Location"])
    assert zh(app, "%(merged)s merged into %(kept)s.", merged="上海市瑞丽服装有限公司", kept="上海瑞丽服装厂") in details
    assert re.search(r'action="/duplicates/merges/\d+/undo"', details)  # undo, right there in the message
    assert "李经理" in details  # the chosen contact
    assert "旧系统的小记" in details and "王经理说下周下单" in details  # both records' notes

    # gone from every list of the admin and of the salesperson
    assert "上海市瑞丽服装有限公司" not in page(client, "/agent-pool/")
    assert "上海市瑞丽服装有限公司" not in page(client, "/opportunities/?show=all")
    assert group not in group_ids(page(client, "/duplicates/"))
    auth.logout()
    auth.login("sales_a")
    mine = page(client, "/opportunities/?show=all")
    assert "上海瑞丽服装厂" in mine and "上海市瑞丽服装有限公司" not in mine


def test_a_refused_merge_says_why_and_keeps_the_choices(app, client, auth, pairs):
    library_id, pool_id = pairs["上海瑞丽服装厂"], pairs["上海市瑞丽服装有限公司"]
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    response = post_form(client, f"/duplicates/group/{group}/", {"keep": library_id, "value-contact": pool_id},
                         token_from=f"/duplicates/group/{group}/")  # no record ticked to merge
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert zh(app, "Choose the record to keep and at least one other record to merge into it.") in html
    assert f'id="merge-{pool_id}" checked' not in html
    with app.app_context():
        assert db.session.get(Opportunity, pool_id).deleted_at is None
    assert post_form(client, "/duplicates/group/999999/", {"keep": library_id, "merge": pool_id},
                     token_from="/duplicates/").status_code == 404


def test_not_duplicates_removes_the_group_for_good(app, client, auth, pairs):
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    response = post_form(client, f"/duplicates/group/{group}/dismiss", {"next": "/duplicates/"},
                         token_from="/duplicates/")
    assert response.status_code == 302 and response.headers["Location"] == "/duplicates/"
    html = page(client, "/duplicates/")
    assert zh(app, "The group was marked as not duplicates: the next scans will not show these records together.") \
        in html
    assert group_ids(html) == []
    assert group_ids(scanned(client)) == []  # remembered by the next scan
    assert client.post(f"/duplicates/group/{group}/dismiss").status_code == 400  # no CSRF token


def test_undo_from_the_merges_list_restores_both(app, client, auth, pairs):
    library_id, pool_id = pairs["上海瑞丽服装厂"], pairs["上海市瑞丽服装有限公司"]
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    post_form(client, f"/duplicates/group/{group}/", {"keep": pool_id, "merge": library_id},
              token_from=f"/duplicates/group/{group}/")
    html = page(client, "/duplicates/merges/")
    merge_id = int(re.search(r'data-merge="(\d+)"', html).group(1))
    row = html[html.index(f'data-merge="{merge_id}"'):]
    assert "上海市瑞丽服装有限公司" in row and "上海瑞丽服装厂" in row and "admin_a" in row
    assert zh(app, "Undo the merge") in row and f'data-undo-merge="{merge_id}"' in row

    # an old link to the merged record leads to the kept one
    response = client.get(f"/opportunities/details/?id={library_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?id={pool_id}")
    assert zh(app, "That customer was merged into %(company)s.", company="上海市瑞丽服装有限公司") in \
        page(client, response.headers["Location"])

    response = post_form(client, f"/duplicates/merges/{merge_id}/undo", {}, token_from="/duplicates/merges/")
    assert response.status_code == 302
    html = page(client, "/duplicates/merges/")
    assert zh(app, "The merge was undone: %(companies)s are separate customers again.",
              companies="上海市瑞丽服装有限公司、上海瑞丽服装厂") in html
    assert f'data-undo-merge="{merge_id}"' not in html
    assert "王经理说下周下单" in page(client, f"/opportunities/details/?id={library_id}")
    assert "上海瑞丽服装厂" in page(client, "/opportunities/?show=all")

    # a second undo is refused with the service's reason, in Chinese
    response = post_form(client, f"/duplicates/merges/{merge_id}/undo", {}, token_from="/duplicates/merges/")
    assert zh(app, "This merge was undone already.") in page(client, response.headers["Location"])


def test_old_links_of_merged_records_out_of_reach_are_not_found(app, client, auth, pairs):
    library_id, pool_id = pairs["上海瑞丽服装厂"], pairs["上海市瑞丽服装有限公司"]
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    post_form(client, f"/duplicates/group/{group}/", {"keep": pool_id, "merge": library_id},
              token_from=f"/duplicates/group/{group}/")
    auth.logout()
    auth.login("sales_a")  # its record went into the agent-admin pool, which it cannot see
    assert client.get(f"/opportunities/details/?id={library_id}").status_code == 404
    auth.logout()
    auth.login("admin_b")
    assert client.get(f"/opportunities/details/?id={library_id}").status_code == 404
    assert client.get(f"/agent-pool/details/?id={library_id}").status_code == 404
    assert post_form(client, "/duplicates/merges/1/undo", {}, token_from="/duplicates/").status_code == 404
