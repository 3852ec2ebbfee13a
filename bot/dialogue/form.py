"""What remains to be asked for a draft, from the catalog and the answers so far.

Pure functions of (one-thing, draft): no text, no I/O. A branch (``when``)
still undecided keeps its fields and materials back until the answer that
decides it has been given.
"""

from __future__ import annotations

from datetime import date

from bot.catalog.conditions import holds
from bot.catalog.models import Eligibility, FieldType, FormField, Item, Material, OneThing, Source
from bot.dialogue.session import Draft

PROOF_PREFIX = "proof:"  # answers key of a proof given instead of a commitment


def items_in_play(t: OneThing, d: Draft) -> list[Item]:
    """Items that apply (or may still apply) and the person qualifies for."""
    return [i for i in t.items if holds(i.when, d.answers) is not False and i.key not in d.excluded_items]


def _serves(keys: list[str], items: list[Item]) -> bool:
    live = {i.key for i in items}
    return bool(live.intersection(keys))


def open_eligibility(t: OneThing, d: Draft) -> Eligibility | None:
    items = items_in_play(t, d)
    for e in t.eligibility:
        if e.id in d.eligibility or holds(e.when, d.answers) is not True:
            continue
        if not e.items or _serves(e.items, items):
            return e
    return None


def fields_in_play(t: OneThing, d: Draft) -> list[FormField]:
    """Fields whose branch holds and that some item in play uses."""
    items = items_in_play(t, d)
    return [f for f in t.form.fields if holds(f.when, d.answers) is True and _serves(f.items, items)]


def next_field(t: OneThing, d: Draft) -> FormField | None:
    for f in fields_in_play(t, d):
        if f.id not in d.answers and f.id not in d.skipped:
            return f
    return None


def materials_in_play(t: OneThing, d: Draft) -> list[Material]:
    items = items_in_play(t, d)
    return [m for m in t.materials if holds(m.when, d.answers) is True and _serves(m.items, items)]


def open_commitment(t: OneThing, d: Draft) -> Material | None:
    for m in materials_in_play(t, d):
        if m.source is not Source.commitment or m.key in d.commitments:
            continue
        if m.key in d.declined_commitments or d.false_commitment_listed:
            if PROOF_PREFIX + m.key not in d.answers:
                return m
            continue
        return m
    return None


def shared_names(t: OneThing, d: Draft) -> list[str]:
    return [m.name for m in materials_in_play(t, d) if m.source in (Source.shared, Source.previous_item)]


def missing_tolerable(t: OneThing, d: Draft) -> list[Material]:
    """Tolerable materials the person skipped: the application goes ahead without them."""
    carried = {f.material: f for f in t.form.fields if f.type is FieldType.attachment}
    out = []
    for m in materials_in_play(t, d):
        if not m.tolerable:
            continue
        f = carried.get(m.key)
        if f is None or f.id in d.skipped:
            out.append(m)
    return out


def field_of(t: OneThing, field_id: str) -> FormField | None:
    return next((f for f in t.form.fields if f.id == field_id), None)


def applicant_id_field(t: OneThing) -> FormField | None:
    """The applicant's own ID number: the key of every shared-data query."""
    return next(
        (f for f in t.form.fields if f.prefill == "identity.id_card"),
        next((f for f in t.form.fields if f.type is FieldType.id_card), None),
    )


def lookup_field(t: OneThing) -> tuple[FormField, str] | None:
    """The field whose value keys the shared-data query: the applicant's ID
    number (a person), else the enterprise's credit code (a legal person)."""
    person = applicant_id_field(t)
    if person is not None:
        return person, "person"
    entity = next(
        (f for f in t.form.fields if f.prefill == "business.uscc"),
        next((f for f in t.form.fields if f.type is FieldType.uscc), None),
    )
    return (entity, "entity") if entity is not None else None


def wants_shared_data(t: OneThing) -> bool:
    return any(f.prefill for f in t.form.fields) or any(m.source is Source.shared for m in t.materials)


def problems(t: OneThing, d: Draft, today: date | None = None) -> list[str]:
    """Why this draft could not be submitted as it stands (empty: it can)."""
    from bot.dialogue.fields import parse_value  # fields reads values; form decides what is needed

    out = []
    if not items_in_play(t, d):
        out.append("no item left to apply for")
    for f in fields_in_play(t, d):
        if f.id not in d.answers:
            if f.required:
                out.append(f"{f.id}: required, not answered")
            continue
        value = d.answers[f.id]
        shown = ("是" if value else "否") if isinstance(value, bool) else str(value)
        parsed = parse_value(f, shown, today)
        if not parsed.ok:
            out.append(f"{f.id}: {parsed.problem}")
    for m in materials_in_play(t, d):
        if m.source is Source.commitment and m.key not in d.commitments and PROOF_PREFIX + m.key not in d.answers:
            out.append(f"{m.key}: neither committed nor proven")
    return out


def migrate(t: OneThing, d: Draft, today: date | None = None) -> list[str]:
    """Bring a draft begun under an older version of the guide to this one: answers to fields that
    are gone or no longer valid, eligibility answers to questions that changed, and commitments
    whose wording changed are dropped (they will be asked again). → what will be asked again, named
    as the person saw it. The draft then carries the guide's version."""
    from bot.dialogue.fields import parse_value

    again: list[str] = []
    fields = {f.id: f for f in t.form.fields}
    for field_id in list(d.answers):
        if field_id.startswith(PROOF_PREFIX):
            continue
        f = fields.get(field_id)
        if f is None:
            d.answers.pop(field_id)
            continue
        value = d.answers[field_id]
        shown = ("是" if value else "否") if isinstance(value, bool) else str(value)
        if not parse_value(f, shown, today).ok:
            d.answers.pop(field_id)
            d.prefilled = [p for p in d.prefilled if p != field_id]
            again.append(f.label)
    questions = {e.id for e in t.eligibility}
    for ref in [r for r in d.eligibility if r not in questions]:
        d.eligibility.pop(ref)
    materials = {m.key: m for m in t.materials}
    for key, signed in list(d.commitments.items()):
        m = materials.get(key)
        if m is None or m.source is not Source.commitment or not m.commitment or m.commitment not in signed.text:
            d.commitments.pop(key)
            if m is not None and m.source is Source.commitment:
                again.append(m.name)
    d.catalog_version = t.version
    return again
