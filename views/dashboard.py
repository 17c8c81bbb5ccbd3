"""The dashboard at `/`: who you are and where to go next (figures arrive with the later issues)."""
from flask_admin import expose
from flask_login import current_user

from services.access import ROLE_LABELS, is_admin

from .base import CRMIndexView


class DashboardView(CRMIndexView):
    @expose("/")
    def index(self):
        return self.render("dashboard.html", user=current_user, role_label=ROLE_LABELS[current_user.role],
                           is_admin=is_admin(current_user))
