"""`flask db check`: the models and the migrations agree, on the suite's kind of database.

The check runs on a database of its own, new and empty, built by `flask db upgrade` as
`make run` builds one: the suite's database also holds the tables of other tools (huey's queue).
"""

from app import create_app
from conftest import _config


def test_the_models_and_the_migrations_agree(fresh_database, tmp_path):
    runner = create_app(_config(fresh_database, tmp_path)).test_cli_runner()
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output  # "New upgrade operations detected: ..." says what differs
