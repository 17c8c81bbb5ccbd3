"""The channels: email over SMTP and the three group robots through apprise, the generic webhook ours.

apprise speaks mail (its mailto/mailtos plugin, with STARTTLS or SSL) and each robot's message format
(wecombot, dingtalk with its signed URL, feishu). A robot's plugin is given the admin's own address as its
endpoint, so an intranet robot gateway works too. apprise's feishu plugin does not sign; a 飞书 robot
with a secret gets its signed text message from `_feishu_signed` (飞书's documented format).
"""
import base64
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import apprise
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.wecombot import NotifyWeComBot

from . import addresses

SMTP_MODES = {"smtp": ("mailto", "insecure"), "smtp+starttls": ("mailto", "starttls"), "smtps": ("mailtos", "ssl")}


class DeliveryError(Exception):
    """A failed attempt; its reason goes to the delivery log."""


# --- mail -----------------------------------------------------------------------------------

def mail_url(smtp_url, sender, to, event_id):
    """apprise's mailto URL for CRM_SMTP_URL (smtp://, smtp+starttls://, smtps://), one recipient."""
    parts = urlsplit(smtp_url)
    if parts.scheme not in SMTP_MODES or not parts.hostname:
        raise DeliveryError(f"CRM_SMTP_URL must be smtp://, smtp+starttls:// or smtps://host:port, not {parts.scheme}://")
    scheme, mode = SMTP_MODES[parts.scheme]
    query = {"smtp": parts.hostname, "mode": mode, "from": sender, "to": to, "format": "text",
             "+X-CRM-Event-Id": event_id}  # a receiver (or a mail filter) drops a repeat by it
    return f"{scheme}://{parts.netloc}/?{urlencode(query)}"


def send_mail(config, delivery):
    url = mail_url(config["CRM_SMTP_URL"], config.get("CRM_MAIL_FROM") or "crm@localhost", delivery.recipient,
                   delivery.event_id)
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise DeliveryError("CRM_SMTP_URL is not a mail server address apprise accepts")
    _notify(notifier, delivery.subject, delivery.body)


def _notify(notifier, title, body):
    """Send through apprise; a failure raises with the reason apprise logged."""
    # logging.config (alembic's fileConfig, run by `init-db` in the same process) disables the loggers that
    # existed before it: apprise's reasons would be lost
    logging.getLogger("apprise").disabled = False
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        sent = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
    if not sent:
        reason = " ".join(captured.getvalue().split()) or "not sent"
        raise DeliveryError(reason[:480])


# --- robots ---------------------------------------------------------------------------------

def _query(url, name):
    return (parse_qs(urlsplit(url).query).get(name) or [""])[0]


def _literal(url):
    """The URL as a format string that formats to itself (the plugins call .format(token=...))."""
    return url.replace("{", "{{").replace("}", "}}")


def robot_plugin(hook):
    """apprise's plugin for a robot hook, posting to the hook's own address, redirects off."""
    if hook.kind == "wecom":
        plugin = NotifyWeComBot(key=_query(hook.url, "key") or "key")
        plugin.api_url = hook.url
    elif hook.kind == "dingtalk":
        plugin = NotifyDingTalk(token=_query(hook.url, "access_token") or "token", secret=hook.secret or None)
        plugin.notify_url = _literal(hook.url.split("?")[0]) + "?access_token={token}"
    else:
        token = urlsplit(hook.url).path.rstrip("/").rpartition("/")[2] or "token"
        plugin = NotifyFeishu(token=token)
        plugin.notify_url = _literal(hook.url)
    plugin.redirects = False
    return plugin


def robot_text(deliveries):
    """One message for a batch: each delivery's subject and text, in order."""
    return "\n\n".join(f"{d.subject}\n{d.body}" for d in deliveries)


def send_robot(hook, deliveries, allow_private, own_hosts):
    addresses.check(hook.url, allow_private, own_hosts)
    text = robot_text(deliveries)
    if hook.kind == "feishu" and hook.secret:
        _feishu_signed(hook, text, allow_private, own_hosts)
        return
    notifier = apprise.Apprise()
    notifier.add(robot_plugin(hook))
    _notify(notifier, "", text)


def feishu_sign(secret, timestamp):
    """飞书's signature: HMAC-SHA256 keyed with "timestamp\\nsecret" of nothing, in base64."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _feishu_signed(hook, text, allow_private, own_hosts):
    timestamp = str(int(time.time()))
    payload = {"timestamp": timestamp, "sign": feishu_sign(hook.secret, timestamp), "msg_type": "text",
               "content": {"text": text}}
    address = addresses.check(hook.url, allow_private, own_hosts)[0]
    status, answer = addresses.post(hook.url, address, json.dumps(payload, ensure_ascii=False).encode(),
                                    {"Content-Type": "application/json; charset=utf-8"})
    if status != 200 or '"code":0' not in answer.replace(" ", "") and '"StatusCode":0' not in answer.replace(" ", ""):
        raise DeliveryError(f"HTTP {status}: {answer[:200]}")


# --- the generic webhook --------------------------------------------------------------------

def signature(secret, timestamp, body):
    """X-CRM-Signature's value: HMAC-SHA256 with the hook's secret of `timestamp + "." + body`."""
    digest = hmac.new((secret or "").encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_body(delivery):
    return json.dumps({"id": delivery.event_id, "event": delivery.event,
                       "occurred_at": delivery.occurred_at.isoformat(), "data": json.loads(delivery.data)},
                      ensure_ascii=False, separators=(",", ":")).encode()


def send_webhook(hook, delivery, allow_private, own_hosts):
    address = addresses.check(hook.url, allow_private, own_hosts)[0]
    body = webhook_body(delivery)
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "channel-crm",
               "X-CRM-Event": delivery.event, "X-CRM-Timestamp": timestamp,
               "X-CRM-Signature": signature(hook.secret, timestamp, body)}
    try:
        status, answer = addresses.post(hook.url, address, body, headers)
    except Exception as error:  # noqa: BLE001 - any network failure is a failed attempt, retried
        raise DeliveryError(f"{type(error).__name__}: {error}"[:480]) from None
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status}: {answer[:200]}")
