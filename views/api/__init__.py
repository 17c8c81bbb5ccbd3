"""The JSON API of docs/contract.md (`/api/v1`), as a package: the blueprint, then its modules."""
from .opportunities import bp, register

from . import duplicates, imports  # noqa: E402, F401 (they add their calls to bp)

__all__ = ["bp", "register"]
