"""`runze telemetry ...`: MQTT ingest, CSV import/export, demo replay, live twin.

    runze telemetry listen --broker mqtt://127.0.0.1:1883 [--db URL] [--prefix runze/readings] [--client-id ID]
    runze telemetry import FILE.csv [--db URL]
    runze telemetry export --sensor ID [--from T --to T] -o FILE.csv [--db URL]
    runze telemetry replay [--broker URL] [--speed X] [--hours H]
    runze telemetry twin [--db URL] [--at T] [--every MIN]

Errors end with a message (Chinese and English) and exit code 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import typer

MESSAGES = {
    "error": "错误 / error",
    "listening": "正在接收 / listening",
    "stopped": "已停止 / stopped",
    "stats": "已入库批次 / batches stored",
    "imported": "已导入 / imported",
    "exported": "已导出 / exported",
    "replay": "演示回放 / demo replay",
    "published": "已发布 / published",
    "no_schema": "数据库未初始化，请先运行 runze init / database not initialised: run `runze init` first",
    "bad_time": "时间须为 ISO 8601 且带时区 / times must be ISO 8601 with an offset",
    "twin": "实时孪生 / live twin",
}

telemetry_app = typer.Typer(help="遥测 Telemetry: MQTT ingest, CSV import/export, alarms, demo replay, live twin.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(telemetry_app, name="telemetry")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']}: {message}", err=True)
    raise typer.Exit(code=2)


def _open(db_url: str | None):  # noqa: ANN202  (heavy imports stay inside commands)
    from runze.ops.database import open_database, schema_state
    from runze.settings import get_settings

    settings = get_settings()
    try:
        database = open_database(settings, db_url)
        current, head = schema_state(database)
    except Exception as exc:  # bad URL, unreachable server: a message, not a traceback
        _fail(f"cannot open the database {db_url or settings.database_url!r}: {exc}")
        raise
    if current != head:
        _fail(MESSAGES["no_schema"] + f" (schema {current}, code {head})")
    return database


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        _fail(f"{MESSAGES['bad_time']}: {value!r}")
    return when


@telemetry_app.command("listen")
def listen(
    broker: str = typer.Option("mqtt://127.0.0.1:1883", "--broker", help="mqtt://HOST:PORT"),
    db: str | None = typer.Option(None, "--db", help="database URL (default: RUNZE_DATABASE_URL or SQLite file)"),
    prefix: str = typer.Option("runze/readings", "--prefix", help="topic prefix; topics are PREFIX/<sensor id>"),
    client_id: str = typer.Option("runze-ingest", "--client-id", help="fixed id: the broker keeps our session"),
    batch_size: int = typer.Option(5000, "--batch-size", min=1),
    flush_ms: int = typer.Option(250, "--flush-ms", min=1, help="longest wait before a partial batch is stored"),
    no_alarms: bool = typer.Option(False, "--no-alarms", help="store readings without running the alarm engine"),
    silence_check_s: float = typer.Option(60.0, "--silence-check-s", min=0.0,
                                          help="seconds between silent-sensor checks on the wall clock (0: off)"),
) -> None:
    """接收 MQTT 读数入库 Subscribe to PREFIX/+ (QoS 1), store batches, acknowledge after each commit."""
    from runze.ops import telemetry as ops
    from runze.telemetry.mqtt import Subscriber, parse_broker

    try:
        parse_broker(broker)
    except ValueError as exc:
        _fail(str(exc))
    database = _open(db)
    stop = threading.Event()
    stored = {"readings": 0, "quarantined": 0, "alarms": 0}

    def store(batch) -> None:  # noqa: ANN001
        with database.session() as session:
            report = ops.ingest_messages(session, batch, prefix=prefix, alarms=not no_alarms)
        stored["readings"] += report.stored
        stored["quarantined"] += report.quarantined
        stored["alarms"] += len(report.alarm_events)

    def ready() -> None:
        typer.echo(f"{MESSAGES['listening']}: {broker} {prefix}/+ (client id {client_id})")
        sys.stdout.flush()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    subscriber = Subscriber(broker, store, client_id=client_id, prefix=prefix, batch_size=batch_size,
                            flush_s=flush_ms / 1000.0, on_ready=ready)
    reporter = threading.Thread(target=_report_loop, args=(subscriber, stored, stop), daemon=True)
    reporter.start()
    if silence_check_s > 0 and not no_alarms:
        threading.Thread(target=_silence_loop, args=(database, silence_check_s, stored, stop), daemon=True).start()
    try:
        subscriber.run(stop)
    except OSError as exc:
        _fail(f"cannot reach the broker {broker}: {exc}")
    finally:
        database.dispose()
    typer.echo(f"{MESSAGES['stopped']}: {subscriber.stats.stored_batches} batches, {stored}")


def _silence_loop(database, every_s: float, stored: dict, stop: threading.Event) -> None:  # noqa: ANN001
    from datetime import UTC

    from runze.ops import telemetry as ops

    while not stop.wait(every_s):
        try:
            with database.session() as session:
                stored["alarms"] += len(ops.check_silence(session, datetime.now(UTC)))
        except Exception as exc:  # database busy or down: the next round tries again
            typer.echo(f"{MESSAGES['error']}: silence check: {exc}", err=True)


def _report_loop(subscriber, stored: dict, stop: threading.Event) -> None:  # noqa: ANN001
    while not stop.wait(10.0):
        typer.echo(f"{MESSAGES['stats']}: {subscriber.stats.stored_batches}, {stored}")
        sys.stdout.flush()


@telemetry_app.command("import")
def import_csv(
    file: Path = typer.Argument(..., help="tidy CSV: timestamp,sensor_id,value,unit[,quality]"),
    db: str | None = typer.Option(None, "--db", help="database URL"),
    no_alarms: bool = typer.Option(False, "--no-alarms"),
) -> None:
    """导入 CSV 读数 Import readings; bad rows go to quarantine with file:line and the reason."""
    from runze.ops import telemetry as ops

    if not file.is_file():
        _fail(f"no such file: {file}")
    database = _open(db)
    started = time.perf_counter()
    try:
        with database.session() as session:
            report = ops.import_file(session, file, alarms=not no_alarms)
    finally:
        database.dispose()
    typer.echo(f"{MESSAGES['imported']}: {report.to_dict()} in {time.perf_counter() - started:.1f} s")


@telemetry_app.command("export")
def export_csv(
    sensor: str = typer.Option(..., "--sensor", help="sensor id"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV file to write"),
    start: str | None = typer.Option(None, "--from", help="ISO 8601 with offset, inclusive"),
    end: str | None = typer.Option(None, "--to", help="ISO 8601 with offset, exclusive"),
    db: str | None = typer.Option(None, "--db", help="database URL"),
) -> None:
    """导出测点读数 Export one sensor's readings as tidy CSV (canonical unit, local time)."""
    from runze.ops import telemetry as ops
    from runze.ops.errors import OpsError

    t0, t1 = _time(start), _time(end)
    database = _open(db)
    try:
        with database.session() as session:
            count = ops.export_csv(session, sensor, output, start=t0, end=t1)
    except OpsError as exc:
        _fail(f"{exc.message_zh} / {exc.message}")
    finally:
        database.dispose()
    typer.echo(f"{MESSAGES['exported']}: {count} → {output}")


