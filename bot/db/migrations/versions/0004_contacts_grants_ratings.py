"""contact preferences, subscribe-message grants, ratings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "contact_prefs",
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("wechat_following", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("user_key", name=op.f("pk_contact_prefs")),
    )
    op.create_table(
        "subscribe_grants",
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("user_key", "template_id", name=op.f("pk_subscribe_grants")),
    )
    op.create_table(
        "ratings",
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_ratings")),
    )
    op.create_index(op.f("ix_ratings_user_key"), "ratings", ["user_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ratings_user_key"), table_name="ratings")
    op.drop_table("ratings")
    op.drop_table("subscribe_grants")
    op.drop_table("contact_prefs")
