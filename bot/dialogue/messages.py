"""What goes into the engine and what comes out: channel-neutral messages.

A channel (WeChat, mini-program, 辽事通, IVR, the terminal) turns its wire
format into an ``Inbound`` and lays out the ``Reply`` list in its own way.
Every reply carries ``text``: the complete plain-text rendition, already in
the person's style (standard, elderly, voice), so a text-only channel need
not know the kinds; richer channels use the structured fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Inbound(BaseModel):
    model_config = ConfigDict(frozen=True)

    user: str = Field(min_length=1, max_length=128)  # the channel's stable key of the person
    channel: str = Field(min_length=1, max_length=32)
    text: str = Field(default="", max_length=2000)
    choice: str | None = Field(default=None, max_length=64)  # a tapped button's payload
    voice: bool = False  # text is a speech transcript
    spoken: bool = False  # the replies will be read aloud (a phone line): the voice style, always
    metadata: dict[str, Any] = Field(default_factory=dict)


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)
    text: str


class TextReply(_Reply):
    kind: Literal["text"] = "text"


class Choice(BaseModel):
    model_config = ConfigDict(frozen=True)
    n: int  # the number the person may answer with
    label: str
    payload: str


class ChoicesReply(_Reply):
    kind: Literal["choices"] = "choices"
    prompt: str
    options: list[Choice]


class GuideCard(_Reply):
    kind: Literal["guide"] = "guide"
    thing_id: str
    title: str


class FieldPrompt(_Reply):
    kind: Literal["field"] = "field"
    field_id: str
    label: str
    help: str
    example: str
    optional: bool = False
    options: list[Choice] = []
    file: bool = False  # answered with a photo or a document: a channel offers its upload there
    problem: str | None = None  # what was wrong with the last answer to it, in the person's style


class ReviewSummary(_Reply):
    kind: Literal["review"] = "review"
    thing_id: str
    lines: list[tuple[str, str]]  # (label, value shown: personal data masked)


class LinkReply(_Reply):
    kind: Literal["link"] = "link"
    title: str
    path: str  # a mini-program page or web path


class HandoffNotice(_Reply):
    kind: Literal["handoff"] = "handoff"
    reason: str


Reply = Annotated[
    TextReply | ChoicesReply | GuideCard | FieldPrompt | ReviewSummary | LinkReply | HandoffNotice,
    Field(discriminator="kind"),
]


class TurnResult(BaseModel):
    """A turn's replies and the reply style the person is in after it (a
    page lays itself out to match: 长辈模式 is big type, one thing at a time)."""

    model_config = ConfigDict(frozen=True)
    replies: list[Reply]
    style: Literal["standard", "elderly", "voice"]
    cursor: str | None = None  # the conversation log's position after this turn (pages follow it from there)
    question_open: bool = False  # the assistant waits for an answer to something it asked
    ended: bool = False  # the person took their leave: a phone call may end here
