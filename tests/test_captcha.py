"""Issue 21, point 8: a captcha without look-alike characters, and its pre-check (POST /login/captcha-check)
that lets the login page say a misread code in place, without the password being sent or cleared."""
from datetime import timedelta

import pytest

from conftest import PASSWORD, csrf_token, zh
from models import LoginThrottle, db
from services import clock
from views import auth as auth_view

LOOK_ALIKES = ["0O", "1IL", "NM", "UV", "2Z", "5S", "8B", "6G"]
WRONG = "The code is wrong. Look at the image again, or click New image for another one."


@pytest.fixture
def captcha_client(app, org, monkeypatch):
    app.config["CRM_CAPTCHA"] = True
    monkeypatch.setattr("views.auth._captcha_text", lambda: "KX7R")
    client = app.test_client()
    client.get("/login")
    client.get("/captcha.png")
    return client


def _check(client, code, token=None):
    return client.post("/login/captcha-check", data={"captcha": code, "csrf_token": token or csrf_token(client)})


@pytest.mark.parametrize("group", LOOK_ALIKES)
def test_the_alphabet_has_no_look_alikes(group):
    present = [c for c in group if c in auth_view.CAPTCHA_CHARS]
    assert len(present) == 0, f"{present} can be mistaken for one another"


def test_codes_are_drawn_from_the_alphabet_only():
    codes = {auth_view._captcha_text() for _ in range(300)}
    assert all(len(code) == 4 and set(code) <= set(auth_view.CAPTCHA_CHARS) for code in codes)
    assert len(set("".join(codes))) == len(auth_view.CAPTCHA_CHARS)  # every character is used
    assert not set("".join(codes)) & set("0O1ILNMUV2Z5S8B6G")


def test_the_check_needs_the_csrf_token(captcha_client):
    response = captcha_client.post("/login/captcha-check", data={"captcha": "KX7R"})
    assert response.status_code == 400
    assert _check(captcha_client, "KX7R", token="forged").status_code == 400


def test_the_check_says_right_or_wrong_in_chinese(captcha_client, app):
    wrong = _check(captcha_client, "KX7P")
    assert wrong.status_code == 200
    assert wrong.get_json()["ok"] is False and wrong.get_json()["message"] == zh(app, WRONG)
    assert "换一张" in wrong.get_json()["message"]
    assert _check(captcha_client, "kx7r").get_json() == {"ok": True}  # case and spaces do not matter
    empty = _check(captcha_client, "  ").get_json()
    assert empty["ok"] is False and empty["message"] == zh(app, "Type the code in the image.")


def test_the_check_does_not_use_the_code_up(captcha_client):
    assert _check(captcha_client, "AAAA").get_json()["ok"] is False
    assert _check(captcha_client, "KX7R").get_json()["ok"] is True
    assert _check(captcha_client, "KX7R").get_json()["ok"] is True
    login = captcha_client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "KX7R",
                                                "csrf_token": csrf_token(captcha_client)})
    assert login.status_code == 302  # the real check, on the login, still accepts it once


def test_the_login_still_refuses_a_wrong_code_on_the_server(captcha_client, app):
    """JavaScript off, or a client skipping the pre-check: the login itself checks, once per image."""
    token = csrf_token(captcha_client)
    wrong = captcha_client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "KX7P",
                                                "csrf_token": token})
    assert wrong.status_code == 200
    assert zh(app, "The verification code is wrong. Look at the new image and try again.") in wrong.get_data(as_text=True)
    assert captcha_client.get("/").status_code == 302  # not logged in
    # the login used the image up: its code no longer passes the pre-check or the login
    expired = _check(captcha_client, "KX7R").get_json()
    assert expired["ok"] is False and expired["message"] == zh(app, "The image has expired. Type the code in the new image.")
    again = captcha_client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "KX7R",
                                                "csrf_token": token})
    assert again.status_code == 200


def test_the_check_is_throttled_like_the_login(captcha_client, app):
    for _ in range(10):
        assert _check(captcha_client, "AAAA").status_code == 200
    waiting = _check(captcha_client, "KX7R")  # even the right code: no answer while waiting
    assert waiting.status_code == 429 and waiting.get_json()["ok"] is False
    assert waiting.get_json()["message"] == zh(
        app, "Too many wrong codes. The code will be checked when you log in; try again in %(n)d minutes.", n=15)
    # a fresh session (a new cookie) does not start a new count: it is kept per address, in the database
    other = app.test_client()
    other.get("/captcha.png")
    assert _check(other, "KX7R").status_code == 429
    with app.app_context():
        assert db.session.get(LoginThrottle, "captcha 127.0.0.1").blocked_until is not None
    # the login form itself still works (its own one-try check)
    login = captcha_client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "KX7R",
                                                "csrf_token": csrf_token(captcha_client)})
    assert login.status_code == 302


def test_the_wait_ends_and_a_right_code_starts_the_count_again(captcha_client, monkeypatch):
    for _ in range(10):
        _check(captcha_client, "AAAA")
    later = clock.now() + timedelta(minutes=16)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert _check(captcha_client, "KX7R").get_json() == {"ok": True}
    for _ in range(9):
        assert _check(captcha_client, "AAAA").status_code == 200
    assert _check(captcha_client, "KX7R").status_code == 200


def test_the_login_page_offers_a_new_image_and_says_the_code_in_place(captcha_client, app):
    page = captcha_client.get("/login").get_data(as_text=True)
    assert 'id="captcha-refresh"' in page and zh(app, "New image") == "换一张" and "换一张" in page
    assert 'aria-describedby="captcha-help captcha-feedback"' in page
    assert 'id="captcha-feedback"' in page and 'aria-live="polite"' in page
    assert 'data-check-url="/login/captcha-check"' in page


def test_a_response_loaded_beside_the_image_does_not_lose_its_code(app, org, monkeypatch):
    """The page's CSS and the image load at once; the CSS's answer settles the session cookie. When it came
    back after the image's, the session lost the code and a right code was refused: the code has its own cookie."""
    app.config["CRM_CAPTCHA"] = True
    monkeypatch.setattr("views.auth._captcha_text", lambda: "KX7R")
    client = app.test_client()
    client.get("/login")
    before = client.get_cookie("session").value  # what the CSS's request carries
    client.get("/captcha.png")
    client.set_cookie("session", before)  # the late answer writes the session as it was before the image
    assert _check(client, "KX7R").get_json() == {"ok": True}
    login = client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "KX7R",
                                        "csrf_token": csrf_token(client)})
    assert login.status_code == 302


def test_an_old_or_forged_image_cookie_is_refused(captcha_client, app, monkeypatch):
    captcha_client.set_cookie("crm_captcha", "forged.value.sig")
    assert _check(captcha_client, "KX7R").get_json()["error"] == "expired"
    captcha_client.get("/captcha.png")
    later = __import__("time").time() + 601
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert _check(captcha_client, "KX7R").get_json()["error"] == "expired"
