"""Accounts (manual §一, §二, §六, §七): login, first-login change, users, locks, resets, tokens."""
import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from models import ROLES, ApiToken, LoginThrottle, User

from .. import audit, clock, library, text
from ..errors import RuleViolation
from .access import MANAGING_ROLES, assignable_roles, may_administer_department, may_administer_user
from .passwords import (
    dummy_verify,
    generate_one_time_password,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

LOGIN_MAX = 32
_LOGIN_RE = re.compile(r"^[\w.@-]{2,32}$")


class LoginRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize_login(raw):
    """Full-width letters and digits folded to ASCII, surrounding spaces dropped."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def login_key(login):
    return normalize_login(login).casefold()


def login_problem(session, raw):
    """Why this login cannot be used for a new account, or None when it is free."""
    login = normalize_login(raw)
    if not login:
        return _l("Enter the login account.")
    if len(login) > LOGIN_MAX:
        return _l("A login may have at most %(n)d characters.", n=LOGIN_MAX)
    if not _LOGIN_RE.match(login):
        return _l("A login has 2 to 32 letters, digits, Chinese characters or . _ - @, and no spaces.")
    if session.scalar(select(User.id).where(User.login_key == login_key(login))):
        return _l("The login %(login)s is already taken.", login=login)
    return None


def _settings():
    config = current_app.config
    return (
        config["CRM_INACTIVE_LOCK_DAYS"],
        config["CRM_LOGIN_MAX_FAILURES"],
        timedelta(minutes=config["CRM_LOGIN_WAIT_MINUTES"]),
    )


def is_locked(user, now=None):
    """Locked by an admin or by the login machinery, or unused for longer than allowed."""
    if user.locked_at is not None:
        return True
    days = current_app.config["CRM_INACTIVE_LOCK_DAYS"]
    last = user.last_seen_at or user.created_at
    return bool(days) and last is not None and last < (now or clock.now()) - timedelta(days=days)


def waiting_clause(now=None):
    """SQL: the user's login name is in the wait after too many wrong passwords (LoginThrottle)."""
    return exists().where(LoginThrottle.login_key == User.login_key, LoginThrottle.blocked_until > (now or clock.now()))


def lock_kind(session, user, now=None, waiting=None):
    """Why the user cannot log in now, as §七's list shows it: "admin", "inactive", "too_many_failures"
    (the wait after wrong passwords, which lives on the login name, not on the account), or None.
    `waiting`: whether the login name is in that wait, when the caller read it already."""
    now = now or clock.now()
    if user.locked_at is not None:
        return user.lock_reason or "admin"
    if is_locked(user, now):
        return "inactive"
    if waiting is None:
        waiting = waiting_until(session, user, now) is not None
    return "too_many_failures" if waiting else None


def lock_kinds(session, users, now=None):
    """{user id: lock_kind} of a page of users, their waits read in one query."""
    now = now or clock.now()
    waiting = set(session.scalars(select(LoginThrottle.login_key).where(
        LoginThrottle.login_key.in_([u.login_key for u in users]), LoginThrottle.blocked_until > now)))
    return {u.id: lock_kind(session, u, now, waiting=u.login_key in waiting) for u in users}


def waiting_until(session, user, now=None):
    """When the wait after wrong passwords ends for this user's login name, or None if there is none."""
    throttle = session.get(LoginThrottle, user.login_key)
    if throttle and throttle.blocked_until and throttle.blocked_until > (now or clock.now()):
        return throttle.blocked_until
    return None


def may_use(user, now=None):
    return user is not None and user.active and user.deleted_at is None and not is_locked(user, now)


# --- login -----------------------------------------------------------------


def authenticate(session, login, password, now=None):
    """The user for this login and password, or LoginRefused with a message for the page.

    Wrong passwords are counted per login key, for existing and unknown accounts alike,
    so the answer never tells whether an account exists.
    """
    now = now or clock.now()
    key = login_key(login)[:64]
    throttle = session.get(LoginThrottle, key)
    _refuse_while_waiting(session, throttle, login, now)
    user = _password_owner(session, key, login, password, now)
    if throttle:
        throttle.failures, throttle.blocked_until = 0, None
    _refuse_unusable(session, user, login, now)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = now
    audit.record(session, user, "login", target=user)
    return user


def _refuse_while_waiting(session, throttle, login, now):
    """Refuse, before the password is even read, a login that waits after too many wrong passwords."""
    if throttle and throttle.blocked_until and throttle.blocked_until > now:
        minutes = max(1, int((throttle.blocked_until - now).total_seconds() // 60) + 1)
        _audit_failure(session, None, login, "waiting")
        raise LoginRefused(_l("Too many failed attempts. Try again in %(n)d minutes, or ask your administrator "
                              "to restore the account.", n=minutes))


def _password_owner(session, key, login, password, now):
    """The user whose login key and password these are; else the failure counted and LoginRefused."""
    _, max_failures, wait = _settings()
    user = session.scalar(select(User).where(User.login_key == key)) if key else None
    if user is None:
        dummy_verify()  # as long as a real verification: the time taken does not tell the account is unknown
    if user is None or not verify_password(user.password_hash, password):
        _audit_failure(session, user, login, "wrong_password")
        if _record_failure(session, key, now, max_failures, wait):
            audit.record(session, None, "account_locked", target=user, login=normalize_login(login),
                         details={"reason": "too_many_failures", "minutes": int(wait.total_seconds() // 60)})
        raise LoginRefused(_l("Wrong login or password."))
    return user


def _refuse_unusable(session, user, login, now):
    """Refuse the right password of an account that may not be used: deactivated, locked, or whose
    temporary password has expired."""
    if not user.active:
        _audit_failure(session, user, login, "deactivated")
        raise LoginRefused(_l("This account has been deactivated. Ask your administrator."))
    if is_locked(user, now):
        if user.locked_at is None:
            _lock(user, now, "inactive")
            audit.record(session, None, "account_locked", target=user, login=user.login,
                         details={"reason": "inactive"})
        _audit_failure(session, user, login, "locked")
        raise LoginRefused(_l("This account is locked because it was not used for a long time. Ask your administrator to restore it."))
    if user.temp_password_expires_at and user.temp_password_expires_at < now:
        _audit_failure(session, user, login, "temporary_password_expired")
        raise LoginRefused(_l("This temporary password has expired. Ask your administrator for a new one."))


# --- the captcha's pre-check ---------------------------------------------------------------------
# The login page asks whether a typed code is right before it sends the password (so a misread code
# does not cost the typed password). That answer does not use up the image, so wrong answers are
# counted per client address, in LoginThrottle like wrong passwords (every worker sees them), under
# a key with a space, which no login has: after CRM_LOGIN_MAX_FAILURES the address waits
# CRM_LOGIN_WAIT_MINUTES, and the page falls back to sending the form (the server's one-try check).


def _captcha_key(address):
    return f"captcha {address or '?'}"[:64]


def captcha_wait(session, address, now=None):
    """Minutes this address still waits before it may pre-check a code again; 0 when it may."""
    now = now or clock.now()
    throttle = session.get(LoginThrottle, _captcha_key(address))
    if throttle and throttle.blocked_until and throttle.blocked_until > now:
        return max(1, int((throttle.blocked_until - now).total_seconds() // 60) + 1)
    return 0


def captcha_checked(session, address, right, now=None):
    """Count a wrong pre-checked code (a right one, read by a person, starts the count again)."""
    now = now or clock.now()
    key = _captcha_key(address)
    if right:
        throttle = session.get(LoginThrottle, key)
        if throttle:
            throttle.failures, throttle.blocked_until = 0, None
        return
    _, max_failures, wait = _settings()
    throttle = session.get(LoginThrottle, key)
    if throttle and throttle.blocked_until and throttle.blocked_until <= now:  # a wait over: a new count
        throttle.failures, throttle.blocked_until = 0, None
    _record_failure(session, key, now, max_failures, wait)


def _audit_failure(session, user, typed_login, reason):
    """A refused login, under the login as typed (also for unknown names); never the password."""
    audit.record(session, None, "login_failed", target=user, login=normalize_login(typed_login)[:LOGIN_MAX],
                 details={"reason": reason})


def _record_failure(session, key, now, max_failures, wait):
    """Count a wrong password; True when this failure starts the wait."""
    if not key:
        return False
    throttle = session.get(LoginThrottle, key)
    if throttle is None:
        try:
            with session.begin_nested():  # two first failures at once: one insert wins
                throttle = LoginThrottle(login_key=key, failures=0)
                session.add(throttle)
        except IntegrityError:
            throttle = session.get(LoginThrottle, key)
    throttle.failures += 1
    if throttle.failures >= max_failures:
        throttle.blocked_until = now + wait
        return True
    return False


def _lock(user, now, reason):
    user.locked_at, user.lock_reason = now, reason
    user.session_version += 1


def log_out(session, user):
    """End the user's sessions on every device: a cookie captured before no longer opens anything."""
    audit.record(session, user, "logout", target=user)
    user.session_version += 1


def touch(user, now=None):
    """Note that the user is using the CRM (at most once an hour, to keep writes rare)."""
    now = now or clock.now()
    if user.last_seen_at is None or now - user.last_seen_at > timedelta(hours=1):
        user.last_seen_at = now
        return True
    return False


# --- users (§六, §七) ---------------------------------------------------------


def _clean_email(email):
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254:
        raise RuleViolation(_l("An email address may have at most 254 characters."), field="email")
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        raise RuleViolation(_l("This is not a valid email address."), field="email") from None


def _check_assignment(actor, role, department, managed, user=None):
    if role not in ROLES:
        raise RuleViolation(_l("Choose a role."), field="role")
    if role not in assignable_roles(actor):
        raise RuleViolation(_l("You may not give a role above your own."), field="role")
    if user is not None and actor is not None and user.id == actor.id and role != user.role:
        raise RuleViolation(_l("You may not change your own role."), field="role")
    if department is None or not may_administer_department(actor, department):
        raise RuleViolation(_l("Choose a department from the tree."), field="department")
    if role == "agent_admin" and department.depth < 1:
        raise RuleViolation(_l("An agent admin belongs to an agent company, not to the head office."), field="department")
    managed = list(managed or []) if role in MANAGING_ROLES else []
    for dept in managed:
        if not may_administer_department(actor, dept):
            raise RuleViolation(_l("Choose managed departments from the tree."), field="managed_departments")
    return managed


def create_user(session, actor, login, role, department, managed=(), email=None, password=None, display_name=None):
    """A new account. Returns (user, one_time_password); the latter is None when a final password was given."""
    problem = login_problem(session, login)
    if problem:
        raise RuleViolation(problem, field="login")
    login = normalize_login(login)
    managed = _check_assignment(actor, role, department, managed)
    email = _clean_email(email)
    one_time = None
    if password is None:
        password = one_time = generate_one_time_password()
    else:
        problem = password_problem(password, login)
        if problem:
            raise RuleViolation(problem, field="password")
    user = User(
        login=login, login_key=login_key(login), role=role, department=department, email=email,
        password_hash=hash_password(password), must_change_password=one_time is not None,
        managed_departments=managed, created_at=clock.now(), display_name=_clean_name(display_name),
    )
    try:
        with session.begin_nested():  # the unique key is the backstop for two admins at once
            session.add(user)
    except IntegrityError:
        raise RuleViolation(_l("The login %(login)s is already taken.", login=login), field="login") from None
    audit.record(session, actor, "user_created", target=user, department_id=department.id,
                 details=_account_values(user))
    return user, one_time


def _account_values(user):
    """What an admin sets on an account, as the audit log keeps it."""
    return {"role": user.role, "department": user.department.name if user.department else None,
            "email": user.email, "managed_departments": sorted(d.name for d in user.managed_departments),
            "display_name": user.display_name}


def _clean_name(name):
    """A person's name (姓名) on one line, None when empty: names need not be unique (two 张伟)."""
    return text.one_line(name or "").strip()[:64] or None


def update_user(session, actor, user, role, department, managed=(), email=None, display_name=None):
    _require_reach(actor, user)
    before = _account_values(user)
    user.managed_departments = _check_assignment(actor, role, department, managed, user=user)
    user.role, user.department, user.email = role, department, _clean_email(email)
    user.display_name = _clean_name(display_name)
    changed = audit.changes(before, _account_values(user))
    if changed:
        audit.record(session, actor, "user_changed", target=user, department_id=department.id, details=changed)
    return user


def _require_reach(actor, user):
    if not may_administer_user(actor, user):
        raise RuleViolation(_l("You may not change this account."))


def _require_not_self(actor, user):
    if actor is not None and actor.id == user.id:
        raise RuleViolation(_l("You may not do this to your own account."))


def reset_password(session, actor, user, now=None):
    """§七: a one-time password, valid 24 hours, that must be changed at the next login.

    The user's other sessions end, and a wait for wrong passwords is lifted.
    """
    _require_reach(actor, user)
    now = now or clock.now()
    one_time = generate_one_time_password()
    user.password_hash = hash_password(one_time)
    user.must_change_password = True
    user.temp_password_expires_at = now + timedelta(hours=current_app.config["CRM_TEMP_PASSWORD_HOURS"])
    user.session_version += 1
    _clear_throttle(session, user)
    audit.record(session, actor, "password_reset", target=user)
    return one_time


def unlock(session, actor, user, now=None):
    """§七: restore a locked account; it counts as used from now on."""
    _require_reach(actor, user)
    audit.record(session, actor, "account_unlocked", target=user,
                 details={"reason": lock_kind(session, user, now)})
    user.locked_at = user.lock_reason = None
    user.last_seen_at = now or clock.now()
    _clear_throttle(session, user)


def lock(session, actor, user, now=None):
    _require_reach(actor, user)
    _require_not_self(actor, user)
    _lock(user, now or clock.now(), "admin")
    audit.record(session, actor, "account_locked", target=user, details={"reason": "admin"})


def deactivate(session, actor, user):
    _require_reach(actor, user)
    _require_not_self(actor, user)
    user.active = False
    user.session_version += 1
    audit.record(session, actor, "user_deactivated", target=user)


def reactivate(session, actor, user):
    _require_reach(actor, user)
    user.active = True
    audit.record(session, actor, "user_reactivated", target=user)


def _clear_throttle(session, user):
    throttle = session.get(LoginThrottle, user.login_key)
    if throttle:
        throttle.failures, throttle.blocked_until = 0, None


def change_password(session, user, new_password, current_password=None, email=None, forced=False):
    """§二: the user's own new password (and optional email); other sessions end."""
    if not forced and not verify_password(user.password_hash, current_password or ""):
        raise RuleViolation(_l("The current password is wrong."), field="current_password")
    problem = password_problem(new_password, user.login)
    if problem:
        raise RuleViolation(problem, field="new_password")
    if verify_password(user.password_hash, new_password):
        raise RuleViolation(_l("Choose a password different from the current one."), field="new_password")
    user.email = _clean_email(email) if email is not None else user.email
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    user.temp_password_expires_at = None
    user.session_version += 1
    audit.record(session, user, "password_changed", target=user, details={"forced": forced})


# --- API tokens ---------------------------------------------------------------


def _token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session, user):
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_token_hash(token), created_at=clock.now()))
    return token


def token_owner(session, token):
    """The user a token was issued to, whether or not the account may be used now; None for no such token."""
    if not token:
        return None
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    return api_token.user if api_token is not None else None


def user_for_token(session, token):
    """The user a token acts for, or None: a deactivated, deleted or locked account's tokens stop working
    (locked by an admin, or for disuse: CRM_INACTIVE_LOCK_DAYS). The wait after wrong passwords
    (LoginThrottle) is not a lock of the account: it stops the login form only, so someone guessing an
    integration's password cannot cut off its token."""
    user = token_owner(session, token)
    return user if may_use(user) else None


def find_user(session, login):
    return session.scalar(select(User).where(User.login_key == login_key(login)))


# --- soft delete (issue 5) ------------------------------------------------------------------
#
# A deleted user keeps its row (its notes, history and audit entries stay its own) and its
# login (restore it rather than create it again); deleted_at set and active False hide it
# from the users list, pickers, stats and lead assignment and refuse its logins and tokens.


def delete_user(session, actor, user, now=None):
    """An admin deletes an account of its scope (not its own, not one that still owns customers)."""
    _require_reach(actor, user)
    _require_not_self(actor, user)
    if user.deleted_at is not None:
        raise RuleViolation(_l("This account has already been deleted."))
    owned = library.size(session, user)
    if owned:
        raise RuleViolation(_l("%(login)s still owns %(n)d customers: reassign them or have them abandoned "
                               "before deleting the account.", login=user.login, n=owned))
    user.deleted_at, user.active = now or clock.now(), False
    user.session_version += 1  # its sessions end now, on every device
    audit.record(session, actor, "user_deleted", target=user, details={"login": user.login})


def restore_user(session, actor, user):
    """Undo a delete: the account is active again with the password it had."""
    _require_reach(actor, user)
    if user.deleted_at is None:
        raise RuleViolation(_l("This account is not deleted."))
    user.deleted_at, user.active = None, True
    user.last_seen_at = clock.now()  # not locked at once for the days it spent deleted
    audit.record(session, actor, "user_restored", target=user, details={"login": user.login})
