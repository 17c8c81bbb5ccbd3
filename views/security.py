"""Headers every response carries, and no caching of pages that hold a user's data.

The content security policy allows scripts only from this app, plus the inline scripts that
carry the request's nonce (Flask-Admin's own, via `csp_nonce_generator`). Inline event
handlers are forbidden: the templates that Flask-Admin writes with `onclick` are overridden
(templates/admin/) and static/js/crm.js does their work. The one handler left, Flask-Admin's
filter links' `return false;`, is allowed by its hash. Styles may be inline (Bootstrap and
Select2 set them); nothing is loaded from another origin, so the CRM works on an intranet.
"""
import base64
import hashlib
import re
import secrets
from urllib.parse import urlsplit

from flask import g
from flask_login import current_user

_FILTER_LINK = "'sha256-" + base64.b64encode(hashlib.sha256(b"return false;").digest()).decode() + "'"


# What a browser drops from a URL or reads as "/" (tab, line breaks, other control characters, backslash):
# "/\t/evil.example/" arrives at the browser as "//evil.example/", another site.
_NOT_IN_A_LOCAL_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(target):
    """`target` if it is a path on this site (where to go after a login or a form), else None.

    The one check of every `next` the app redirects to (views/auth.py, views/imports.py, the pools):
    no scheme, no host, no "//", and none of the characters a browser drops or turns into a slash,
    which no path of the app holds unencoded."""
    if not target or not target.startswith("/") or target.startswith("//") or _NOT_IN_A_LOCAL_PATH.search(target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def csp_nonce():
    """This request's nonce, made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def policy():
    script = f"script-src 'self' 'nonce-{csp_nonce()}' 'unsafe-hashes' {_FILTER_LINK}"
    return "; ".join([
        "default-src 'self'", script, "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
        "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def register(app):
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", policy())
        if g.get("api_user") is not None or (current_user and current_user.is_authenticated):
            response.headers["Cache-Control"] = "no-store"  # a user's data: never kept by a cache
        return response
