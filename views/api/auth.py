"""Every call of the API authenticates with `Authorization: Bearer TOKEN` (services.people.accounts.token_owner and
may_use: a closed account's token is refused with why; the wait after wrong passwords does not stop tokens).
`g.api_user` is the caller: app.select_locale reads its saved language from there. No answer is cached.
"""
from flask import g, request
from flask_babel import lazy_gettext as _l

from models import db
from services.people import accounts

from . import bp
from .errors import error_response

_PUBLIC_ENDPOINTS = {"api.openapi_json"}

UNAUTHORIZED = _l("A valid API token is needed: send the header Authorization: Bearer TOKEN.")
ACCOUNT_CLOSED = _l("The account of this API token is deactivated or locked: its tokens work again when an "
                    "administrator restores it.")


@bp.before_request
def _authenticate():
    g.api_user = None
    if request.endpoint in _PUBLIC_ENDPOINTS:
        return None
    scheme, _sep, token = request.headers.get("Authorization", "").strip().partition(" ")
    user = accounts.token_owner(db.session, token.strip()) if scheme.lower() == "bearer" else None
    if user is None or not accounts.may_use(user):  # deactivated, deleted or locked: its tokens stop working
        response = error_response(401, "unauthorized", UNAUTHORIZED if user is None else ACCOUNT_CLOSED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="crm"'
        return response
    g.api_user = user
    if accounts.touch(user):  # using the API counts as using the account (no lock for disuse)
        db.session.commit()
    return None


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
