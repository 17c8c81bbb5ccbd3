"""The message catalogs compiled at start (issue 14): every way of serving the app speaks Chinese.

Only the `.po` sources are committed; a `.mo` that is missing or older than its `.po` is
compiled here with Babel's own API, so `gunicorn "app:create_app()"`, `flask --app app ...`
and the worker need no `make` first. Several workers may start at once: each writes its
own temporary file and renames it into place, so a reader never sees half a catalog.
"""
import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)


def stale_catalogs(root):
    """The `.po` files under `root` whose `.mo` is missing or older."""
    stale = []
    for po in sorted(Path(root).glob("**/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def compile_catalog(po):
    """Write `po`'s `.mo` beside it, atomically; fuzzy entries are left out, as `pybabel compile` does."""
    with open(po, "rb") as source:
        catalog = read_po(source, locale=po.parent.parent.name)
    fd, temporary = tempfile.mkstemp(dir=po.parent, prefix=".", suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as target:
            write_mo(target, catalog)
        os.replace(temporary, po.with_suffix(".mo"))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ensure_compiled(root):
    """Compile the stale catalogs under `root`; a read-only tree is logged, not fatal (English then)."""
    for po in stale_catalogs(root):
        try:
            compile_catalog(po)
        except OSError as error:
            log.warning("could not compile %s: %s", po, error)
