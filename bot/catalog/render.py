"""一次告知: a one-thing's whole guide as one citizen-facing message.

Seed 000 第二十二条 asks that everything be told at once: conditions, every
material (grouped by whether the citizen must bring it), time limits, fees,
where and how. Branches already decided by the citizen's answers are
filtered; undecided ones are shown with the condition under which they apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from bot.catalog.conditions import holds
from bot.catalog.models import Condition, Material, OneThing, Source
from bot.texts import standard


def _condition_text(t: OneThing, cond: Condition, tx: ModuleType) -> str:
    labels = {f.id: f.label for f in t.form.fields}
    parts = []
    for fid, want in cond.items():
        values = want if isinstance(want, list) else [want]
        shown = tx.VALUE_OR.join((tx.YES if v else tx.NO) if isinstance(v, bool) else str(v) for v in values)
        parts.append(tx.CONDITION_PART.format(label=labels.get(fid, fid), value=shown))
    return tx.ONLY_WHEN.format(conditions=tx.CONDITION_JOIN.join(parts))


def _dedupe(seq: list[str]) -> list[str]:
    return list(dict.fromkeys(seq))


def material_group(m: Material) -> str:
    """Which of the four 一次告知 groups a material belongs to."""
    if m.source in (Source.shared, Source.previous_item):
        return "shared"
    if m.source is Source.commitment:
        return "commitment"
    return "tolerable" if m.tolerable else "applicant"


def render_guide(t: OneThing, answers: Mapping[str, Any] | None = None, tx: ModuleType = standard) -> str:
    def visible(cond: Condition | None) -> bool:
        return holds(cond, answers) is not False

    def suffix(cond: Condition | None) -> str:
        return _condition_text(t, cond, tx) if cond and holds(cond, answers) is None else ""

    items = [i for i in t.items if visible(i.when)]
    item_keys = {i.key for i in items}
    names = {i.key: i.name for i in t.items}
    lines = [tx.GUIDE_TITLE.format(name=t.name), t.summary]
    lines.append(tx.GUIDE_ITEMS.format(count=len(items), names="、".join(i.name for i in items)))

    lines += ["", tx.GUIDE_CONDITIONS]
    for n, item in enumerate(items, 1):
        text = tx.CONDITION_OF_ITEM.format(item=item.name, conditions="；".join(item.guide.conditions))
        lines.append(tx.ITEM_LINE.format(n=n, text=text + suffix(item.when)))

    lines += ["", tx.GUIDE_MATERIALS]
    groups: dict[str, list[Material]] = {"applicant": [], "shared": [], "commitment": [], "tolerable": []}
    for m in t.materials:
        if visible(m.when) and item_keys.intersection(m.items):
            groups[material_group(m)].append(m)
    headings = {
        "applicant": tx.GUIDE_GROUP_APPLICANT,
        "shared": tx.GUIDE_GROUP_SHARED,
        "commitment": tx.GUIDE_GROUP_COMMITMENT,
        "tolerable": tx.GUIDE_GROUP_TOLERABLE,
    }
    for group, heading in headings.items():
        lines.append(heading)
        if not groups[group]:
            lines.append(tx.GUIDE_NO_MATERIAL)
        for n, m in enumerate(groups[group], 1):
            note = tx.MATERIAL_NOTE.format(note=m.note) if m.note else ""
            if group == "applicant":
                copies = tx.MATERIAL_COPIES.format(n=m.copies) if m.copies else ""
                form = tx.MATERIAL_FORM.format(forms="、".join(m.form), copies=copies)
                line = tx.MATERIAL_APPLICANT.format(n=n, name=m.name, form=form, note=note)
            elif group == "shared" and m.shared is not None:
                line = tx.MATERIAL_SHARED.format(n=n, name=m.name, kind=m.shared.kind, source=m.shared.name)
            elif group == "shared":
                line = tx.MATERIAL_PREVIOUS.format(n=n, name=m.name, item=names.get(m.from_item or "", ""))
            elif group == "commitment":
                line = tx.MATERIAL_COMMITMENT.format(n=n, name=m.name, commitment=m.commitment)
            else:
                line = tx.MATERIAL_TOLERABLE.format(n=n, name=m.name, days=m.supply_within_days, note=note)
            lines.append(line + suffix(m.when))

    lines += ["", tx.GUIDE_TIME]
    for n, item in enumerate(items, 1):
        g = item.guide
        if g.handling_type == "即办件":
            line = tx.TIME_IMMEDIATE.format(n=n, item=item.name)
        else:
            line = tx.TIME_PROMISED.format(
                n=n, item=item.name, promised=g.promised_limit_days, legal=g.legal_limit_days
            )
        deps = [names[d] for d in item.depends_on if d in item_keys]
        if deps:
            line += tx.TIME_AFTER.format(deps="、".join(deps))
        lines.append(line)
    if len(items) > 1:
        lines.append(tx.TIME_PARALLEL)

    lines += ["", tx.GUIDE_FEE]
    if not any(i.guide.fee.charged for i in items):
        lines.append(tx.FEE_NONE)
    # Charged items, and free ones whose standard says something worth knowing.
    noted = [i for i in items if i.guide.fee.charged or i.guide.fee.standard != "不收费"]
    for n, item in enumerate(noted, 1):
        lines.append(tx.FEE_LINE.format(n=n, item=item.name, standard=item.guide.fee.standard))

    lines += ["", tx.GUIDE_WHERE]
    guides = [i.guide for i in items]
    for channels in _dedupe([g.channels for g in guides]):
        lines.append(tx.WHERE_CHANNELS.format(channels=tx.CHANNELS[channels]))
    for location in _dedupe([g.location for g in guides]):
        lines.append(tx.WHERE_LOCATION.format(location=location))
    for hours in _dedupe([g.hours for g in guides]):
        lines.append(tx.WHERE_HOURS.format(hours=hours))
    for note in _dedupe([g.express.note for g in guides if g.express.available]):
        lines.append(tx.WHERE_EXPRESS.format(note=note))
    for note in _dedupe([g.appointment.note for g in guides if g.appointment.available]):
        lines.append(tx.WHERE_APPOINTMENT.format(note=note))
    for consult, supervise in _dedupe([(g.consult_phone, g.supervise_phone) for g in guides]):  # type: ignore[arg-type]
        lines.append(tx.WHERE_PHONE.format(consult=consult, supervise=supervise))
    lines += ["", tx.GUIDE_FOOTER]
    return "\n".join(lines)
