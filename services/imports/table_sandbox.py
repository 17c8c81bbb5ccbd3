"""A customer list is parsed in a child process, never in a web or worker process.

The sizes are checked first (services/imports/table_sizes.py), but a parser is native code reading a
file someone else wrote: whatever it does, it does in a child (`python -m services.imports.table_sandbox`)
that limits its own address space (`CRM_IMPORT_PARSE_MEMORY_MB`, 1.5 GB) and CPU time before it
opens the file. A child that dies (a failed allocation aborts it) or runs out of time is a file
refused with a message in the user's language; the process that asked goes on.

`SandboxedReader` has `tables.RowReader`'s interface: opening reads the header (the upload waits
for it, `CRM_IMPORT_PARSE_SECONDS` at most); each iteration streams the rows from a new child,
one JSON line each, so the rows are never held whole on either side.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from flask_babel import lazy_gettext as _l

from .tables import ImportFileError, Limits, RowReader

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
_ROWS_CPU_FACTOR = 20  # reading the rows may take this many times the header's time, in CPU seconds


def _failed(name, limits):
    return _l("%(file)s could not be read within the server's limits (%(mb)d MB of memory, %(s)d seconds): it is "
              "too large or too complex, or damaged. Open it in Excel or WPS, keep only the customers, and save it "
              "as .xlsx or CSV.", file=name, mb=limits.memory_mb, s=limits.seconds)


class SandboxedReader:
    """A RowReader whose parsing happens in a child process; an ImportFileError as RowReader's."""

    def __init__(self, path, columns=None, limits=None):
        self.path = Path(path)
        self.limits = limits or Limits()
        self._request = {"path": str(self.path), "columns": columns, "limits": self.limits.as_dict()}
        with _child(self._request, "header", self.limits) as child:
            try:
                output, _ = child.communicate(timeout=self.limits.seconds)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                raise ImportFileError(_failed(self.path.name, self.limits)) from None
            first = output.split(b"\n", 1)[0]
            header = _message(first, child, self.path.name, self.limits)
        for name in ("kind", "encoding", "header_line", "headers", "columns", "estimate", "width"):
            setattr(self, name, header[name])

    def line(self, number):
        return self.header_line + number

    def __iter__(self):
        with _child(self._request, "rows", self.limits) as child:
            for raw in child.stdout:
                item = _message(raw, child, self.path.name, self.limits)
                if "end" in item:
                    return
                yield item["row"], item["values"]
            child.wait()
            _message(b"", child, self.path.name, self.limits)  # no end: the child died


class _child:
    """The child process reading `request` in `mode`, its standard error kept in a temporary file
    for the log (a Rust panic prints there); killed and reaped however the reading ends."""

    def __init__(self, request, mode, limits):
        self.request, self.mode, self.limits = request, mode, limits

    def __enter__(self):
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.imports.table_sandbox", self.mode], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.errors, env={**os.environ, "MALLOC_ARENA_MAX": "2"})
        self.process.stdin.write(json.dumps(self.request).encode())
        self.process.stdin.close()
        self.process.stdin = None  # written and closed: `communicate` must not flush it again
        self.process.errors = self.errors
        return self.process

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.errors.close()


def _message(raw, child, name, limits):
    """One line of the child's: a header, a row, the end; its error raised as an ImportFileError."""
    try:
        item = json.loads(raw) if raw.strip() else None
    except ValueError:
        item = None
    if item is None:
        child.wait()
        child.errors.seek(0)
        log.warning("reading %s failed (exit %s): %s", name, child.returncode,
                    child.errors.read()[-2000:].decode("utf-8", "replace"))
        raise ImportFileError(_failed(name, limits))
    if "error" in item:
        raise ImportFileError(_l(item["error"], **item["params"]))
    return item


# --- the child ---------------------------------------------------------------------------------

def _limit(limits, mode):
    memory = limits.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = limits.seconds * (_ROWS_CPU_FACTOR if mode == "rows" else 1)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _main(mode):
    request = json.loads(sys.stdin.read())
    limits = Limits(**request["limits"])
    _limit(limits, mode)
    out = sys.stdout
    try:
        reader = RowReader(request["path"], columns=request["columns"], limits=limits)
        if mode == "header":
            out.write(json.dumps({"kind": reader.kind, "encoding": reader.encoding, "header_line": reader.header_line,
                                  "headers": reader.headers, "columns": reader.columns, "estimate": reader.estimate,
                                  "width": reader.width}, ensure_ascii=False) + "\n")
            return
        for number, values in reader:
            out.write(json.dumps({"row": number, "values": values}, ensure_ascii=False) + "\n")
        out.write('{"end": true}\n')
    except ImportFileError as error:
        out.write(json.dumps(error.as_json(), ensure_ascii=False) + "\n")
    except MemoryError:
        out.flush()
        os._exit(3)  # the parent says the file is beyond the limits


if __name__ == "__main__":
    _main(sys.argv[1])
