"""Headers every response carries, and no caching of pages that hold a user's data."""
from flask_login import current_user


def register(app):
    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        if current_user and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
