"""Each person's library (库) and the pools (manual §三 to §五, §九).

- `capacity`       a library's size and cap, whether it has room, each action's refusal when it has none
                   (`has_room`, `require_room`, `refusal_message`), and who receives customers in turn (`assignees`)
- `opportunities`  entering under the check and the cap (`decide`, `enter`), `claim`, `abandon`, `reassign`,
                   `release`, soft `delete` and `restore`
- `notes`          contact notes and the valid-contact rule: `add_note`, `is_valid_contact`
- `leads`          web leads: `receive`, `next_assignee`, `meet`, `notify_overdue`
- `rules`          the resource rules' settings row: `current`, `library_cap`
- `returns`        neglected customers back to the public pool: `preview`, `run`
- `locks`          the library lock every write of a library takes first: `take_lock`
- `events`         an opportunity's history: `record_event`, `history`
- `stats`          daily figures in CRM_TIMEZONE: `daily`, `series`, `due_clause`, `due_today_count`
- `pool_rules`     the public pool's rules per agent company (the head office's the default): `for_user`, `save`
- `claiming`       a claim measured against them: the daily limit, the cooling-off, the embargo (`check`)
- `customer_locks` 锁定: `lock`, `unlock`, within the lock limit; exempt from the return rule
- `masking`        the pool's contacts masked for salespeople: `masks_pool`, `masked_value`, `mask_number`

`PUBLIC` names what the other wings use, through this package only (`from .. import library`, then
`library.take_lock(session)`; tests/test_architecture.py); the rules' `current` is `current_rules` here.
"""
from .. import public_names

PUBLIC = {
    "assignees": "capacity", "cap": "capacity", "require_room": "capacity", "row_refusal": "capacity",
    "size": "capacity", "sizes": "capacity",
    "record_event": "events",
    "take_lock": "locks",
    "NOTE_CONTENT_LIMIT": "notes.CONTENT_LIMIT",
    "LOCATION_LABELS": "opportunities", "SIMILAR": "opportunities", "OpportunityInput": "opportunities",
    "blocks_entry": "opportunities", "decide": "opportunities", "entry_rule": "opportunities",
    "insert_opportunity": "opportunities", "unless_mobile_taken": "opportunities", "validate": "opportunities",
    "current_rules": "rules.current",
    "daily": "stats", "day_bounds": "stats", "due_today": "stats", "group_rows": "stats", "zone": "stats",
    "notify_overdue": "leads", "run_returns": "returns.run",
}

# looked up when used: see public_names
__getattr__, __dir__ = public_names(__name__, PUBLIC)
__all__ = sorted(PUBLIC)
