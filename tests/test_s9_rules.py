"""Manual §九: the resource rules settings page, and returning neglected customers to the public pool.

The clock is frozen (services.clock.now) so that "30 days without a valid contact" is exact.
"""
import threading
from datetime import datetime, timedelta, timezone

import pytest

from app import create_app
from conftest import _config, csrf_token, set_rules, zh
from models import ContactNote, Notice, Opportunity, OpportunityEvent, ResourceRules, User, db
from services import clock, jobs
from services.library import opportunities, returns
from services.library.opportunities import OpportunityInput

NOW = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)  # 22:00 in Asia/Shanghai: the nightly run
DEFAULTS = {"cap_salesperson": 130, "cap_supervisor": 130, "cap_manager": 130, "quota_key_customers": 3,
            "quota_valid_contacts": 35, "lead_deadline_hours": 24, "return_after_days": 30, "return_warn_days": 3,
            "return_exempt_key_customers": "y", "return_exempt_note_days": 0,
            "daily_check_limit": 500, "lead_warn_hours": 2, "digest_hour": 8}


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _customer(app, login, company, idle_days, contacted=True, key=False, note_days_ago=None):
    """A customer in `login`'s library whose last valid contact (or entry) was `idle_days` ago."""
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login=login))
        o = opportunities.insert_opportunity(db.session, owner, OpportunityInput(company=company, key_customer=key), "library",
                                  None)
        o.entered_at = NOW - timedelta(days=idle_days + (10 if contacted else 0))
        o.last_valid_contact_at = NOW - timedelta(days=idle_days) if contacted else None
        if note_days_ago is not None:  # a note that did not count (customer busy) keeps it exempt all the same
            db.session.add(ContactNote(opportunity_id=o.id, author_id=owner.id, method="phone", content="忙",
                                       maturity=2, busy=True, valid=False,
                                       created_at=NOW - timedelta(days=note_days_ago)))
        db.session.commit()
        return o.id


def _rules(app):
    with app.app_context():
        row = db.session.get(ResourceRules, 1)
        return {c.name: getattr(row, c.name) for c in ResourceRules.__table__.columns}


def _post_rules(client, action="save", **values):
    data = {**DEFAULTS, **values}
    data = {k: v for k, v in data.items() if v is not None}  # None: an unticked box is not sent
    return client.post("/rules/", data={**data, "action": action, "csrf_token": csrf_token(client, "/rules/")},
                       follow_redirects=True)


def _where(app, opportunity_id):
    with app.app_context():
        o = db.session.get(Opportunity, opportunity_id)
        return o.location, o.owner_id


def _return_events(app):
    with app.app_context():
        return sorted((e.opportunity_id, e.from_owner_id, e.reason) for e in db.session.scalars(
            db.select(OpportunityEvent).filter_by(kind="return")))


def _notices(app, kind):
    with app.app_context():
        return sorted((n.opportunity_id, n.user_id) for n in db.session.scalars(db.select(Notice).filter_by(kind=kind)))


# --- the settings page -----------------------------------------------------------------

def test_root_changes_the_rules_on_the_settings_page(client, auth, org, app):
    auth.login("root")
    page = client.get("/rules/").get_data(as_text=True)
    assert zh(app, "Resource rules") in page and zh(app, "Library cap of a salesperson") in page
    assert 'value="130"' in page
    done = _post_rules(client, cap_salesperson=100, cap_manager=200, quota_valid_contacts=40,
                       lead_deadline_hours=48, return_after_days=20, return_warn_days=5,
                       return_exempt_key_customers=None, return_exempt_note_days=7)
    assert zh(app, "The resource rules have been saved.") in done.get_data(as_text=True)
    saved = _rules(app)
    assert {k: saved[k] for k in ("cap_salesperson", "cap_supervisor", "cap_manager", "quota_valid_contacts",
                                  "lead_deadline_hours", "return_after_days", "return_warn_days",
                                  "return_exempt_key_customers", "return_exempt_note_days", "return_enabled")} == {
        "cap_salesperson": 100, "cap_supervisor": 130, "cap_manager": 200, "quota_valid_contacts": 40,
        "lead_deadline_hours": 48, "return_after_days": 20, "return_warn_days": 5,
        "return_exempt_key_customers": False, "return_exempt_note_days": 7, "return_enabled": False}
    assert saved["updated_by_id"] == org.users["root"] and saved["updated_at"] == NOW


