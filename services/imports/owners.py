"""Each row in the library of the person its 业务负责人 (负责人, 所属员工) column names.

The column names a person by login, else by name (`User.display_name`), among the people the importer
administers who own a library (active salespeople, supervisors and managers: `people.LIBRARY_ROLES`, not
locked, not deleted). A name two of them share (two 张伟) is not guessed; a name nobody has, a person whose
library is full (the cap of services/library/capacity.py, counted under the library lock) and those rows
are placed where the import puts its customers (its target), and each is reported with the reason."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from models import User

from .. import library, people

# the report's verdict of a row placed by the import's target instead of its owner's library (it was imported)
PLACED_BY_TARGET = "owner_not_placed"


@dataclass
class Person:
    id: int
    login: str
    department_id: int
    cap: int
    size: int = 0


def _folded(name):
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


class RowOwners:
    """The people a file's owner column may name, with their libraries' room as the rows go in."""

    def __init__(self, people, names):
        self.by_login = {_folded(p.login): p for p in people}
        self.by_name: dict[str, list[Person]] = {}
        for person in people:
            if names.get(person.id):
                self.by_name.setdefault(_folded(names[person.id]), []).append(person)

    @classmethod
    def of(cls, session, actor):
        """The library owners `actor` administers (everyone's, on the command line: no actor)."""
        users = session.scalars(select(User).where(
            User.role.in_(people.LIBRARY_ROLES), User.active.is_(True), User.locked_at.is_(None),
            User.deleted_at.is_(None)).order_by(User.id)).all()
        users = [u for u in users if people.may_administer_user(actor, u)]
        owners = [Person(u.id, u.login, u.department_id, library.cap(session, u)) for u in users]
        return cls(owners, {u.id: u.display_name for u in users})

    def recount(self, session):
        """Every library's size, counted now (under the lock, before the rows go in)."""
        persons = list(self.by_login.values())
        sizes = library.sizes(session, [p.id for p in persons])
        for person in persons:
            person.size = sizes.get(person.id, 0)

    def caps(self):
        return {p.id: p.cap for p in self.by_login.values()}

    def find(self, written):
        """(the person `written` names, None) or (None, why not, in words)."""
        person = self.by_login.get(_folded(written))
        if person is not None:
            return person, None
        named = self.by_name.get(_folded(written), [])
        if len(named) == 1:
            return named[0], None
        if named:
            return None, _l("%(name)s is the name of several people (%(logins)s): not guessed, placed where the "
                            "import puts its customers.", name=written,
                            logins=str(_l("; ")).join(sorted(p.login for p in named)))
        return None, _l("%(name)s is no one whose library you administer: placed where the import puts its "
                        "customers.", name=written)

    def place(self, written):
        """(owner reference for `insert_opportunity`, None) when the named person's library has room (counted
        in), else (None, why not)."""
        person, why = self.find(written)
        if person is None:
            return None, why
        if person.size >= person.cap:
            return None, _l("The library of %(user)s is full (%(n)d customers): placed where the import puts its "
                            "customers.", user=person.login, n=person.cap)
        person.size += 1
        return SimpleNamespace(id=person.id, department_id=person.department_id), None
