"""Password hashing (argon2id, argon2-cffi) and the password policy.

Policy after NIST SP 800-63B: at least 8 characters, no composition rules, and
common passwords refused (zxcvbn's list of the 30,000 most used ones).
"""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 8
MAX_LENGTH = 128

# OWASP's argon2id configuration: 19 MiB of memory, 2 iterations, 1 lane.
PRODUCTION = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}
_hasher = PasswordHasher(**PRODUCTION)
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])
# Unambiguous characters for one-time passwords read off a screen (no 0/O, 1/l/I).
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    return _hasher.check_needs_rehash(password_hash)


def dummy_verify():
    """Spend the time of one verification, so a missing account answers as slowly as a real one."""
    verify_password(_dummy_hash, "not the password")


_dummy_hash = _hasher.hash(secrets.token_hex(8))


def use_parameters(**parameters):
    """Hash new passwords with these argon2 parameters from now on; returns the ones in use before.

    For the test suite only (tests/conftest.py): every test user would otherwise cost a
    19 MiB hash. Nothing in the app calls it, and no setting reaches it.
    """
    global _hasher, _dummy_hash
    before = {"time_cost": _hasher.time_cost, "memory_cost": _hasher.memory_cost,
              "parallelism": _hasher.parallelism}
    _hasher = PasswordHasher(**parameters)
    _dummy_hash = _hasher.hash(secrets.token_hex(8))  # a missing account still costs one verification
    return before


def password_problem(password, login=""):
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _l("The password must have at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("The password may have at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _COMMON or (login and lowered == login.lower()) or len(set(password)) < 3:
        return _l("This password is too common or too easy to guess; choose another.")
    return None


def generate_one_time_password(length=12):
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
