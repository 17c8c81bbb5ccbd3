"""The app's own message catalogs: complete, consistent, and chosen per browser and per user.

Source strings are English; translations/zh_Hans_CN is translated by hand and
translations/zh_Hant_TW is generated from it by translations/make_hant.py. The .mo files are compiled by
create_app when missing or older than their .po (services/catalogs.py), so the page tests,
and any server, need no `make` first.
Expected texts are read from the catalogs, never typed in twice.
"""
import os
from functools import cache
from pathlib import Path

import flask_admin
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations
from babel.util import pathmatch

from conftest import PASSWORD, csrf_token
from models import User, db

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = ("zh_Hans_CN", "zh_Hant_TW")
# The extraction keywords of translations/update.sh (Babel's defaults cover _, gettext, ngettext).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}
SKIP_DIRS = {"tests", "venv", "node_modules", "instance", "static"}


def _read_catalog(path, locale):
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


_CATALOGS = {}


def catalog(locale):
    """The source catalog (.po) of a locale, parsed once."""
    if locale not in _CATALOGS:
        _CATALOGS[locale] = _read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    return _CATALOGS[locale]


def text(locale, msgid, **variables):
    """The translation of msgid in a locale's catalog, formatted as the page shows it."""
    message = catalog(locale).get(msgid)
    assert message is not None and message.string, f"{locale}: no translation of {msgid!r}"
    return message.string % variables if variables else message.string


def admin_text(locale, msgid):
    """Flask-Admin's own translation of one of its strings."""
    path = Path(flask_admin.__file__).parent / "translations" / locale / "LC_MESSAGES" / "admin.po"
    message = _read_catalog(path, locale).get(msgid)
    assert message is not None and message.string, f"Flask-Admin has no {locale} text for {msgid!r}"
    return message.string


