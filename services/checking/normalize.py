"""The duplicate check's public face: everything callers use, from the modules of checking/."""
from .regions import *  # noqa: F403
from .regions import NEW, __all__, _area_code_table, _short_name, _trade_words, namesake, sound, stem  # noqa: F401
