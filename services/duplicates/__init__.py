"""Duplicates already inside (重复客户).

- `scan`    the scan in the background (`start_scan`, `run_scan`, `start_nightly`), its groups (`groups`,
            `group_of`) and dismissals (`dismiss`), per scope (`scope_of`)
- `merges`  one record kept field by field from several (`merge`), and undone exactly (`undo`, `undoable`)
"""
from .. import public_names

# what the other wings and the top-level helpers use, through this package only (tests/test_architecture.py)
PUBLIC = {"start_nightly": "scan"}

# looked up when used: see public_names
__getattr__, __dir__ = public_names(__name__, PUBLIC)
__all__ = sorted(PUBLIC)
