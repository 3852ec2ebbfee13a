"""catalog versions edited in the console; the NLU inbox: agents' corrections, dismissals

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "catalog_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("thing_id", sa.String(48), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False, server_default=""),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
        sa.UniqueConstraint("thing_id", "version", name="uq_catalog_versions_thing_id_version"),
    )
    op.create_index(op.f("ix_catalog_versions_thing_id"), "catalog_versions", ["thing_id"])
    with op.batch_alter_table("nlu_fallbacks") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="fallback"))
        batch.add_column(sa.Column("suggested_intent", sa.String(64), nullable=True))
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dismissed_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nlu_fallbacks") as batch:
        for column in ("dismissed_by", "dismissed_at", "suggested_intent", "source"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_catalog_versions_thing_id"), table_name="catalog_versions")
    op.drop_table("catalog_versions")
