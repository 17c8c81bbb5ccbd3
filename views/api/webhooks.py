"""The API's robots and webhooks (docs/contract.md, Notifications): POST, GET, DELETE /webhooks.

Agent admins for their company, subsystem admins for the head office or a company they name; others 403.
The rules are services/notices/hooks.py's, the same as the /notices/ page's.
"""
from flask import g

from models import WEBHOOK_EVENTS, WEBHOOK_KINDS, db
from services.notices import hooks

from . import bp
from .inputs import json_object, json_time
from .openapi import add_schemas, nullable, operation


def hook_json(hook, secret=False):
    answer = {"id": hook.id, "url": hook.url, "kind": hook.kind, "events": hook.event_list,
              "department": hook.department.name if hook.department else None, "active": hook.active,
              "created_at": json_time(hook.created_at)}
    if secret:  # once, in the answer to its creation: a receiver needs it to check the signature
        answer["secret"] = hook.secret
    return answer


@bp.post("/webhooks")
@operation("Add a robot or a signed webhook of the caller's company", tags=["notifications"], body="WebhookInput",
           description="A `generic` hook receives a JSON POST `{\"id\", \"event\", \"occurred_at\", \"data\"}` with "
                       "`X-CRM-Timestamp` (Unix seconds) and `X-CRM-Signature: sha256=HEX`, the HMAC-SHA256 with "
                       "`secret` of `timestamp + \".\" + body`; without a `secret`, one is made and answered once. "
                       "`wecom`, `dingtalk`, `feishu` are group robots (the robot's whole webhook address; 钉钉's and "
                       "飞书's signing secret in `secret`). An address of the CRM itself, loopback or a private "
                       "network is refused (422) unless CRM_WEBHOOK_ALLOW_PRIVATE is on.",
           responses={201: ("The hook", "Webhook"), 400: None, 403: None, 404: None})
def create_webhook():
    body = json_object()
    hook = hooks.create(db.session, g.api_user, body.get("url"), body.get("kind"), body.get("events"),
                        body.get("secret"), body.get("department"))
    db.session.commit()
    return hook_json(hook, secret=True), 201


@bp.get("/webhooks")
@operation("The robots and webhooks of the caller's company (a subsystem admin: all)", tags=["notifications"],
           responses={200: ("The hooks", "Webhooks"), 403: None})
def list_webhooks():
    return {"items": [hook_json(hook) for hook in hooks.hooks(db.session, g.api_user)]}


@bp.delete("/webhooks/<id:hook_id>")
@operation("Delete a robot or webhook; what it was sent stays in the delivery log", tags=["notifications"],
           responses={204: ("Deleted", None), 403: None, 404: None})
def delete_webhook(hook_id):
    hooks.delete(db.session, g.api_user, hook_id)
    db.session.commit()
    return "", 204


add_schemas({
    "WebhookInput": {
        "type": "object",
        "required": ["url", "kind", "events"],
        "examples": [{"url": "https://crm-receiver.example.com/hook", "kind": "generic",
                      "events": ["lead_assigned", "lead_overdue"]}],
        "properties": {
            "url": {"type": "string", "maxLength": 1000},
            "kind": {"enum": list(WEBHOOK_KINDS)},
            "events": {"type": "array", "minItems": 1, "items": {"enum": list(WEBHOOK_EVENTS)}},
            "secret": nullable("string", maxLength=200),
            "department": nullable("string", description="a subsystem admin: the company PATH; by default the "
                                                          "head office"),
        },
    },
    "Webhook": {
        "type": "object",
        "required": ["id", "url", "kind", "events", "department", "active", "created_at"],
        "properties": {
            "id": {"type": "integer"}, "url": {"type": "string"}, "kind": {"enum": list(WEBHOOK_KINDS)},
            "events": {"type": "array", "items": {"enum": list(WEBHOOK_EVENTS)}},
            "department": nullable("string"), "active": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "secret": nullable("string", description="only in the answer to POST"),
        },
    },
    "Webhooks": {"type": "object", "required": ["items"],
                 "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}},
})
