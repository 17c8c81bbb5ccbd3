"""A customer list is parsed in a child process, never in a web or worker process.

The sizes are checked first (services/imports/table_sizes.py), but a parser is native code reading a
file someone else wrote: whatever it does, it does in a child (`python -m services.imports.table_sandbox`)
that limits its own address space (`CRM_IMPORT_PARSE_MEMORY_MB`, 1.5 GB) and CPU time before it
opens the file. A child that dies (a failed allocation aborts it) or runs out of time is a file
refused with a message in the user's language; the process that asked goes on.

`SandboxedReader` has `tables.RowReader`'s interface: opening reads the header (the upload waits
for it, `CRM_IMPORT_PARSE_SECONDS` at most); each iteration streams the rows from a new child,
one JSON line each, so the rows are never held whole on either side.

The list is its bytes (an upload kept in the database) or a path (the command line). Bytes go to the
child through its standard input, after the request's line, so no copy of a customer list is left on
disk by a process killed while it read one; a path is opened by the child. The one file the child may
write (calamine names a password only when it reads a path, `TableSource.as_file`) goes in a folder
this process makes for that child and removes once the child is gone, however it ended.
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

from .tables import ImportFileError, Limits, RowReader, TableSource

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
_ROWS_CPU_FACTOR = 20  # reading the rows may take this many times the header's time, in CPU seconds


def _failed(name, limits):
    return _l("%(file)s could not be read within the server's limits (%(mb)d MB of memory, %(s)d seconds): it is "
              "too large or too complex, or damaged. Open it in Excel or WPS, keep only the customers, and save it "
              "as .xlsx or CSV.", file=name, mb=limits.memory_mb, s=limits.seconds)


class SandboxedReader:
    """A RowReader whose parsing happens in a child process; an ImportFileError as RowReader's."""

    def __init__(self, source, columns=None, limits=None, name=None):
        """`source`: the list's bytes (`name`: the file's name, its suffix saying its kind) or its path."""
        source = TableSource(source, name)
        self.name, self.data = source.name, source.data
        self.limits = limits or Limits()
        self._request = {"path": str(source.path) if source.path is not None else None, "name": source.name,
                         "columns": columns, "limits": self.limits.as_dict()}
        with _child(self._request, self.data, "header", self.limits) as child:
            try:
                output, _ = child.communicate(timeout=self.limits.seconds)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                raise ImportFileError(_failed(self.name, self.limits)) from None
            first = output.split(b"\n", 1)[0]
            header = _message(first, child, self.name, self.limits)
        for name in ("kind", "encoding", "header_line", "headers", "columns", "estimate", "width"):
            setattr(self, name, header[name])

    def line(self, number):
        return self.header_line + number

    def __iter__(self):
        with _child(self._request, self.data, "rows", self.limits) as child:
            for raw in child.stdout:
                item = _message(raw, child, self.name, self.limits)
                if "end" in item:
                    return
                yield item["row"], item["values"]
            child.wait()
            _message(b"", child, self.name, self.limits)  # no end: the child died


class _child:
    """The child process reading `request` in `mode` (and `data`, the list's bytes, unless the request names
    a path), its standard error kept in a temporary file for the log (a Rust panic prints there); killed
    and reaped however the reading ends, and the folder it may write in removed then."""

    def __init__(self, request, data, mode, limits):
        self.request, self.data, self.mode, self.limits = request, data, mode, limits

    def __enter__(self):
        self.errors = tempfile.TemporaryFile()
        self.folder = tempfile.TemporaryDirectory(prefix="crm-import-") if self.data is not None else None
        request = {**self.request, "folder": self.folder.name if self.folder else None}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.imports.table_sandbox", self.mode], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.errors, env={**os.environ, "MALLOC_ARENA_MAX": "2"})
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            if self.data is not None:
                self.process.stdin.write(self.data)
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # the child died before it read it all: its missing answer says the file is refused
        self.process.stdin = None  # written and closed: `communicate` must not flush it again
        self.process.errors = self.errors
        return self.process

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.errors.close()
        if self.folder is not None:
            self.folder.cleanup()


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
    request = json.loads(sys.stdin.buffer.readline())
    limits = Limits(**request["limits"])
    _limit(limits, mode)
    out = sys.stdout
    try:
        source = request["path"] if request["path"] is not None else sys.stdin.buffer.read()
        reader = RowReader(source, columns=request["columns"], limits=limits, name=request["name"],
                           folder=request["folder"])
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
