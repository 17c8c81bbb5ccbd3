"""Issue 21, point 10: Chinese text is written one way everywhere.

In Chinese text the punctuation is full-width (，：；？！（）…), and a place is written as a Chinese
address is, its levels run together (浙江省宁波市, never 浙江省 宁波市). The lint reads what a Chinese
user reads: the catalogs, the user guide, the Chinese strings of the scripts, and the pages themselves.
"""
import io
import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from crm_pages import logged_in_as
from models import Opportunity, User, db
from services.checking import places
from services.library import opportunities
from services.library.opportunities import OpportunityInput

ROOT = Path(__file__).resolve().parent.parent
HAN = "\u3400-\u9fff"
# an ASCII comma, colon, semicolon, question or exclamation mark, parenthesis or ellipsis touching a Chinese character
HALF_WIDTH = re.compile(rf"[{HAN}][,:;?!()]|[,:;?!(][{HAN}]|\)[{HAN}]|[{HAN}]\.\.\.")
# what is not prose: placeholders, code in backticks, addresses
NOT_PROSE = re.compile(r"%\([^)]*\)[sdif]|%[sd]|\{[^{}]*\}|`[^`]*`|https?://\S+")
CATALOGS = ["translations/zh_Hans_CN/LC_MESSAGES/messages.po", "translations/zh_Hant_TW/LC_MESSAGES/messages.po",
            "translations/flask_admin/zh_Hans_CN/LC_MESSAGES/admin.po"]
SCRIPTS = [*sorted((ROOT / "static" / "js").glob("*.js")), ROOT / "docs" / "make_guide.py", ROOT / "docs" / "screenshots.py"]


def half_width(text):
    """The places where `text` puts half-width punctuation in Chinese prose."""
    return [m.group(0) for m in HALF_WIDTH.finditer(NOT_PROSE.sub(" ", text))]


def mostly_chinese(text):
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if "\u3400" <= c <= "\u9fff") * 2 > len(letters)


def test_the_lint_sees_what_it_must():
    assert half_width("已导入 3 个客户, 跳过 1 个") == ["户,"]
    assert half_width("原因:重复") == ["因:"]
    assert half_width("原因 :重复") == [":重"]
    assert half_width("瑞丽服装(上海)") == ["装(", "海)"]
    assert half_width("每页 %(n)d 条，共 {total} 条") == []
    assert half_width("正在加载...") == ["载..."]


@pytest.mark.parametrize("path", CATALOGS)
def test_catalogs_write_chinese_with_full_width_punctuation(path):
    with open(ROOT / path, "rb") as f:
        catalog = read_po(f)
    faults = []
    for message in catalog:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        for text in strings:
            if text and (found := half_width(text) or re.findall(rf"[{HAN}] [:：]|[{HAN}] [{HAN}]", text)):
                faults.append(f"{message.id!r}: {text!r} {found}")
    assert not faults, "\n".join(faults)


def test_the_user_guide_writes_chinese_with_full_width_punctuation():
    lines = (ROOT / "docs" / "guide" / "README.md").read_text(encoding="utf-8").splitlines()
    faults = [line for line in lines if mostly_chinese(line) and half_width(line)]
    assert not faults, "\n".join(faults)


def _string_literals(path):
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING:
                yield token.start[0], token.string
    else:  # JavaScript: quoted strings and template literals, comments taken off first
        source = re.sub(r"^\s*//.*$", "", source, flags=re.M)
        for match in re.finditer(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`", source):
            yield source.count("\n", 0, match.start()) + 1, match.group(0)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_write_chinese_with_full_width_punctuation(path):
    faults = [f"{path.name}:{line}: {text[:80]}" for line, text in _string_literals(path)
              if mostly_chinese(text) and half_width(text)]
    assert not faults, "\n".join(faults)


# --- the pages -------------------------------------------------------------------------------------------


class _Text(HTMLParser):
    """The text a person reads: every text node outside <script> and <style>, and the titles and placeholders."""

    def __init__(self):
        super().__init__()
        self.nodes, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.nodes += [value for name, value in attrs if name in ("title", "placeholder", "aria-label") and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.nodes.append(data.strip())


def text_nodes(html):
    parser = _Text()
    parser.feed(html)
    return parser.nodes


PAGES = {
    "sales_a": ["/", "/opportunities/", "/opportunities/?show=all", "/opportunities/new/", "/pool/", "/notes/",
                "/dedup/?name=宁波海曙瑞丽服装有限公司", "/password"],
    "admin_a": ["/", "/users/", "/departments/", "/agent-pool/", "/audit/", "/imports/", "/imports/new/",
                "/duplicates/"],
    "root": ["/", "/rules/", "/info-sources/", "/abandon-reasons/", "/audit/", "/duplicates/", "/users/new/"],
}


@pytest.fixture
def customers(app, org):
    """Customers of sales_a with a full place, one of them due today, and one in the public pool."""
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login="sales_a"))
        made = []
        for company, library in (("宁波海曙瑞丽服装有限公司", "library"), ("宁波北仑恒达机械有限公司", "public_pool")):
            entry = OpportunityInput(company=company, province="浙江省", city="宁波市", district="海曙区",
                                     contact="王经理", mobile="13905741234" if library == "library" else "13905745678")
            opportunity = opportunities.insert_opportunity(db.session, owner if library == "library" else None,
                                                           entry, library, None)
            made.append(opportunity.id)
        db.session.commit()
        return made


@pytest.mark.parametrize("login", sorted(PAGES))
def test_pages_write_chinese_with_full_width_punctuation(app, org, customers, login):
    client = logged_in_as(app, login)
    faults = []
    details = [f"/opportunities/details/?id={customers[0]}"] if login == "sales_a" else []
    for url in PAGES[login] + details:
        response = client.get(url, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 200, url
        faults += [f"{url}: {node[:80]!r}" for node in text_nodes(response.get_data(as_text=True))
                   if half_width(node)]
    assert not faults, "\n".join(faults)


def test_a_place_reads_one_way_on_every_page(app, org, customers):
    client = logged_in_as(app, "sales_a")
    with app.app_context():
        pooled = db.session.get(Opportunity, customers[1])
        assert places.text(pooled) == "浙江省宁波市海曙区"
    for url in ("/opportunities/?show=all", f"/opportunities/details/?id={customers[0]}", "/pool/", "/"):
        html = client.get(url).get_data(as_text=True)
        assert "浙江省 宁波市" not in html and "宁波市 海曙区" not in html, url
    assert "浙江省宁波市海曙区" in client.get(f"/opportunities/details/?id={customers[0]}").get_data(as_text=True)


def test_a_municipality_is_written_once():
    class Record:
        province, city, district, town = "上海市", "上海市", "浦东新区", " "

    assert places.text(Record()) == "上海市浦东新区"
