"""Issue 26: notices delivered by mail (a real SMTP server, aiosmtpd), group robots and signed webhooks (a
local HTTP server), by the worker's round (services/notices/worker.py), with retries, one attempt in flight,
private addresses refused, each person's switches, and an overdue lead escalated to the manager."""
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from aiosmtpd.controller import Controller

from conftest import PASSWORD, csrf_token, set_rules, zh
from helpers import at_once
from models import Delivery, User, Webhook, db
from services import clock
from services.notices import channels, sending, worker

T0 = clock.now().replace(year=2026, month=11, day=27, hour=1, minute=0, second=0, microsecond=0)  # 09:00 Shanghai
LEAD = {"company": "扬州五环印花厂", "phone": "0514-2398577", "contact": "王经理",
        "department": "华南代理/销售一部/电话组"}


# --- the servers the tests start ------------------------------------------------------------

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address):
        return [message for rcpts, message in self.messages if address in rcpts]


@pytest.fixture
def mailbox(app):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(CRM_SMTP_URL=f"smtp://127.0.0.1:{controller.port}", CRM_MAIL_FROM="crm@example.com",
                      CRM_EXTERNAL_URL="https://crm.example.com")
    yield box
    controller.stop()


class Receiver(ThreadingHTTPServer):
    """Records each POST (path, headers, body); answers the statuses queued in `answers`, then 200."""

    def __init__(self):
        self.requests, self.answers = [], []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.path, dict(self.headers), body))
        status = self.server.answers.pop(0) if self.server.answers else 200
        answer = b'{"errcode":0,"errmsg":"ok","code":0}' if status == 200 else b'{"errcode":500}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(app):
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["CRM_WEBHOOK_ALLOW_PRIVATE"] = True  # the test's server is on loopback
    yield server
    server.shutdown()
    server.server_close()


# --- helpers ------------------------------------------------------------------------------------

@pytest.fixture
def frozen(monkeypatch):
    moment = {"now": T0}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])

    def freeze(value):
        moment["now"] = value
    return freeze


def _emails(app, **addresses):
    with app.app_context():
        for login, address in addresses.items():
            db.session.scalar(db.select(User).filter_by(login=login)).email = address
        db.session.commit()


def _deliver(app):
    with app.app_context():
        try:
            return worker.run(db.session)
        finally:
            db.session.remove()


def _post_lead(api, **more):
    answer = api("admin_a").post("/leads", {**LEAD, **more})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _hook(api, url, kind="generic", events=("lead_assigned", "lead_overdue", "abandoned"), secret=None,
          login="admin_a"):
    answer = api(login).post("/webhooks", {"url": url, "kind": kind, "events": list(events), "secret": secret})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _deliveries(app, **filters):
    with app.app_context():
        return db.session.scalars(db.select(Delivery).filter_by(**filters).order_by(Delivery.id)).all()


# --- mail -----------------------------------------------------------------------------------------

def test_a_lead_assigned_is_mailed_to_its_salesperson_through_a_real_smtp_server(app, org, api, mailbox, frozen):
    _emails(app, sales_a="sales_a@example.com")
    lead = _post_lead(api)
    assert mailbox.messages == []  # the request recorded it; nothing was sent inside it
    assert _deliver(app) == (1, 0)
    [message] = mailbox.to("sales_a@example.com")
    company = LEAD["company"]
    assert message["Subject"] == zh(app, "New web lead: %(company)s", company=company)
    assert message["From"].addresses[0].addr_spec == "crm@example.com"
    body = message.get_body().get_content()
    assert zh(app, "A web lead of %(company)s is yours; follow it up before %(due)s.", company=company,
              due="2026-11-28 09:00") in body
    assert f"https://crm.example.com/opportunities/details/?id={lead['opportunity']['id']}" in body
    assert message["X-CRM-Event-Id"] == _deliveries(app)[0].event_id
    assert _deliver(app) == (0, 0)  # once
    assert len(mailbox.messages) == 1


