"""Party building linked to the work (党建+业务): branches, members, vanguard posts, activities, competitions,
and the records that tie members to the utility's work (work orders, incidents, vanguard-team call-outs).

* A branch may be a standing one or set up on a project (支部建在项目上: `kind="project"`, `project` names it).
* A member may be a staff user and/or a crew member (CrewMember), which is how emergency hours on work orders are
  attributed to party members.
* A vanguard post (党员先锋岗) gives a member a responsibility area (责任区): a DMA, a plant or a project.
* Activities are 三会一课 (branch assembly, committee meeting, group meeting, party lecture), 主题党日 and 微党课,
  each with attendance and minutes.
* A micro-lecture competition keeps its criteria, prize bands, judges and every judge's scores as JSON and the
  scored result (runze.ops.competition) once computed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from runze.store.base import Base, utcnow


class PartyBranch(Base):
    __tablename__ = "party_branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="standing")  # standing / project
    project: Mapped[str | None] = mapped_column(String(200))
    secretary_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartyMember(Base):
    __tablename__ = "party_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("party_branches.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="full")  # full / probationary
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    crew_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("crew_members.id", ondelete="SET NULL"), unique=True)
    joined_at: Mapped[datetime | None] = mapped_column()
    is_active: Mapped[bool] = mapped_column(default=True)


class VanguardPost(Base):
    """党员先锋岗 with its 责任区: `area_kind` dma / plant / project, `area` the DMA name, plant or project."""

    __tablename__ = "party_vanguard_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("party_members.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    area_kind: Mapped[str] = mapped_column(String(16))
    area: Mapped[str] = mapped_column(String(128))
    since: Mapped[datetime] = mapped_column(default=utcnow)
    until: Mapped[datetime | None] = mapped_column()


class PartyActivity(Base):
    __tablename__ = "party_activities"
    __table_args__ = (Index("ix_party_activities_held_at", "held_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("party_branches.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[datetime] = mapped_column()
    place: Mapped[str] = mapped_column(String(200), default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    attendance: Mapped[list[ActivityAttendance]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityAttendance.member_id",
        lazy="selectin")


class ActivityAttendance(Base):
    __tablename__ = "party_activity_attendance"

    activity_id: Mapped[int] = mapped_column(ForeignKey("party_activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("party_members.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="present")  # present / excused / absent

    activity: Mapped[PartyActivity] = relationship(back_populates="attendance")


class LectureCompetition(Base):
    """A 微党课 competition: `config` = criteria and prize bands, `scores[judge][entry id][criterion]`."""

    __tablename__ = "party_competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[datetime] = mapped_column()
    config: Mapped[dict[str, Any]] = mapped_column()
    judges: Mapped[list[Any]] = mapped_column()
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="open")  # open / scored
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    entries: Mapped[list[CompetitionEntry]] = relationship(
        back_populates="competition", cascade="all, delete-orphan", order_by="CompetitionEntry.id",
        lazy="selectin")


class CompetitionEntry(Base):
    __tablename__ = "party_competition_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("party_competitions.id", ondelete="CASCADE"),
                                                index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("party_members.id", ondelete="SET NULL"))
    contestant: Mapped[str] = mapped_column(String(128))
    lecture_title: Mapped[str] = mapped_column(String(200), default="")

    competition: Mapped[LectureCompetition] = relationship(back_populates="entries")


class WorkParticipation(Base):
    """A party member worked on a work order and/or an incident (beyond the crew the order was dispatched to)."""

    __tablename__ = "party_work_participation"
    __table_args__ = (UniqueConstraint("member_id", "work_order_id", name="uq_party_work_participation_member_wo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("party_members.id", ondelete="CASCADE"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")  # member / leader
    hours: Mapped[float | None] = mapped_column()  # None: the work order's on-site time
    note: Mapped[str] = mapped_column(Text, default="")


class VanguardCallout(Base):
    """A vanguard team (党员先锋队, a crew with is_vanguard) was called out to an incident or work order."""

    __tablename__ = "party_vanguard_callouts"
    __table_args__ = (Index("ix_party_vanguard_callouts_called_at", "called_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crew_id: Mapped[int] = mapped_column(ForeignKey("crews.id", ondelete="RESTRICT"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    called_at: Mapped[datetime] = mapped_column()
    led_response: Mapped[bool] = mapped_column(default=False)  # the team led the response to the incident
    note: Mapped[str] = mapped_column(Text, default="")
