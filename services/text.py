"""Text from outside: the characters the CRM refuses, and how it tidies what it keeps.

No company name, phone, login or note holds a control character; PostgreSQL refuses NUL in
text (SQLite takes it, so the same input must not behave differently on the two databases);
the XML inside an .xlsx refuses the other C0 controls; and a lone surrogate ("\\ud800", which
JSON can spell) cannot be written as UTF-8 at all. The rules, the same on every path:

- refused (`refused_character`): C0 controls but tab, line feed and carriage return; DEL; lone
  surrogates. A person's or a client's input holding one is answered 422, naming the field
  (views/guard.py for query strings and forms, views/api/inputs.py's JSON reader for bodies);
- one-line text (a company name, a phone, an address, a search): tabs and line breaks become
  one space (`one_line`), as pasting a cell from a spreadsheet would have meant;
- multi-line text (a contact note's content): tabs and line feeds kept, "\\r\\n" read as "\\n"
  (`multi_line`);
- an imported file's cells (`clean_cell`): every control and format character is dropped, not
  refused: a spreadsheet's stray characters are not what its author typed, and one of them
  should not make a row invalid.
"""
import re
import unicodedata

from flask_babel import lazy_gettext as _l

REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_BREAKS = re.compile(r"[\t\r\n]+")


def refused_character(value):
    """True when `value` (a str) holds a character that no text of the CRM may hold."""
    return isinstance(value, str) and REFUSED.search(value) is not None


def refused_member(value, path=""):
    """The first member of a JSON document (a name like `company` or `items[2].name`) whose text,
    or whose own name, holds a refused character; None when there is none."""
    if isinstance(value, str):
        return path or "body" if refused_character(value) else None
    if isinstance(value, dict):
        for key, member in value.items():
            name = f"{path}.{key}" if path else str(key)
            if refused_character(key):
                return name
            found = refused_member(member, name)
            if found:
                return found
    if isinstance(value, list):
        for index, member in enumerate(value):
            found = refused_member(member, f"{path}[{index}]")
            if found:
                return found
    return None


def problem(label):
    """The message for a field (by its label or its name) that holds a refused character."""
    return _l("%(field)s contains a control character (such as NUL) that text may not hold: remove it and "
              "try again.", field=label)


def one_line(value):
    """One line: tabs and line breaks inside as one space, spaces at the ends gone."""
    return _BREAKS.sub(" ", value).strip() if value else ""


def multi_line(value):
    """Several lines: "\\r\\n" and "\\r" read as "\\n", tabs kept, spaces at the ends gone."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if value else ""


def clean_cell(value):
    """An imported cell: control and format characters dropped (but tab and line feed), ends stripped."""
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = "".join(c for c in text if c in "\t\n" or unicodedata.category(c)[0] != "C")
    return text.strip()
