"""`flask db check`: the models and the migrations agree, on the suite's kind of database.

The check runs on a database of its own, new and empty, built by `flask db upgrade` as
`make run` builds one: the suite's database also holds the tables of other tools (huey's queue).
"""
import pytest
from sqlalchemy import make_url

from app import create_app
from conftest import _config, _create_database, _drop_database


@pytest.fixture
def fresh_database(database_url, tmp_path, worker_id):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    fresh = url.set(database=f"{url.database}_check")
    _create_database(fresh)
    yield fresh.render_as_string(hide_password=False)
    _drop_database(fresh)


def test_the_models_and_the_migrations_agree(fresh_database, tmp_path):
    runner = create_app(_config(fresh_database, tmp_path)).test_cli_runner()
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output  # "New upgrade operations detected: ..." says what differs
