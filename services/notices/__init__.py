"""Notices delivered where people are: email, 企业微信 / 钉钉 / 飞书 group robots, signed webhooks.

A request never sends: it records. The dashboard's notices (services/library/leads.py, returns.py and
whatever else writes a `Notice`) are turned into deliveries by the worker, one row per event and
recipient; the worker then sends the due rows, retries failures with backoff and gives up after a day.

- `recording`    a delivery row (its unique key, the event's id), inserted once whoever records it twice
- `producing`    notices -> deliveries, the lead warnings, the morning digest, an abandoned customer
- `texts`        the short Chinese texts of each event, with the customer's name and link
- `sending`      claiming due rows (one attempt in flight), sending, backoff, giving up, the periodic task
- `channels`     mail (apprise's mailto), the robots (apprise's wecombot, dingtalk, feishu), the generic webhook
- `addresses`    a hook's address refused when it is the CRM's own host, loopback or private (after DNS)
- `hooks`        a company's robots and webhooks: who may set them, their validation
- `preferences`  the kinds of mail a person switched off
- `log`          the delivery log an admin reads, scoped to what they administer
"""
from .. import public_names

# what the other wings use, through this package only (tests/test_architecture.py)
PUBLIC = {"abandoned": "producing"}

# looked up when used: see public_names
__getattr__, __dir__ = public_names(__name__, PUBLIC)
__all__ = sorted(PUBLIC)