@pytest.mark.parametrize("values, msgid, variables", [
    ({"cap_salesperson": 0}, "Enter a whole number from %(min)s to %(max)s.", {"min": 1, "max": 10000}),
    ({"cap_manager": 10001}, "Enter a whole number from %(min)s to %(max)s.", {"min": 1, "max": 10000}),
    ({"quota_key_customers": "-1"}, "Enter a whole number.", {}),
    ({"quota_valid_contacts": "三十五"}, "Enter a whole number.", {}),
    ({"lead_deadline_hours": ""}, "Enter a whole number.", {}),
    ({"return_after_days": 10, "return_warn_days": 10},
     "The warning must come fewer days before the return than the days without a valid contact (%(n)d).", {"n": 10}),
])
def test_bad_values_are_refused_with_a_message_and_nothing_saved(client, auth, org, app, values, msgid, variables):
    auth.login("root")
    before = _rules(app)
    page = _post_rules(client, cap_supervisor=99, **values)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert zh(app, msgid, **variables) in text and zh(app, "Nothing was saved: correct the marked values.") in text
    assert _rules(app) == before


def test_only_a_subsystem_admin_reaches_the_settings_page(client, auth, org, app):
    assert client.get("/rules/").status_code == 302  # to the login page
    for login in ("admin_a", "sales_a"):
        auth.login(login)
        # an agent admin sees its company's pool rules there (tests/test_pool_rules.py), never the global form
        page = client.get("/rules/")
        assert page.status_code == (200 if login == "admin_a" else 403)
        assert 'id="rules-form"' not in page.get_data(as_text=True)
        token = csrf_token(client, "/")
        assert client.post("/rules/", data={**DEFAULTS, "cap_salesperson": 1, "csrf_token": token}).status_code == 403
        menu = client.get("/").get_data(as_text=True)
        assert ('href="/rules/"' in menu) == (login == "admin_a")  # no menu entry for a salesperson
        auth.logout()
    assert _rules(app)["cap_salesperson"] == 130
    auth.login("root")
    assert 'href="/rules/"' in client.get("/").get_data(as_text=True)
    no_token = client.post("/rules/", data={**DEFAULTS, "cap_salesperson": 1, "action": "save"})
    assert no_token.status_code == 400 and _rules(app)["cap_salesperson"] == 130


def test_a_cap_lowered_on_the_page_refuses_entry_and_claim_at_once(client, auth, org, app):
    _customer(app, "sales_a", "广州恒达五金厂", idle_days=1)
    with app.app_context():
        pooled = opportunities.insert_opportunity(db.session, None, OpportunityInput(company="深圳新光电子有限公司"),
                                       "public_pool", None).id
        db.session.commit()
    auth.login("root")
    _post_rules(client, cap_salesperson=1)
    auth.logout()
    auth.login("sales_a")
    token = csrf_token(client, "/opportunities/new/")
    entry = client.post("/opportunities/new/", data={"company": "杭州绿源茶业有限公司", "csrf_token": token})
    assert zh(app, "Your library is full (%(n)d customers). Abandon or close some before entering new ones.",
              n=1) in entry.get_data(as_text=True)
    claim = client.post("/pool/claim/", data={"id": pooled, "csrf_token": csrf_token(client, "/pool/")},
                        follow_redirects=True)
    assert zh(app, "Your library is full (%(n)d customers). Abandon or close some before claiming.", n=1) \
        in claim.get_data(as_text=True)
    assert _where(app, pooled) == ("public_pool", None)


# --- the dry run, and switching the rule on ----------------------------------------------

@pytest.fixture
def library(app, org):
    """sales_a's library: one neglected customer, exempt ones, a fresh one and one about to return."""
    return {
        "neglected": _customer(app, "sales_a", "广州恒达五金厂", idle_days=40),
        "never_contacted": _customer(app, "sales_a", "佛山南海陶瓷厂", idle_days=31, contacted=False),
        "key": _customer(app, "sales_a", "深圳新光电子有限公司", idle_days=60, key=True),
        "noted": _customer(app, "sales_a", "东莞长安模具厂", idle_days=45, note_days_ago=2),
        "fresh": _customer(app, "sales_a", "杭州绿源茶业有限公司", idle_days=5),
        "soon": _customer(app, "sales_a", "扬州五环印花厂", idle_days=28),
    }


def _dry_run_section(page):
    return page.split('id="dry-run"', 1)[1]


