"""Departments (manual §八): the tree, a new department under a company, prefixed names."""
from flask import request
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.model.template import EndpointLinkRowAction
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from models import Department, db
from services.people import departments
from services.people.access import department_clause

from .base import ScopedModelView, parse_id
from .forms import AdminForm

KIND_LABELS = {0: _l("Head office"), 1: _l("Agent company")}


def _parent_choices():
    return db.session.query(Department).filter(department_clause(current_user)).order_by(Department.path)


class DepartmentForm(AdminForm):
    parent = QuerySelectField(
        _l("Parent department"), query_factory=_parent_choices, get_label=departments.tree_label,
        allow_blank=True, blank_text="—",
        description=_l("Pick the company or department the new one belongs to."),
    )
    short_name = StringField(
        _l("Department name"),
        validators=[InputRequired(_l("Enter the department's name.")),
                    Length(max=departments.MAX_NAME, message=_l("At most %(max)d characters."))],
        description=_l("The company's name is put in front automatically, as the manual asks."),
    )


def _format_tree_name(view, context, model, name):
    indent = Markup("&emsp;" * max(model.depth - 1, 0))
    mark = Markup('<span class="text-muted">└ </span>') if model.depth > 1 else ""
    weight = "font-weight-bold" if model.depth <= 1 else ""
    return Markup('{}{}<span class="{}">{}</span>').format(indent, mark, weight, model.name)


class DepartmentView(ScopedModelView):
    form = DepartmentForm
    column_list = ["name", "kind", "created_at"]
    column_details_list = ["name", "short_name", "parent", "kind", "created_at"]
    column_labels = {"name": _l("Department"), "short_name": _l("Name as entered"), "parent": _l("Parent department"),
                     "kind": _l("Level"), "created_at": _l("Created")}
    column_sortable_list = []
    column_default_sort = ("path", False)  # depth-first: the list reads as a tree
    column_searchable_list = ["name"]
    page_size = 200
    page_size_options = (50, 100, 200, 500)
    column_formatters = {
        "name": _format_tree_name,
        "kind": lambda v, c, m, n: KIND_LABELS.get(m.depth, _l("Department")),
        "created_at": lambda v, c, m, n: m.created_at.strftime("%Y-%m-%d") if m.created_at else "",
    }
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-plus", ".create_view", title=_l("Add a sub-department"), id_arg="parent"),
    ]

    def scope(self, query):
        return query.filter(department_clause(current_user))

    @staticmethod
    def row_deletable(department):
        """No delete button on the head office (services.people.departments refuses it too)."""
        return not department.is_head_office

    def create_form(self, obj=None):
        form = super().create_form(obj)
        parent_id = parse_id(request.args.get("parent", ""))
        if request.method == "GET" and parent_id is not None:
            form.parent.data = self.get_query().filter(Department.id == parent_id).one_or_none()
        return form

    def create_with_rules(self, form):
        return departments.create_department(db.session, current_user, form.parent.data, form.short_name.data)

    def update_with_rules(self, form, model):
        departments.update_department(db.session, current_user, model, form.parent.data, form.short_name.data)

    def delete_with_rules(self, model):
        departments.delete_department(db.session, current_user, model)
