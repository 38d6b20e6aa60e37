"""The records tables: the branch's activities (台账), their attached minutes, and the
发展党员 candidates with the dates of the milestones each has reached.

Schema changes go through a migration in assistant/migrations/versions/, never create_all().
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..appdb import Base


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Activity(Base):
    """One thing the branch did: a meeting, a 谈心谈话 round, a 党费 collection …"""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(40), index=True)        # canonical type name (支委会, 谈心谈话 …)
    duty_id: Mapped[str | None] = mapped_column(String(60), index=True)  # obligations.yaml id, when it has one
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    expected: Mapped[int | None] = mapped_column(Integer)           # 应到
    present: Mapped[int | None] = mapped_column(Integer)            # 实到
    leave: Mapped[int | None] = mapped_column(Integer)              # 请假
    voting: Mapped[int | None] = mapped_column(Integer)             # 应到会有表决权
    yes: Mapped[int | None] = mapped_column(Integer)                # 赞成
    topic: Mapped[str] = mapped_column(String(200), default="")
    chair: Mapped[str] = mapped_column(String(40), default="")      # 主持人
    source: Mapped[str] = mapped_column(String(20), default="手工")  # 手工 / 导入 / 会议记录
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    attachment: Mapped["Attachment | None"] = relationship(back_populates="activity", cascade="all, delete-orphan",
                                                           uselist=False, lazy="select")


class Attachment(Base):
    """A file kept with an activity (its minutes), stored in the database itself so that a shared
    deployment needs no shared folder."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    activity: Mapped[Activity] = relationship(back_populates="attachment")


class Candidate(Base):
    """A person on the way into the Party (入党申请人 → 积极分子 → 发展对象 → 预备党员 → 正式党员)."""

    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    training_days: Mapped[float | None] = mapped_column(Float)      # 集中培训天数
    training_hours: Mapped[float | None] = mapped_column(Float)     # 集中培训学时
    extension_months: Mapped[int | None] = mapped_column(Integer)   # 延长预备期（月）
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)

    milestones: Mapped[list["Milestone"]] = relationship(back_populates="candidate", cascade="all, delete-orphan",
                                                         order_by="(Milestone.step, Milestone.date)", lazy="selectin")


class Milestone(Base):
    """One dated step a candidate has reached (several rows for 半年考察)."""

    __tablename__ = "candidate_milestones"
    __table_args__ = (UniqueConstraint("candidate_id", "step", "date", name="uq_milestone"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(30))                   # milestone key of development_rules.yaml
    date: Mapped[dt.date] = mapped_column(Date)

    candidate: Mapped[Candidate] = relationship(back_populates="milestones")
