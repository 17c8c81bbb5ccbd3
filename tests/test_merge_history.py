"""Issue 21, point 7: a merge in a record's history names the merged companies and links to the merge, and the
details page's heading says where the record is (公海, 代理商管理员库, someone's library), not 我的机会 for all.
Through the pages, in Chinese, with CSRF on."""
import csv
import io
import re

from sqlalchemy import select
from test_duplicates_pages import entered, group_ids, page, pairs, scanned  # noqa: F401 (pairs: a fixture)

from conftest import post_form, zh
from models import Opportunity, db


def heading(html):
    return re.search(r'id="record-location-heading">(.*?)</h1>', html, re.S).group(1).strip()


def history(html):
    """The history list's lines, tags stripped."""
    block = re.search(r'<ul class="list-group" id="event-history">(.*?)</ul>', html, re.S).group(1)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip() for li in re.findall(r"<li.*?</li>", block, re.S)]


def pooled(app, runner, tmp_path, company, phone):
    """A customer of the public pool, from an old list loaded without the check."""
    path = tmp_path / "pool.csv"
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["公司名称", "电话", "省份", "城市"], [company, phone, "上海", "上海"]])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert runner.invoke(args=["opportunities", "import", str(path), "--skip-check", "--pool", "public"]).exit_code == 0
    with app.app_context():
        return db.session.scalar(select(Opportunity.id).filter_by(company=company))


def test_a_public_pool_record_kept_by_a_merge_is_headed_public_pool_and_names_the_merge(app, client, auth, org,
                                                                                          runner, tmp_path):
    library_id = entered(app, "sales_a", "上海瑞丽服装厂", "021-62345678", "上海", "王经理")
    pool_id = pooled(app, runner, tmp_path, "上海市瑞丽服装有限公司", "62345678")
    auth.login("root")
    group = group_ids(scanned(client))[0]
    response = post_form(client, f"/duplicates/group/{group}/", {"keep": pool_id, "merge": library_id},
                         token_from=f"/duplicates/group/{group}/")
    assert response.headers["Location"].endswith(f"/opportunities/details/?id={pool_id}")
    html = page(client, response.headers["Location"])
    assert heading(html) == zh(app, "Public pool") != zh(app, "My opportunities")
    (line,) = [line for line in history(html) if zh(app, "Duplicates merged into it") in line]
    assert f'{zh(app, "Duplicates merged into it")}：上海瑞丽服装厂' in line and "root" in line
    assert "#" not in line  # no bare merge number
    link = re.search(r'href="(/duplicates/merges/\?merge=(\d+))" class="event-merge-link">(.*?)</a>', html)
    assert link and link.group(3) == zh(app, "See the merge")
    merges_page = page(client, link.group(1))
    assert re.findall(r'data-merge="(\d+)"', merges_page) == [link.group(2)]  # that merge alone
    assert "上海瑞丽服装厂" in merges_page and "上海市瑞丽服装有限公司" in merges_page
    assert zh(app, "All merges") in merges_page
    assert client.get("/duplicates/merges/?merge=999999").status_code == 404

    # the merged-away record's old link opens the kept one, headed where it is
    moved = client.get(f"/opportunities/details/?id={library_id}")
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"?id={pool_id}")
    html = page(client, moved.headers["Location"])
    assert zh(app, "That customer was merged into %(company)s.", company="上海市瑞丽服装有限公司") in html
    assert heading(html) == zh(app, "Public pool")


def test_the_owner_reads_the_merge_without_a_link_and_the_admin_with_one(app, client, auth, pairs):  # noqa: F811
    library_id, pool_id = pairs["上海瑞丽服装厂"], pairs["上海市瑞丽服装有限公司"]
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    post_form(client, f"/duplicates/group/{group}/", {"keep": library_id, "merge": pool_id},
              token_from=f"/duplicates/group/{group}/")
    html = page(client, f"/opportunities/details/?id={library_id}")
    assert heading(html) == zh(app, "Library of %(login)s", login="sales_a")  # not the admin's own 我的机会
    assert "event-merge-link" in html
    merge_id = re.search(r'/duplicates/merges/\?merge=(\d+)', html).group(1)
    auth.logout()
    auth.login("sales_a")
    html = page(client, f"/opportunities/details/?id={library_id}")
    assert heading(html) == zh(app, "My opportunities")
    assert any(f'{zh(app, "Duplicates merged into it")}：上海市瑞丽服装有限公司' in line for line in history(html))
    assert "event-merge-link" not in html  # the merges page is the admins'
    auth.logout()
    auth.login("admin_a")
    post_form(client, f"/duplicates/merges/{merge_id}/undo", {}, token_from="/duplicates/merges/")
    lines = history(page(client, f"/opportunities/details/?id={library_id}"))
    assert any(f'{zh(app, "Merge undone")}：上海市瑞丽服装有限公司' in line for line in lines)
    assert heading(page(client, f"/agent-pool/details/?id={pool_id}")) == zh(app, "Agent-admin pool")
