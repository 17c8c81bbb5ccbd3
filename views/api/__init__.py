"""The JSON API of docs/contract.md (`/api/v1`), one package (after microblog's `app/api/`).

This module makes the blueprint, then imports the modules that add to it:
  errors.py      the error answers (`{"error": CODE, "message": TEXT}`), BadInput, the RuleViolation handler
  auth.py        the Bearer token of every call, `Cache-Control: no-store` on every answer
  inputs.py      the JSON body and query numbers read one way, times written one way
  openapi.py     the document's builder: `@operation`, `query`, the shared schemas, `document(app)`
  meta.py        GET /openapi.json
  one module per resource, each with its calls and the OpenAPI schemas only it uses:
  dedup.py, opportunities.py (with notes, claim, abandon), leads.py, stats.py, imports.py, duplicates.py,
  rules.py (the resource and pool rules)

No session cookie is read for the API or made by it (auth.py), so the blueprint is exempt from CSRF.
"""
from flask import Blueprint

from extensions import csrf

from .openapi import PREFIX

bp = Blueprint("api", __name__, url_prefix=PREFIX)


def register(app):
    csrf.exempt(bp)  # Bearer tokens, never cookies: nothing for a forged request to ride on
    app.register_blueprint(bp)


# After `bp`: each module adds its handlers or calls to it (microblog's way).
from . import (  # noqa: E402, F401
    auth,
    dedup,
    duplicates,
    errors,
    imports,
    leads,
    meta,
    opportunities,
    rules,
    stats,
    webhooks,
)
