"""Login with captcha (§一), logout, the first-login password change (§二), the language."""
import hashlib
import hmac
import io
import secrets

from captcha.image import ImageCaptcha
from flask import (
    Blueprint,
    abort,
    after_this_request,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from extensions import LOCALES, login_manager
from models import User, db
from services.errors import RuleViolation
from services.people import accounts

from .forms import LoginForm, PasswordForm
from .security import safe_next  # noqa: F401 (the pools import it from here too)

bp = Blueprint("auth", __name__)

# Letters and digits that cannot be mistaken for one another on a noisy, warped image (issue 21): none
# of 0/O/D/Q, 1/I/L/J, N/M, U/V/W, 2/Z, 5/S, 8/B, 6/G, C/G; a new user misread N/M and U/V.
CAPTCHA_CHARS = "AEHKPRTXY3479"
# Pages a user who must change the password may still reach.
_OPEN_ENDPOINTS = {"auth.login", "auth.logout", "auth.password", "auth.captcha", "auth.captcha_check",
                   "auth.language", "static", "admin.static",
                   "favicon"}


def init_login(app):
    @login_manager.user_loader
    def _load(session_id):
        """The user of a session cookie, unless its sessions were ended, or it is locked or deactivated."""
        user_id, _sep, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_version != int(version) or not accounts.may_use(user):
            return None
        return user

    @app.before_request
    def _require_password_change():
        if not current_user.is_authenticated:
            return None
        if accounts.touch(current_user):
            db.session.commit()
        if current_user.must_change_password and request.endpoint not in _OPEN_ENDPOINTS:
            return redirect(url_for("auth.password"))
        return None


def _captcha_digest(text):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, text.strip().upper().encode(), hashlib.sha256).hexdigest()


def _captcha_text():
    return "".join(secrets.choice(CAPTCHA_CHARS) for _ in range(4))


# The image's code travels in a cookie of its own, written only by /captcha.png: in the session cookie
# it was lost whenever a response loaded in parallel with the image (the page's CSS, which settles the
# session) came back after it and wrote the session as it was before (issue 21: right codes refused).
CAPTCHA_COOKIE = "crm_captcha"
_CAPTCHA_MAX_AGE = 600  # seconds an image may be answered; then a new one


def _captcha_signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="captcha")


@bp.route("/captcha.png")
def captcha():
    """A new image; its cookie keeps only a keyed digest of its text (a cookie is readable), signed and dated."""
    text = _captcha_text()
    image = ImageCaptcha(width=160, height=60).generate(text)
    response = make_response(image.getvalue() if isinstance(image, io.BytesIO) else image.read())
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(CAPTCHA_COOKIE, _captcha_signer().dumps(_captcha_digest(text)), max_age=_CAPTCHA_MAX_AGE,
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _expected_captcha():
    """The digest of the image shown, or None (none shown, used up, older than _CAPTCHA_MAX_AGE, forged)."""
    raw = request.cookies.get(CAPTCHA_COOKIE)
    if not raw:
        return None
    try:
        return _captcha_signer().loads(raw, max_age=_CAPTCHA_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None


def _captcha_ok(answer):
    expected = _expected_captcha()

    @after_this_request
    def _used_up(response):  # one try per image
        response.delete_cookie(CAPTCHA_COOKIE, httponly=True, samesite="Lax",
                               secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response

    return isinstance(expected, str) and hmac.compare_digest(expected, _captcha_digest(answer or ""))


@bp.route("/login/captcha-check", methods=["POST"])
def captcha_check():
    """Whether the typed code is the image's, asked by the login page before it sends the password
    (static/js/login.js): the image stays valid (POST /login still checks it, once); wrong answers are
    counted per address (accounts.captcha_checked), so this cannot be used to try codes cheaply."""
    if not current_app.config["CRM_CAPTCHA"]:
        return jsonify(ok=True)
    address = request.remote_addr
    wait = accounts.captcha_wait(db.session, address)
    if wait:
        response = jsonify(ok=False, error="waiting", message=_(
            "Too many wrong codes. The code will be checked when you log in; try again in %(n)d minutes.", n=wait))
        response.status_code = 429
        return response
    answer = (request.form.get("captcha") or "").strip()
    expected = _expected_captcha()
    if not isinstance(expected, str):  # no image shown in this session (or it was used): a new one
        return jsonify(ok=False, error="expired", message=_("The image has expired. Type the code in the new image."))
    if not answer:
        return jsonify(ok=False, error="empty", message=_("Type the code in the image."))
    right = hmac.compare_digest(expected, _captcha_digest(answer[:16]))
    accounts.captcha_checked(db.session, address, right)
    db.session.commit()
    if right:
        return jsonify(ok=True)
    return jsonify(ok=False, error="wrong", message=_(
        "The code is wrong. Look at the image again, or click New image for another one."))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        if current_app.config["CRM_CAPTCHA"] and not _captcha_ok(form.captcha.data):
            error = _("The verification code is wrong. Look at the new image and try again.")
        else:
            try:
                user = accounts.authenticate(db.session, form.username.data, form.password.data)
            except accounts.LoginRefused as refused:
                db.session.commit()  # failures and locks count even though the login fails
                error = str(refused.message)
            else:
                db.session.commit()
                next_url = safe_next(request.args.get("next"))
                locale = session.get("locale")
                session.clear()  # a fresh session: nothing from before the login survives
                if locale and not user.locale:
                    user.locale = locale
                    db.session.commit()
                login_user(user, fresh=True)
                return redirect(next_url or url_for("admin.index"))
    elif request.method == "POST":
        error = next(iter(e for errors in form.errors.values() for e in errors), None)
    # a refused login is the login page again with its message, a 200 as for any form that failed
    # validation (issue 14); a missing CSRF token is still CSRFProtect's 400
    return render_template("auth/login.html", form=form, error=error, captcha=current_app.config["CRM_CAPTCHA"])


@bp.route("/logout", methods=["POST"])
def logout():
    locale = current_user.locale if current_user.is_authenticated else session.get("locale")
    if current_user.is_authenticated:
        accounts.log_out(db.session, current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    if locale in LOCALES:  # the login page stays in the user's language
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """§二: change one's own password; forced at first login and after a reset."""
    forced = current_user.must_change_password
    form = PasswordForm(obj=None if request.method == "POST" else current_user)
    if form.validate_on_submit():
        try:
            accounts.change_password(
                db.session, current_user, form.new_password.data,
                current_password=form.current_password.data, email=form.email.data or "", forced=forced,
            )
        except RuleViolation as violation:
            db.session.rollback()
            getattr(form, violation.field or "new_password").errors.append(str(violation.message))
        else:
            db.session.commit()
            login_user(current_user._get_current_object(), fresh=True)  # this session goes on; others end
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("admin.index"))
    return render_template("auth/password.html", form=form, forced=forced)


@bp.route("/language", methods=["POST"])
def language():
    locale = request.form.get("locale")
    if locale not in LOCALES:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("admin.index"))
