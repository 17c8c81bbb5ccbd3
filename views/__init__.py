"""What a person or a client touches: Flask-Admin views and blueprints."""


def register_views(app, admin):
    from flask_babel import lazy_gettext as _l

    from models import AbandonReason, ContactNote, Department, InfoSource, Opportunity, User, db

    from . import api, api_duplicates, api_imports, auth, errors, guard, ids, security  # noqa: F401 (they add their calls to api)
    from .agent_pool import AgentPoolView
    from .dedup import DedupView
    from .departments import DepartmentView
    from .info_sources import ChoiceListView
    from .notes import NoteListView
    from .opportunities import OpportunityView
    from .pool import PoolView
    from .rules import RulesView
    from .users import UserView

    @app.context_processor
    def _locale():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale())}

    ids.register(app)  # the `<id:...>` converter of the API's paths, before api.register
    app.register_blueprint(auth.bp)
    auth.init_login(app)
    errors.register(app)
    guard.register(app)  # after CSRFProtect's check: text with control characters is refused (422)
    security.register(app)
    api.register(app)
    from .dashboard import register as register_reminders

    register_reminders(app)  # the navigation bar's due-today and unread-notice counts
    admin.add_view(OpportunityView(Opportunity, db, name=_l("My opportunities"), endpoint="opportunities",
                                   url="/opportunities"))
    admin.add_view(DedupView(name=_l("Duplicate check"), endpoint="dedup", url="/dedup"))
    admin.add_view(PoolView(Opportunity, db, name=_l("Public pool"), endpoint="pool", url="/pool"))
    admin.add_view(AgentPoolView(Opportunity, db, name=_l("Agent-admin pool"), endpoint="agent_pool",
                                 url="/agent-pool"))
    admin.add_view(NoteListView(ContactNote, db, name=_l("Contact notes"), endpoint="notes", url="/notes"))
    admin.add_view(UserView(User, db, name=_l("Users"), endpoint="users", url="/users"))
    admin.add_view(DepartmentView(Department, db, name=_l("Departments"), endpoint="departments", url="/departments"))
    admin.add_view(ChoiceListView(InfoSource, db, name=_l("Information sources"), endpoint="info_sources",
                                  url="/info-sources"))
    admin.add_view(ChoiceListView(AbandonReason, db, name=_l("Abandon reasons"), endpoint="abandon_reasons",
                                  url="/abandon-reasons"))
    from .imports import ImportView, allow_uploads

    app.before_request_funcs.setdefault(None, []).insert(0, allow_uploads)  # before CSRFProtect reads the form
    admin.add_view(ImportView(name=_l("Imports"), endpoint="imports", url="/imports"))
    from .duplicates import DuplicatesView

    admin.add_view(DuplicatesView(name=_l("Duplicate customers"), endpoint="duplicates", url="/duplicates"))
    admin.add_view(RulesView(name=_l("Resource rules"), endpoint="rules", url="/rules"))
    from models import AuditEntry

    from . import audit
    from .audit import AuditView

    audit.register(app)  # issue 5: the client address for the audit log's entries
    admin.add_view(AuditView(AuditEntry, db, name=_l("Audit log"), endpoint="audit", url="/audit"))