@telemetry_app.command("replay")
def replay(
    broker: str = typer.Option("mqtt://127.0.0.1:1883", "--broker", help="mqtt://HOST:PORT"),
    speed: float = typer.Option(720.0, "--speed", min=1.0, help="simulated seconds per second (720: a day in 2 min)"),
    hours: float = typer.Option(24.0, "--hours", min=0.25, max=24.0),
    prefix: str = typer.Option("runze/readings", "--prefix"),
    step_s: int = typer.Option(300, "--step", min=60, help="reading interval (s)"),
    db: str | None = typer.Option(None, "--db", help="database whose sensor list gets the demo city's sensors"),
    no_register: bool = typer.Option(False, "--no-register", help="do not register the sensors in the database"),
) -> None:
    """演示回放 Publish a simulated day of the demo city (rainstorm night at plant 3) through MQTT."""
    from runze.telemetry import replay as rp

    typer.echo(f"{MESSAGES['replay']}: building the demo city and simulating {hours:g} h ...")
    scenario = rp.build_scenario(hours=hours, step_s=step_s)
    typer.echo(f"{len(scenario.readings)} readings, {len(scenario.sensors)} sensors; events: "
               + "; ".join(scenario.events))
    if not no_register:  # a level in "m" cannot tell its kind by itself: the listener needs the sensor list
        from runze.ops import telemetry as ops

        database = _open(db)
        try:
            with database.session() as session:
                rows = [{"sensor_id": s["id"], "kind": s["kind"], "unit": s["unit"], "element": s["element"],
                         "name": s.get("name", ""), "role": ops.role_of(s["id"], s["kind"])}
                        for s in scenario.sensors]
                ops.register_sensors_now(session, rows)
        finally:
            database.dispose()
    try:
        sent = rp.publish(scenario, broker, speed=speed, prefix=prefix, progress=lambda m: typer.echo(m))
    except OSError as exc:
        _fail(f"cannot reach the broker {broker}: {exc}")
    typer.echo(f"{MESSAGES['published']}: {sent}")


@telemetry_app.command("twin")
def twin(
    db: str | None = typer.Option(None, "--db", help="database URL"),
    at: str | None = typer.Option(None, "--at", help="ISO 8601 with offset (default: the newest stored reading)"),
    every: float = typer.Option(0.0, "--every", min=0.0, help="repeat every MIN minutes (0: once)"),
    window: float = typer.Option(15.0, "--window", min=1.0, help="minutes of readings before AT to use"),
    inp: Path | None = typer.Option(None, "--inp", help="network .inp (with its .json sidecar); default: demo city"),
) -> None:
    """实时孪生 Run the hydraulic model on the latest measurements and store pressure residuals."""
    from runze.ops import telemetry as ops

    if inp is not None:
        from runze.network.inp import read_inp

        try:
            network = read_inp(inp)
        except Exception as exc:  # InpError names file/line/field
            _fail(str(exc))
    else:
        from runze.network.demo_city import build_demo_city

        network = build_demo_city()
    fixed = _time(at)
    database = _open(db)
    try:
        while True:
            with database.session() as session:
                when = fixed or ops.newest_reading_time(session)
                if when is None:
                    _fail("no readings stored yet / 尚无读数")
                run = ops.run_twin(session, network, when, window_s=window * 60.0)
            summary = run.summary
            typer.echo(f"{MESSAGES['twin']}: run {run.id} at {when.isoformat()} {run.status}; "
                       f"{summary.get('measurements', 0)} measurements, {summary.get('sensors', 0)} pressure "
                       f"sensors, rmse {summary.get('rmse_mpa', float('nan')):.4f} MPa, worst "
                       f"{summary.get('worst_sensor')} {summary.get('worst_mpa', float('nan')):+.4f} MPa"
                       + (f" ({run.error})" if run.error else ""))
            if every <= 0:
                break
            time.sleep(every * 60.0)
    finally:
        database.dispose()
