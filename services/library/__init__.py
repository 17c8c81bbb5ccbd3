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
"""
