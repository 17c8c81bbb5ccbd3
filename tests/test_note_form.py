"""Manual §四, the note form: a refused note comes back with what the salesperson typed."""
import re

from test_s4_notes import _note, _notes, _own

from conftest import zh

TYPED = "王经理说<下周>再打，要报价单 & 样品"


def _form(page):
    return page[page.index('id="note-form"'):page.index("</form>", page.index('id="note-form"'))]


def test_a_refused_note_keeps_what_was_typed(client, auth, org, app):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    page = _note(client, opportunity_id, content=TYPED, method="visit", maturity="4", busy="1",
                 next_contact_at="2020-01-01T09:00")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert zh(app, "The next contact time is in the past.") in body
    form = _form(body)
    assert ">王经理说&lt;下周&gt;再打，要报价单 &amp; 样品</textarea>" in form  # typed text, escaped
    assert re.search(r'<option value="visit"\s+selected', form)
    assert re.search(r'<option value="4"\s+selected', form)
    assert re.search(r'name="busy" value="1"\s+checked', form)
    assert 'value="2020-01-01T09:00"' in form
    assert _notes(app, opportunity_id) == []


def test_an_unreadable_time_keeps_the_text_too(client, auth, org, app):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    body = _note(client, opportunity_id, content=TYPED, next_contact_at="not a time").get_data(as_text=True)
    assert zh(app, "The next contact time is not a date and time we can read.") in body
    assert "要报价单 &amp; 样品</textarea>" in _form(body)


def test_a_saved_note_leaves_an_empty_form(client, auth, org, app):
    opportunity_id = _own(app, "sales_a")
    auth.login("sales_a")
    body = _note(client, opportunity_id, content=TYPED).get_data(as_text=True)
    assert 'required></textarea>' in _form(body)  # written once: the form starts afresh
    assert len(_notes(app, opportunity_id)) == 1
