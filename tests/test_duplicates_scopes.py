"""Issue 21, point 6: each scope's 重复客户. An agent admin's scan finds his company's customers that
duplicate the public pool's (公海) as well as those inside his company; he sees his own figures, never the
head office's nor another company's; he may dismiss a pair with a pool customer, but merging it needs a
subsystem admin (the pool is every company's), and the pool customer shows only what the pool's list shows.
Through the pages (Chinese, CSRF on) and the API, as the admins of two companies and the subsystem admin."""
import re

import pytest
from test_duplicates import WUHUAN, WUHUAN_AGAIN, _all_groups, _api, _ids, _import, _scan
from test_duplicates_pages import group_ids, page, scanned

from conftest import post_form, set_rules, zh
from models import Opportunity, db

# The rows carry their label in the contact column (test_duplicates._ids).
SOUTH_OWN = {"company": "上海瑞丽服装厂", "province": "上海市", "city": "上海市", "phone": "021-62345678",
             "contact": "华南库"}
SOUTH_POOL = {"company": "上海市瑞丽服装有限公司", "province": "上海市", "city": "上海市", "phone": "62345678",
              "mobile": "13800001111", "contact": "公海瑞丽"}
EAST_OWN = {"company": "杭州明辉灯饰厂", "province": "浙江省", "city": "杭州市", "phone": "0571-88776655",
            "contact": "华东库"}
EAST_POOL = {"company": "杭州市明辉灯饰有限公司", "province": "浙江省", "city": "杭州市", "phone": "88776655",
             "mobile": "13900002222", "contact": "公海明辉"}
POOL_PAIR = [{"company": "北京天成印刷厂", "province": "北京市", "city": "北京市", "phone": "010-66554433",
              "contact": "公海天成一"},
             {"company": "北京市天成印刷有限公司", "province": "北京市", "city": "北京市", "phone": "66554433",
              "contact": "公海天成二"}]
POOL_FIELDS = {"id", "company", "province", "city", "location", "owner"}  # what the pool's list shows, no more


@pytest.fixture
def customers(app, org, runner, tmp_path):
    """华南代理: a pair inside (五环) and one with the pool (瑞丽); 华东代理: one with the pool (明辉); the pool: a
    pair of its own (天成). All from old lists, without the check, as duplicates get inside."""
    _import(runner, tmp_path, [WUHUAN, WUHUAN_AGAIN, SOUTH_OWN], "--owner", "sales_a")
    _import(runner, tmp_path, [EAST_OWN], "--owner", "sales_b")
    _import(runner, tmp_path, [SOUTH_POOL, EAST_POOL, *POOL_PAIR], "--pool", "public")
    return _ids(app)


def _companies(groups):
    return sorted(sorted(o["company"] for o in group["opportunities"]) for group in groups)


def _last_scan_says(app, html, records, duplicate, review=0):
    """Whether the page's last-scan line gives these figures (its time aside)."""
    line = re.search(r'id="duplicates-last-scan">([^<]*)<', html).group(1)
    words = zh(app, "Last search finished %(time)s: %(records)s customers checked, %(duplicate)s groups of "
                    "duplicates, %(review)s groups of similar names.", time="\0", records=records,
               duplicate=duplicate, review=review)
    before, after = words.split("\0")
    return line.startswith(before) and line.endswith(after)


def _card(html, group_id):
    start = html.index(f'id="group-{group_id}"')
    end = html.find('class="card shadow-sm mb-3 crm-duplicate-group"', start + 1)
    return html[start:end if end > 0 else len(html)]


def _group_with(groups, company):
    return next(g for g in groups if company in {o["company"] for o in g["opportunities"]})


