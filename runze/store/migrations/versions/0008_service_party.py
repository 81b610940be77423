"""Issue 8: new connections (报装 / 五零), party building (党建+业务) and the monthly report's inputs.

Tables: connection_applications, connection_steps; party_branches, party_members, party_vanguard_posts,
party_activities, party_activity_attendance, party_competitions, party_competition_entries,
party_work_participation, party_vanguard_callouts; report_monthly_volumes, report_quality_samples.

Revision ID: 0008
Revises: 0002_telemetry
Create Date: 2026-11-25 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0002_telemetry"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "party_competitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("judges", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_competitions")),
    )
    op.create_table(
        "report_monthly_volumes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("system_input_m3", sa.Double(), nullable=False),
        sa.Column("billed_metered_m3", sa.Double(), nullable=False),
        sa.Column("billed_unmetered_m3", sa.Double(), nullable=False),
        sa.Column("unbilled_metered_m3", sa.Double(), nullable=False),
        sa.Column("unbilled_unmetered_m3", sa.Double(), nullable=False),
        sa.Column("unauthorised_m3", sa.Double(), nullable=False),
        sa.Column("meter_inaccuracy_m3", sa.Double(), nullable=False),
        sa.Column("data_errors_m3", sa.Double(), nullable=False),
        sa.Column("real_losses_m3", sa.Double(), nullable=True),
        sa.Column("mains_km", sa.Double(), nullable=False),
        sa.Column("service_connections", sa.Integer(), nullable=False),
        sa.Column("private_pipe_km", sa.Double(), nullable=False),
        sa.Column("mean_pressure_m", sa.Double(), nullable=True),
        sa.Column("mean_outlet_pressure_mpa", sa.Double(), nullable=True),
        sa.Column("household_metered_share", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_monthly_volumes")),
        sa.UniqueConstraint("month", name=op.f("uq_report_monthly_volumes_month")),
    )
    op.create_table(
        "report_quality_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("point", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("turbidity_ntu", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_quality_samples")),
    )
    with op.batch_alter_table("report_quality_samples", schema=None) as batch_op:
        batch_op.create_index("ix_report_quality_samples_taken_at", ["taken_at"], unique=False)

    op.create_table(
        "party_branches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("secretary_user_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["secretary_user_id"],
            ["users.id"],
            name=op.f("fk_party_branches_secretary_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_branches")),
        sa.UniqueConstraint("name", name=op.f("uq_party_branches_name")),
    )
    op.create_table(
        "party_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["party_branches.id"],
            name=op.f("fk_party_activities_branch_id_party_branches"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_party_activities_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_activities")),
    )
    with op.batch_alter_table("party_activities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_activities_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_party_activities_held_at", ["held_at"], unique=False)

    op.create_table(
        "party_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("crew_member_id", sa.Integer(), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["party_branches.id"],
            name=op.f("fk_party_members_branch_id_party_branches"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["crew_member_id"],
            ["crew_members.id"],
            name=op.f("fk_party_members_crew_member_id_crew_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_party_members_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_members")),
        sa.UniqueConstraint("crew_member_id", name=op.f("uq_party_members_crew_member_id")),
    )
    with op.batch_alter_table("party_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_members_branch_id"), ["branch_id"], unique=False)

    op.create_table(
        "connection_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("applicant", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("customer_kind", sa.String(length=32), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("size_dn", sa.Integer(), nullable=False),
        sa.Column("network_version_id", sa.Integer(), nullable=True),
        sa.Column("node_id", sa.String(length=64), nullable=True),
        sa.Column("dma", sa.String(length=64), nullable=True),
        sa.Column("current_step", sa.String(length=32), nullable=False),
        sa.Column("cost_yuan", sa.Double(), nullable=False),
        sa.Column("customer_visits", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("approvals", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_connection_applications_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["network_version_id"],
            ["network_versions.id"],
            name=op.f("fk_connection_applications_network_version_id_network_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_connection_applications_work_order_id_work_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_applications")),
    )
    with op.batch_alter_table("connection_applications", schema=None) as batch_op:
        batch_op.create_index("ix_connection_applications_completed_at", ["completed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_connection_applications_current_step"), ["current_step"], unique=False
        )
        batch_op.create_index("ix_connection_applications_submitted_at", ["submitted_at"], unique=False)

    op.create_table(
        "party_activity_attendance",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["party_activities.id"],
            name=op.f("fk_party_activity_attendance_activity_id_party_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["party_members.id"],
            name=op.f("fk_party_activity_attendance_member_id_party_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "member_id", name=op.f("pk_party_activity_attendance")),
    )
    op.create_table(
        "party_competition_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("contestant", sa.String(length=128), nullable=False),
        sa.Column("lecture_title", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["party_competitions.id"],
            name=op.f("fk_party_competition_entries_competition_id_party_competitions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["party_members.id"],
            name=op.f("fk_party_competition_entries_member_id_party_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_competition_entries")),
    )
    with op.batch_alter_table("party_competition_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_party_competition_entries_competition_id"), ["competition_id"], unique=False
        )

    op.create_table(
        "party_vanguard_callouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("led_response", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crew_id"],
            ["crews.id"],
            name=op.f("fk_party_vanguard_callouts_crew_id_crews"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_party_vanguard_callouts_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_party_vanguard_callouts_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_vanguard_callouts")),
    )
    with op.batch_alter_table("party_vanguard_callouts", schema=None) as batch_op:
        batch_op.create_index("ix_party_vanguard_callouts_called_at", ["called_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_party_vanguard_callouts_crew_id"), ["crew_id"], unique=False)

    op.create_table(
        "party_vanguard_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("area_kind", sa.String(length=16), nullable=False),
        sa.Column("area", sa.String(length=128), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["party_members.id"],
            name=op.f("fk_party_vanguard_posts_member_id_party_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_vanguard_posts")),
    )
    with op.batch_alter_table("party_vanguard_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_party_vanguard_posts_member_id"), ["member_id"], unique=False)

    op.create_table(
        "party_work_participation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("hours", sa.Double(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_party_work_participation_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["party_members.id"],
            name=op.f("fk_party_work_participation_member_id_party_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_party_work_participation_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_work_participation")),
        sa.UniqueConstraint("member_id", "work_order_id", name="uq_party_work_participation_member_wo"),
    )
    with op.batch_alter_table("party_work_participation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_party_work_participation_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_party_work_participation_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_party_work_participation_work_order_id"), ["work_order_id"], unique=False
        )

    op.create_table(
        "connection_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("owner_name", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["connection_applications.id"],
            name=op.f("fk_connection_steps_application_id_connection_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_connection_steps_owner_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_steps")),
    )
    with op.batch_alter_table("connection_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connection_steps_application_id"), ["application_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("connection_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connection_steps_application_id"))

    op.drop_table("connection_steps")
    with op.batch_alter_table("party_work_participation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_work_participation_work_order_id"))
        batch_op.drop_index(batch_op.f("ix_party_work_participation_member_id"))
        batch_op.drop_index(batch_op.f("ix_party_work_participation_incident_id"))

    op.drop_table("party_work_participation")
    with op.batch_alter_table("party_vanguard_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_vanguard_posts_member_id"))

    op.drop_table("party_vanguard_posts")
    with op.batch_alter_table("party_vanguard_callouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_vanguard_callouts_crew_id"))
        batch_op.drop_index("ix_party_vanguard_callouts_called_at")

    op.drop_table("party_vanguard_callouts")
    with op.batch_alter_table("party_competition_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_competition_entries_competition_id"))

    op.drop_table("party_competition_entries")
    op.drop_table("party_activity_attendance")
    with op.batch_alter_table("connection_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_connection_applications_submitted_at")
        batch_op.drop_index(batch_op.f("ix_connection_applications_current_step"))
        batch_op.drop_index("ix_connection_applications_completed_at")

    op.drop_table("connection_applications")
    with op.batch_alter_table("party_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_members_branch_id"))

    op.drop_table("party_members")
    with op.batch_alter_table("party_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_party_activities_held_at")
        batch_op.drop_index(batch_op.f("ix_party_activities_branch_id"))

    op.drop_table("party_activities")
    op.drop_table("party_branches")
    with op.batch_alter_table("report_quality_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_report_quality_samples_taken_at")

    op.drop_table("report_quality_samples")
    op.drop_table("report_monthly_volumes")
    op.drop_table("party_competitions")
