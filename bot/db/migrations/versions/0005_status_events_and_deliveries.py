"""status events, item seq and detail, notification deliveries, dead letters, voice-call preference

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NOW = sa.func.now()


def upgrade() -> None:
    with op.batch_alter_table("application_items") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contact_prefs") as batch:
        batch.add_column(sa.Column("voice_calls", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "status_events",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("item_key", sa.String(48), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_status_events")),
    )
    op.create_index(op.f("ix_status_events_application_id"), "status_events", ["application_id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("outbox_id", _ID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("outbox_id", "channel", name=op.f("pk_notification_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_index(op.f("ix_status_events_application_id"), table_name="status_events")
    op.drop_table("status_events")
    with op.batch_alter_table("contact_prefs") as batch:
        batch.drop_column("voice_calls")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("dead_at")
    with op.batch_alter_table("application_items") as batch:
        batch.drop_column("detail")
        batch.drop_column("seq")
