"""Records: activities (台账) with attached minutes, 发展党员 candidates and their milestones.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("duty_id", sa.String(60), nullable=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("expected", sa.Integer, nullable=True),
        sa.Column("present", sa.Integer, nullable=True),
        sa.Column("leave", sa.Integer, nullable=True),
        sa.Column("voting", sa.Integer, nullable=True),
        sa.Column("yes", sa.Integer, nullable=True),
        sa.Column("topic", sa.String(200), nullable=False, server_default=""),
        sa.Column("chair", sa.String(40), nullable=False, server_default=""),
        sa.Column("source", sa.String(20), nullable=False, server_default="手工"),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_activities_type", "activities", ["type"])
    op.create_index("ix_activities_duty_id", "activities", ["duty_id"])
    op.create_index("ix_activities_date", "activities", ["date"])
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("activity_id", sa.Integer, sa.ForeignKey("activities.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("training_days", sa.Float, nullable=True),
        sa.Column("training_hours", sa.Float, nullable=True),
        sa.Column("extension_months", sa.Integer, nullable=True),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "candidate_milestones",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("candidate_id", sa.Integer, sa.ForeignKey("candidates.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(30), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.UniqueConstraint("candidate_id", "step", "date", name="uq_milestone"),
    )
    op.create_index("ix_candidate_milestones_candidate_id", "candidate_milestones", ["candidate_id"])


def downgrade() -> None:
    op.drop_table("candidate_milestones")
    op.drop_table("candidates")
    op.drop_table("attachments")
    op.drop_table("activities")
