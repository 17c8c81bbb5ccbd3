"""Issue 21, point 4: the audit log said in Chinese sentences, with the changed fields as 字段：旧值 → 新值.

Every action the code writes (found in the source, so a new one cannot slip in) has its sentence; the log
page, after real actions through the pages, shows no English word in its 详情 (only logins and file names,
which are the user's own text).
"""
import json
import re
from pathlib import Path

from test_duplicates_pages import group_ids, page, pairs, scanned  # noqa: F401 (pairs: a fixture)

from conftest import csrf_token, post_form, zh
from models import AuditEntry
from services import audit
from views import audit_sentences

ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r'audit\.record(?:_refusal)?\(\s*[\w.]+,\s*[\w.]+,\s*"(\w+)"')
LOGINS = ("sales_a", "sales_b", "admin_a", "admin_b", "manager_a", "super_a", "root", "nobody_here")
ENGLISH = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
FORMATS = {"CSV", "Excel"}  # an export's format, by its name (what the export menu says too)
CJK = re.compile(r"[\u4e00-\u9fff]")


def written_actions():
    """The actions `audit.record` / `record_refusal` are called with anywhere in the application's code."""
    found, calls = set(), 0
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("views/*.py"), ROOT / "commands.py", ROOT / "app.py"]:
        if path.name == "audit.py" and path.parent.name == "services":
            continue  # the writer itself (record_refusal calls record with its argument)
        source = path.read_text(encoding="utf-8")
        calls += len(re.findall(r"audit\.record(?:_refusal)?\(", source))
        found |= set(CALL.findall(source))
    return found, calls


def english_words(text):
    text = re.sub(r"\S+\.(csv|xlsx)", "", text)  # a file's name, as uploaded
    for known in LOGINS:
        text = text.replace(known, "")
    return [word for word in ENGLISH.findall(text) if word not in FORMATS]


def said(app, action, details=None, login="张三"):
    entry = AuditEntry(action=action, actor_login=login, details=json.dumps(details, ensure_ascii=False)
                       if details else None)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        return audit_sentences.text(entry)


def test_every_action_the_code_writes_has_a_chinese_sentence(app):
    written, calls = written_actions()
    assert len(written) >= 25 and "merge" in written and "entry_refused" in written
    assert len(CALL.findall("\n".join(p.read_text(encoding="utf-8") for p in [*ROOT.glob("services/**/*.py"),
               *ROOT.glob("views/*.py")] if p != ROOT / "services/audit.py"))) == calls  # no call with a variable
    assert written <= set(audit.ACTIONS)
    for action in audit.ACTIONS:  # the vocabulary too: what the filter offers, and what old entries hold
        assert action in audit_sentences.SENTENCES, f"no sentence for {action}"
        text = said(app, action)
        assert CJK.search(text) and not english_words(text), (action, text)


def test_unknown_actions_and_keys_are_said_with_a_translated_label(app):
    text = said(app, "something_new", {"mystery_key": "值"})
    assert text.startswith("张三") and not english_words(text) and "值" in text
    changed = said(app, "user_changed", {"mystery_key": {"old": "甲", "new": "乙"}})
    assert f'{zh(app, "Other detail")}：甲 → 乙' in changed
    for action, odd in (("user_changed", {"company": "值"}), ("merge", {"merged": "值", "changed": "值"}),
                        ("entry_refused", {"collided": 3})):  # details of a shape no renderer expects
        text = said(app, action, odd)
        assert text.startswith("张三") and not english_words(text), (action, text)


