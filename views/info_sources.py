"""The list of information sources (信息来源) that the entry form offers; kept by subsystem admins."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from models import db
from services import opportunities

from .base import ScopedModelView
from .forms import AdminForm


class InfoSourceForm(AdminForm):
    name = StringField(_l("Information source"), validators=[
        InputRequired(_l("Enter a name.")), Length(max=64, message=_l("At most %(max)d characters."))])
    active = BooleanField(_l("Offered in the entry form"), default=True)


class InfoSourceView(ScopedModelView):
    form = InfoSourceForm
    can_delete = False  # a source in use stays; switch it off instead
    can_view_details = False
    column_list = ["name", "active"]
    column_labels = {"name": _l("Information source"), "active": _l("Offered in the entry form")}
    column_default_sort = ("id", False)

    def is_accessible(self):
        return super().is_accessible() and current_user.role == "subsystem_admin"

    def scope(self, query):
        return query

    def create_with_rules(self, form):
        return opportunities.save_info_source(db.session, current_user, None, form.name.data, form.active.data)

    def update_with_rules(self, form, model):
        opportunities.save_info_source(db.session, current_user, model, form.name.data, form.active.data)
