"""What many test modules share: the API client checked against the OpenAPI document, API tokens, and calls
released at once from threads. Fixtures live in conftest.py; this module holds plain helpers, imported by name."""
import threading
from datetime import datetime, timedelta, timezone

from jsonschema import Draft202012Validator
from werkzeug.exceptions import HTTPException

from models import User, db
from services import clock
from services.library import opportunities, pool_rules
from services.library.opportunities import OpportunityInput
from services.people import accounts, departments
from views.api import openapi

API = "/api/v1"
NOT_FOUND = "This page or record does not exist, or you may not see it."
THREAD_TIMEOUT = 120  # seconds: only a hung thread (a deadlock) ever waits this long


class ApiClient:
    """The test client with a token; every answer is checked against the OpenAPI document."""

    def __init__(self, app, client, token=None, headers=None):
        self.app, self.client, self.token = app, client, token
        self.headers = dict(headers or {})
        self._doc = None

    def doc(self):
        if self._doc is None:
            self._doc = self.client.get(f"{API}/openapi.json").get_json()
        return self._doc

    def _headers(self, extra):
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def get(self, path, headers=None, **params):
        response = self.client.get(API + path, query_string=params, headers=self._headers(headers))
        return self._checked("GET", path, response)

    def post(self, path, body=None, data=None, headers=None):
        if data is None:
            response = self.client.post(API + path, json=body, headers=self._headers(headers))
        else:
            response = self.client.post(API + path, data=data, headers=self._headers(headers),
                                        content_type="application/json")
        return self._checked("POST", path, response)

    def _checked(self, method, path, response):
        assert response.is_json, (response.status_code, response.get_data(as_text=True)[:300])
        assert "Set-Cookie" not in response.headers  # no session for token calls
        body = response.get_json()
        if response.status_code >= 400:
            assert set(body) >= {"error", "message"} and body["message"], body
        try:
            rule, _args = self.app.url_map.bind("localhost").match(API + path.split("?")[0], method=method,
                                                                  return_rule=True)
        except HTTPException:
            return response  # no such call: nothing documented to compare with
        template, _params = openapi.path_of(rule.rule)
        operation = self.doc()["paths"][template][method.lower()]
        documented = operation["responses"].get(str(response.status_code))
        assert documented is not None, f"{method} {template} answered {response.status_code}, undocumented"
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema:
            validator = Draft202012Validator({**schema, "components": self.doc()["components"]})
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
            assert not errors, f"{method} {template} {response.status_code}: {errors}"
        return response


def api_token(app, login):
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(login=login))
        token = accounts.issue_token(db.session, user)
        db.session.commit()
    return token


def at_once(calls):
    """Run the calls in threads released together by a barrier; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - reported to the test below, never lost in the thread
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


# --- the library: customers placed directly, the clock frozen, pool rules set (tests of the pool's rules) ---------

# 2026-03-02 10:00 in Asia/Shanghai: a Monday morning
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


class FrozenClock:
    """services.clock.now() at `now`, moved on by `move(hours=...)`."""

    def __init__(self, monkeypatch, now=MONDAY):
        self.now = now
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def move(self, **delta):
        self.now = self.now + timedelta(**delta)


def user_named(login):
    return db.session.scalar(db.select(User).filter_by(login=login))


def pool_customers(app, *companies, **columns):
    """Customers in the public pool (as an import into the pool writes them), their ids."""
    with app.app_context():
        ids = [opportunities.insert_opportunity(db.session, None, OpportunityInput(company=company, **columns),
                                                "public_pool", None).id for company in companies]
        db.session.commit()
        return ids


def own_customer(app, login, company, **columns):
    """A customer in `login`'s library, its id."""
    with app.app_context():
        opportunity = opportunities.insert_opportunity(db.session, user_named(login),
                                                       OpportunityInput(company=company, **columns), "library", None)
        db.session.commit()
        return opportunity.id


def save_pool_rules(app, company_path, **values):
    """Set a company's pool rules as its admin would (the head office's with company_path "/")."""
    with app.app_context():
        pool_rules.save(db.session, user_named("root"), departments.resolve_path(db.session, company_path), values)
        db.session.commit()
