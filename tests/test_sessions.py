"""Sessions end when they should, on every device: a session cookie captured before logout, a
password change, an admin's reset, a lock, a deactivation or a deletion opens nothing afterwards.

Each test logs sales_a in on a "laptop" and a "phone" (two clients), keeps a copy of the
laptop's cookie as an attacker would, does the thing, then replays the cookie.
"""
import pytest
from sqlalchemy import select

from conftest import PASSWORD, AuthActions, csrf_token
from models import User, db
from services import clock
from services.people import accounts
from services.people.passwords import verify_password


def _device(app):
    client = app.test_client()
    assert AuthActions(client).login("sales_a").status_code == 302
    assert client.get("/").status_code == 200
    return client


def _captured(app, client):
    """A fresh client carrying only the stolen session cookie."""
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    return stolen


def _refused(client):
    response = client.get("/opportunities/")
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _as_service(app, change):
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(login="sales_a"))
        root = db.session.scalar(select(User).filter_by(login="root"))
        change(root, user)
        db.session.commit()


def test_logout_ends_the_session_everywhere_and_a_captured_cookie_is_refused(app, org):
    laptop, phone = _device(app), _device(app)
    stolen = _captured(app, laptop)
    assert not _refused(stolen)  # the copy works while the session lives
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/")})
    assert _refused(laptop) and _refused(stolen) and _refused(phone)


def test_a_password_change_ends_the_other_sessions(app, org):
    laptop, phone = _device(app), _device(app)
    stolen = _captured(app, laptop)
    response = phone.post("/password", data={"current_password": PASSWORD, "new_password": "渠道新密码2026秋",
                                             "confirm": "渠道新密码2026秋",
                                             "csrf_token": csrf_token(phone, "/password")})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(login="sales_a"))
        assert verify_password(user.password_hash, "渠道新密码2026秋")
    assert _refused(laptop) and _refused(stolen)
    assert not _refused(phone)  # the device that changed it stays signed in


@pytest.mark.parametrize("change", [
    lambda root, user: accounts.reset_password(db.session, root, user),
    lambda root, user: accounts.lock(db.session, root, user),
    lambda root, user: accounts.deactivate(db.session, root, user),
    lambda root, user: accounts.delete_user(db.session, root, user, now=clock.now()),
], ids=["reset", "lock", "deactivate", "delete"])
def test_an_admins_action_ends_every_session_of_the_user(app, org, change):
    laptop, phone = _device(app), _device(app)
    stolen = _captured(app, laptop)
    _as_service(app, change)
    assert _refused(laptop) and _refused(phone) and _refused(stolen)
