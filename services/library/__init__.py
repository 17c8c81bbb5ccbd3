"""Each person's library and the pools (manual §三–§五, §九): entering, claiming, abandoning and reassigning under the lock and the cap, contact notes, web leads, the resource rules and their nightly return, history events and the daily statistics.

Modules:
- `opportunities`
- `notes`
- `leads`
- `returns`
- `rules`
- `locks`
- `events`
- `stats`
- `capacity`
"""
