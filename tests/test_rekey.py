"""Records entered under the rules before issue 12 are found once their keys are rebuilt
(`flask opportunities rekey`, which migration 0011 runs too)."""
from sqlalchemy import text

from models import Opportunity, db
from services.checking import dedup, normalize
from services.library import opportunities
from services.library.opportunities import OpportunityInput


def _enter_with_old_keys(app, company, old_core):
    """A customer as the rules before stored it: the town inside the trade name, no generic-free term."""
    with app.app_context():
        row = opportunities.insert_opportunity(db.session, None, OpportunityInput(company=company), "public_pool", None)
        db.session.flush()
        db.session.execute(text("UPDATE opportunity SET name_core = :core, norm_district = NULL WHERE id = :id"),
                           {"core": old_core, "id": row.id})
        db.session.execute(text("DELETE FROM opportunity_term WHERE opportunity_id = :id"), {"id": row.id})
        old = dedup.query_keys(old_core)  # the terms of the old rules: the old core's, no generic-free one
        stem = "n:" + old["company_key"].stem
        rows = [{"term": dedup.term_hash(t), "opportunity_id": row.id} for t in normalize.index_terms(old)
                if t != stem or stem == "n:" + old_core]
        db.session.execute(text("INSERT INTO opportunity_term (term, opportunity_id) VALUES (:term, :opportunity_id)"),
                           rows)
        db.session.commit()
        return row.id


def _live(client, name):
    return client.get("/dedup/check.json", query_string={"name": name}).get_json()


def _has_term(app, opportunity_id, term):
    with app.app_context():
        return db.session.execute(text("SELECT 1 FROM opportunity_term WHERE term = :t AND opportunity_id = :id"),
                                  {"t": dedup.term_hash(term), "id": opportunity_id}).first() is not None


def test_rekey_rebuilds_the_keys_of_old_records(app, client, auth, org, runner):
    town_id = _enter_with_old_keys(app, "佛山市南海区里水惠翔印刷厂", "里水惠翔印刷")
    generic_id = _enter_with_old_keys(app, "佛山市顺德区金源五金实业有限公司", "金源五金实业")
    assert not _has_term(app, generic_id, "n:金源五金") and _has_term(app, town_id, "n:里水惠翔印刷")

    result = runner.invoke(args=["opportunities", "rekey"])
    assert result.exit_code == 0 and "keys rebuilt: 2" in result.output

    with app.app_context():
        town = db.session.get(Opportunity, town_id)
        assert (town.name_core, town.norm_city, town.norm_district) == ("惠翔印刷", "佛山市", "南海区")
        assert town.company == "佛山市南海区里水惠翔印刷厂"  # what people typed stays as it was
    assert _has_term(app, town_id, "n:惠翔印刷") and not _has_term(app, town_id, "n:里水惠翔印刷")
    assert _has_term(app, generic_id, "n:金源五金") and _has_term(app, generic_id, "n:金源五金实业")
    auth.login("sales_a")
    for name, found in (("惠翔印刷", town_id), ("金源五金", generic_id), ("佛山市里水镇惠翔印刷有限公司", town_id)):
        answer = _live(client, name)
        assert answer["verdict"] == "duplicate" and [h["id"] for h in answer["hits"]] == [found], name
