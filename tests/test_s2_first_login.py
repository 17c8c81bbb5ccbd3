"""Manual §二: the first login, and the first login after a reset, change the password first."""
from conftest import PASSWORD, csrf_token, zh
from models import User, db
from services.people import accounts, departments


def _new_user(app, login="wangwu"):
    with app.app_context():
        dept = departments.resolve_path(db.session, "华南代理/销售一部")
        _, one_time = accounts.create_user(db.session, None, login, "salesperson", dept)
        db.session.commit()
    return one_time


def test_first_login_goes_to_the_password_page_before_anything_else(client, auth, org, app):
    one_time = _new_user(app)
    assert auth.login("wangwu", one_time).headers["Location"] == "/"
    for url in ("/", "/users/", "/departments/"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/password"
    page = client.get("/password").get_data(as_text=True)
    assert zh(app, "Welcome, %(login)s. Before you start, choose your own password.", login="wangwu") in page


def test_change_password_with_optional_email(client, auth, org, app):
    one_time = _new_user(app)
    auth.login("wangwu", one_time)
    token = csrf_token(client, "/password")
    response = client.post("/password", data={"new_password": "一起把客户做好吧", "confirm": "一起把客户做好吧",
                                              "email": "", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(login="wangwu"))
        assert not user.must_change_password and user.email is None
    auth.logout()
    assert auth.login("wangwu", one_time).status_code == 200
    assert auth.login("wangwu", "一起把客户做好吧").status_code == 302


def test_bad_new_passwords_are_refused_with_a_message(client, auth, org, app):
    one_time = _new_user(app)
    auth.login("wangwu", one_time)
    token = csrf_token(client, "/password")
    cases = [
        ("short1", "short1", "The password must have at least %(n)d characters.", {"n": 8}),
        ("password123", "password123", "This password is too common or too easy to guess; choose another.", {}),
        ("a long passphrase", "another passphrase", "The two passwords differ.", {}),
        ("x" * 129, "x" * 129, "At most 128 characters.", None),
    ]
    for new, confirm, message, variables in cases:
        page = client.post("/password", data={"new_password": new, "confirm": confirm, "csrf_token": token})
        assert page.status_code == 200
        if variables is not None:
            assert zh(app, message, **variables) in page.get_data(as_text=True)
    bad_email = client.post("/password", data={"new_password": "一起把客户做好吧", "confirm": "一起把客户做好吧",
                                               "email": "not-an-email", "csrf_token": token})
    assert bad_email.status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(User).filter_by(login="wangwu")).must_change_password


def test_voluntary_change_needs_the_current_password_and_ends_other_sessions(app, org, auth, client):
    other_device = app.test_client()
    token = csrf_token(other_device)
    other_device.post("/login", data={"username": "sales_a", "password": PASSWORD, "csrf_token": token})
    assert other_device.get("/").status_code == 200
    auth.login("sales_a")
    token = csrf_token(client, "/password")
    wrong = client.post("/password", data={"current_password": "nope", "new_password": "新的密码很安全啊",
                                           "confirm": "新的密码很安全啊", "csrf_token": token})
    assert zh(app, "The current password is wrong.") in wrong.get_data(as_text=True)
    right = client.post("/password", data={"current_password": PASSWORD, "new_password": "新的密码很安全啊",
                                           "confirm": "新的密码很安全啊", "csrf_token": token})
    assert right.status_code == 302
    assert client.get("/").status_code == 200  # this session goes on
    assert other_device.get("/").status_code == 302  # the other device is logged out
