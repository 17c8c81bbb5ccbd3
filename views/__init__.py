"""What a person or a client touches: Flask-Admin views and blueprints."""


def register_views(app, admin):
    from flask_babel import lazy_gettext as _l

    from models import Department, User, db

    from . import auth, errors, security
    from .departments import DepartmentView
    from .users import UserView

    @app.context_processor
    def _locale():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale())}

    app.register_blueprint(auth.bp)
    auth.init_login(app)
    errors.register(app)
    security.register(app)
    admin.add_view(UserView(User, db, name=_l("Users"), endpoint="users", url="/users"))
    admin.add_view(DepartmentView(Department, db, name=_l("Departments"), endpoint="departments", url="/departments"))
