"""The audit log said in sentences (issue 21, point 4): "张三 录入了客户 上海瑞丽服装有限公司（…）".

One renderer per action that `services.audit.record` is called with (`SENTENCES`); an entry gives a
sentence and a list of changed fields (label, old, new) with the forms' own labels. An action or a
detail key the renderers do not know is said with a translated generic label, never its English name:
the log is read by admins who do not read the code (tests/test_audit_sentences.py checks every action
the code writes has its renderer).
"""
import json
from collections import namedtuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models import Department, InfoSource, User, db
from services.library.opportunities import FIELD_LABELS, LOCATION_LABELS
from services.people.access import ROLE_LABELS

from .dedup import VERDICT_LABELS

Said = namedtuple("Said", "sentence changes")  # changes: [(label, old text, new text)]

# The codes that details carry as values (reasons, verdicts, places), in the viewer's language.
VALUE_LABELS = {
    "wrong_password": _l("wrong login or password"), "waiting": _l("waiting after too many failures"),
    "too_many_failures": _l("too many failed logins"), "inactive": _l("not used for a long time"),
    "admin": _l("locked by an admin"), "deactivated": _l("account deactivated"), "locked": _l("account locked"),
    "temporary_password_expired": _l("temporary password expired"), "review_required": _l("needs confirmation"),
    "library_full": _l("library full"), "xlsx": "Excel", "csv": "CSV",
}
# The labels of a merge's changed columns: the merge page's (and so the entry form's) own.
COLUMN_LABELS = {**FIELD_LABELS, "source_id": FIELD_LABELS["source"], "key_customer": _l("Key customer"),
                 "maturity": _l("Maturity"), "location": _l("Location"), "owner_id": _l("Owner")}
ACCOUNT_LABELS = {"role": _l("Role"), "department": _l("Department"), "email": _l("Email"),
                  "managed_departments": _l("Managed departments"), "name": _l("Name"), "login": _l("Login")}
OTHER = _l("Other detail")  # a key no renderer knows: said as this, never as its English name


def code_text(value):
    """A code (a reason, a verdict, a place) in the viewer's words; other values as they are."""
    if isinstance(value, str):
        label = VALUE_LABELS.get(value) or VERDICT_LABELS.get(value) or LOCATION_LABELS.get(value) \
            or ROLE_LABELS.get(value)
        return str(label) if label is not None else value
    return value_text(value)


