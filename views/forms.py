"""Forms of the custom pages (login, password). Messages are the app's own, in the catalog."""
from flask_admin import babel as admin_babel
from flask_admin.form import BaseForm as AdminBaseForm
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


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
