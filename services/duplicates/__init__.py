"""Duplicates already inside (重复客户).

- `scan`    the scan in the background (`start_scan`, `run_scan`, `start_nightly`), its groups (`groups`,
            `group_of`) and dismissals (`dismiss`), per scope (`scope_of`)
- `merges`  one record kept field by field from several (`merge`), and undone exactly (`undo`, `undoable`)
"""
