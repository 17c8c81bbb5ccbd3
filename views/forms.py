"""Forms of the custom pages (login, password). Messages are the app's own, in the catalog."""
from flask_admin import babel as admin_babel
from flask_admin.form import BaseForm as AdminBaseForm
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from services.library import pool_rules


class LoginForm(FlaskForm):
    username = StringField(_l("Account"), validators=[DataRequired(_l("Enter your account.")), Length(max=64, message=_l("At most %(max)d characters."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=128, message=_l("At most %(max)d characters."))])
    captcha = StringField(_l("Verification code"), validators=[Length(max=16, message=_l("At most %(max)d characters."))])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[Optional(), Length(max=128, message=_l("At most %(max)d characters."))])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(_l("Enter the new password.")),
                                    Length(max=128, message=_l("At most %(max)d characters."))]
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(_l("Enter the new password again.")),
                    EqualTo("new_password", _l("The two passwords differ."))],
    )
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=254, message=_l("At most 254 characters."))])


class _AdminThenWTForms:
    """Form messages from Flask-Admin's catalog (with the CRM's additions), else from WTForms'.

    Flask-Admin's own form base asks WTForms' catalog only, where its field messages
    ("Not a valid choice") are missing: Chinese users saw them in English.
    """

    def gettext(self, string):
        translated = admin_babel.gettext(string)
        return translated if translated != string else admin_babel.Translations().gettext(string)

    def ngettext(self, singular, plural, n):
        translated = admin_babel.ngettext(singular, plural, n)
        chosen = singular if n == 1 else plural
        return translated if translated != chosen else admin_babel.Translations().ngettext(singular, plural, n)


class AdminForm(AdminBaseForm):
    """The base of the CRM's Flask-Admin forms."""

    class Meta:
        _translations = _AdminThenWTForms()

        def get_translations(self, form):
            return self._translations


# --- the resource rules settings page (manual §九) --------------------------------------

class WholeNumberField(IntegerField):
    """An integer field whose "not a number" message is the app's own (WTForms' has no Chinese here)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = (valuelist[0] or "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 9):
            self.data = None
            raise ValueError(_l("Enter a whole number."))
        self.data = int(text)


def _whole(label, low, high):
    return WholeNumberField(label, validators=[NumberRange(low, high, _l("Enter a whole number from %(min)s to %(max)s."))])


class RulesForm(FlaskForm):
    """The one ResourceRules row; the ranges keep a typo from emptying every library overnight."""

    cap_salesperson = _whole(_l("Library cap of a salesperson"), 1, 10000)
    cap_supervisor = _whole(_l("Library cap of a supervisor"), 1, 10000)
    cap_manager = _whole(_l("Library cap of a manager"), 1, 10000)
    quota_key_customers = _whole(_l("New key customers per day"), 0, 1000)
    quota_valid_contacts = _whole(_l("Valid contacts per day"), 0, 10000)
    lead_deadline_hours = _whole(_l("Web-lead follow-up deadline (hours)"), 1, 720)
    return_enabled = BooleanField(_l("Return customers to the public pool"))
    return_after_days = _whole(_l("Days without a valid contact before a customer returns"), 1, 3650)
    return_warn_days = _whole(_l("Warn the owner this many days before"), 0, 3650)
    return_exempt_key_customers = BooleanField(_l("Key customers never return"))
    return_exempt_note_days = _whole(_l("Exempt customers with any note in the last N days (0: off)"), 0, 3650)
    daily_check_limit = _whole(_l("Duplicate checks per user and day"), 1, 100000)  # services/checking/check_limit.py
    duplicate_scan_nightly = BooleanField(_l("Look for duplicates already inside every night"))  # services/duplicates/scan.py
    # the notices by mail (services/notices/): read by the worker each minute, so a change needs no restart
    lead_warn_hours = _whole(_l("Mail the owner this many hours before a web lead's deadline (0: off)"), 0, 720)
    digest_enabled = BooleanField(_l("Mail each person a morning list of today's contacts"))
    digest_hour = _whole(_l("Hour of the morning list (0-23)"), 0, 23)

    def validate_return_warn_days(self, field):
        after = self.return_after_days.data
        if field.data is not None and after is not None and field.data >= after:
            raise ValidationError(_l("The warning must come fewer days before the return than the days "
                                     "without a valid contact (%(n)d).", n=after))



def _pool_whole(name):
    limit = pool_rules.LIMITS[name]
    return _whole(limit.label, limit.low, limit.high)


class PoolRulesForm(FlaskForm):
    """One agent company's public-pool rules (services/library/pool_rules.py holds the ranges and the labels)."""

    daily_claim_limit = _pool_whole("daily_claim_limit")
    reclaim_cooldown_days = _pool_whole("reclaim_cooldown_days")
    new_arrival_embargo_hours = _pool_whole("new_arrival_embargo_hours")
    lock_limit = _pool_whole("lock_limit")
    mask_pool_contacts = BooleanField(pool_rules.FLAGS["mask_pool_contacts"])
