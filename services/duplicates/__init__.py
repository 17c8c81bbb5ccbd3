"""Duplicates already inside (重复客户): the scan that finds them, and merges with their undo.

Modules:
- `scan`
- `merges`
"""
