"""The `flask --app app ...` commands (the command-line table of README.md and docs/contract.md)."""
import json
import logging
import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from flask_migrate import upgrade
from sqlalchemy import select

from models import ROLES, User, db
from services import backup, clock, imports, jobs, nightly
from services.checking.rekey import rekey
from services.duplicates import scan as duplicates
from services.errors import RuleViolation
from services.library import returns
from services.people import accounts, departments


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
@click.option("--email", default=None, help="the address the CRM's notices are mailed to")
@click.option("--name", "display_name", default=None, help="the person's name (张伟), which an import's owner column may give")
def user_create(login, role, department_path, password, manages, email, display_name):
    """Create a user account."""
    try:
        department = departments.resolve_path(db.session, department_path)
        managed = [departments.resolve_path(db.session, path) for path in manages]
        user, one_time = accounts.create_user(db.session, None, login, role, department, managed, email=email,
                                              password=password, display_name=display_name)
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


opportunity_cli = AppGroup("opportunities", help="Customers (opportunities): import a file, or check it for duplicates.")


class _ProgressBar:
    """A progress bar on standard error for long imports (shown from PROGRESS_FROM rows on)."""

    PROGRESS_FROM = 1000

    def __init__(self, label):
        self.label = label
        self.bar = None

    def __call__(self, done, total):
        if self.bar is None:
            if total < self.PROGRESS_FROM:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=click.get_text_stream("stderr"),
                                         show_pos=True, show_eta=True)
            self.bar.__enter__()
        self.bar.update(done)

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _column_mapping(_context, _parameter, values):
    """--column "HEADER=FIELD" (repeatable) as RowReader's `columns`; "HEADER=" ignores the column."""
    mapping = {}
    for value in values:
        header, sep, name = value.rpartition("=")
        if not sep or not header.strip():
            raise click.BadParameter(f"{value!r}: write HEADER=FIELD, or HEADER= to ignore the column")
        mapping[header.strip()] = name.strip() or None
    return mapping or None


def _reader_options(command):
    command = click.option("--max-rows", type=click.IntRange(min=0), default=None,
                           help="refuse a file with more data rows than this")(command)
    return click.option("--column", "columns", multiple=True, callback=_column_mapping, metavar="HEADER=FIELD",
                        help="read the column HEADER as FIELD (one of imports.FIELDS; empty: ignore it), "
                             "instead of by its name")(command)


def _read_header(file, columns, max_rows):
    """The file's reader, its header read; the columns it leaves out said on standard error (never dropped
    without a word: a misspelt header is seen before the run, and mapped with --column)."""
    reader = imports.open_reader(file, columns, imports.limits(command_line=True, max_rows=max_rows))
    left = imports.unmapped(reader)
    if left:
        click.echo(_("These columns are not imported: %(columns)s", columns="、".join(left)), err=True)
    return reader


@opportunity_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--pool", type=click.Choice(sorted(imports.POOLS)), default=None,
              help="where the rows go when no --owner is given (default: public)")
@click.option("--owner", default=None, help="LOGIN: the rows go to this user's library, up to its cap")
@click.option("--department", default=None,
              help="PATH of the agent company whose agent-admin pool receives the rows (with --pool agent_admin)")
@click.option("--skip-check", is_flag=True, help="trust the file: no duplicate check (migrating a clean database)")
@click.option("--json", "as_json", is_flag=True, help="print the summary as one JSON object")
@_reader_options
def opportunity_import(file, pool, owner, department, skip_check, as_json, columns, max_rows):
    """Import customers from FILE (.csv, .xlsx, .xls or .ods), in one transaction.

    Duplicates (of the database or of an earlier row) and invalid rows are not imported;
    they, and the imported rows that resemble others (review), are listed with the reason
    in FILE.report.csv beside FILE.
    """
    progress = _ProgressBar("importing")
    try:
        reader = _read_header(file, columns, max_rows)
        summary = imports.import_file(db.session, file, pool=pool, owner=owner, department=department,
                                      skip_check=skip_check, progress=progress, columns=columns,
                                      max_rows=max_rows, reader=reader)
    except imports.ImportFileError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    except RuleViolation as violation:
        _fail(violation)
    finally:
        progress.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        click.echo(summary.line())
        click.echo(f"report: {summary.report_path}")


