"""The house as docs/architecture.md draws it, read from the code with `ast`.

- The floors: services/ holds the rules and imports neither the views nor the app (nor the commands)
  above it.
- The wings: a module of services/ (a top-level helper, or one of a wing: checking, library, imports,
  duplicates, people, notices) reaches another wing only through that wing's `__init__` (`from .. import
  library`, then `library.take_lock`), never one of its modules (`from ..library import locks`, `from ..library.locks import take_lock`); the
  modules of one wing import each other directly.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "services"
WINGS = sorted(path.parent.name for path in SERVICES.glob("*/__init__.py"))
ABOVE = ("views", "app", "commands")  # the floors above services/


def imported(path, source=None):
    """(line, dotted name) of everything a module of services/ imports: a module, or a module's name
    (`from ..library import take_lock` is services.library.take_lock), relative imports made absolute."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    parts = path.relative_to(SERVICES).with_suffix("").parts
    package = ["services", *parts[:-1]]  # an __init__'s package is its folder, as any module's
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                yield node.lineno, [*module, alias.name]


def _is_module(parts):
    """Whether services.WING.NAME is a module of the wing (a file or a package), not a name of its __init__."""
    return (SERVICES.joinpath(*parts[1:]).with_suffix(".py")).is_file() or \
        (SERVICES.joinpath(*parts[1:]) / "__init__.py").is_file()


def violations(path, source=None):
    """What the module at `path` imports against the floors and the wings, one line each."""
    parts = path.relative_to(SERVICES).parts
    wing = parts[0] if len(parts) > 1 else None
    found = []
    for line, name in imported(path, source):
        where = f"{path.relative_to(ROOT)}:{line} imports {'.'.join(name)}"
        if name[0] in ABOVE:
            found.append(f"{where}: services/ imports no floor above it")
        elif name[0] == "services" and len(name) >= 3 and name[1] in WINGS and name[1] != wing and (
                len(name) > 3 or _is_module(name)):
            found.append(f"{where}: another wing is reached through its __init__ (from .. import {name[1]})")
    return found


def test_services_imports_no_floor_above_it_and_reaches_other_wings_only_through_their_init():
    modules = sorted(SERVICES.rglob("*.py"))
    assert len(modules) > 40 and set(WINGS) == {"checking", "library", "imports", "duplicates", "people", "notices"}
    found = [line for path in modules for line in violations(path)]
    assert found == [], "\n".join(found)


def test_the_check_sees_what_it_forbids():
    """The walk above would let nothing through: each kind of import it forbids, written in a module of a
    wing, is found; what is allowed is not."""
    path = SERVICES / "imports" / "example.py"
    forbidden = {
        "from ..library import locks": "services.library.locks",
        "from ..library.locks import take_lock": "services.library.locks.take_lock",
        "from services.checking import dedup": "services.checking.dedup",
        "import services.people.access": "services.people.access",
        "from views import base": "views.base",
        "import app": "app",
        "from commands import opportunity_cli": "commands.opportunity_cli",
    }
    for source, name in forbidden.items():
        [line] = violations(path, source)
        assert f"imports {name}:" in line, source
    allowed = ["from .. import library, people", "from ..library import take_lock", "from services import checking",
               "from . import staging", "from .tables import RowReader", "from .. import audit, clock",
               "from ..errors import RuleViolation", "from models import Opportunity"]
    for source in allowed:
        assert violations(path, source) == [], source
    # a wing's own modules, and its own package, are its to import
    assert violations(SERVICES / "library" / "example.py", "from ..library import locks") == []
