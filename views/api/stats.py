"""GET /stats/daily: the daily statistics of manual §九 (services/library/stats.py), with their schema."""
from flask import g, request

from models import db
from services.library import stats

from . import bp
from .errors import invalid_response
from .openapi import add_schemas, operation, query


@bp.get("/stats/daily")
@operation(
    "Daily statistics (§九) of the people the caller may see", tags=["stats"],
    description="Per person who keeps a library: its size and cap, the new key customers they entered and the "
                "valid contacts they logged that day (a calendar day in CRM_TIMEZONE), and their web leads overdue "
                "now. A salesperson sees themself; supervisors and managers their managed departments; agent admins "
                "their company; subsystem admins everyone.",
    parameters=[query("date", "YYYY-MM-DD; today by default", {"type": "string", "format": "date"})],
    responses={200: ("The day's figures per person", "DailyStats"), 422: None},
)
def stats_daily():
    raw = request.args.get("date")
    day = stats.today() if raw is None or raw == "" else stats.parse_day(raw)
    if day is None:
        return invalid_response({"date": str(stats.bad_day())})
    rows = stats.daily(db.session, g.api_user, day)
    db.session.rollback()  # read only
    return {"date": day.isoformat(), "users": [row.api_json() for row in rows]}


# --- the schema of this call ---------------------------------------------------------------
DAILY_STATS = {
    "type": "object",
    "required": ["date", "users"],
    "properties": {
        "date": {"type": "string", "format": "date", "description": "the day, in CRM_TIMEZONE"},
        "users": {"type": "array", "items": {
            "type": "object",
            "required": ["login", "library_size", "library_cap", "new_key_customers", "valid_contacts",
                         "overdue_leads"],
            "properties": {
                "login": {"type": "string"},
                "library_size": {"type": "integer", "minimum": 0},
                "library_cap": {"type": "integer", "minimum": 0},
                "new_key_customers": {"type": "integer", "minimum": 0,
                                      "description": "key customers the user entered that day"},
                "valid_contacts": {"type": "integer", "minimum": 0,
                                   "description": "valid contact notes (有效联系) the user wrote that day"},
                "overdue_leads": {"type": "integer", "minimum": 0,
                                  "description": "web leads on the user's customers past their deadline now"},
            },
        }},
    },
}

add_schemas({"DailyStats": DAILY_STATS})
