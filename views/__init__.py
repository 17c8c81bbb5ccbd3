"""What a person or a client touches: Flask-Admin views and blueprints."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from models import AbandonReason, AuditEntry, ContactNote, Department, InfoSource, Opportunity, User, db
from services.checking import places
from services.people.access import LIBRARY_ROLES

from . import api, audit, auth, dashboard, errors, guard, ids, security  # noqa: F401
from .agent_pool import AgentPoolView
from .audit import AuditView
from .base import OPPORTUNITY_MENU, SYSTEM_MENU, RoleMenuLink
from .dedup import DedupView
from .departments import DepartmentView
from .duplicates import DuplicatesView
from .imports import ImportView, allow_uploads
from .info_sources import ChoiceListView
from .notes import NoteListView
from .notices import MyNoticesView, NoticesView
from .opportunities import OpportunityView
from .pool import PoolView
from .rules import RulesView
from .users import UserView


def register_views(app, admin):
    @app.context_processor
    def _locale():
        return {"current_locale": str(get_locale())}

    app.add_template_filter(places.text, "place")  # one way to write a place on every page (issue 21)
    ids.register(app)  # the `<id:...>` converter of the API's paths, before api.register

    @app.route("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico on every page, whatever the <link rel="icon"> says: no 404 for it."""
        return app.send_static_file("favicon.ico")

    app.register_blueprint(auth.bp)
    auth.init_login(app)
    errors.register(app)
    guard.register(app)  # after CSRFProtect's check: text with control characters is refused (422)
    security.register(app)
    api.register(app)
    dashboard.register(app)  # the navigation bar's due-today and unread-notice counts
    # The menus in the manual's order (categories: views/base.py); a view's category is its menu.
    opportunity_menu = {"category": OPPORTUNITY_MENU}
    admin.add_view(OpportunityView(Opportunity, db, name=_l("My opportunities"), endpoint="opportunities",
                                   url="/opportunities", **opportunity_menu))
    admin.add_link(RoleMenuLink(_l("Enter an opportunity"), "opportunities.create_view",
                                lambda user: user.role in LIBRARY_ROLES, **opportunity_menu))
    admin.add_view(DedupView(name=_l("Duplicate check"), endpoint="dedup", url="/dedup", **opportunity_menu))
    admin.add_view(PoolView(Opportunity, db, name=_l("Public pool"), endpoint="pool", url="/pool", **opportunity_menu))
    admin.add_view(NoteListView(ContactNote, db, name=_l("Contact notes"), endpoint="notes", url="/notes",
                                **opportunity_menu))
    admin.add_view(AgentPoolView(Opportunity, db, name=_l("Agent-admin pool"), endpoint="agent_pool",
                                 url="/agent-pool"))
    system_menu = {"category": SYSTEM_MENU}
    admin.add_view(UserView(User, db, name=_l("Users"), endpoint="users", url="/users", **system_menu))
    admin.add_view(DepartmentView(Department, db, name=_l("Departments"), endpoint="departments", url="/departments",
                                  **system_menu))
    admin.add_view(ChoiceListView(InfoSource, db, name=_l("Information sources"), endpoint="info_sources",
                                  url="/info-sources", **system_menu))
    admin.add_view(ChoiceListView(AbandonReason, db, name=_l("Abandon reasons"), endpoint="abandon_reasons",
                                  url="/abandon-reasons", **system_menu))
    admin.add_view(RulesView(name=_l("Resource rules"), endpoint="rules", url="/rules", **system_menu))
    audit.register(app)  # issue 5: the client address for the audit log's entries
    admin.add_view(AuditView(AuditEntry, db, name=_l("Audit log"), endpoint="audit", url="/audit", **system_menu))
    app.before_request_funcs.setdefault(None, []).insert(0, allow_uploads)  # before CSRFProtect reads the form
    import_view = ImportView(name=_l("Imports"), endpoint="imports", url="/imports", **system_menu)
    admin.add_view(import_view)
    app.extensions["crm_too_large_answers"]["imports.new"] = import_view.too_large  # the form again, naming CRM_IMPORT_MAX_MB
    admin.add_view(DuplicatesView(name=_l("Duplicate customers"), endpoint="duplicates", url="/duplicates",
                                  **system_menu))
    admin.add_view(NoticesView(name=_l("Robots and webhooks"), endpoint="notices", url="/notices", **system_menu))
    # each person's own page, reached from the user menu (templates/crm_base.html), not from a menu of its own
    admin.add_view(MyNoticesView(name=_l("My notice settings"), endpoint="my_notices", url="/my-notices"))