@cache
def extracted_messages():
    """Every message of the code and templates, extracted now as translations/update.sh does."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    ignored = [pattern for pattern, method in method_map if method == "ignore"]

    def wanted(dirpath):
        name = os.path.basename(dirpath)
        rel = os.path.relpath(dirpath, ROOT).replace(os.sep, "/")
        return not (name.startswith((".", "_")) or rel in SKIP_DIRS or any(pathmatch(p, rel) for p in ignored))

    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=wanted,
    ):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


# --- the catalogs ------------------------------------------------------------------------


def test_extraction_sees_the_code_and_the_templates_but_not_the_tests():
    places = set(extracted_messages().values())
    assert any(p.startswith("views/") for p in places)
    assert any(p.startswith("services/") for p in places)
    assert any(p.startswith("templates/") for p in places)
    assert not any(p.startswith(("tests/", ".venv/")) for p in places)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_of_the_code_is_translated(locale):
    """A new or changed string fails here until translations/update.sh ran and it was translated."""
    cat = catalog(locale)
    problems = []
    for (msgid, context), place in sorted(extracted_messages().items(), key=lambda item: item[1]):
        message = cat.get(msgid, context)
        strings = message.string if message is not None and isinstance(message.string, tuple) else (
            (message.string,) if message is not None else ())
        if message is None:
            problems.append(f"{place}: not in the catalog (run translations/update.sh): {msgid!r}")
        elif message.fuzzy:
            problems.append(f"{place}: fuzzy: {msgid!r}")
        elif not strings or not all(s and s.strip() for s in strings):
            problems.append(f"{place}: empty translation: {msgid!r}")
    assert not problems, f"{locale}:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogs_are_clean(locale):
    """No fuzzy or empty entries, and every %(name)s placeholder kept (Babel's own checks)."""
    cat = catalog(locale)
    assert not cat.fuzzy, f"{locale}: the catalog header is marked fuzzy"
    entries = [m for m in cat if m.id]
    assert entries
    assert not [m.id for m in entries if m.fuzzy or not m.string]
    errors = [f"{m.id!r}: {[str(e) for e in errs]}" for m, errs in cat.check()]
    assert not errors, "\n".join(errors)


def test_traditional_catalog_is_generated_from_the_simplified_one():
    """zh_Hant_TW is make_hant.py's output for the current zh_Hans_CN: same ids, same texts."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_hant", TRANSLATIONS / "make_hant.py")
    make_hant = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_hant)

    hans, hant = catalog("zh_Hans_CN"), catalog("zh_Hant_TW")
    assert {m.id for m in hans if m.id} == {m.id for m in hant if m.id}, "run translations/make_hant.py"
    regenerated = make_hant.convert_catalog(hans)
    stale = [m.id for m in regenerated if m.id and hant.get(m.id).string != m.string]
    assert not stale, f"zh_Hant_TW is out of date; run translations/make_hant.py: {stale[:5]}"
    # Converted, not copied: a few texts a Taiwanese reader expects.
    assert text("zh_Hant_TW", "Log in") != text("zh_Hans_CN", "Log in")
    assert text("zh_Hant_TW", "Account") != text("zh_Hans_CN", "Account")


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogs_match_their_sources(locale):
    mo = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert mo.exists(), f"{mo} is missing: run `make translations` (pybabel compile -d translations)"
    with open(mo, "rb") as handle:
        compiled = Translations(handle)
    stale = [m.id for m in catalog(locale) if m.id and isinstance(m.id, str) and m.string
             and compiled.gettext(m.id) != m.string]
    assert not stale, f"{mo} is older than its .po: run `make translations`; e.g. {stale[:3]}"


# --- which language a page is in ----------------------------------------------------------


def test_login_page_is_simplified_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert text("zh_Hans_CN", "Log in") == "登录" and text("zh_Hans_CN", "Account") == "账号"
    assert "登录" in page and "账号" in page
    assert text("zh_Hans_CN", "Log in with your account") in page


def test_browser_asking_for_english_gets_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Log in" in page and "Account" in page and "Log in with your account" in page
    assert text("zh_Hans_CN", "Log in") not in page


@pytest.mark.parametrize("header", ["zh-TW", "zh-TW,zh;q=0.9,en;q=0.8"])
def test_browser_asking_for_taiwanese_chinese_gets_traditional(client, header):
    page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert 'lang="zh-TW"' in page
    for msgid in ("Log in", "Account", "Password", "Log in with your account"):
        assert text("zh_Hant_TW", msgid) in page, msgid
    assert text("zh_Hans_CN", "Log in with your account") not in page


def test_browser_asking_for_mainland_chinese_gets_simplified(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in page and text("zh_Hans_CN", "Log in with your account") in page


def test_error_messages_of_the_services_are_translated(client, org):
    """Lazy strings raised deep in services/ reach the page in the reader's language."""
    token = csrf_token(client)
    for headers, locale in (({}, "zh_Hans_CN"), ({"Accept-Language": "zh-TW"}, "zh_Hant_TW")):
        page = client.post("/login", headers=headers,
                           data={"username": "sales_a", "password": "wrong-password", "csrf_token": token})
        assert page.status_code == 200  # the login page again, with the message (a 200, as any refused form)
        assert text(locale, "Wrong login or password.") in page.get_data(as_text=True)


def test_language_chosen_before_login_is_kept_and_given_to_the_user(client, auth, org, app):
    token = csrf_token(client)
    response = client.post("/language", data={"locale": "en", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)  # the browser itself asks for nothing
    assert 'lang="en"' in page and "Log in with your account" in page
    assert auth.login("sales_a").status_code == 302
    assert "Hello, sales_a" in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, org.users["sales_a"]).locale == "en"


def test_unknown_language_is_refused(client, auth, org):
    auth.login("sales_a")
    token = csrf_token(client, "/")
    assert client.post("/language", data={"locale": "fr", "csrf_token": token}).status_code == 400


def test_the_users_choice_is_remembered_across_logins(client, auth, org, app):
    assert auth.login("sales_a").status_code == 302
    token = csrf_token(client, "/")
    response = client.post("/language", data={"locale": "zh_Hant_TW", "csrf_token": token})
    assert response.status_code == 302
    assert text("zh_Hant_TW", "Hello, %(login)s", login="sales_a") in client.get("/").get_data(as_text=True)
    auth.logout()
    with app.app_context():
        assert db.session.get(User, org.users["sales_a"]).locale == "zh_Hant_TW"

    other = app.test_client()  # another browser: no session, no Accept-Language
    token = csrf_token(other, "/login")
    assert text("zh_Hans_CN", "Log in with your account") in other.get("/login").get_data(as_text=True)
    response = other.post("/login", data={"username": "sales_a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    page = other.get("/").get_data(as_text=True)
    assert text("zh_Hant_TW", "Hello, %(login)s", login="sales_a") in page
    assert text("zh_Hant_TW", "Salesperson") in page  # the role label, a lazy string of services/
    assert text("zh_Hant_TW", "Log out") in page and text("zh_Hans_CN", "Log out") not in page


def test_the_users_choice_beats_the_browser(client, auth, org):
    auth.login("sales_a")
    client.post("/language", data={"locale": "zh_Hans_CN", "csrf_token": csrf_token(client, "/")})
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert text("zh_Hans_CN", "Hello, %(login)s", login="sales_a") in page


# --- Flask-Admin's own strings follow the same choice ---------------------------------------


def test_admin_pages_show_flask_admins_and_the_apps_chinese(client, auth, org):
    assert auth.login("root").status_code == 302
    response = client.get("/users/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert admin_text("zh_Hans_CN", "Add Filter") in page  # "添加筛选器": Flask-Admin's catalog (the users list
    # has tabs of its own, 用户管理 and 已删除, instead of Flask-Admin's 列表 since issue 21)
    assert admin_text("zh_Hans_CN", "Create") in page
    assert text("zh_Hans_CN", "Users") == "用户管理" and "用户管理" in page  # the app's catalog
    for msgid in ("Departments", "Login account", "Role", "Status"):
        assert text("zh_Hans_CN", msgid) in page, msgid


def test_admin_pages_in_traditional_for_a_user_who_chose_it(client, auth, org):
    auth.login("root")
    client.post("/language", data={"locale": "zh_Hant_TW", "csrf_token": csrf_token(client, "/")})
    page = client.get("/users/").get_data(as_text=True)
    assert admin_text("zh_Hant_TW", "Add Filter") in page and admin_text("zh_Hant_TW", "Create") in page
    assert text("zh_Hant_TW", "Users") in page and text("zh_Hant_TW", "Login account") in page
    assert text("zh_Hans_CN", "Users") not in page


def test_flask_admin_form_failures_read_in_chinese(client, auth, org):
    """Flask-Admin's compiled catalog lacks these; translations/flask_admin supplies them."""
    from conftest import post_form

    auth.login("admin_a")
    url = f"/departments/edit/?id={org.depts['华南代理']}"  # its parent, the head office, is not admin_a's to pick
    page = post_form(client, url, {"short_name": "华南代理"}, url).get_data(as_text=True)
    assert "保存记录失败" in page and "选择的值无效" in page


# --- issue 14: a fresh checkout served without `make` speaks Chinese ------------------------

_FRESH_SERVER = r"""
import sys
from app import create_app
from flask_migrate import upgrade
from models import db
from services.people import accounts, departments

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "fresh", "CRM_CAPTCHA": False,
                  "WTF_CSRF_ENABLED": False, "CRM_QUEUE_URL": "immediate"})
with app.app_context():
    upgrade(directory=app.extensions["migrate"].directory)
    accounts.create_user(db.session, None, "root", "subsystem_admin", departments.ensure_head_office(db.session),
                         password=sys.argv[2])
    db.session.commit()
client = app.test_client()
client.post("/login", data={"username": "root", "password": sys.argv[2]})
sys.stdout.write(client.get("/users/").get_data(as_text=True))
"""


def _fresh_checkout(target):
    """The committed tree (and the working copy's changes) copied without any .mo, as `git clone` gives it."""
    import shutil
    import subprocess

    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\n")
    for name in filter(None, files):
        if not name.endswith(".mo") and (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def test_a_fresh_checkout_served_without_make_is_chinese(tmp_path):
    """create_app compiles the missing catalogs: menus, the app's and Flask-Admin's strings in Chinese."""
    import subprocess
    import sys

    tree = _fresh_checkout(tmp_path / "checkout")
    assert not list(tree.glob("translations/**/*.mo"))
    page = subprocess.run([sys.executable, "-c", _FRESH_SERVER, f"sqlite:///{tmp_path / 'crm.sqlite3'}", PASSWORD],
                          cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                          capture_output=True, text=True, timeout=300).stdout
    for msgid in ("My opportunities", "Duplicate check", "Users", "Restore account", "Channel CRM"):
        assert text("zh_Hans_CN", msgid) in page, msgid
    assert "My opportunities" not in page and "Duplicate check" not in page
    assert admin_text("zh_Hans_CN", "Add Filter") in page  # Flask-Admin's own catalog, as before
    assert len(list(tree.glob("translations/**/*.mo"))) == 4


def test_a_catalog_older_than_its_source_is_compiled_again(tmp_path):
    from services import catalogs

    tree = _fresh_checkout(tmp_path / "checkout")
    catalogs.ensure_compiled(tree / "translations")
    po = tree / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert catalogs.stale_catalogs(tree / "translations") == []
    os.utime(mo, (po.stat().st_mtime - 60, po.stat().st_mtime - 60))
    assert catalogs.stale_catalogs(tree / "translations") == [po]
    catalogs.ensure_compiled(tree / "translations")
    with open(mo, "rb") as handle:
        assert Translations(handle).gettext("Users") == text("zh_Hans_CN", "Users")