def test_each_scope_shows_its_own_figures_and_pairs(app, client, auth, customers):
    root = _api(app, "root")
    _scan(root)
    groups, body = _all_groups(root)
    assert body["scan"]["records"] == 8 and body["scan"]["groups_duplicate"] == 4
    assert _companies(groups) == _companies([  # the head office sees the pool's own pair too
        {"opportunities": [{"company": r["company"]} for r in rows]}
        for rows in ([WUHUAN, WUHUAN_AGAIN], [SOUTH_OWN, SOUTH_POOL], [EAST_OWN, EAST_POOL], POOL_PAIR)])

    # the head office's scan is not the agent admin's: no figure of it on his page, nor in his API
    auth.login("admin_a")
    html = page(client, "/duplicates/")
    assert zh(app, "No search has finished yet.") in html and group_ids(html) == []
    assert not _last_scan_says(app, html, 8, 4)
    admin_a = _api(app, "admin_a")
    assert admin_a.get("/duplicates").get_json() == {"status": "none", "scan": None, "groups": [], "total": 0}

    # his own scan: his 3 customers, the pair inside and the pair with the pool, and nothing else
    html = scanned(client)
    assert _last_scan_says(app, html, 3, 2)
    assert zh(app, "Your customers are also checked against the public pool. A group with a public pool customer "
                   "may be marked as not duplicates here; merging it needs a subsystem admin, since every company "
                   "shares the public pool.") in html
    tab = re.search(r'data-verdict="duplicate"[^>]*>[^<]*<span class="badge[^"]*">(\d+)<', html)
    assert tab and tab.group(1) == "2" and len(group_ids(html)) == 2
    for name in ("明辉", "天成"):  # 华东代理's pair with the pool, the pool's own pair
        assert name not in html
    groups, body = _all_groups(admin_a)
    assert body["scan"]["records"] == 3 and body["scan"]["groups_duplicate"] == 2
    assert _companies(groups) == sorted([sorted([WUHUAN["company"], WUHUAN_AGAIN["company"]]),
                                         sorted([SOUTH_OWN["company"], SOUTH_POOL["company"]])])

    admin_b = _api(app, "admin_b")
    _scan(admin_b)
    groups, body = _all_groups(admin_b)
    assert body["scan"]["records"] == 1 and body["scan"]["groups_duplicate"] == 1
    assert _companies(groups) == [sorted([EAST_OWN["company"], EAST_POOL["company"]])]
    _, body = _all_groups(root)  # the head office's figures stay its own
    assert body["scan"]["records"] == 8 and body["total"] == 4


