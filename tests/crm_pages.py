"""Reading the admin pages as a browser would, and the database as a test must.

Helpers shared by the tests of the manual's §六-§八 and of the access matrix. The pages
are parsed with the standard library's HTML parser (no translated text is relied on:
element ids, form fields, row checkboxes and Bootstrap's error classes); the database is
read in short application contexts, so that no request ever runs inside one.
"""
import json
from html.parser import HTMLParser
from types import SimpleNamespace

from sqlalchemy import func, select

from conftest import PASSWORD, csrf_token
from models import Department, User, db

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The elements of a page: tags with their attributes, the text inside each id'd element."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.elements = []  # (tag, attrs)
        self._open = []  # stack of [tag, attrs, text parts]
        self.texts = {}  # id -> text inside
        self.options = {}  # select id -> [(value, label, selected)]
        self._select = None
        self._option = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        self.elements.append((tag, attrs))
        if tag == "select":
            self._select = attrs.get("id") or attrs.get("name")
            self.options.setdefault(self._select, [])
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value", ""), [], "selected" in attrs]
        if tag not in VOID:
            self._open.append([tag, attrs, []])

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value, text, selected = self._option
            self.options[self._select].append((value, "".join(text).strip(), selected))
            self._option = None
        if tag == "select":
            self._select = None
        if tag in VOID:
            return
        while self._open:
            open_tag, attrs, text = self._open.pop()
            if attrs.get("id"):
                self.texts[attrs["id"]] = "".join(text).strip()
            if self._open:
                self._open[-1][2].extend(text)
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)
        if self._option is not None:
            self._option[1].append(data)

    # --- queries ---------------------------------------------------------------
    def by_id(self, element_id):
        for _tag, attrs in self.elements:
            if attrs.get("id") == element_id:
                return attrs
        return None

    def text(self, element_id):
        return self.texts.get(element_id)

    def option_values(self, select_id):
        """The non-blank option values of a <select>, as ints where they are ids."""
        values = [v for v, _label, _sel in self.options.get(select_id, []) if v not in ("", "__None")]
        return [int(v) if v.isdigit() else v for v in values]

    def selected(self, select_id):
        return [v for v, _label, sel in self.options.get(select_id, []) if sel]

    def row_ids(self):
        """The ids of the rows of a Flask-Admin list, in the order shown."""
        return [int(a["value"]) for t, a in self.elements
                if t == "input" and a.get("name") == "rowid" and a.get("value", "").isdigit()]

    def classes(self, element_id):
        attrs = self.by_id(element_id)
        return set((attrs or {}).get("class", "").split())

    def field_invalid(self, field_id):
        """Bootstrap's mark of a refused field, put there by the form's errors."""
        return "is-invalid" in self.classes(field_id)

    def error_alerts(self):
        return [a for t, a in self.elements if "alert-danger" in a.get("class", "").split()]

    def forms(self, action):
        """The POST forms that submit to `action`, each as {field name: value} of its hidden inputs."""
        found, current = [], None
        for tag, attrs in self.elements:
            if tag == "form":
                current = {"__action__": attrs.get("action", "")}
                if attrs.get("action") == action and attrs.get("method", "").lower() == "post":
                    found.append(current)
            elif tag == "input" and current is not None and attrs.get("type") == "hidden" and attrs.get("name"):
                current[attrs["name"]] = attrs.get("value", "")
        return found

    def json_of(self, element_id):
        return json.loads(self.text(element_id))

    def filter_options(self, group_index):
        """The options of the list filter at `group_index` (Flask-Admin's filter-groups-data)."""
        groups = self.json_of("filter-groups-data")
        for entries in groups.values():
            for entry in entries:
                if entry["index"] == group_index:
                    return [int(v) if str(v).isdigit() else v for v, _label in entry["options"] or []]
        raise AssertionError(f"no filter with index {group_index}")


def page(response):
    return Page(response.get_data(as_text=True))


# --- sessions ------------------------------------------------------------------


def login(client, username, password=PASSWORD):
    """Log in through the login form (captcha off in tests); returns the response."""
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def logged_in_as(app, username, password=PASSWORD):
    """A new browser, logged in as `username`."""
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, f"{username} could not log in ({response.status_code})"
    return client


def is_logged_in(client):
    """True when the client's session still opens the dashboard."""
    response = client.get("/")
    return response.status_code == 200


def redirects_to(response, path):
    return response.status_code == 302 and response.headers["Location"].split("?")[0] == path


def post_with_token(client, url, data, token_from="/"):
    """POST as the page's own form would: the token of this session, read from a page."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_from)})


# --- the database ------------------------------------------------------------------


def _snapshot_user(user):
    return SimpleNamespace(
        id=user.id, login=user.login, role=user.role, department_id=user.department_id, email=user.email,
        active=user.active, locked_at=user.locked_at, lock_reason=user.lock_reason, last_seen_at=user.last_seen_at,
        password_hash=user.password_hash, must_change_password=user.must_change_password,
        temp_password_expires_at=user.temp_password_expires_at, session_version=user.session_version,
        managed_ids=sorted(d.id for d in user.managed_departments),
    )


def get_user(app, login_or_id):
    """A snapshot of a user's row (None when absent), read in its own session."""
    with app.app_context():
        if isinstance(login_or_id, int):
            user = db.session.get(User, login_or_id)
        else:
            user = db.session.scalar(select(User).where(User.login_key == login_or_id.casefold()))
        return _snapshot_user(user) if user is not None else None


def all_users(app):
    with app.app_context():
        return {u.login: _snapshot_user(u) for u in db.session.scalars(select(User))}


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def get_department(app, department_id):
    with app.app_context():
        dept = db.session.get(Department, department_id)
        if dept is None:
            return None
        return SimpleNamespace(id=dept.id, name=dept.name, short_name=dept.short_name, parent_id=dept.parent_id,
                               path=dept.path, depth=dept.depth)


def find_department(app, name):
    with app.app_context():
        dept = db.session.scalar(select(Department).where(Department.name == name))
        return dept.id if dept is not None else None


def all_departments(app):
    with app.app_context():
        return {d.id: (d.name, d.parent_id, d.path) for d in db.session.scalars(select(Department))}


def update_user(app, login_name, **values):
    """Set columns of a user directly (to put an account in a state: locked, unused, ...)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login_key == login_name.casefold()))
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()


def company_department_ids(org, company):
    return {dept_id for path, dept_id in org.depts.items() if path.split("/")[0] == company}


def company_user_ids(app, org, company):
    dept_ids = company_department_ids(org, company)
    return {u.id for u in all_users(app).values() if u.department_id in dept_ids}


def head_office_id(app):
    with app.app_context():
        return db.session.scalar(select(Department.id).where(Department.parent_id.is_(None)))
