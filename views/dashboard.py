"""The dashboard at `/`: who you are, your library against the cap, what is due today."""
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import func, select

from models import Opportunity, db
from services import opportunities
from services.access import LIBRARY_ROLES, ROLE_LABELS, is_admin

from .base import CRMIndexView
from .opportunities import _day_end


class DashboardView(CRMIndexView):
    @expose("/")
    def index(self):
        keeps_library = current_user.role in LIBRARY_ROLES
        figures = {}
        if keeps_library:
            mine = Opportunity.owner_id == current_user.id
            figures = {
                "library_size": opportunities.library_size(db.session, current_user),
                "library_cap": opportunities.library_cap(db.session, current_user),
                "due_today": db.session.scalar(select(func.count()).select_from(Opportunity).where(
                    mine, Opportunity.next_contact_at < _day_end())),
                "never_contacted": db.session.scalar(select(func.count()).select_from(Opportunity).where(
                    mine, Opportunity.last_contact_at.is_(None))),
            }
        return self.render("dashboard.html", user=current_user, role_label=ROLE_LABELS[current_user.role],
                           is_admin=is_admin(current_user), keeps_library=keeps_library, **figures)
