"""Addresses as data and the street catalogue (issue 8, search).

Revision ID: 0005_addresses
Revises: 0004_sync_scale
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_addresses"
down_revision = "0004_sync_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows for records stored before this table existed are written by `outages init` (outages/places/index.py
    # reindex), which knows the city's street catalogue; a migration does not read settings.
    op.create_table(
        "record_addresses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_number", sa.Integer, sa.ForeignKey("records.number"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("street_key", sa.String(200), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("known", sa.Boolean, nullable=False),
        sa.Column("whole", sa.Boolean, nullable=False),
        sa.Column("lo", sa.Integer),
        sa.Column("hi", sa.Integer),
        sa.Column("parity", sa.String(4)),
        sa.Column("suffix", sa.String(20), nullable=False),
    )
    op.create_index("ix_record_addresses_street", "record_addresses", ["street_key", "lo"])
    op.create_index("ix_record_addresses_record", "record_addresses", ["record_number"])
    op.create_index("ix_record_addresses_unknown", "record_addresses", ["known", "street_key", "street"])


def downgrade() -> None:
    op.drop_index("ix_record_addresses_unknown", table_name="record_addresses")
    op.drop_index("ix_record_addresses_record", table_name="record_addresses")
    op.drop_index("ix_record_addresses_street", table_name="record_addresses")
    op.drop_table("record_addresses")
