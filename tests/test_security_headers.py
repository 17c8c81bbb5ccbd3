"""Security headers on every response (views/security.py): the content security policy, nosniff,
no framing, a same-origin referrer, and no caching of anything a signed-in user sees."""
import pytest

from crm_pages import logged_in_as
from helpers import api_token

SIGNED_IN = ["/", "/opportunities/", "/dedup/?name=瑞丽", "/pool/", "/notes/", "/users/", "/audit/",
             "/opportunities/export/csv/", "/stats/export/xlsx/"]


def _assert_common(response, path):
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["Referrer-Policy"] == "same-origin", path
    policy = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'"):
        assert directive in policy, (path, directive)
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0], path


def test_anonymous_pages_carry_the_headers(app, client, org):
    for path in ("/login", "/captcha.png", "/api/v1/openapi.json", "/no-such-page"):
        _assert_common(client.get(path), path)


@pytest.mark.parametrize("path", SIGNED_IN)
def test_signed_in_pages_are_never_cached(app, org, path):
    response = logged_in_as(app, "admin_a").get(path)
    assert response.status_code == 200, path
    _assert_common(response, path)
    assert response.headers["Cache-Control"] == "no-store", path


def test_each_page_gets_its_own_script_nonce(app, org):
    client = logged_in_as(app, "sales_a")
    first, second = (client.get("/").headers["Content-Security-Policy"] for _ in range(2))
    assert "'nonce-" in first and first != second


def test_api_answers_carry_the_headers_and_are_not_cached(app, client, org):
    token = api_token(app, "sales_a")
    response = client.get("/api/v1/opportunities", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    _assert_common(response, "/api/v1/opportunities")
    assert response.headers["Cache-Control"] == "no-store"
