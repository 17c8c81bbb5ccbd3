"""The Flask extensions, made once here and bound to the app by create_app (app.py) with init_app.

Views and services import them from here, never from app.py: app.py imports the views, so an
import the other way would be a circle. The database, `db`, lives in models.py beside its tables.
"""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate()

# Babel's names for the catalogs: Flask-Admin ships zh_Hans_CN and zh_Hant_TW, and ours match.
LOCALES = {"zh_Hans_CN": "简体中文", "zh_Hant_TW": "繁體中文", "en": "English"}
