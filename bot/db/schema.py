"""Tables. Changes go through a migration in ``bot/db/migrations/versions``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Who did what, when: agents, admins and the system itself. Append-only.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(128), nullable=False, server_default=""),
    Column("detail", JSON, nullable=False, default=dict),
    Column("note", Text, nullable=False, server_default=""),
    # a hash chain, filled in order by the worker (bot/audit.py): any later change breaks it
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
)

_ID = BigInteger().with_variant(Integer, "sqlite")

# The admins' working copy of the NLU training data (seeded from nlu_data/,
# exported back to it). ``text`` is Rasa's raw form, with entity annotations.
nlu_examples = Table(
    "nlu_examples",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("intent", String(64), nullable=False, index=True),
    Column("text", String(500), nullable=False, unique=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Utterances the NLU could not place (nlu_fallback), masked of personal data,
# for admins to label into an intent.
nlu_fallbacks = Table(
    "nlu_fallbacks",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    Column("channel", String(32), nullable=False),
    Column("text", String(500), nullable=False),
    Column("labelled_intent", String(64), nullable=True),
    Column("labelled_by", String(64), nullable=True),
    Column("source", String(16), nullable=False, server_default="fallback"),  # fallback / agent
    Column("suggested_intent", String(64), nullable=True),  # what an agent said it meant
    Column("dismissed_at", DateTime(timezone=True), nullable=True),
    Column("dismissed_by", String(64), nullable=True),
)

# Trained model versions. A version keeps its training data (Rasa YAML): any
# process rebuilds the identical model from it (training is deterministic),
# so nothing executable is ever stored or unpickled.
nlu_models = Table(
    "nlu_models",
    metadata,
    Column("version", _ID, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(64), nullable=False),
    Column("status", String(16), nullable=False, server_default="trained"),  # trained | active | retired
    Column("activated_at", DateTime(timezone=True), nullable=True),
    Column("examples", Integer, nullable=False),
    Column("data_sha256", String(64), nullable=False),
    Column("data", Text, nullable=False),
    Column("evaluation", JSON, nullable=False, default=dict),
)

# Submitted applications (one per one-thing submission). ``form`` holds the
# answers encrypted (bot/crypto.py): names, ID numbers, phones, addresses at rest.
applications = Table(
    "applications",
    metadata,
    Column("id", String(32), primary_key=True),  # our id; also the platform's idempotency key
    Column("user_key", String(64), nullable=False, index=True),  # digest of the channel's id of the person
    Column("user_ref", Text, nullable=False),  # that id, encrypted: notices go back to the person
    Column("channel", String(32), nullable=False),
    Column("thing_id", String(48), nullable=False),
    Column("catalog_version", Integer, nullable=False),
    Column("form", Text, nullable=False),  # encrypted JSON: answers, commitments, materials
    Column("status", String(16), nullable=False, server_default="pending"),  # pending/accepted/rejected
    Column("number", String(32), nullable=True, unique=True),  # 申办编号, once the platform accepts
    Column("erased_at", DateTime(timezone=True), nullable=True),  # our copy of the form erased (bot/privacy.py)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Per-item progress as the platform reports it.
application_items = Table(
    "application_items",
    metadata,
    Column("application_id", String(32), primary_key=True),
    Column("item_key", String(48), primary_key=True),
    Column("status", String(16), nullable=False),  # 待报送/已受理/审批中/已办结/需补正/不予受理
    Column("note", Text, nullable=False, server_default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("seq", Integer, nullable=False, server_default="0"),  # the platform's order of this item's changes
    Column("detail", JSON, nullable=True),  # 需补正: what/why/by when; 已办结: how the result is delivered
)

# Every status event the platform sent (callback or seen when polling), once:
# duplicates are recognised by ``event_id``; ``applied`` is false for events
# that came too late (a lower ``seq`` than the item already has).
status_events = Table(
    "status_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("application_id", String(32), nullable=False, index=True),
    Column("item_key", String(48), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("applied", Boolean, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# What became of each notification on each channel. A row is written before
# a push is attempted, so no channel ever carries the same notification twice.
notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("outbox_id", _ID, primary_key=True),
    Column("channel", String(16), primary_key=True),  # subscribe / template / cs / sms / call / inbox
    Column("outcome", String(16), nullable=False),  # trying / sent / refused / failed
    Column("detail", Text, nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Transactional outbox: written with the data it announces, delivered by a
# worker with retries; nothing is lost when a process dies or a partner is down.
outbox = Table(
    "outbox",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False, index=True),  # submit / notify
    Column("ref", String(64), nullable=False),  # application id, …
    Column("payload", Text, nullable=False, server_default=""),  # encrypted when it carries personal data
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("dead_at", DateTime(timezone=True), nullable=True),  # gave up: on the admins' dead-letter list
)

# How a person may be reached outside the conversation. ``wechat_following``:
# false once they unfollow the official account (no WeChat pushes until they
# follow again). Keyed by the digest of the channel's id of the person.
contact_prefs = Table(
    "contact_prefs",
    metadata,
    Column("user_key", String(64), primary_key=True),
    Column("wechat_following", Boolean, nullable=False, server_default=true()),
    Column("voice_calls", Boolean, nullable=False, server_default=false()),  # elders may ask to be phoned
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Subscribe-message grants (订阅消息): each "accept" in the mini-program's
# wx.requestSubscribeMessage allows one message of that template.
subscribe_grants = Table(
    "subscribe_grants",
    metadata,
    Column("user_key", String(64), primary_key=True),
    Column("template_id", String(64), primary_key=True),
    Column("remaining", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# 好差评 (GB/T 39734/39735): a person's rating of a finished application or of
# an agent conversation, on the national five levels, optionally per criterion;
# a later rating of the same subject is a 追评. The comment is encrypted.
ratings = Table(
    "ratings",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("subject", String(16), nullable=False),  # application / conversation
    Column("subject_id", String(64), nullable=False, index=True),
    Column("user_key", String(64), nullable=False, index=True),
    Column("channel", String(32), nullable=False, server_default=""),
    Column("thing_id", String(48), nullable=False, server_default=""),
    Column("score", Integer, nullable=False),  # 5 非常满意 … 1 非常不满意
    Column("criteria", JSON, nullable=False, default=dict),  # 整体满意度, 办事效率, … → 1-5
    Column("comment", Text, nullable=False, server_default=""),
    Column("follow_up", Boolean, nullable=False, server_default=false()),  # 追评
    Column("work_order_id", String(32), nullable=True),  # 差评: the 12345 order for 回访 and 整改
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# 12345 work orders we opened for people (complaints, follow-ups, 差评 回访).
# Personal data (who, what, the conversation's context, the result) encrypted.
work_orders = Table(
    "work_orders",
    metadata,
    Column("id", String(32), primary_key=True),  # ours: the hotline's external_id
    Column("user_key", String(64), nullable=False, index=True),
    Column("user_ref", Text, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # 咨询/求助/投诉/举报/建议/表扬
    Column("thing_id", String(48), nullable=True),
    Column("application_id", String(32), nullable=True),
    Column("request", Text, nullable=False),  # encrypted JSON: what was sent
    Column("number", String(32), nullable=True, unique=True),  # 工单号
    Column("status", String(16), nullable=False, server_default="待报送"),
    Column("seq", Integer, nullable=False, server_default="0"),
    Column("result", Text, nullable=False, server_default=""),  # encrypted 办理结果 / 回访结果
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Staff of the consoles: hotline agents and admins. Passwords as argon2id hashes.
console_users = Table(
    "console_users",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False, server_default=""),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),  # admin / agent
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
)

# A conversation waiting for, or with, a human. At most one open (waiting or
# claimed) per person; ``agent`` is set only by the claim that wins.
handovers = Table(
    "handovers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_key", String(64), nullable=False, index=True),
    Column("user_ref", Text, nullable=False),  # the channel's id of the person, encrypted
    Column("channel", String(32), nullable=False),
    Column("thing_id", String(48), nullable=False, server_default=""),
    Column("reason", String(32), nullable=False),  # requested / not_understood / complaint / phone / ivr …
    Column("status", String(16), nullable=False, index=True),  # waiting / claimed / closed
    Column("agent", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("queued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),  # back in line
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("agent_seen_at", DateTime(timezone=True), nullable=True),  # the agent's console is still open
    Column("told_at", DateTime(timezone=True), nullable=True),  # the person was told when to expect an answer
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(16), nullable=False, server_default=""),  # handed_back / closed / withdrawn
    Column("summary", Text, nullable=False, server_default=""),  # encrypted
)

# A draft an agent started on the phone, waiting for the caller to continue it
# in WeChat or the mini-program with the code sent by SMS. The code is kept as
# an HMAC digest; the answers and phone encrypted.
phone_drafts = Table(
    "phone_drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("code_digest", String(64), nullable=False, unique=True),
    Column("thing_id", String(48), nullable=False),
    Column("answers", Text, nullable=False),  # encrypted JSON
    Column("phone", Text, nullable=False),  # encrypted
    Column("agent", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("redeemed_at", DateTime(timezone=True), nullable=True),
    Column("redeemed_by", String(64), nullable=True),  # user_key
)

# Every published change of a one-thing's guide made in the admin console: the
# whole file as it became (YAML), the diff against the version before, who and
# when. The newest row of a one-thing overrides its file in catalog/.
catalog_versions = Table(
    "catalog_versions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("thing_id", String(48), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("diff", Text, nullable=False, server_default=""),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("note", Text, nullable=False, server_default=""),
    UniqueConstraint("thing_id", "version", name="uq_catalog_versions_thing_id_version"),
)
