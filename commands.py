"""The `flask --app app ...` commands of shared/CONTRACT.md."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from models import ROLES, User, db
from services import accounts, departments
from services.errors import RuleViolation


def _fail(violation):
    db.session.rollback()
    raise click.ClickException(str(violation.message))


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the schema to the newest version; safe to run again."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    departments.ensure_head_office(db.session)
    db.session.commit()
    click.echo("database ready")


department_cli = AppGroup("departments", help="The department tree.")


@department_cli.command("create")
@click.argument("path")
def department_create(path):
    """Create PATH (Company/Dept/Sub-dept) with its missing levels."""
    try:
        department = departments.resolve_path(db.session, path, create=True)
    except RuleViolation as violation:
        _fail(violation)
    db.session.commit()
    click.echo(f"{department.id}\t{department.name}")


user_cli = AppGroup("users", help="User accounts.")


@user_cli.command("create")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--department", "department_path", required=True, help="PATH of the user's department")
@click.option("--password", default=None, help="final password; without it a one-time password is printed")
@click.option("--manages", multiple=True, help="PATH of a managed department (repeatable)")
def user_create(login, role, department_path, password, manages):
    """Create a user account."""
    try:
        department = departments.resolve_path(db.session, department_path)
        managed = [departments.resolve_path(db.session, path) for path in manages]
        user, one_time = accounts.create_user(db.session, None, login, role, department, managed, password=password)
    except RuleViolation as violation:
        _fail(violation)
    db.session.commit()
    click.echo(f"created {user.login} ({role}, {department.name})")
    if one_time:
        click.echo(f"one-time password: {one_time}")


@user_cli.command("token")
@click.argument("login")
def user_token(login):
    """Print a new API token for LOGIN (only its hash is stored)."""
    user = accounts.find_user(db.session, login)
    if user is None:
        raise click.ClickException(f"no such user: {login}")
    token = accounts.issue_token(db.session, user)
    db.session.commit()
    click.echo(token)


@user_cli.command("bootstrap")
@click.option("--login", default="admin", show_default=True)
def user_bootstrap(login):
    """Create a first subsystem admin if there is none, and print its one-time password."""
    if db.session.scalar(select(User.id).where(User.role == "subsystem_admin").limit(1)):
        click.echo("a subsystem admin exists already")
        return
    head_office = departments.ensure_head_office(db.session)
    try:
        user, one_time = accounts.create_user(db.session, None, login, "subsystem_admin", head_office)
    except RuleViolation as violation:
        _fail(violation)
    db.session.commit()
    click.echo(f"first subsystem admin: {user.login}")
    click.echo(f"one-time password (change it at first login): {one_time}")


def register(app):
    app.cli.add_command(init_db)
    app.cli.add_command(department_cli)
    app.cli.add_command(user_cli)
