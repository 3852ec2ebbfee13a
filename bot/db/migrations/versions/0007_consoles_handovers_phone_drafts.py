"""console users, handovers to hotline agents, drafts started on the phone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NOW = sa.func.now()
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False, server_default=""),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("last_login_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("username", name=op.f("uq_console_users_username")),
    )
    op.create_table(
        "handovers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("user_ref", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thing_id", sa.String(48), nullable=False, server_default=""),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("queued_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("agent_seen_at", _TS, nullable=True),
        sa.Column("told_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False, server_default=""),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
    )
    op.create_index(op.f("ix_handovers_user_key"), "handovers", ["user_key"])
    op.create_index(op.f("ix_handovers_status"), "handovers", ["status"])
    op.create_table(
        "phone_drafts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.Column("thing_id", sa.String(48), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=_NOW),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("redeemed_at", _TS, nullable=True),
        sa.Column("redeemed_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_drafts")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_phone_drafts_code_digest")),
    )


def downgrade() -> None:
    op.drop_table("phone_drafts")
    op.drop_index(op.f("ix_handovers_status"), table_name="handovers")
    op.drop_index(op.f("ix_handovers_user_key"), table_name="handovers")
    op.drop_table("handovers")
    op.drop_table("console_users")