def test_a_pool_customer_shows_what_the_pool_shows_with_the_note_and_no_merge_button(app, client, auth, customers):
    auth.login("admin_a")
    html = scanned(client)
    groups = {("瑞丽" in _card(html, i)): i for i in group_ids(html)}
    pool_card, inside_card = _card(html, groups[True]), _card(html, groups[False])
    assert zh(app, "Includes a public pool customer: merging needs a subsystem admin.") in pool_card
    assert "data-merge-link" not in pool_card and "data-dismiss-group" in pool_card
    assert zh(app, "Not shown for the public pool") in pool_card and zh(app, "Public pool") in pool_card
    for hidden in (SOUTH_POOL["contact"], SOUTH_POOL["mobile"]):
        assert hidden not in html
    assert SOUTH_OWN["contact"] in pool_card  # his own customer in full
    assert "data-merge-link" in inside_card and zh(app, "Not shown for the public pool") not in inside_card

    # the merge page is not his for it (it would show the pool's details), neither to read nor to post
    refused = zh(app, "This group includes a public pool customer: merging it needs a subsystem admin.")
    response = client.get(f"/duplicates/group/{groups[True]}/", follow_redirects=True)
    assert response.status_code == 200 and refused in response.get_data(as_text=True)
    assert SOUTH_POOL["mobile"] not in response.get_data(as_text=True)
    own, pool = customers[SOUTH_OWN["contact"]], customers[SOUTH_POOL["contact"]]
    response = post_form(client, f"/duplicates/group/{groups[True]}/", {"keep": own, "merge": pool},
                         token_from="/duplicates/")
    assert response.status_code == 302
    assert refused in page(client, response.headers["Location"])
    with app.app_context():
        assert db.session.get(Opportunity, pool).deleted_at is None

    # a subsystem admin sees the pool customer in full, and merges the pair
    auth.logout()
    auth.login("root")
    html = scanned(client)
    card = next(_card(html, i) for i in group_ids(html) if "瑞丽" in _card(html, i))
    assert SOUTH_POOL["mobile"] in card and "data-merge-link" in card
    group = next(i for i in group_ids(html) if "瑞丽" in _card(html, i))
    response = post_form(client, f"/duplicates/group/{group}/", {"keep": own, "merge": pool, "value-owner": own},
                         token_from=f"/duplicates/group/{group}/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"?id={own}")
    with app.app_context():
        assert db.session.get(Opportunity, pool).merged_into_id == own


def test_the_agent_admin_dismisses_a_pair_with_the_pool(app, client, auth, customers):
    auth.login("admin_a")
    html = scanned(client)
    group = next(i for i in group_ids(html) if "瑞丽" in _card(html, i))
    response = post_form(client, f"/duplicates/group/{group}/dismiss", {"next": "/duplicates/"},
                         token_from="/duplicates/")
    assert response.status_code == 302
    html = page(client, "/duplicates/")
    assert zh(app, "The group was marked as not duplicates: the next scans will not show these records together.") \
        in html
    assert "瑞丽" not in html and "瑞丽" not in scanned(client)  # remembered by his next scan

    admin_b = _api(app, "admin_b")  # and through the API
    _scan(admin_b)
    (pool_group,), _body = _all_groups(admin_b)
    assert admin_b.post(f"/duplicates/{pool_group['id']}/dismiss").get_json() == {"id": pool_group["id"],
                                                                                  "dismissed": True}
    _scan(admin_b)
    assert _all_groups(admin_b)[1]["total"] == 0


def test_the_api_refuses_the_agent_admin_a_pool_merge_and_the_subsystem_admin_makes_it(app, customers):
    admin_a = _api(app, "admin_a")
    _scan(admin_a)
    groups, _body = _all_groups(admin_a)
    pool_group = _group_with(groups, SOUTH_POOL["company"])
    inside = _group_with(groups, WUHUAN["company"])
    assert pool_group["public_pool"] is True and pool_group["may_merge"] is False
    assert inside["public_pool"] is False and inside["may_merge"] is True
    pool_record = next(o for o in pool_group["opportunities"] if o["location"] == "public_pool")
    assert set(pool_record) == POOL_FIELDS and pool_record["owner"] is None

    own, pool = customers[SOUTH_OWN["contact"]], customers[SOUTH_POOL["contact"]]
    refused = zh(app, "This group includes a public pool customer: merging it needs a subsystem admin.")
    for keep, merged in ((own, pool), (pool, own)):
        answer = admin_a.post("/merges", {"keep": keep, "merge": [merged]})
        assert answer.status_code == 403, answer.get_json()
        assert answer.get_json() == {"error": "public_pool_merge", "message": refused}
    with app.app_context():
        assert db.session.get(Opportunity, pool).deleted_at is None

    root = _api(app, "root")
    _scan(root)
    groups, _body = _all_groups(root)
    assert _group_with(groups, SOUTH_POOL["company"])["may_merge"] is True
    merged = root.post("/merges", {"keep": own, "merge": [pool], "values": {"owner": own}})
    assert merged.status_code == 201, merged.get_json()
    # its undo would put a record back in the pool: the subsystem admin's too
    answer = admin_a.post(f"/merges/{merged.get_json()['id']}/undo")
    assert answer.status_code == 403 and answer.get_json()["error"] == "public_pool_merge"
    assert root.post(f"/merges/{merged.get_json()['id']}/undo").status_code == 200


def test_nothing_of_another_company_nor_of_the_pool_s_own_pairs_reaches_an_agent_admin(app, client, auth, customers):
    root, admin_a, admin_b = _api(app, "root"), _api(app, "admin_a"), _api(app, "admin_b")
    _scan(root)
    root_groups, _body = _all_groups(root)
    _scan(admin_b)
    (east_group,), _body = _all_groups(admin_b)
    _scan(admin_a)
    south_groups, _body = _all_groups(admin_a)
    others = [east_group["id"], *(g["id"] for g in root_groups)]  # 华东代理's, and the head office's groups

    auth.login("admin_a")
    for group in others:
        assert client.get(f"/duplicates/group/{group}/").status_code == 404
        assert post_form(client, f"/duplicates/group/{group}/dismiss", {}, token_from="/duplicates/").status_code == 404
        assert admin_a.post(f"/duplicates/{group}/dismiss").status_code == 404
    assert _companies(_all_groups(admin_b)[0]) == _companies([east_group])  # none of them dismissed

    # a pool customer claimed by 华东代理's salesperson is 华东代理's: it leaves 华南代理's group
    claimed = _api(app, "sales_b").post(f"/opportunities/{customers[SOUTH_POOL['contact']]}/claim")
    assert claimed.status_code == 200, claimed.get_json()
    groups, body = _all_groups(admin_a)
    assert _companies(groups) == [sorted([WUHUAN["company"], WUHUAN_AGAIN["company"]])] and body["total"] == 1
    pool_group = _group_with(south_groups, SOUTH_POOL["company"])
    assert client.get(f"/duplicates/group/{pool_group['id']}/").status_code == 404
    assert SOUTH_POOL["company"] not in page(client, "/duplicates/")


def test_the_nightly_run_refreshes_each_company_that_scanned(app, runner, customers):
    admin_a, admin_b = _api(app, "admin_a"), _api(app, "admin_b")
    first = _scan(admin_a)["id"]
    set_rules(app, duplicate_scan_nightly=True)
    assert "duplicate scan: queued for the worker" in runner.invoke(args=["rules", "run"]).output
    groups, body = _all_groups(admin_a)  # the tests' queue runs the jobs at once
    assert body["scan"]["id"] > first and body["scan"]["records"] == 3 and len(groups) == 2
    assert admin_b.get("/duplicates").get_json()["scan"] is None  # 华东代理 never scanned: no scan of its own
    assert _all_groups(_api(app, "root"))[1]["scan"]["records"] == 8
