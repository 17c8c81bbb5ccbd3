"""The lists that subsystem admins keep: information sources (信息来源) and abandon reasons (放弃原因)."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from models import db
from services.library import opportunities

from .base import ScopedModelView
from .forms import AdminForm


class ChoiceForm(AdminForm):
    name = StringField(_l("Name"), validators=[
        InputRequired(_l("Enter a name.")), Length(max=64, message=_l("At most %(max)d characters."))])
    active = BooleanField(_l("Offered in the forms"), default=True)


class ChoiceListView(ScopedModelView):
    """A short list of names with an on/off switch; entries in use are switched off, never deleted."""

    form = ChoiceForm
    can_delete = False
    can_view_details = False
    column_list = ["name", "active"]
    column_labels = {"name": _l("Name"), "active": _l("Offered in the forms")}
    column_default_sort = ("id", False)

    def is_accessible(self):
        return super().is_accessible() and current_user.role == "subsystem_admin"

    def scope(self, query):
        return query

    def create_with_rules(self, form):
        return opportunities.save_choice(db.session, current_user, self.model, None, form.name.data, form.active.data)

    def update_with_rules(self, form, model):
        opportunities.save_choice(db.session, current_user, self.model, model, form.name.data, form.active.data)