def test_a_lead_about_to_pass_and_past_its_deadline_are_mailed_and_the_manager_hears_of_the_overdue_one(
        app, org, api, mailbox, frozen):
    _emails(app, sales_a="sales_a@example.com", manager_a="manager_a@example.com")
    set_rules(app, lead_warn_hours=3)
    _post_lead(api)
    _deliver(app)
    frozen(T0 + timedelta(hours=21, minutes=30))  # 2.5 hours before the deadline
    _deliver(app)
    soon = zh(app, "Web lead due soon: %(company)s", company=LEAD["company"])
    assert [m["Subject"] for m in mailbox.to("sales_a@example.com")][-1] == soon
    frozen(T0 + timedelta(hours=24, minutes=1))
    _deliver(app)
    overdue = zh(app, "Web lead overdue: %(company)s", company=LEAD["company"])
    assert overdue in [m["Subject"] for m in mailbox.to("sales_a@example.com")]
    [escalated] = mailbox.to("manager_a@example.com")  # the manager of the department
    assert escalated["Subject"] == overdue
    assert "sales_a" in escalated.get_body().get_content()  # whose lead it is
    assert not [m for m in mailbox.to("manager_a@example.com") if m["Subject"] == soon]


def test_a_salesperson_who_switched_a_kind_off_gets_none_of_it(app, org, api, client, auth, mailbox, frozen):
    _emails(app, sales_a="sales_a@example.com")
    auth.login("sales_a")
    page = client.get("/my-notices/")
    assert page.status_code == 200
    assert zh(app, "A web lead assigned to me") in page.get_data(as_text=True)
    kept = ["lead_due_soon", "lead_overdue", "recycle_warning", "daily_digest"]  # lead_assigned left unticked
    saved = client.post("/my-notices/", data={"mail": kept, "csrf_token": csrf_token(client, "/my-notices/")},
                        follow_redirects=True)
    assert saved.status_code == 200
    assert zh(app, "Your notice settings were saved.") in saved.get_data(as_text=True)
    _post_lead(api)
    _deliver(app)
    assert mailbox.to("sales_a@example.com") == []
    assert _deliveries(app, channel="mail") == []


def test_nothing_is_mailed_to_a_deactivated_user(app, org, api, mailbox, frozen):
    _emails(app, sales_a="sales_a@example.com")
    with app.app_context():
        db.session.scalar(db.select(User).filter_by(login="sales_a")).active = False
        db.session.commit()
    _post_lead(api)
    _deliver(app)
    assert mailbox.to("sales_a@example.com") == []


def test_the_morning_digest_is_off_until_the_admin_sets_its_hour_and_is_sent_once(app, org, mailbox, frozen):
    from services.library import opportunities
    from services.library.opportunities import OpportunityInput

    _emails(app, sales_a="sales_a@example.com")
    with app.app_context():
        owner = db.session.scalar(db.select(User).filter_by(login="sales_a"))
        item = opportunities.insert_opportunity(db.session, owner, OpportunityInput.from_mapping(
            {"company": "苏州明达机械厂"}), "library", None)
        item.next_contact_at = T0 + timedelta(hours=5)
        db.session.commit()
    _deliver(app)
    assert mailbox.messages == []  # off by default
    set_rules(app, digest_enabled=True, digest_hour=10)
    _deliver(app)
    assert mailbox.messages == []  # 09:00 in Shanghai: not yet
    frozen(T0 + timedelta(hours=1))
    _deliver(app)
    _deliver(app)
    [digest] = mailbox.to("sales_a@example.com")
    assert digest["Subject"] == zh(app, "Today's contacts: %(n)d customers", n=1)
    assert "苏州明达机械厂" in digest.get_body().get_content()


def test_users_create_takes_an_email_address(app, org, runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "salesperson", "--department", "华南代理/销售二部",
                                 "--password", PASSWORD, "--email", "wang@example.com"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.select(User.email).filter_by(login="wang")) == "wang@example.com"
    refused = runner.invoke(args=["users", "create", "li", "--role", "salesperson", "--department", "华南代理",
                                  "--password", PASSWORD, "--email", "not an address"])
    assert refused.exit_code != 0


def test_the_smtp_url_becomes_apprises_mail_url_with_starttls_or_ssl():
    starttls = urlsplit(channels.mail_url("smtp+starttls://u:p%40ss@mail.example.com:587", "crm@x.cn", "a@x.cn", "e1"))
    assert (starttls.scheme, starttls.netloc) == ("mailto", "u:p%40ss@mail.example.com:587")
    assert parse_qs(starttls.query)["mode"] == ["starttls"]
    ssl = urlsplit(channels.mail_url("smtps://u:p@mail.example.com:465", "crm@x.cn", "a@x.cn", "e1"))
    assert ssl.scheme == "mailtos" and parse_qs(ssl.query)["mode"] == ["ssl"]


# --- webhooks and robots --------------------------------------------------------------------------

