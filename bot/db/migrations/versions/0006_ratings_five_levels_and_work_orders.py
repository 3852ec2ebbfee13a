"""ratings on the five national levels with 追评; 12345 work orders

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_NOW = sa.func.now()


def upgrade() -> None:
    # the old ratings are carried over by hand: renaming the table would keep its constraint names
    old = sa.table(
        "ratings",
        sa.column("application_id", sa.String),
        sa.column("user_key", sa.String),
        sa.column("score", sa.Integer),
        sa.column("comment", sa.Text),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    kept = [dict(r._mapping) for r in op.get_bind().execute(sa.select(old))]
    op.drop_index(op.f("ix_ratings_user_key"), table_name="ratings")
    op.drop_table("ratings")
    new = op.create_table(
        "ratings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False, server_default=""),
        sa.Column("thing_id", sa.String(48), nullable=False, server_default=""),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("follow_up", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("work_order_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
    )
    op.create_index(op.f("ix_ratings_subject_id"), "ratings", ["subject_id"])
    op.create_index(op.f("ix_ratings_user_key"), "ratings", ["user_key"])
    if kept:
        op.bulk_insert(
            new,
            [{"subject": "application", "subject_id": r["application_id"], "user_key": r["user_key"],
              "score": r["score"], "criteria": {}, "comment": r["comment"], "created_at": r["created_at"]}
             for r in kept],
        )  # fmt: skip
    op.create_table(
        "work_orders",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("user_ref", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("thing_id", sa.String(48), nullable=True),
        sa.Column("application_id", sa.String(32), nullable=True),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("number", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="待报送"),
        sa.Column("seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("result", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_work_orders_number")),
    )
    op.create_index(op.f("ix_work_orders_user_key"), "work_orders", ["user_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_work_orders_user_key"), table_name="work_orders")
    op.drop_table("work_orders")
    op.drop_index(op.f("ix_ratings_user_key"), table_name="ratings")
    op.drop_index(op.f("ix_ratings_subject_id"), table_name="ratings")
    op.drop_table("ratings")
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