def test_switching_the_rule_on_shows_its_dry_run_first(client, auth, app, library):
    auth.login("root")
    held = _post_rules(client, return_enabled="y", return_exempt_note_days=7).get_data(as_text=True)
    assert zh(app, "Check the dry run below, then save the same values again to apply the return rule.") in held
    assert _rules(app)["return_enabled"] is False  # not yet
    shown = _dry_run_section(held)
    with_these = "With these values, tonight's run would return %(n)d customers to the public pool and warn " \
                 "the owners of %(w)d more."
    assert zh(app, with_these, n=2, w=1) in shown
    assert "广州恒达五金厂" in shown and "佛山南海陶瓷厂" in shown and "sales_a" in shown
    for exempt_or_fresh in ("深圳新光电子有限公司", "东莞长安模具厂", "杭州绿源茶业有限公司", "扬州五环印花厂"):
        assert exempt_or_fresh not in shown
    # other values need their own preview: the key customer is no longer exempt, nor the noted one
    other = _post_rules(client, return_enabled="y", return_exempt_key_customers=None).get_data(as_text=True)
    assert zh(app, with_these, n=4, w=1) in _dry_run_section(other) and "深圳新光电子有限公司" in other
    assert _rules(app)["return_enabled"] is False
    # the same values again, after their dry run was shown: saved and on
    saved = _post_rules(client, return_enabled="y", return_exempt_key_customers=None).get_data(as_text=True)
    assert zh(app, "The resource rules have been saved.") in saved and _rules(app)["return_enabled"] is True
    assert _where(app, library["neglected"])[0] == "library"  # the page only shows; `rules run` returns


def test_preview_shows_the_values_being_set_without_saving(client, auth, app, library):
    auth.login("root")
    page = _post_rules(client, action="preview", return_after_days=4, return_warn_days=1).get_data(as_text=True)
    shown = _dry_run_section(page)
    assert "杭州绿源茶业有限公司" in shown and "扬州五环印花厂" in shown and "深圳新光电子有限公司" not in shown
    assert _rules(app)["return_after_days"] == 30
    # previewed, so switching on with these very values saves at once
    saved = _post_rules(client, return_enabled="y", return_after_days=4, return_warn_days=1)
    assert zh(app, "The resource rules have been saved.") in saved.get_data(as_text=True)
    assert _rules(app)["return_enabled"] is True and _rules(app)["return_after_days"] == 4


# --- `flask --app app rules run` --------------------------------------------------------

def test_rules_run_returns_neglected_customers_with_history_and_notice(client, auth, runner, app, org, library):
    set_rules(app, return_enabled=True, return_exempt_note_days=7)
    dry = runner.invoke(args=["rules", "run", "--dry-run"])
    assert dry.exit_code == 0 and "would warn 1, would return 2" in dry.output
    assert _where(app, library["neglected"]) == ("library", org.users["sales_a"]) and _return_events(app) == []
    assert _notices(app, "return_warning") == []

    result = runner.invoke(args=["rules", "run"])
    assert result.exit_code == 0, result.output
    assert "warned 1, returned 2" in result.output
    reason = zh(app, "%(n)d days without a valid contact", n=30)
    sales_a = org.users["sales_a"]
    assert _return_events(app) == sorted([(library["neglected"], sales_a, reason),
                                          (library["never_contacted"], sales_a, reason)])
    for name in ("neglected", "never_contacted"):
        assert _where(app, library[name]) == ("public_pool", None)
    for name in ("key", "noted", "fresh", "soon"):
        assert _where(app, library[name]) == ("library", sales_a)
    with app.app_context():
        returned = db.session.get(Opportunity, library["neglected"])
        assert returned.entered_at == NOW and returned.last_valid_contact_at is None and returned.department_id is None
    assert _notices(app, "returned") == sorted([(library["neglected"], sales_a),
                                                (library["never_contacted"], sales_a)])
    assert _notices(app, "return_warning") == [(library["soon"], sales_a)]
    # its history says what happened, from whom and why
    auth.login("root")
    details = client.get(f"/opportunities/details/?id={library['neglected']}").get_data(as_text=True)
    history = details.split('id="event-history"', 1)[1]
    assert zh(app, "Returned to the public pool by the resource rules") in history
    assert reason in history and "sales_a" in history and zh(app, "Former owner: %(login)s", login="sales_a") in history

    again = runner.invoke(args=["rules", "run"])
    assert again.exit_code == 0 and "warned 0, returned 0" in again.output
    assert len(_return_events(app)) == 2 and len(_notices(app, "return_warning")) == 1


