"""(issue 2) Flask-Admin's pages say which language they are in: <html lang> as on the plain pages.

Flask-Admin's base.html hard-codes <html>; templates/admin/base.html is its copy with the attribute.
"""
from pathlib import Path

import flask_admin
import pytest

from conftest import zh

UPSTREAM = Path(flask_admin.__file__).parent / "templates" / "bootstrap4" / "admin" / "base.html"
OURS = Path(__file__).resolve().parent.parent / "templates" / "admin" / "base.html"


@pytest.mark.parametrize("header, lang", [(None, "zh-CN"), ("zh-TW", "zh-TW"), ("en-US,en;q=0.9", "en")])
@pytest.mark.parametrize("path", ["/", "/users/", "/departments/new/", "/dedup/"])
def test_admin_pages_carry_the_language_of_the_page(client, auth, org, path, header, lang):
    auth.login("admin_a")
    headers = {"Accept-Language": header} if header else {}
    page = client.get(path, headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page, path


def test_the_chinese_admin_page_is_chinese_inside_too(app, client, auth, org):
    auth.login("admin_a")
    page = client.get("/users/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and zh(app, "Users") in page


def test_the_admin_base_template_is_upstreams_but_for_lang():
    """The copy keeps every block of Flask-Admin's; a Flask-Admin upgrade that changes it shows up here."""
    ours = OURS.read_text(encoding="utf-8").split("-#}\n", 1)[1].splitlines()
    upstream = UPSTREAM.read_text(encoding="utf-8").splitlines()
    differing = [(a, b) for a, b in zip(ours, upstream) if a != b]
    assert len(ours) == len(upstream) and len(differing) == 1, differing
    assert differing[0][1] == "<html>" and differing[0][0].startswith("<html lang=")