def test_a_generic_webhook_is_signed_with_its_timestamp_and_carries_the_event_id(app, org, api, receiver, frozen):
    hook = _hook(api, receiver.url + "/crm?x=1", secret="s3cret")
    assert hook["secret"] == "s3cret"
    lead = _post_lead(api)
    before = int(time.time())
    assert _deliver(app) == (1, 0)
    [(path, headers, body)] = receiver.requests
    assert path == "/crm?x=1"
    timestamp = headers["X-CRM-Timestamp"]
    assert abs(int(timestamp) - before) <= 5  # fresh: a receiver refuses one older than five minutes
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-CRM-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert set(payload) == {"id", "event", "occurred_at", "data"}
    assert payload["event"] == "lead_assigned"
    assert payload["data"]["company"] == LEAD["company"] and payload["data"]["lead_id"] == lead["lead"]["id"]
    assert payload["id"] == _deliveries(app)[0].event_id


def test_a_first_failure_is_retried_within_a_minute_and_the_log_keeps_its_reason(app, org, api, receiver, frozen):
    _hook(api, receiver.url + "/hook")
    receiver.answers.append(500)
    _post_lead(api)
    assert _deliver(app) == (0, 1)
    [row] = _deliveries(app)
    assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error
    assert row.next_try_at <= T0 + timedelta(minutes=1)
    frozen(T0 + timedelta(minutes=1))
    assert _deliver(app) == (1, 0)
    first, second = (json.loads(body) for _path, _headers, body in receiver.requests)
    assert first["id"] == second["id"]  # the same event: a receiver drops a repeat
    [row] = _deliveries(app)
    assert row.status == "sent" and row.attempts == 2


def test_a_failing_hook_is_given_up_after_a_day(app, org, api, receiver, frozen):
    _hook(api, receiver.url + "/hook")
    receiver.answers.extend([503] * 50)
    _post_lead(api)
    moment = T0
    for _ in range(30):
        _deliver(app)
        [row] = _deliveries(app)
        if row.status == "failed":
            break
        moment = row.next_try_at
        frozen(moment)
    assert row.status == "failed" and "HTTP 503" in row.last_error
    assert row.next_try_at - row.created_at > timedelta(hours=20)


def test_two_workers_send_one_delivery_once(app, org, api, receiver, frozen):
    _hook(api, receiver.url + "/hook")
    _post_lead(api)
    with app.app_context():
        from services.notices import producing
        producing.fan_out(db.session)
        db.session.commit()
        db.session.remove()

    def send():
        with app.app_context():
            try:
                return sending.send_due(db.session)
            finally:
                db.session.remove()
    results = at_once([send, send])
    assert sorted(results) == [(0, 0), (1, 0)]
    assert len(receiver.requests) == 1


def _robot_text(kind, body):
    payload = json.loads(body)
    return {"wecom": lambda: payload["text"]["content"], "dingtalk": lambda: payload["text"]["content"],
            "feishu": lambda: payload["content"]["text"]}[kind]()


@pytest.mark.parametrize("kind, path, secret", [
    ("wecom", "/cgi-bin/webhook/send?key=693a91f6-7xxx", None),
    ("dingtalk", "/robot/send?access_token=abc123", "SEC0a1b2c"),
    ("feishu", "/open-apis/bot/v2/hook/2f1c9e", None),
    ("feishu", "/open-apis/bot/v2/hook/2f1c9e", "fsecret"),
])
def test_each_robot_gets_its_platforms_format_with_the_customers_name_and_link(app, org, api, receiver, frozen,
                                                                               kind, path, secret):
    app.config["CRM_EXTERNAL_URL"] = "https://crm.example.com"
    _hook(api, receiver.url + path, kind=kind, secret=secret)
    lead = _post_lead(api)
    _post_lead(api, company="苏州明达机械厂", phone="0512-6523 8888")
    assert _deliver(app) == (2, 0)
    [(got_path, _headers, body)] = receiver.requests  # both events in one message: the robot's limit kept
    text = _robot_text(kind, body)
    assert LEAD["company"] in text and "苏州明达机械厂" in text
    assert f"https://crm.example.com/opportunities/details/?id={lead['opportunity']['id']}" in text
    assert zh(app, "New web lead: %(company)s", company=LEAD["company"]) in text
    query = parse_qs(urlsplit(got_path).query)
    if kind == "dingtalk":  # 钉钉's signed URL: timestamp (ms) and sign of "timestamp\nsecret"
        assert query["access_token"] == ["abc123"]
        timestamp = query["timestamp"][0]
        expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        assert unquote(query["sign"][0]) == expected  # apprise quotes it once more than the URL needs
    if kind == "feishu" and secret:
        payload = json.loads(body)
        assert payload["sign"] == channels.feishu_sign(secret, payload["timestamp"])


