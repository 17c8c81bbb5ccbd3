"""A newcomer's first `make test` on a machine without Debian's Chromium: the browser tests are
skipped with one line that says how to get them; in CI (CI=true) a missing browser fails the run.

The suite is run again in a subprocess with CRM_CHROMIUM pointing at a file that does not exist."""
import os
import subprocess
import sys

import pytest
from served import ROOT

MISSING = "/nonexistent/chromium"
pytestmark = pytest.mark.slow  # pytest itself, twice, in a subprocess


def _pytest(ci):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CRM_CHROMIUM"] = MISSING
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_browser_pages.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_without_a_browser_the_browser_tests_are_skipped_with_one_line_saying_how_to_get_it():
    run = _pytest(ci=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if MISSING in line]
    assert len(lines) == 1, run.stdout
    assert "browser tests skipped" in lines[0] and "apt-get install chromium" in lines[0]
    assert " skipped" in run.stdout.splitlines()[-1] and "passed" not in run.stdout.splitlines()[-1]


def test_in_ci_a_missing_browser_fails_the_run():
    run = _pytest(ci=True)
    assert run.returncode != 0
    assert f"CI=true and no Chromium at {MISSING}" in run.stdout + run.stderr
