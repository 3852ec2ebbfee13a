"""Shared data (电子证照, 共享数据) for the verified person's own record: consent, the lookup, the
values shown for confirmation, and the verified identity filling the applicant's part.

Seed 002 §7: shared data serves the applicant's own record. It is looked up only for an identity
the channel verified (辽事通's real-name voucher), and only for their own record or one their own
record ties them to (a member of their household, their company); anyone else fills the form in."""

from __future__ import annotations

import logging
from datetime import date

from bot.catalog import OneThing
from bot.dialogue import form as plan
from bot.dialogue import states as st
from bot.dialogue.fields import parse_value, yes_no
from bot.dialogue.flows.base import NEXT, Flow
from bot.dialogue.session import Draft
from bot.dialogue.turn import Turn
from bot.shared_data import SharedDataUnavailable
from bot.validators import id_card_birth_date

log = logging.getLogger(__name__)
flow = Flow("shared data")


async def ask(turn: Turn, t: OneThing, d: Draft) -> bool:
    """Consent, then the lookup once the key is known; True when a question was asked."""
    if not d.looked_up and turn.e.shared is not None and plan.wants_shared_data(t):
        if turn.s.verified is None:
            # whoever the channel cannot vouch for fills the form, and the platform checks it
            d.looked_up = True
            turn.say.text(turn.tx.PREFILL_UNVERIFIED)
        elif d.consent is None:
            turn.ask(st.Consent(options=turn.say.choices(turn.tx.CONSENT, list(turn.tx.CONSENT_OPTIONS.items()))))
            return True
    use_verified_identity(turn, t, d)
    key = plan.lookup_field(t)
    due = d.consent and not d.looked_up and key is not None and key[0].id in d.answers
    return bool(due and key is not None and await prefill(turn, t, d, str(d.answers[key[0].id]), key[1]))


@flow.state("consent", answers="agree or not to the lookup", goes_to=NEXT, needs_draft=True)
async def answer_consent(turn: Turn, a: st.Consent) -> bool:
    d = turn.s.draft
    assert d is not None
    picked = turn.option(a)
    agreed = yes_no(turn.text) if picked is None else picked == "yes"
    if agreed is None:
        return False
    d.consent = agreed
    if not agreed:
        turn.say.text(turn.tx.CONSENT_DECLINED)
    await turn.ask_next()
    return True


@flow.state("prefill_confirm", answers="all right, or something to change",
            goes_to=(*NEXT, "pick_field"), needs_draft=True)  # fmt: skip
async def answer_confirm(turn: Turn, a: st.PrefillConfirm) -> bool:
    t, d = turn.thing(), turn.s.draft
    assert t is not None and d is not None
    choice = turn.option(a)
    if choice is None:
        said = yes_no(turn.text)
        choice = None if said is None else ("ok" if said else "fix")
    if choice == "ok":
        d.prefill_confirmed = True
        await turn.ask_next()
    elif choice == "fix":
        d.prefill_confirmed = True
        turn.go.ask_which_field(turn, t, d, d.prefilled)
    return choice is not None


def use_verified_identity(turn: Turn, t: OneThing, d: Draft) -> None:
    """Someone who applies for themselves from a real-name-verified app is not asked who they are."""
    v = turn.s.verified
    id_field = plan.applicant_id_field(t)
    if v is None or d.proxy_relation is not None or id_field is None or id_field.id in d.answers:
        return
    used = []
    for f in t.form.fields:
        value = v.id_number if f.id == id_field.id else v.name if f.prefill == "identity.name" else None
        if value is None or f.id in d.answers:
            continue
        parsed = parse_value(f, value, turn.e.today())
        if parsed.ok:
            d.answers[f.id] = parsed.value
            d.prefilled.append(f.id)
            used.append(f)
    if used:
        shown = "，".join(turn.show(f, d.answers[f.id], masked=True) for f in used)
        turn.say.text(turn.tx.VERIFIED_USED, who=shown)


async def prefill(turn: Turn, t: OneThing, d: Draft, key: str, kind: str) -> bool:
    """Fetch shared data once the applicant's ID is known; True when a question was asked."""
    tx = turn.tx
    d.looked_up = True
    sources = {f.prefill.split(".")[0] for f in t.form.fields if f.prefill}
    sources |= {m.shared.prefill for m in t.materials if m.shared and m.shared.prefill}
    assert turn.e.shared is not None and turn.s.verified is not None
    try:
        if not await vouched_for(turn, key, kind, d.consent_id):
            turn.say.text(tx.PREFILL_NOT_OWN)
            return False
        record = await turn.e.shared.lookup(key, sources, consent_id=d.consent_id, kind=kind)
    except SharedDataUnavailable as exc:
        log.warning("shared data unavailable, asking for everything: %s", exc)
        turn.say.text(tx.PREFILL_DOWN)
        return False
    if record is None:
        turn.say.text(tx.PREFILL_NONE)
        return False
    d.false_commitment_listed = record.false_commitment
    d.shared_materials = [
        m.key for m in t.materials if m.shared is not None and record.provides(m.shared.name, m.shared.prefill)
    ]
    filled = []
    for f in t.form.fields:
        value = record.value(f.prefill) if f.prefill else None
        if value is None or f.id in d.answers:
            continue
        shown = str(value) if not isinstance(value, bool) else ("是" if value else "否")
        parsed = parse_value(f, shown, turn.e.today())
        if parsed.ok:
            d.answers[f.id] = parsed.value
            d.prefilled.append(f.id)
            filled.append(f)
    if (
        kind == "person"
        and turn.s.style == "standard"
        and not turn.s.elderly_offered
        and elderly_by_id(key, turn.e.today())
    ):
        turn.s.elderly_offered = True
        turn.say.text(tx.ELDERLY_OFFER)
    if not filled:
        turn.say.text(tx.PREFILL_NONE)
        return False
    lines = [tx.PREFILL_SHOWN]
    lines += [tx.FILLED_LINE.format(label=f.label, value=turn.show(f, d.answers[f.id], masked=True)) for f in filled]
    shared = [m.name for m in t.materials if m.key in d.shared_materials]
    if shared:
        lines.append(tx.PREFILL_MATERIALS.format(names="、".join(shared)))
    turn.say.text("\n".join(lines))
    turn.ask(st.PrefillConfirm(options=turn.say.choices(tx.PREFILL_CONFIRM, list(tx.PREFILL_OPTIONS.items()))))
    return True


async def vouched_for(turn: Turn, key: str, kind: str, consent_id: str) -> bool:
    """Whether the verified person may see the record keyed ``key``: their own, or one their own
    record ties them to (a member of their household; a company whose credit code is theirs)."""
    v = turn.s.verified
    assert v is not None and turn.e.shared is not None
    own = v.id_number.upper()
    if kind == "person" and key.upper() == own:
        return True
    source = "household" if kind == "person" else "business"
    mine = await turn.e.shared.lookup(own, {source}, consent_id=consent_id, kind="person")
    tied = mine.value("household.members" if kind == "person" else "business.uscc") if mine else None
    tied = tied if isinstance(tied, list) else [tied] if tied else []
    return key.upper() in {str(k).upper() for k in tied}


def elderly_by_id(id_card: str, today: date) -> bool:
    born = id_card_birth_date(id_card)
    return (today.year - born.year - ((today.month, today.day) < (born.month, born.day))) >= 60
