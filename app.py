"""The channel CRM's application factory: configuration, extensions, views, commands.

`flask --app app run` serves it; `flask --app app init-db` brings the database to the
newest schema. Nothing but wiring lives here.
"""
import os
import secrets
from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

import commands
from extensions import LOCALES, babel, csrf, login_manager, migrate
from models import db
from services import catalogs, jobs, nightly
from services.duplicates import scan  # noqa: F401 - registers the scan's kind of job
from services.imports import (
    retention,
    uploads,  # noqa: F401 - registers the import's check and run
)
from services.notices import worker as notices
from views import register_views
from views.dashboard import DashboardView
from views.security import csp_nonce


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure(app, test_config)
    if app.config["CRM_PROXIES"]:  # the client's address and scheme as the proxy saw them (the audit log's ip)
        proxies = app.config["CRM_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    catalogs.ensure_compiled(Path(app.root_path) / "translations")  # before Babel reads them: no `make` needed

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path) / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["CRM_TIMEZONE"])
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    jobs.init_app(app)
    _register_jobs(app)
    register_views(app, _make_admin(app))
    commands.register(app)
    return app


def _register_jobs(app):
    """The kinds of background job and the periodic ones, wired here so that services/jobs.py (which runs them)
    imports none of its clients: the scan and the import register their kinds by `jobs.handler` as they load."""
    queue = jobs.queue_of(app)
    retention.schedule(app, queue)
    nightly.schedule(app, queue)
    notices.schedule(app, queue)  # each minute: notices to deliveries, then the due ones sent


def _make_admin(app):
    theme = Bootstrap4Theme(base_template="crm_base.html", fluid=True)
    # translations/flask_admin adds the few strings Flask-Admin's own zh catalogs lack
    return Admin(app, name=_l("Channel CRM"), url="/", index_view=DashboardView(url="/"), theme=theme,
                 translations_path=str(Path(app.root_path) / "translations" / "flask_admin"),
                 csp_nonce_generator=csp_nonce)


def _configure(app, test_config):
    env = os.environ
    default_db = "sqlite:///" + str(Path(app.instance_path) / "crm.sqlite3")
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=env.get("CRM_DATABASE_URL", default_db),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        CRM_CAPTCHA=env.get("CRM_CAPTCHA", "1") != "0",
        CRM_TIMEZONE=env.get("CRM_TIMEZONE", "Asia/Shanghai"),
        CRM_RULES_AT=env.get("CRM_RULES_AT", "02:00"),
        CRM_PROXIES=int(env.get("CRM_PROXIES", "0")),  # reverse proxies in front (docs/deployment.md)  # the worker's nightly `rules run` (services/nightly.py)
        CRM_INACTIVE_LOCK_DAYS=int(env.get("CRM_INACTIVE_LOCK_DAYS", "90")),
        CRM_LOGIN_MAX_FAILURES=10,
        CRM_LOGIN_WAIT_MINUTES=15,
        CRM_TEMP_PASSWORD_HOURS=24,
        CRM_MATURITY_MAX=5,  # contact-note maturity levels run 0 (no prospect) to this
        BABEL_DEFAULT_LOCALE="zh_Hans_CN",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(app.root_path) / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env.get("CRM_COOKIE_SECURE", "0") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        # background jobs (services/jobs.py): unset, a SQLite file in the instance folder
        CRM_QUEUE_URL=env.get("CRM_QUEUE_URL", ""),
        # a job still waiting this long is sent to the queue again (every minute); a scan waiting longer than
        # CRM_JOB_WAIT_SECONDS for a worker no longer holds back a new one (services/jobs.py)
        CRM_JOB_RESEND_SECONDS=int(env.get("CRM_JOB_RESEND_SECONDS", "60")),
        CRM_JOB_WAIT_SECONDS=int(env.get("CRM_JOB_WAIT_SECONDS", "600")),
        CRM_IMPORT_MAX_MB=int(env.get("CRM_IMPORT_MAX_MB", "20")),  # an uploaded customer list
        CRM_IMPORT_MAX_ROWS=int(env.get("CRM_IMPORT_MAX_ROWS", "100000")),
        CRM_IMPORT_RETENTION_DAYS=int(env.get("CRM_IMPORT_RETENTION_DAYS", "30")),
        # the caps of a customer list, checked before and while it is parsed (docs/imports.md, Limits)
        CRM_IMPORT_MAX_COLUMNS=int(env.get("CRM_IMPORT_MAX_COLUMNS", "200")),
        CRM_IMPORT_MAX_CELLS=int(env.get("CRM_IMPORT_MAX_CELLS", "20000000")),
        CRM_IMPORT_MAX_CELL_CHARS=int(env.get("CRM_IMPORT_MAX_CELL_CHARS", "1000")),
        CRM_IMPORT_MAX_UNZIPPED_MB=int(env.get("CRM_IMPORT_MAX_UNZIPPED_MB", "400")),
        CRM_IMPORT_PARSE_MEMORY_MB=int(env.get("CRM_IMPORT_PARSE_MEMORY_MB", "1536")),
        CRM_IMPORT_PARSE_SECONDS=int(env.get("CRM_IMPORT_PARSE_SECONDS", "30")),
        # notices by mail, robots and webhooks (docs/notices.md): unset CRM_SMTP_URL sends no mail
        CRM_SMTP_URL=env.get("CRM_SMTP_URL", ""),
        CRM_MAIL_FROM=env.get("CRM_MAIL_FROM", "crm@localhost"),
        CRM_EXTERNAL_URL=env.get("CRM_EXTERNAL_URL", ""),
        CRM_WEBHOOK_ALLOW_PRIVATE=env.get("CRM_WEBHOOK_ALLOW_PRIVATE", "0") == "1",
        # the bytes a preview keeps per row (services/imports/previews.py): the run reads the file again
        CRM_IMPORT_PREVIEW_ROW_BYTES=int(env.get("CRM_IMPORT_PREVIEW_ROW_BYTES", "4096")),
    )
    if test_config:
        app.config.update(test_config)
    app.config["SECRET_KEY"] = env.get("CRM_SECRET_KEY") or app.config.get("SECRET_KEY") or _instance_secret(app)


def _instance_secret(app):
    """The secret key kept in the instance folder, made on first start, readable by its owner only."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it a moment ago
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def select_locale():
    """The user's own choice, then the session's (before login), then the browser's; Chinese by default."""
    if not has_request_context():
        return None  # the CLI: Babel's default, Simplified Chinese
    user = g.get("api_user") or current_user  # an API call's token user (views/api/auth.py), else the session's
    if user.is_authenticated and user.locale in LOCALES:
        return user.locale
    if session.get("locale") in LOCALES:
        return session["locale"]
    for tag, _quality in request.accept_languages:
        tag = tag.lower().replace("_", "-")
        if tag.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
            return "zh_Hant_TW"
        if tag.startswith("zh"):
            return "zh_Hans_CN"
        if tag.startswith("en"):
            return "en"
    return "zh_Hans_CN"
