"""What the assistant is waiting for: one typed payload per state, told apart by ``kind``.

A session keeps the state of its last question (``Session.awaiting``); the next message is read
against it. Which flow owns each state, what answers it and where it can go is the state table
(``bot/dialogue/router.py``, printed by ``python -m bot dialogue states``). Field names are those
sessions stored before the states were typed (``ref``, ``value``, ``options``), so a stored
session reads as it was written.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, TypeAdapter


class Awaited(BaseModel):
    options: list[str] = []  # payloads of the numbered choices, in order

    # what kind of state it is (the same for every state of a class)
    from_draft: ClassVar[bool] = False  # asked afresh from the draft when repeated, not shown again as it was
    digits: ClassVar[bool] = False  # six digits answer it: they are not the code of an agent's SMS
    guide_bound: ClassVar[bool] = False  # worded from the guide: a new version of the guide drops it
    aside: ClassVar[bool] = False  # a flow beside the drafts (a complaint, a rating…): “取消” drops it, not a draft


class PickThing(Awaited):
    """A numbered list of one-things (the catalog, or the few the message could mean)."""

    kind: Literal["pick_thing"] = "pick_thing"


class Start(Awaited):
    """After the guide: start, hear the materials again, or another thing."""

    kind: Literal["start"] = "start"


class Eligibility(Awaited):
    kind: Literal["eligibility"] = "eligibility"
    ref: str  # the eligibility question's id
    # a no said in the person's own words (“有 以前办过”), to be confirmed before it refuses them
    confirming: bool = False


class Proxy(Awaited):
    """For oneself, or for a family member (代办)."""

    kind: Literal["proxy"] = "proxy"


class ProxyRelation(Awaited):
    kind: Literal["proxy_relation"] = "proxy_relation"


class Consent(Awaited):
    """May shared data be looked up?"""

    kind: Literal["consent"] = "consent"


class PrefillConfirm(Awaited):
    """Are the prefilled values right?"""

    kind: Literal["prefill_confirm"] = "prefill_confirm"


class PickField(Awaited):
    """Which field to correct (numbered)."""

    kind: Literal["pick_field"] = "pick_field"


class FormField(Awaited):
    kind: Literal["field"] = "field"
    ref: str  # the field's id
    doubted: str = ""  # an unusual name refused once: said again, it is taken
    from_draft: ClassVar[bool] = True
    digits: ClassVar[bool] = True
    guide_bound: ClassVar[bool] = True


class Readback(Awaited):
    """Elderly and voice: is this what you said?"""

    kind: Literal["readback"] = "readback"
    ref: str  # the field's id
    value: Any  # what was understood, stored on a yes
    from_draft: ClassVar[bool] = True
    digits: ClassVar[bool] = True


class Commitment(Awaited):
    """我承诺 / 不承诺; or, declined or not offered, the proof instead."""

    kind: Literal["commitment"] = "commitment"
    ref: str  # the material's key
    value: Literal["proof"] | None = None
    from_draft: ClassVar[bool] = True
    guide_bound: ClassVar[bool] = True


class Review(Awaited):
    """Submit, edit or cancel."""

    kind: Literal["review"] = "review"
    from_draft: ClassVar[bool] = True
    guide_bound: ClassVar[bool] = True


class CancelConfirm(Awaited):
    """“取消” with answers in the draft: yes, cancel it (what is lost was said), or go on."""

    kind: Literal["cancel_confirm"] = "cancel_confirm"
    value: dict[str, Any] | None = None  # the question open before, to go back to


class Help(Awaited):
    """After misunderstandings: numbered ways out."""

    kind: Literal["help"] = "help"
    value: dict[str, Any] | None = None  # the question open before the offer, to go back to


class Resume(Awaited):
    """Which draft to continue."""

    kind: Literal["resume"] = "resume"


class SupplementPick(Awaited):
    """Which item in 需补正 to hand in for (numbered)."""

    kind: Literal["supplement_pick"] = "supplement_pick"
    aside: ClassVar[bool] = True


class Supplement(Awaited):
    """The photo or text for an item in 需补正."""

    kind: Literal["supplement"] = "supplement"
    aside: ClassVar[bool] = True
    ref: str  # "number|item"
    digits: ClassVar[bool] = True


class Complaint(Awaited):
    """What happened (``value``: what is known of the complaint so far)."""

    kind: Literal["complaint"] = "complaint"
    aside: ClassVar[bool] = True
    value: dict[str, str] = {}
    digits: ClassVar[bool] = True


class ComplaintName(Awaited):
    kind: Literal["complaint_name"] = "complaint_name"
    aside: ClassVar[bool] = True
    value: dict[str, str] = {}


class ComplaintPhone(Awaited):
    kind: Literal["complaint_phone"] = "complaint_phone"
    aside: ClassVar[bool] = True
    value: dict[str, str] = {}
    digits: ClassVar[bool] = True


class Rating(Awaited):
    """One of the five levels."""

    kind: Literal["rating"] = "rating"
    aside: ClassVar[bool] = True
    ref: str  # the application's id, or "handover:<id>" for an agent conversation


class RatingComment(Awaited):
    """差评: what went wrong."""

    kind: Literal["rating_comment"] = "rating_comment"
    aside: ClassVar[bool] = True
    ref: str
    value: int  # the score


class RatingPhone(Awaited):
    """差评 of an agent conversation: a number for 12345 to call back."""

    kind: Literal["rating_phone"] = "rating_phone"
    aside: ClassVar[bool] = True
    ref: str
    value: dict[str, Any]  # score, comment
    digits: ClassVar[bool] = True


class PhoneCodePhone(Awaited):
    """The number an agent's SMS went to."""

    kind: Literal["phone_code_phone"] = "phone_code_phone"
    aside: ClassVar[bool] = True
    value: dict[str, Any]  # the code, and what was asked before (to go back to)
    digits: ClassVar[bool] = True


Awaiting = Annotated[
    PickThing | Start | Eligibility | Proxy | ProxyRelation | Consent | PrefillConfirm | PickField | FormField
    | Readback | Commitment | Review | CancelConfirm | Help | Resume | SupplementPick | Supplement | Complaint | ComplaintName
    | ComplaintPhone | Rating | RatingComment | RatingPhone | PhoneCodePhone,
    Field(discriminator="kind"),
]  # fmt: skip
AWAITING: TypeAdapter[Awaiting] = TypeAdapter(Awaiting)
KINDS: tuple[str, ...] = tuple(
    m.model_fields["kind"].default
    for m in Awaiting.__origin__.__args__  # type: ignore[attr-defined]
)


def restore(stored: dict[str, Any] | None) -> Awaiting | None:
    """A state kept as a dict (to go back to it later), read again."""
    return AWAITING.validate_python(stored) if stored else None
