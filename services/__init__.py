"""The manual's rules, as plain functions of (session, acting user, input).

No request and no template in here: pages, the JSON API and the CLI call the same
functions, so a rule written once holds on every path.
"""

from importlib import import_module


def public_names(package, names):
    """A wing's module `__getattr__` and `__dir__` for the names the other wings use, {name: "module" or
    "module.attribute"} of the wing: each is looked up in its module when it is used, not copied into the
    wing at import time, so that the module's own name is the one called (a test may replace it) and no
    wing's import waits for another's (the wings use one another both ways)."""

    def __getattr__(name):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = names[name].partition(".")
        return getattr(import_module(f"{package}.{module}"), attribute or name)

    def __dir__():
        return sorted(set(names) | set(vars(import_module(package))))

    return __getattr__, __dir__
