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
"""