@opportunity_cli.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per data row (docs/contract.md)")
@_reader_options
def opportunity_check(file, as_json, columns, max_rows):
    """Check every row of FILE for duplicates, importing nothing."""
    try:
        _read_header(file, columns, max_rows)
        for result in imports.check_file(db.session, file, columns=columns, max_rows=max_rows):
            if as_json:
                click.echo(json.dumps(result, ensure_ascii=False))
            else:
                click.echo(_check_line(result))
            sys.stdout.flush()
    except imports.ImportFileError as error:
        raise click.ClickException(str(error.message)) from None
    finally:
        db.session.rollback()


@opportunity_cli.command("rekey")
def opportunity_rekey():
    """Rebuild every customer's duplicate-check keys (after the rules changed; migrations do it too)."""
    done = rekey(db.session.connection(), lambda n: click.echo(f"{n:,}", err=True) if n % 100_000 == 0 else None)
    db.session.commit()
    click.echo(f"keys rebuilt: {done}")


@opportunity_cli.command("find-duplicates")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per group (docs/contract.md)")
def find_duplicates(as_json):
    """Scan every opportunity for duplicates already inside; print the groups (kept for the /duplicates/ page)."""
    scan, found = duplicates.scan_now(db.session)
    db.session.commit()
    for item in found:
        if as_json:
            click.echo(json.dumps({"opportunities": item.ids, "reason": "; ".join(item.reasons),
                                   "verdict": item.verdict}, ensure_ascii=False))
        else:
            click.echo(f"{item.verdict}\t{' '.join(map(str, item.ids))}\t{'; '.join(item.reasons)}")
    if not as_json:
        click.echo(f"scanned {scan.records} opportunities, {scan.pairs} candidate pairs: "
                   f"{scan.groups_duplicate} duplicate groups, {scan.groups_review} to review", err=True)


def _check_line(result):
    line = f"{result['row']}\t{result['verdict']}"
    if result.get("errors"):
        line += "\t" + "; ".join(result["errors"].values())
    for match in result["matches"][:5]:
        where = f"row {match['row']}" if match["location"] == "file" else match["location"]
        owner = f" {match['owner']}" if match.get("owner") else ""
        line += f"\t{match['company']} ({where}{owner}, {match['verdict']})"
    return line


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path):
    """A consistent copy of the SQLite database at PATH, safe while the app writes."""
    try:
        counts = backup.backup(db.engine, path)
    except RuleViolation as violation:
        raise click.ClickException(str(violation.message)) from None
    click.echo(" ".join(f"{table}={n}" for table, n in counts.items()))
    click.echo(os.path.abspath(path))


rules_cli = AppGroup("rules", help="The resource rules (manual §九).")


@rules_cli.command("run")
@click.option("--dry-run", is_flag=True, help="only print what would happen; change nothing")
def rules_run(dry_run):
    """Warn owners and return neglected customers to the public pool; for cron, safe to run again."""
    if dry_run:
        summary = returns.run(db.session, clock.now(), dry_run=True)
        db.session.rollback()
    else:  # what the worker runs each night at CRM_RULES_AT; the old uploaded customer lists go too
        summary = nightly.run(db.session)
    state = "on" if summary.enabled else "off (nothing is returned; switch it on at /rules/)"
    click.echo(f"return rule: {state}")
    if summary.duplicate_scan:
        click.echo("duplicate scan: queued for the worker")
    if dry_run:
        click.echo(f"dry run: would warn {summary.warned}, would return {summary.returned} "
                   f"(due now: {summary.candidates}); nothing changed")
    else:
        click.echo(f"warned {summary.warned}, returned {summary.returned}, "
                   f"overdue leads notified {summary.overdue_leads}")


@click.command("worker")
@click.option("--threads", type=click.IntRange(1, 16), default=1, show_default=True,
              help="jobs run at once by this worker (on SQLite keep 1: the database has one writer)")
@with_appcontext
def worker_command(threads):
    """Run the background jobs (imports from the browser, scans) until Ctrl-C or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    click.echo(f"worker {jobs.WORKER}: {threads} thread(s), queue "
               f"{app.config['CRM_QUEUE_URL'] or 'sqlite (instance folder)'}", err=True)
    jobs.worker(app, threads=threads)


def register(app):
    app.cli.add_command(worker_command)
    app.cli.add_command(init_db)
    app.cli.add_command(department_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(opportunity_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(rules_cli)