def test_a_private_address_is_refused_where_not_allowed_on_saving_and_on_delivering(app, org, api, receiver,
                                                                                    frozen):
    app.config["CRM_WEBHOOK_ALLOW_PRIVATE"] = False
    for url in (receiver.url + "/hook", "http://10.1.2.3/hook", "http://localhost:8080/x", "http://[::1]/x"):
        refused = api("admin_a").post("/webhooks", {"url": url, "kind": "generic", "events": ["lead_assigned"]})
        assert refused.status_code == 422, url
        assert "url" in refused.get_json()["fields"]
    app.config["CRM_WEBHOOK_ALLOW_PRIVATE"] = True  # saved while allowed (an intranet gateway) ...
    _hook(api, receiver.url + "/hook")
    app.config["CRM_WEBHOOK_ALLOW_PRIVATE"] = False  # ... and no longer allowed when delivering
    _post_lead(api)
    assert _deliver(app) == (0, 1)
    assert receiver.requests == []
    [row] = _deliveries(app)
    assert "127.0.0.1" in row.last_error


def test_webhooks_are_each_companys_own(app, org, api, receiver):
    mine = _hook(api, receiver.url + "/a")
    assert [h["id"] for h in api("admin_a").get("/webhooks").get_json()["items"]] == [mine["id"]]
    assert api("admin_b").get("/webhooks").get_json()["items"] == []
    assert api("sales_a").get("/webhooks").status_code == 403
    token = {"Authorization": f"Bearer {api('admin_b').token}"}
    assert app.test_client().delete(f"/api/v1/webhooks/{mine['id']}", headers=token).status_code == 404
    token = {"Authorization": f"Bearer {api('admin_a').token}"}
    assert app.test_client().delete(f"/api/v1/webhooks/{mine['id']}", headers=token).status_code == 204
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Webhook)) == 0


def test_an_abandon_reaches_the_companys_hook(app, org, api, receiver, frozen):
    _hook(api, receiver.url + "/hook", events=["abandoned"])
    lead = _post_lead(api)
    opportunity_id = lead["opportunity"]["id"]
    answer = api("sales_a").post(f"/opportunities/{opportunity_id}/abandon", {"reason": "客户无需求"})
    assert answer.status_code == 200
    _deliver(app)
    [(_path, _headers, body)] = receiver.requests  # the lead_assigned event was not ticked
    payload = json.loads(body)
    assert payload["event"] == "abandoned" and payload["data"]["reason"] == "客户无需求"


# --- the pages ------------------------------------------------------------------------------------

def test_the_admin_adds_a_robot_on_the_page_and_reads_the_delivery_log_with_each_failure(app, org, api, client, auth,
                                                                                         receiver, frozen):
    auth.login("admin_a")
    page = client.get("/notices/")
    assert page.status_code == 200 and zh(app, "Nothing has been delivered yet.") in page.get_data(as_text=True)
    refused = client.post("/notices/add", data={"kind": "wecom", "url": receiver.url + "/no-key",
                                                "events": ["lead_assigned"], "csrf_token": csrf_token(client, "/notices/")})
    assert refused.status_code == 422
    assert zh(app, "This is not the address of a robot of that kind: copy the whole webhook address the group's "
                   "robot settings show.") in refused.get_data(as_text=True)
    added = client.post("/notices/add", data={"kind": "wecom", "url": receiver.url + "/cgi-bin/webhook/send?key=k1",
                                              "events": ["lead_assigned"], "csrf_token": csrf_token(client, "/notices/")},
                        follow_redirects=True)
    assert zh(app, "The robot was added.") in added.get_data(as_text=True)
    assert client.post("/notices/add", data={"kind": "wecom", "url": receiver.url + "/x?key=k"}).status_code == 400  # CSRF
    receiver.answers.append(500)
    _post_lead(api)
    _deliver(app)
    log = client.get("/notices/").get_data(as_text=True)
    assert "500" in log, log  # the reason apprise gave (its words, with the status)
    assert zh(app, "Waiting") in log and zh(app, "New web lead: %(company)s", company=LEAD["company"]) in log
    auth.logout()
    auth.login("admin_b")  # another company's admin sees neither the robot nor its log
    other = client.get("/notices/").get_data(as_text=True)
    assert 'id="hooks"' not in other and zh(app, "Nothing has been delivered yet.") in other  # no list, no log
    auth.logout()
    auth.login("sales_a")
    assert client.get("/notices/").status_code == 403


