"""Rebuild the duplicate check's keys of every opportunity from its columns.

The normalised name and place (`name_folded`, `name_core`, `norm_*`) and the index terms
(`opportunity_term`) are derived data: when the rules that derive them change (towns recognised,
generic words dropped from the compared name), a migration calls `rekey` so that records entered
before are found as the new ones are. Plain SQL in batches, on the connection it is given
(a migration's or the app's), so it runs inside the caller's transaction.
"""
import sys

from sqlalchemy import bindparam, inspect, text

from . import dedup

BATCH = 2000

_READ = ("SELECT id, company, province, city, phone, fax, mobile, {wechat} AS wechat, {qq} AS qq FROM opportunity"
         " WHERE id > :after ORDER BY id LIMIT :limit")
_UPDATE = text("UPDATE opportunity SET name_folded = :folded, name_core = :core, norm_province = :province,"
               " norm_city = :city, norm_district = :district WHERE id = :id")
_DROP = text("DELETE FROM opportunity_term WHERE opportunity_id IN :ids").bindparams(
    bindparam("ids", expanding=True))
_INSERT = text("INSERT INTO opportunity_term (term, opportunity_id) VALUES (:term, :opportunity_id)")


def rekey(connection, progress=None) -> int:
    """Rebuild the keys of every opportunity (live, deleted and merged alike: a restore or an undo
    brings them back); returns how many. `progress(done)` is called after each batch."""
    done, after = 0, 0
    # a migration before the one that adds `wechat` and `qq` runs this code too: no WeChat IDs nor QQ then
    has_wechat = any(c["name"] == "wechat" for c in inspect(connection).get_columns("opportunity"))
    read = text(_READ.format(wechat="wechat" if has_wechat else "NULL", qq="qq" if has_wechat else "NULL"))
    while True:
        rows = connection.execute(read, {"after": after, "limit": BATCH}).all()
        if not rows:
            return done
        updates, terms = [], []
        for row in rows:
            keys = dedup.record_keys_of(row)
            key = keys["company_key"]
            updates.append({"id": row.id, "folded": key.folded[:200], "core": key.core[:200],
                            "province": key.province, "city": key.city, "district": key.district})
            terms.extend(dedup.index_rows(row.id, keys))
        connection.execute(_UPDATE, updates)
        connection.execute(_DROP, {"ids": [row.id for row in rows]})
        if terms:
            connection.execute(_INSERT, terms)
        done += len(rows)
        after = rows[-1].id
        if progress:
            progress(done)


def print_progress(done):
    """A migration's progress on standard error, every 100,000 records."""
    if done % 100_000 == 0:
        print(f"  keys rebuilt: {done:,}", file=sys.stderr)
