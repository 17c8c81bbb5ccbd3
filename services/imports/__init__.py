"""Customer lists in: read safely, checked like entries, imported whole (docs/imports.md).

The wing's modules: `tables` (reading a list, its header mapped: `map_columns`), `table_sizes` (a list sized
before it is parsed: `measure`), `table_sandbox` (the parse in a capped child process, of a list's bytes or
its path), the one pipeline (`ImportRun`: rows from a reader, a `Target`, options) that the command line
(`check_file`, `import_file`) and the browser's jobs build and drive, `staging` (a browser import's rows in short hidden batches),
`uploads` (browser imports as background jobs: `new_import`, `choose`, `start_run`), `previews` (a preview row
bounded: `bound`) and `retention` (uploaded files purged: `purge`).

Importing customers from a spreadsheet (`flask opportunities import / check`, docs/contract.md).

A file is read by `tables.RowReader`: a .csv (UTF-8 with or without BOM, or GB18030 as
Excel saves it in China), or the first sheet of an .xlsx, .xls or .ods workbook; the header
row (English or Chinese names, `HEADERS`) may sit below a title row or two; unknown columns
are ignored, a company column is required. Blank rows are skipped; a row's number is its
position after the header (row 1 is the line right below the header).

Every row goes through the same rules as a salesperson's entry: `opportunities.validate`,
then the one duplicate-check engine (`dedup.check`) against the database, and the same
normalisation and comparison (`normalize.index_terms` + `normalize.compare`) against the
earlier rows of the file itself, held in an in-memory inverted index (`FileIndex`).

- `check_file` imports nothing: one result per row, in order (the API's duplicate-check
  shape plus `"row"`; a row that fails validation has verdict `invalid` and `errors`).
- `import_file` writes, in one transaction under the `LibraryLock`, every row that is
  `new` or `review`; `duplicate` and invalid rows (and rows beyond an owner's library
  cap) are not written. A report beside the file (FILE.report.csv, UTF-8 with BOM so
  that Excel opens it; `write_report_xlsx` writes the same table as .xlsx) lists every row
  not imported and every `review` row by its line in the spreadsheet, with the reason and
  what it matched, in the user's language (Chinese on the command line). Any exception (or
  Ctrl-C) rolls the whole file back.
- `skip_check=True` is the migration fast path: the file is trusted (no duplicate
  check, in the database or in the file, but for one exact key: a mobile held already,
  which the unique index uq_opportunity_phone_mobile would refuse, makes the row a
  `duplicate` of the report), rows are still validated, normalised and
  indexed, and written in bulk (batches of `BATCH` rows, ids allocated up front), with
  the normalising spread over worker processes for large files. Loading a large file
  into an empty table (a migration) drops the tables' secondary indexes (on PostgreSQL
  also the index terms' primary key and the foreign keys) and builds them again at the
  end, in the same transaction, and on PostgreSQL runs VACUUM (ANALYZE) on the tables
  after the commit.

Where imported rows live: `owner` (a login) puts them in that user's library (rows
beyond the library cap are refused with reason "library full"); otherwise `pool`:
`public` (public_pool), `telesales`, `industry`, or `agent_admin`, which needs
`department`: the agent company whose agent-admin pool receives them (a PATH as in
`departments create`; a department below a company means its company).

The package, by job: reading.py (a row as an entry's input, its problems and keys), checking.py
(the duplicate check of every row, `check_file`), importing.py (`import_file`, where the rows go,
the checked path), bulk.py (the fast path), mobiles.py (the unique mobiles), report.py (the report),
staging.py (a browser import in short batches, its rows hidden until its end, so that entries go on).
The names below are what views, commands and services/imports/uploads.py use.
"""
from .bulk import fast_keys, term_hashes
from .checking import FileIndex, FileRow, checked_rows, file_match_json
from .importing import POOLS, ImportRun, ImportSummary, Target, check_file, import_file, resolve_target
from .reading import (
    FIELDS,
    HEADERS,
    ImportFileError,
    RowReader,
    detect_encoding,
    limits,
    open_reader,
    row_input,
    row_keys,
    row_problems,
    unmapped,
)
from .report import (
    REPORT_COLUMNS,
    REPORT_HEADERS,
    REPORT_VERDICTS,
    report_lines,
    report_path_for,
    report_xlsx,
    write_report,
    write_report_xlsx,
)
from .retention import purge as purge_uploads
from .tables import TableSource

__all__ = [
    "FIELDS", "HEADERS", "POOLS", "REPORT_COLUMNS", "REPORT_HEADERS", "REPORT_VERDICTS", "FileIndex", "FileRow",
    "ImportFileError", "ImportRun", "ImportSummary", "RowReader", "TableSource", "Target", "check_file",
    "checked_rows", "detect_encoding", "fast_keys", "file_match_json", "import_file", "limits", "open_reader",
    "purge_uploads",
    "report_lines", "report_path_for", "report_xlsx", "resolve_target", "row_input", "row_keys", "row_problems",
    "term_hashes", "unmapped", "write_report", "write_report_xlsx",
]
