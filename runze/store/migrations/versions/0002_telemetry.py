"""Telemetry: sensors, readings (primary key sensor + time: idempotent), quarantine, alarms, alarm-engine state,
live-twin runs and residuals (issue 9).

Revision ID: 0002_telemetry
Revises: 0001
Create Date: 2026-11-25 07:33:15.850338
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_telemetry"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telemetry_engine_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_telemetry_engine_state")),
    )
    op.create_table(
        "telemetry_quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_zh", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_quarantine")),
    )
    with op.batch_alter_table("telemetry_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_telemetry_quarantine_received_at", ["received_at"], unique=False)

    op.create_table(
        "telemetry_sensors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("element", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_sensors")),
        sa.UniqueConstraint("sensor_id", name=op.f("uq_telemetry_sensors_sensor_id")),
    )
    op.create_table(
        "twin_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("network_name", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_twin_runs")),
    )
    with op.batch_alter_table("twin_runs", schema=None) as batch_op:
        batch_op.create_index("ix_twin_runs_at", ["at"], unique=False)

    op.create_table(
        "telemetry_readings",
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("t", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sensor_id", "t", name=op.f("pk_telemetry_readings")),
    )
    op.create_table(
        "twin_residuals",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("measured", sa.Double(), nullable=False),
        sa.Column("modelled", sa.Double(), nullable=False),
        sa.Column("residual", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["twin_runs.id"], name=op.f("fk_twin_residuals_run_id_twin_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "sensor_id", name=op.f("pk_twin_residuals")),
    )
    op.create_table(
        "telemetry_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raise_value", sa.Double(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clear_value", sa.Double(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_telemetry_alarms_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_telemetry_alarms_work_order_id_work_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_alarms")),
        sa.UniqueConstraint("code", name=op.f("uq_telemetry_alarms_code")),
    )
    with op.batch_alter_table("telemetry_alarms", schema=None) as batch_op:
        batch_op.create_index("ix_telemetry_alarms_raised_at", ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_telemetry_alarms_sensor_id"), ["sensor_id"], unique=False)
        batch_op.create_index("ix_telemetry_alarms_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telemetry_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_telemetry_alarms_status")
        batch_op.drop_index(batch_op.f("ix_telemetry_alarms_sensor_id"))
        batch_op.drop_index("ix_telemetry_alarms_raised_at")

    op.drop_table("telemetry_alarms")
    op.drop_table("twin_residuals")
    op.drop_table("telemetry_readings")
    with op.batch_alter_table("twin_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_twin_runs_at")

    op.drop_table("twin_runs")
    op.drop_table("telemetry_sensors")
    with op.batch_alter_table("telemetry_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_telemetry_quarantine_received_at")

    op.drop_table("telemetry_quarantine")
    op.drop_table("telemetry_engine_state")