def test_an_owner_is_warned_once_however_often_the_rule_runs(runner, app, org, library):
    set_rules(app, return_enabled=True, return_exempt_note_days=7)
    outputs = [runner.invoke(args=["rules", "run"]).output for _ in range(3)]
    assert "warned 1" in outputs[0] and "warned 0" in outputs[1] and "warned 0" in outputs[2]
    assert _notices(app, "return_warning") == [(library["soon"], org.users["sales_a"])]
    # a new valid contact starts a new count: a later warning is a new one
    with app.app_context():
        db.session.get(Opportunity, library["soon"]).last_valid_contact_at = NOW - timedelta(days=27, hours=12)
        db.session.commit()
    assert "warned 1" in runner.invoke(args=["rules", "run"]).output
    assert len(_notices(app, "return_warning")) == 2


def test_the_rule_switched_off_returns_and_warns_nobody(runner, app, library):
    result = runner.invoke(args=["rules", "run"])
    assert result.exit_code == 0 and "warned 0, returned 0" in result.output
    assert _return_events(app) == [] and _notices(app, "return_warning") == []
    assert _where(app, library["neglected"])[0] == "library"


def test_two_runs_at_once_return_each_customer_exactly_once(app, org):
    neglected = [_customer(app, "sales_a", f"广州恒达五金{i}号厂", idle_days=40 + i) for i in range(12)]
    set_rules(app, return_enabled=True)
    start = threading.Barrier(2)
    summaries, errors = [], []

    def server():
        try:
            with app.app_context():
                start.wait()
                summaries.append(returns.run(db.session, NOW))
                db.session.commit()
                db.session.remove()
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(s.returned for s in summaries) == [0, 12]
    assert [e[0] for e in _return_events(app)] == sorted(neglected)
    assert len(_notices(app, "returned")) == 12


def test_changing_the_rule_while_on_shows_its_dry_run_first(client, auth, app, library):
    set_rules(app, return_enabled=True)
    auth.login("root")
    unchanged = _post_rules(client, return_enabled="y", cap_salesperson=120)  # the return values as saved
    assert zh(app, "The resource rules have been saved.") in unchanged.get_data(as_text=True)
    held = _post_rules(client, return_enabled="y", return_after_days=4, return_warn_days=1).get_data(as_text=True)
    assert zh(app, "Check the dry run below, then save the same values again to apply the return rule.") in held
    assert "杭州绿源茶业有限公司" in _dry_run_section(held) and _rules(app)["return_after_days"] == 30
    switched_off = _post_rules(client, return_enabled=None, return_after_days=4, return_warn_days=1)
    assert zh(app, "The resource rules have been saved.") in switched_off.get_data(as_text=True)
    assert _rules(app)["return_enabled"] is False and _rules(app)["return_after_days"] == 4


# --- the worker runs the rules each night (no cron) ---------------------------------------------

def test_the_worker_runs_the_rules_each_night_at_crm_rules_at(app, org, library, tmp_path):
    """`make run`'s worker schedules `rules run` itself: a periodic job of its queue, due at CRM_RULES_AT
    (here 02:00) in CRM_TIMEZONE (Asia/Shanghai, 18:00 UTC the day before)."""
    set_rules(app, return_enabled=True, return_exempt_note_days=7)
    worker_app = create_app({**_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
                             "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}", "CRM_RULES_AT": "02:00"})
    queue = jobs.queue_of(worker_app)

    def due(utc_minute):
        return [task for task in queue.read_periodic(utc_minute) if task.name == "nightly_rules"]

    assert due(datetime(2026, 11, 20, 17, 59)) == [] and due(datetime(2026, 11, 21, 2, 0)) == []
    (task,) = due(datetime(2026, 11, 20, 18, 0))
    queue.execute(task)  # as the worker's consumer does once the minute comes
    for name in ("neglected", "never_contacted"):
        assert _where(app, library[name]) == ("public_pool", None)
    assert _where(app, library["fresh"]) == ("library", org.users["sales_a"])
    queue.execute(task)  # a second worker starting it at the same minute changes nothing
    assert len(_return_events(app)) == 2


def test_crm_rules_at_empty_turns_the_nightly_run_off_and_nonsense_is_refused(app, tmp_path):
    config = _config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    off = create_app({**config, "CRM_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}", "CRM_RULES_AT": ""})
    every_minute = [datetime(2026, 11, 20, hour, minute) for hour in range(24) for minute in range(60)]
    assert not any(task.name == "nightly_rules" for moment in every_minute
                   for task in jobs.queue_of(off).read_periodic(moment))
    with pytest.raises(ValueError, match="CRM_RULES_AT"):
        create_app({**config, "CRM_RULES_AT": "2am"})
