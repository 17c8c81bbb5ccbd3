"""The database's backstop under the duplicate check: a unique index on mobile numbers (issue 5).

The LibraryLock serialises every entry, so the check itself refuses a second record with
a known mobile (tests/test_concurrency*.py). The unique index
uq_opportunity_phone_mobile (proposed as a migration in the README's "Concurrency and
faults") is the last word when a record was written around the check: its collision must
be the same clean refusal, a 409 `duplicate` in Chinese, never a 500.
The index is created here as that migration would create it, and dropped afterwards.
"""
import pytest
from sqlalchemy import text

from conftest import zh
from models import Opportunity, db
from services import dedup
from test_api import ApiClient, _token

INDEX = "uq_opportunity_phone_mobile"
MISSED = "A customer with this phone number exists already and cannot be entered."


@pytest.fixture
def mobile_index(app):
    with app.app_context():
        db.session.execute(text(f"CREATE UNIQUE INDEX {INDEX} ON opportunity_phone (field, local) "
                                "WHERE kind = 'mobile'"))
        db.session.commit()
    yield
    with app.app_context():
        db.session.execute(text(f"DROP INDEX {INDEX}"))
        db.session.commit()


def _check_that_misses(monkeypatch):
    """The check finds nothing, as if the first record had been written around it."""
    real = dedup.check
    monkeypatch.setattr(dedup, "check", lambda session, **_keys: real(session, company="毫不相干测试公司"))


def test_a_mobile_the_check_missed_is_refused_by_the_index_with_a_409(app, org, mobile_index, monkeypatch):
    sales_a = ApiClient(app, app.test_client(), _token(app, "sales_a"))
    sales_b = ApiClient(app, app.test_client(), _token(app, "sales_b"))
    first = sales_a.post("/opportunities", {"company": "深圳华强电子有限公司", "mobile": "138-1234-5678"})
    assert first.status_code == 201
    _check_that_misses(monkeypatch)
    second = sales_b.post("/opportunities", {"company": "东莞长安五金厂", "phone": "+86 138 1234 5678"})
    assert second.status_code == 409
    assert second.get_json()["error"] == "duplicate"
    assert second.get_json()["message"] == zh(app, MISSED)
    with app.app_context():
        assert db.session.scalars(db.select(Opportunity.company)).all() == ["深圳华强电子有限公司"]


def test_with_the_check_the_index_changes_nothing(app, org, mobile_index):
    """The check refuses first, naming where the customer lives; the same mobile as phone and fax is allowed."""
    sales_a = ApiClient(app, app.test_client(), _token(app, "sales_a"))
    sales_b = ApiClient(app, app.test_client(), _token(app, "sales_b"))
    both = sales_a.post("/opportunities", {"company": "深圳华强电子有限公司", "mobile": "13812345678",
                                           "fax": "13812345678"})
    assert both.status_code == 201
    again = sales_b.post("/opportunities", {"company": "东莞长安五金厂", "mobile": "13812345678"})
    assert again.status_code == 409 and again.get_json()["matches"]
    assert again.get_json()["message"] != zh(app, MISSED)
