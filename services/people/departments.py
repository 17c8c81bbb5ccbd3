"""The department tree (manual §八): head office, agent companies, departments below."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from models import Department, User

from .. import audit
from ..errors import RuleViolation
from .access import may_administer_department

HEAD_OFFICE_NAME = "总部"
MAX_NAME = 64


def ensure_head_office(session):
    root = session.scalar(select(Department).where(Department.parent_id.is_(None)).order_by(Department.id))
    if root is None:
        root = Department(short_name=HEAD_OFFICE_NAME, name=HEAD_OFFICE_NAME, depth=0, path="")
        session.add(root)
        session.flush()
        root.path = _segment(root.id)
    return root


def _segment(department_id):
    # Zero-padded so that sorting by path lists the tree depth-first, siblings by age.
    return f"/{department_id:08d}/"


def _company_of(parent):
    """The company a child of `parent` will belong to, or None when the child is itself a company."""
    node = parent
    while node is not None and node.depth > 1:
        node = node.parent
    return node if node is not None and node.depth == 1 else None


def display_name(parent, short_name):
    """A department's name carries its company's name in front (§八 step 4)."""
    company = _company_of(parent)
    if company is None or short_name.startswith(company.short_name):
        return short_name
    return company.short_name + short_name


def _clean_name(short_name):
    short_name = (short_name or "").strip()
    if not short_name:
        raise RuleViolation(_l("Enter the department's name."), field="short_name")
    if len(short_name) > MAX_NAME:
        raise RuleViolation(_l("A department name may have at most %(n)d characters.", n=MAX_NAME), field="short_name")
    if "/" in short_name:
        raise RuleViolation(_l("A department name may not contain \"/\"."), field="short_name")
    return short_name


def _check_sibling_free(session, parent, short_name, exclude_id=None):
    # Siblings differ both as typed and as displayed: "客服部" and "华南代理客服部" under
    # 华南代理 would both read 华南代理客服部.
    query = select(func.count()).select_from(Department).where(
        Department.parent_id == parent.id,
        or_(Department.short_name == short_name, Department.name == display_name(parent, short_name)),
    )
    if exclude_id is not None:
        query = query.where(Department.id != exclude_id)
    if session.scalar(query):
        raise RuleViolation(
            _l("%(parent)s already has a department named %(name)s.", parent=parent.name, name=short_name),
            field="short_name",
        )


def create_department(session, actor, parent, short_name):
    if parent is None:
        raise RuleViolation(_l("Choose the parent department."), field="parent")
    if not may_administer_department(actor, parent):
        raise RuleViolation(_l("Choose the parent department."), field="parent")
    short_name = _clean_name(short_name)
    _check_sibling_free(session, parent, short_name)
    department = Department(
        short_name=short_name, name=display_name(parent, short_name), parent=parent, depth=parent.depth + 1, path=""
    )
    session.add(department)
    session.flush()
    department.path = parent.path + _segment(department.id)[1:]
    # filed under the parent: a new, still empty agent company stays deletable
    audit.record(session, actor, "department_created", target=department, department_id=parent.id,
                 details={"name": department.name})
    return department


def _require_above_company(actor, department):
    """The head office and the agent companies themselves are the subsystem admin's to change."""
    if department.depth <= 1 and actor is not None and actor.role != "subsystem_admin":
        raise RuleViolation(_l("Only a subsystem admin may change an agent company or the head office."))


def update_department(session, actor, department, parent, short_name):
    """Rename or move a department; its subtree's paths and names follow."""
    _require_above_company(actor, department)
    short_name = _clean_name(short_name)
    if department.depth == 0:
        if parent is not None:
            raise RuleViolation(_l("The head office has no parent department."), field="parent")
    else:
        if parent is None or not may_administer_department(actor, parent):
            raise RuleViolation(_l("Choose the parent department."), field="parent")
        if parent.path.startswith(department.path):
            raise RuleViolation(
                _l("A department cannot be placed under itself or under one of its own sub-departments."),
                field="parent",
            )
        _check_sibling_free(session, parent, short_name, exclude_id=department.id)
    old_path, before = department.path, {"name": department.name}
    department.short_name = short_name
    department.parent = parent
    department.depth = parent.depth + 1 if parent else 0
    department.path = (parent.path if parent else "/") + _segment(department.id)[1:]
    department.name = display_name(parent, short_name) if parent else short_name
    _refresh_subtree(session, department, old_path)
    changed = audit.changes(before, {"name": department.name})
    if changed:
        audit.record(session, actor, "department_changed", target=department,
                     department_id=parent.id if parent is not None else department.id,
                     details=changed)
    return department


def _refresh_subtree(session, department, old_path):
    descendants = session.scalars(
        select(Department).where(Department.path.startswith(old_path), Department.id != department.id)
        .order_by(Department.depth)
    ).all()
    for node in descendants:  # parents come before children (ordered by depth)
        node.path = department.path + node.path[len(old_path):]
        node.depth = node.path.count("/") - 2
        node.name = display_name(node.parent, node.short_name)


def delete_department(session, actor, department):
    if department.depth == 0:
        raise RuleViolation(_l("The head office cannot be deleted."))
    if not may_administer_department(actor, department):
        raise RuleViolation(_l("You may not change this department."))
    _require_above_company(actor, department)
    if session.scalar(select(func.count()).select_from(Department).where(Department.parent_id == department.id)):
        raise RuleViolation(_l("Delete or move its sub-departments first."))
    if session.scalar(select(func.count()).select_from(User).where(User.department_id == department.id)):
        raise RuleViolation(_l("Move the department's users to another department first."))
    session.delete(department)


def resolve_path(session, path, create=False, actor=None):
    """The department named by PATH ("Company/Dept/Sub"; "/" is the head office).

    With create, missing levels are made; otherwise an unknown level is a RuleViolation.
    """
    node = ensure_head_office(session) if create else session.scalar(
        select(Department).where(Department.parent_id.is_(None)).order_by(Department.id)
    )
    if node is None:
        raise RuleViolation(_l("Unknown department: %(path)s", path=path), field="department")
    for part in [p.strip() for p in (path or "").split("/") if p.strip()]:
        child = session.scalar(
            select(Department).where(Department.parent_id == node.id, Department.short_name == part)
        )
        if child is None:
            if not create:
                raise RuleViolation(_l("Unknown department: %(path)s", path=path), field="department")
            child = create_department(session, actor, node, part)
        node = child
    return node


def tree_label(department):
    """The department's name indented by its depth, for pickers and the tree list."""
    return "\u3000" * max(department.depth - 1, 0) + ("└ " if department.depth > 1 else "") + department.name
