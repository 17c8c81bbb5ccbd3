"""Manual §一: log in with account, password and captcha; throttling, locks, sessions."""
import re
from datetime import timedelta

import pytest

from conftest import PASSWORD, csrf_token, zh
from models import LoginThrottle, User, db
from services import clock
from services.people.passwords import verify_password


def _user(app, login):
    with app.app_context():
        return db.session.scalar(db.select(User).filter_by(login=login))


def test_login_page_is_chinese_and_has_the_manual_fields(client, app):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert zh(app, "Log in") in page and zh(app, "Account") in page
    for name in ("username", "password", "csrf_token"):
        assert f'name="{name}"' in page


def test_login_and_see_the_dashboard(client, auth, org, app):
    response = auth.login("sales_a")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "sales_a" in page and zh(app, "Salesperson") in page


def test_login_is_case_insensitive_on_the_account(client, auth, org):
    assert auth.login("SALES_A").status_code == 302


def test_login_without_csrf_token_is_refused(client, org):
    client.get("/login")
    response = client.post("/login", data={"username": "sales_a", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still anonymous


def test_wrong_password_and_unknown_account_get_the_same_answer(client, auth, org, app):
    wrong = auth.login("sales_a", "not-the-password").get_data(as_text=True)
    unknown = auth.login("nobody_here", "not-the-password").get_data(as_text=True)
    message = zh(app, "Wrong login or password.")
    assert message in wrong and message in unknown


def test_ten_failures_make_the_account_wait_whether_or_not_it_exists(client, auth, org, app):
    for login in ("sales_a", "ghost_account"):
        for _ in range(10):
            assert auth.login(login, "wrong password!").status_code == 200
        page = auth.login(login, PASSWORD).get_data(as_text=True)
        assert zh(app, "Too many failed attempts. Try again in %(n)d minutes, or ask your administrator to "
                     "restore the account.", n=15) in page
    assert client.get("/").status_code == 302  # the right password did not get sales_a in
    with app.app_context():  # kept in the database, so every worker process sees it
        assert db.session.get(LoginThrottle, "sales_a").blocked_until is not None


def test_the_wait_ends(client, auth, org, app, monkeypatch):
    for _ in range(10):
        auth.login("sales_a", "wrong password!")
    later = clock.now() + timedelta(minutes=16)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert auth.login("sales_a").status_code == 302


def test_captcha_is_required_when_on(app, org, monkeypatch):
    app.config["CRM_CAPTCHA"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="captcha"' in page and "/captcha.png" in page
    monkeypatch.setattr("views.auth._captcha_text", lambda: "K7XP")
    image = client.get("/captcha.png")
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    token = csrf_token(client)
    wrong = client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "AAAA",
                                        "csrf_token": token})
    assert zh(app, "The verification code is wrong. Look at the new image and try again.") in wrong.get_data(as_text=True)
    # one answer per image: after a wrong try the same text no longer works without a new image
    replay = client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "K7XP",
                                         "csrf_token": token})
    assert replay.status_code == 200  # the login page again, with its message: not logged in
    assert zh(app, "The verification code is wrong. Look at the new image and try again.") in replay.get_data(as_text=True)
    client.get("/captcha.png")
    right = client.post("/login", data={"username": "sales_a", "password": PASSWORD, "captcha": "k7xp",
                                        "csrf_token": token})
    assert right.status_code == 302


def test_captcha_answer_is_not_readable_from_the_cookie(app, org, monkeypatch):
    app.config["CRM_CAPTCHA"] = True
    client = app.test_client()
    monkeypatch.setattr("views.auth._captcha_text", lambda: "TXYR")
    client.get("/login")
    client.get("/captcha.png")
    import base64
    import zlib

    for name in ("session", "crm_captcha"):  # the image's code has a cookie of its own (issue 21)
        cookie = client.get_cookie(name).value
        payload = cookie.split(".")[1] if not cookie.startswith(".") else cookie.split(".")[1]
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if cookie.startswith("."):
            data = zlib.decompress(data)
        assert b"TXYR" not in data.upper()
    assert client.get_cookie("crm_captcha").http_only


@pytest.mark.parametrize("target, expected", [
    ("/users/", "/users/"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_next_redirects_only_inside_the_crm(client, org, target, expected):
    token = csrf_token(client)
    response = client.post(f"/login?next={target}",
                           data={"username": "root", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == expected


def test_login_starts_a_fresh_session(client, org):
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    token = csrf_token(client)
    client.post("/login", data={"username": "sales_a", "password": PASSWORD, "csrf_token": token})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_session_cookie_is_httponly_and_samesite(client, auth, org):
    response = auth.login("sales_a")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_is_a_post_with_csrf(client, auth, org):
    auth.login("sales_a")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token
    assert client.get("/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_account_unused_for_90_days_is_locked(client, auth, org, app):
    with app.app_context():
        user = db.session.get(User, org.users["sales_a"])
        user.last_seen_at = clock.now() - timedelta(days=91)
        db.session.commit()
    page = auth.login("sales_a").get_data(as_text=True)
    assert zh(app, "This account is locked because it was not used for a long time. "
                   "Ask your administrator to restore it.") in page
    assert _user(app, "sales_a").locked_at is not None


def test_a_locked_account_is_refused_on_every_request(client, auth, org, app):
    auth.login("sales_a")
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.get(User, org.users["sales_a"]).locked_at = clock.now()
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_deactivated_account_is_refused(client, auth, org, app):
    with app.app_context():
        db.session.get(User, org.users["sales_a"]).active = False
        db.session.commit()
    page = auth.login("sales_a").get_data(as_text=True)
    assert zh(app, "This account has been deactivated. Ask your administrator.") in page


def test_password_is_stored_as_argon2id(production_hashing, org, app, auth):
    """With the production parameters (the rest of the suite hashes cheaply, see conftest)."""
    user = _user(app, "sales_a")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert re.search(r"m=19456,t=2,p=1", user.password_hash)
    assert auth.login("sales_a").status_code == 302


def test_a_hash_of_weaker_parameters_is_upgraded_at_login(org, app, auth, request):
    before = _user(app, "sales_a").password_hash
    assert "m=19456,t=2,p=1" not in before  # made with the suite's cheap parameters
    request.getfixturevalue("production_hashing")
    assert auth.login("sales_a").status_code == 302
    after = _user(app, "sales_a").password_hash
    assert re.search(r"m=19456,t=2,p=1", after) and verify_password(after, PASSWORD)


def test_bad_login_input_gets_a_message_not_a_500(client, org, app):
    token = csrf_token(client)
    empty = client.post("/login", data={"username": "", "password": "", "csrf_token": token})
    assert empty.status_code == 200 and zh(app, "Enter your account.") in empty.get_data(as_text=True)
    huge = client.post("/login", data={"username": "x" * 5000, "password": "y" * 5000, "csrf_token": token})
    assert huge.status_code == 200 and client.get("/").status_code == 302  # refused with a message, not logged in