def value_text(value):
    if isinstance(value, (list, tuple)):
        return "、".join(value_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "、".join(value_text(v) for v in value.values())
    if value is True or value is False:
        return _("Yes") if value else _("No")
    return "—" if value is None or value == "" else str(value)


def _login(user_id):
    user = db.session.get(User, user_id) if user_id else None
    return user.login if user is not None else "—"


def _target_name(entry):
    """The target's name: a user's login, a department's name (from the page's prefetched rows)."""
    model = {"user": User, "department": Department}.get(entry.target_type)
    row = db.session.get(model, entry.target_id) if model is not None and entry.target_id else None
    if row is None:
        return "—"
    return row.login if model is User else row.name


def _actor(entry):
    return entry.actor_login or _("the system")


def _changes(details, labels, shown=code_text):
    """{key: {"old", "new"}} (or [old, new]) as (label, old, new); unknown keys under the generic label."""
    out = []
    for key, change in details.items():
        if isinstance(change, dict):
            old, new = change.get("old"), change.get("new")
        elif isinstance(change, (list, tuple)) and len(change) == 2:
            old, new = change
        else:  # a value set, not changed
            old, new = "", change
        out.append((str(labels.get(key, OTHER)), shown(old) if old != "" else "", shown(new)))
    return out


def _set_values(details, labels):
    """A created thing's values as (label, "", value): shown as 字段：值."""
    return [(str(labels.get(key, OTHER)), "", code_text(value)) for key, value in details.items()
            if value not in (None, "", [])]


# --- one renderer per action ------------------------------------------------------------------

SENTENCES = {}


def says(*actions):
    def register(renderer):
        for action in actions:
            SENTENCES[action] = renderer
        return renderer
    return register


def _simple(msgid):
    """An action said by one sentence with the actor, the target's name and the details' company."""
    def render(entry, details):
        return Said(str(msgid) % {"actor": _actor(entry), "user": _target_name(entry),
                                  "company": details.get("company", "—"),
                                  "name": details.get("name") or _target_name(entry)}, [])
    return render


SIMPLE = {
    "login": _l("%(actor)s logged in"), "logout": _l("%(actor)s logged out"),
    "password_reset": _l("%(actor)s reset the password of %(user)s"),
    "user_deactivated": _l("%(actor)s deactivated the account %(user)s"),
    "user_reactivated": _l("%(actor)s reactivated the account %(user)s"),
    "opportunity_restored": _l("%(actor)s restored the customer %(company)s"),
    "claim": _l("%(actor)s claimed %(company)s from the public pool"),
    "release": _l("%(actor)s released %(company)s to the public pool"),
    "department_created": _l("%(actor)s created the department %(name)s"),
}
for _action, _msgid in SIMPLE.items():
    SENTENCES[_action] = _simple(_msgid)


@says("login_failed")
def _login_failed(entry, details):
    return Said(_("Failed login as %(login)s (%(reason)s)", login=entry.actor_login or "—",
                  reason=code_text(details.get("reason"))), [])


@says("account_locked")
def _locked(entry, details):
    reason = details.get("reason")
    if reason == "admin":
        return Said(_("%(actor)s locked the account %(user)s", actor=_actor(entry), user=_target_name(entry)), [])
    if "minutes" in details:
        return Said(_("The login %(user)s must wait %(n)d minutes (%(reason)s)", user=entry.actor_login or "—",
                      n=details["minutes"], reason=code_text(reason)), [])
    return Said(_("The account %(user)s was locked (%(reason)s)", user=_target_name(entry),
                  reason=code_text(reason)), [])


@says("account_unlocked")
def _unlocked(entry, details):
    return Said(_("%(actor)s restored the account %(user)s (%(reason)s)", actor=_actor(entry),
                  user=_target_name(entry), reason=code_text(details.get("reason"))), [])


@says("password_changed")
def _password_changed(entry, details):
    if details.get("forced"):
        return Said(_("%(actor)s changed the password (required at the first login)", actor=_actor(entry)), [])
    return Said(_("%(actor)s changed the password", actor=_actor(entry)), [])


@says("user_created")
def _user_created(entry, details):
    return Said(_("%(actor)s created the user %(user)s", actor=_actor(entry), user=_target_name(entry)),
                _set_values(details, ACCOUNT_LABELS))


@says("user_changed")
def _user_changed(entry, details):
    return Said(_("%(actor)s changed the user %(user)s", actor=_actor(entry), user=_target_name(entry)),
                _changes(details, ACCOUNT_LABELS))


@says("user_deleted", "user_restored")
def _user_deleted(entry, details):
    user = details.get("login") or _target_name(entry)
    if entry.action == "user_deleted":
        return Said(_("%(actor)s deleted the user %(user)s", actor=_actor(entry), user=user), [])
    return Said(_("%(actor)s restored the user %(user)s", actor=_actor(entry), user=user), [])


@says("department_changed")
def _department_changed(entry, details):
    return Said(_("%(actor)s changed the department %(name)s", actor=_actor(entry), name=_target_name(entry)),
                _changes(details, ACCOUNT_LABELS))


def _hits(hits):
    """Collisions or resemblances: "#12 上海瑞丽服装厂（重复）、…"."""
    return "、".join(f"#{h.get('opportunity_id')} {h.get('company', '')}"
                    + (_("(%(verdict)s)", verdict=code_text(h["verdict"])) if h.get("verdict") else "")
                    for h in hits if isinstance(h, dict))


@says("opportunity_entered")
def _entered(entry, details):
    resembled = details.get("resembled") or []
    if resembled:
        return Said(_("%(actor)s entered the customer %(company)s (after confirming %(n)d similar customers: "
                      "%(hits)s)", actor=_actor(entry), company=details.get("company", "—"), n=len(resembled),
                      hits=_hits(resembled)), [])
    return Said(_("%(actor)s entered the customer %(company)s", actor=_actor(entry),
                  company=details.get("company", "—")), [])


@says("entry_refused")
def _refused(entry, details):
    collided = details.get("collided") or []
    sentence = _("%(actor)s could not enter %(company)s (%(why)s)", actor=_actor(entry),
                 company=details.get("company", "—"), why=code_text(details.get("code")))
    if collided:
        sentence += _(": it collided with %(hits)s", hits=_hits(collided))
    return Said(sentence, [])


@says("review_confirmed")
def _review_confirmed(entry, details):
    return Said(_("%(actor)s confirmed that %(company)s is a new customer", actor=_actor(entry),
                  company=details.get("company", "—")), [])


@says("opportunity_deleted")
def _deleted(entry, details):
    return Said(_("%(actor)s deleted the customer %(company)s (%(place)s, owner: %(owner)s)", actor=_actor(entry),
                  company=details.get("company", "—"), place=code_text(details.get("location")),
                  owner=details.get("owner") or "—"), [])


@says("abandon")
def _abandon(entry, details):
    return Said(_("%(actor)s abandoned %(company)s (reason: %(reason)s)", actor=_actor(entry),
                  company=details.get("company", "—"), reason=details.get("reason") or "—"), [])


@says("reassign")
def _reassign(entry, details):
    return Said(_("%(actor)s assigned %(company)s to %(to)s", actor=_actor(entry),
                  company=details.get("company", "—"), to=details.get("to") or "—"), [])


@says("return")
def _returned(entry, details):
    return Said(_("The resource rules returned %(n)d customers to the public pool (no valid contact for %(days)d "
                  "days)", n=details.get("returned", 0), days=details.get("return_after_days", 0)), [])


@says("lead")
def _lead(entry, details):
    company = details.get("company", "—")
    if details.get("assigned_to"):
        sentence = _("Web lead %(company)s received, assigned to %(to)s", company=company, to=details["assigned_to"])
    else:
        sentence = _("Web lead %(company)s received, for the agent-admin pool", company=company)
    if details.get("existing"):
        sentence += _(" (an existing customer)")
    return Said(sentence, [])


IMPORT_COUNTS = {"read": _l("Read"), "imported": _l("Imported"), "duplicates": _l("Duplicates"),
                 "invalid": _l("Invalid"), "review": _l("Similar, not imported"), "library_full": _l("Library full")}


@says("import")
def _import(entry, details):
    place = code_text(details.get("location"))
    if details.get("owner"):
        place = f"{place} · {details['owner']}"
    sentence = _("%(actor)s imported %(file)s into %(place)s", actor=_actor(entry), file=details.get("file", "—"),
                 place=place)
    if details.get("skip_check"):
        sentence += _(" (without the duplicate check)")
    return Said(sentence, [(str(label), "", value_text(details.get(key))) for key, label in IMPORT_COUNTS.items()
                           if key in details])


@says("dedup_check")
def _checked(entry, details):
    asked = "，".join(f"{FIELD_LABELS[k]}：{v}" for k, v in details.items() if k in FIELD_LABELS)
    return Said(_("%(actor)s checked for duplicates (%(asked)s): %(n)d found", actor=_actor(entry),
                  asked=asked or "—", n=details.get("hits", 0)), [])


@says("check_limit_passed")
def _limit(entry, details):
    return Said(_("%(actor)s reached the daily limit of %(n)d duplicate checks", actor=_actor(entry),
                  n=details.get("limit", 0)), [])


@says("export")
def _export(entry, details):
    return Said(_("%(actor)s exported %(list)s (%(format)s, %(n)d rows)", actor=_actor(entry),
                  list=details.get("list", "—"), format=code_text(details.get("format")), n=details.get("rows", 0)),
                [])


@says("rules_changed")
def _rules(entry, details):
    from .audit import rules_labels  # the settings page's labels, in views/audit.py beside the form it reads
    return Said(_("%(actor)s changed the resource rules", actor=_actor(entry)), _changes(details, rules_labels()))


@says("duplicate_scan")
def _scan(entry, details):
    return Said(_("%(actor)s searched for duplicate customers", actor=_actor(entry)), [])


@says("duplicates_dismissed")
def _dismissed(entry, details):
    return Said(_("%(actor)s marked %(companies)s as not duplicates", actor=_actor(entry),
                  companies=value_text(details.get("companies"))), [])


def _column_value(name, value):
    """A merge's column value as the record shows it: a login, a source's name, a place, yes or no."""
    if name == "owner_id":
        return _login(value) if value else "—"
    if name == "source_id":
        source = db.session.get(InfoSource, value) if value else None
        return source.name if source is not None else "—"
    return code_text(value)


@says("merge")
def _merge(entry, details):
    merged = "、".join(m.get("company", "—") for m in details.get("merged", []) if isinstance(m, dict))
    changes = [(str(COLUMN_LABELS[name]), _column_value(name, old), _column_value(name, new))
               for name, (old, new) in (details.get("changed") or {}).items()
               if name in COLUMN_LABELS]  # the match keys and dates follow from these
    return Said(_("%(actor)s merged %(merged)s into %(kept)s", actor=_actor(entry), merged=merged or "—",
                  kept=details.get("company", "—")), changes)


@says("merge_undone")
def _unmerged(entry, details):
    return Said(_("%(actor)s undid merge #%(merge)s: %(companies)s are separate customers again",
                  actor=_actor(entry), merge=details.get("merge", "—"),
                  companies=value_text(details.get("companies"))), [])


def say(entry):
    """The entry as a Said, in the viewer's language; any action or detail said without English keys."""
    try:
        details = json.loads(entry.details) if entry.details else {}
    except ValueError:
        details = {}
    if not isinstance(details, dict):
        details = {}
    renderer = SENTENCES.get(entry.action)
    if renderer is not None:
        try:
            return renderer(entry, details)
        except (TypeError, ValueError, KeyError, AttributeError):
            pass  # details of an older or unexpected shape: said generically below, never a 500
    return Said(_("%(actor)s: an action not described yet", actor=_actor(entry)),
                [(str(OTHER), "", value_text(v)) for v in details.values()])


def text(entry):
    """The sentence and its changes in one line (the export): "…；字段：旧 → 新"."""
    said = say(entry)
    parts = [said.sentence] + [f"{label}：{old} → {new}" if old else f"{label}：{new}" for label, old, new
                               in said.changes]
    return "；".join(parts)
