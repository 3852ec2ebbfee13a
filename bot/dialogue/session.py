"""The state of one person's conversation, kept between messages.

A person may have several drafts (one per one-thing) and switch between
them; ``current`` is the one in focus. ``awaiting`` says what the last
question expects, so an answer like “1” or “是” is read against it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.dialogue.states import Awaiting

Style = Literal["standard", "elderly", "voice"]


class Commitment(BaseModel):
    at: datetime
    text: str
    version: int  # the catalog version of the one-thing whose text was signed


class Draft(BaseModel):
    thing: str
    catalog_version: int | None = None  # the guide's version the draft follows (None: begun before versions)
    started: bool = False  # the person chose 开始办理
    answers: dict[str, Any] = {}  # field id -> value
    prefilled: list[str] = []  # field ids whose value came from shared data
    prefill_confirmed: bool = False
    skipped: list[str] = []  # optional fields skipped
    eligibility: dict[str, bool] = {}
    excluded_items: list[str] = []  # items the person does not qualify for
    consent: bool | None = None
    consent_id: str = Field(default_factory=lambda: uuid.uuid4().hex)  # quoted to the data-sharing service
    looked_up: bool = False
    shared_materials: list[str] = []  # materials the e-license service holds: 免提交
    false_commitment_listed: bool = False
    commitments: dict[str, Commitment] = {}  # material key -> what was signed
    declined_commitments: list[str] = []  # proof will be provided instead
    flags: list[str] = []  # notes for the reviewing officer (e.g. USCC check character)
    tolerable_told: bool = False
    proxy_relation: str | None = None  # set when a family member applies (代办)
    proxy_asked: bool = False
    reached: list[str] = []  # form fields asked at least once (the dashboard's where-people-give-up)
    said: str = ""  # what the person said of this one-thing before its form (“要延续”, “上一年级”)
    from_words: list[str] = []  # field ids answered from ``said``, not asked
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Cancelled(BaseModel):
    """A draft cancelled with a yes, kept until the day ends so that “恢复草稿” brings it back."""

    draft: Draft
    on: date  # the day it was cancelled


class VerifiedIdentity(BaseModel):
    """Who the person is, as a real-name-verified app (辽事通) vouched: used as
    the applicant's identity when they apply for themselves."""

    name: str
    id_number: str


class Session(BaseModel):
    user: str
    channel: str
    style: Style = "standard"
    current: str | None = None  # thing id of the draft in focus
    drafts: dict[str, Draft] = {}
    awaiting: Awaiting | None = None
    misunderstood: int = 0
    handoff: bool = False  # waiting for, or with, a hotline agent
    handover: str | None = None  # the open handover's id
    agent: str | None = None  # the agent now in the conversation (the bot is silent meanwhile)
    rate_handover: str | None = None  # an agent conversation that ended and may be rated
    elderly_offered: bool = False
    last_replies: list[dict[str, Any]] = []  # for “再听一遍”
    verified: VerifiedIdentity | None = None
    phone: str | None = None  # a mobile number the channel vouches for (the number a caller rings from)
    cancelled: Cancelled | None = None  # the draft last cancelled, restorable the same day
    pending: list[str] = []  # one-things named beside the one begun (“退休了，公积金也想提出来”), next in turn

    @property
    def draft(self) -> Draft | None:
        return self.drafts.get(self.current) if self.current else None