def test_the_subsystem_admin_sets_the_lead_warning_and_the_digest_hour_on_the_rules_page(app, org, client, auth):
    from models import ResourceRules

    auth.login("root")
    page = client.get("/rules/").get_data(as_text=True)
    assert zh(app, "Mail each person a morning list of today's contacts") in page
    form = {"cap_salesperson": 130, "cap_supervisor": 130, "cap_manager": 130, "quota_key_customers": 3,
            "quota_valid_contacts": 35, "lead_deadline_hours": 24, "return_after_days": 30, "return_warn_days": 3,
            "return_exempt_note_days": 0, "daily_check_limit": 500, "lead_warn_hours": 4, "digest_enabled": "y",
            "digest_hour": 7, "action": "save"}
    bad = client.post("/rules/", data={**form, "digest_hour": 24, "csrf_token": csrf_token(client, "/rules/")})
    assert zh(app, "Enter a whole number from %(min)s to %(max)s.", min=0, max=23) in bad.get_data(as_text=True)
    saved = client.post("/rules/", data={**form, "csrf_token": csrf_token(client, "/rules/")})
    assert saved.status_code == 302
    with app.app_context():
        row = db.session.get(ResourceRules, 1)
        assert (row.lead_warn_hours, row.digest_enabled, row.digest_hour) == (4, True, 7)


def test_a_robots_messages_stay_under_its_size_and_rate_limits():
    from types import SimpleNamespace

    rows = [SimpleNamespace(id=i, channel="wecom", webhook_id=1, size=150) for i in range(100)]
    units = sending.batches(rows)
    assert len(units) == sending.ROBOT_MESSAGES  # the rest wait for the next minute
    assert all(len(unit) * (3 * 150 + 2) <= sending.ROBOT_TEXT_BYTES for unit in units)
    assert sending.batches([SimpleNamespace(id=1, channel="generic", webhook_id=2, size=10),
                            SimpleNamespace(id=2, channel="mail", webhook_id=None, size=10)]) == [[1], [2]]


def test_what_waits_for_a_deleted_hook_is_given_up_and_stays_in_the_log(app, org, api, receiver, frozen):
    hook = _hook(api, receiver.url + "/hook")
    receiver.answers.append(500)
    _post_lead(api)
    _deliver(app)
    token = {"Authorization": f"Bearer {api('admin_a').token}"}
    assert app.test_client().delete(f"/api/v1/webhooks/{hook['id']}", headers=token).status_code == 204
    frozen(T0 + timedelta(minutes=1))
    _deliver(app)
    [row] = _deliveries(app)
    assert row.status == "failed" and row.webhook_id is None and row.last_error == sending.HOOK_GONE
    assert len(receiver.requests) == 1


def test_each_morning_a_companys_hook_gets_yesterdays_quotas_per_department(app, org, api, receiver, frozen):
    from models import ContactNote, Opportunity
    from services.library import opportunities
    from services.library.opportunities import OpportunityInput

    _hook(api, receiver.url + "/a", events=["quota_summary"])
    _hook(api, receiver.url + "/b", events=["quota_summary"], login="admin_b")
    with app.app_context():
        sales = db.session.scalar(db.select(User).filter_by(login="sales_a"))
        item = opportunities.insert_opportunity(db.session, sales, OpportunityInput.from_mapping(
            {"company": "苏州明达机械厂"}), "library", None)
        db.session.add(ContactNote(opportunity_id=item.id, author_id=sales.id, method="phone", content="谈了报价",
                                   maturity=2, valid=True, created_at=T0 - timedelta(hours=20)))
        db.session.commit()
        assert db.session.get(Opportunity, item.id) is not None
    frozen(T0 - timedelta(hours=2))  # 07:00 in Shanghai: before the morning hour (8 by default)
    _deliver(app)
    assert receiver.requests == []
    frozen(T0)
    _deliver(app)
    _deliver(app)
    bodies = {path: json.loads(body) for path, _headers, body in receiver.requests}
    assert sorted(bodies) == ["/a", "/b"]  # once each
    mine = bodies["/a"]["data"]
    assert mine["date"] == "2026-11-26" and mine["quota_valid_contacts"] == 35
    team = [d for d in mine["departments"] if d["valid_contacts"] == 1]
    assert len(team) == 1 and team[0]["people"] == 1 and team[0]["behind"] == 1
    assert all(d["valid_contacts"] == 0 for d in bodies["/b"]["data"]["departments"])  # not the other company's
