"""The catalog holds exactly Liaoning's 35 one-things, each guide complete and consistent."""

from __future__ import annotations

import pytest
import yaml

from bot.catalog import Source, load_catalog
from bot.catalog.models import FieldType
from bot.settings import ROOT
from bot.validators import id_card_problem

VENDORED = ROOT / "catalog" / "list" / "one_things.yaml"
SHARED = ROOT.parent / "shared" / "one_things.yaml"  # beside the clone, as in CI

CATALOG = load_catalog(ROOT / "catalog")
LISTING = yaml.safe_load(VENDORED.read_text(encoding="utf-8"))


def test_vendored_list_is_the_shared_one() -> None:
    """catalog/list/ is a copy of shared/one_things.yaml; when shared/ is beside us, they agree."""
    if SHARED.exists():
        assert yaml.safe_load(SHARED.read_text(encoding="utf-8")) == LISTING
    assert len(LISTING) == 35


def test_ids_names_categories_items_and_departments_match_the_list() -> None:
    assert [t.id for t in CATALOG] == [e["id"] for e in LISTING]
    for entry in LISTING:
        t = CATALOG.things[entry["id"]]
        assert (t.seq, t.name, t.category, t.lead) == (entry["seq"], entry["name"], entry["category"], entry["lead"])
        assert [(i.name, i.dept) for i in t.items] == [(i["name"], i["dept"]) for i in entry["items"]]


@pytest.mark.parametrize("thing", list(CATALOG), ids=lambda t: t.id)
def test_guide_is_complete(thing) -> None:  # type: ignore[no-untyped-def]
    keys = [i.key for i in thing.items]
    for item in thing.items:
        assert thing.materials_of(item.key), f"{item.key} has no materials"
        g = item.guide
        assert g.promised_limit_days <= g.legal_limit_days
    used = {k for f in thing.form.fields for k in f.items}
    for f in thing.form.fields:
        assert f.items and set(f.items) <= set(keys), f.id
    assert used, "a form used by no item"
    for m in thing.materials:
        if m.source is Source.previous_item:
            producer = keys.index(m.from_item)
            assert all(keys.index(k) > producer for k in m.items), m.key
    labels = [f.label for f in thing.form.fields]
    assert len(labels) == len(set(labels)), "a datum asked twice"
    assert len(thing.faq) >= 3


@pytest.mark.parametrize("thing", list(CATALOG), ids=lambda t: t.id)
def test_form_speaks_to_who_applies(thing) -> None:  # type: ignore[no-untyped-def]
    """The dialogue relies on these ids for identity and prefill."""
    ids = {f.id: f for f in thing.form.fields}
    if thing.category == "个人":
        assert ids["applicant_name"].prefill == "identity.name"
        assert ids["applicant_id_card"].type is FieldType.id_card
        assert ids["applicant_phone"].type is FieldType.phone
    else:
        assert "contact_phone" in ids and ids["contact_phone"].type is FieldType.phone
        # a company being set up has a proposed name, not yet a registered one
        assert "company_name" in ids or "proposed_name" in ids
    for f in thing.form.fields:
        if f.type is FieldType.id_card:
            assert id_card_problem(f.example) is None, (f.id, f.example)


def test_the_whole_catalog_uses_every_material_source() -> None:
    sources = {m.source for t in CATALOG for m in t.materials}
    assert sources == set(Source)
    assert any(m.tolerable for t in CATALOG for m in t.materials)