def test_entries_read_as_sentences_with_the_forms_labels(app):
    assert said(app, "opportunity_entered", {"company": "上海瑞丽服装有限公司", "verdict": "review", "resembled": [
        {"opportunity_id": 3, "company": "上海瑞丽服装厂", "verdict": "review", "score": 0.9},
        {"opportunity_id": 4, "company": "瑞丽服装公司", "verdict": "review", "score": 0.8}]}).startswith(
        "张三 录入了客户 上海瑞丽服装有限公司（确认录入，忽略 2 个相似客户提示：#3 上海瑞丽服装厂")
    assert said(app, "password_changed", {"forced": True}) == "张三 修改了密码（首次登录强制修改）"
    assert said(app, "user_changed", {"role": {"old": "salesperson", "new": "agent_admin"}}) == \
        f'张三 修改了用户 —；{zh(app, "Role")}：{zh(app, "Salesperson")} → {zh(app, "Agent admin")}'
    imported = said(app, "import", {"file": "客户.csv", "location": "public_pool", "owner": None, "skip_check": True,
                                    "read": 3, "imported": 2, "duplicates": 1, "library_full": 0})
    assert imported.startswith("张三 把文件 客户.csv 导入了 公海（未做撞单检测）") and "库已满：0" in imported
    assert said(app, "dedup_check", {"company": "瑞丽", "hits": 2}) == "张三 做了撞单检测（公司名称：瑞丽），命中 2 个"


def _details_cells(client):
    """The text of every 详情 cell of the log, page after page (tags stripped)."""
    cells, number = [], 0
    while True:
        html = page(client, f"/audit/?page={number}")
        found = re.findall(r'<td class="col-details">(.*?)</td>', html, re.S)
        cells += [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in found]
        if len(found) < 20 or number > 10:
            return cells
        number += 1


def test_the_log_page_says_real_actions_in_chinese(app, client, auth, org, pairs):  # noqa: F811
    from test_s9_rules import _post_rules

    library_id, pool_id = pairs["上海瑞丽服装厂"], pairs["上海市瑞丽服装有限公司"]
    auth.login("nobody_here", "wrong")
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    client.post("/opportunities/new/", data={"company": "泰安艺动力彩色印刷厂", "province": "山东省", "city": "泰安市",
                                             "csrf_token": token})
    client.post("/opportunities/new/", data={"company": "上海瑞丽服装厂", "phone": "021-62345678",
                                             "csrf_token": csrf_token(client, "/opportunities/new/")})  # refused
    client.get("/dedup/?name=瑞丽")
    auth.logout()
    auth.login("admin_a")
    group = group_ids(scanned(client))[0]
    post_form(client, f"/duplicates/group/{group}/", {"keep": library_id, "merge": pool_id,
                                                      "value-contact": pool_id}, token_from=f"/duplicates/group/{group}/")
    assert client.get("/opportunities/export/csv/?show=all").status_code == 200
    auth.logout()
    auth.login("root")
    _post_rules(client, cap_salesperson=100)
    cells = _details_cells(client)
    assert cells and all(CJK.search(c) and not english_words(c) for c in cells), \
        [c for c in cells if english_words(c)]
    text = "\n".join(cells)
    assert zh(app, "Failed login as %(login)s (%(reason)s)", login="nobody_here",
              reason=zh(app, "wrong login or password")) in text
    assert zh(app, "%(actor)s entered the customer %(company)s", actor="sales_a", company="泰安艺动力彩色印刷厂") in text
    assert "sales_a 录入客户 上海瑞丽服装厂 被拒绝（" in text and f"#{library_id} 上海瑞丽服装厂" in text
    assert "admin_a 把 上海市瑞丽服装有限公司 合并到了 上海瑞丽服装厂" in text
    assert f'{zh(app, "Contact person")}：王经理 → 李经理' in text  # the entry form's label, old → new
    assert f'{zh(app, "Library cap of a salesperson")}：130 → 100' in text
    assert "sales_a 做了撞单检测（公司名称：瑞丽），命中" in text
    assert "admin_a 导出了" in text and "（CSV，" in text
    exported = client.get("/audit/export/csv/").get_data(as_text=True)
    assert "admin_a 把 上海市瑞丽服装有限公司 合并到了 上海瑞丽服装厂" in exported  # the export's added column
