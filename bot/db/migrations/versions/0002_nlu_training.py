"""nlu training: examples, fallbacks, model versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "nlu_examples",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_examples")),
        sa.UniqueConstraint("text", name=op.f("uq_nlu_examples_text")),
    )
    op.create_index(op.f("ix_nlu_examples_intent"), "nlu_examples", ["intent"])
    op.create_table(
        "nlu_fallbacks",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("labelled_intent", sa.String(64), nullable=True),
        sa.Column("labelled_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_fallbacks")),
    )
    op.create_index(op.f("ix_nlu_fallbacks_at"), "nlu_fallbacks", ["at"])
    op.create_table(
        "nlu_models",
        sa.Column("version", _ID, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="trained"),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_nlu_models")),
    )


def downgrade() -> None:
    op.drop_table("nlu_models")
    op.drop_index(op.f("ix_nlu_fallbacks_at"), table_name="nlu_fallbacks")
    op.drop_table("nlu_fallbacks")
    op.drop_index(op.f("ix_nlu_examples_intent"), table_name="nlu_examples")
    op.drop_table("nlu_examples")
