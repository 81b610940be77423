"""`runze demo`: the project's main job — the dashboard on the demo city with a replayed day streaming in.

    runze demo [--host H] [--port P] [--db URL|FILE] [--broker mqtt://HOST:PORT] [--speed X] [--hours H]
               [--start-hour HH] [--no-replay] [--no-serve] [--summary-only]

1. Brings the database (default: embedded SQLite ./runze-data/runze.db) to the code's schema and, when it has no
   users, loads the demo (demo city + a year of records), as `runze serve --demo` does.
2. Prints the demo city's summary in a few lines (`runze.network.demo_city.city_summary`).
3. Serves the dashboard (uvicorn, the same app as `runze serve`) and prints its address and a demo login.
4. Replays a simulated day (issue 9: rainstorm night, turbidity rising at the intakes, plant 3 limited, a burst)
   through MQTT into the store: a publisher and a listener (`runze.telemetry.mqtt.Subscriber` wired to
   `runze.ops.telemetry.ingest_messages`, store-then-acknowledge) run in background threads of this process.
   With no broker reachable it says so in one line and feeds the same readings straight into the store.

Why the replayed day is dated where it is: the alarm engine ignores readings at or before the last one it has
evaluated, so replaying the same timestamps again would store nothing and raise nothing.  The day starts at
START-HOUR on the day before today, or on the first day after the newest stored reading if that is later, so a
second `runze demo` streams new readings and the alarms move again.

`--summary-only` keeps the earlier provisional command: write the city's .inp/.json into ./runze-data and print
the full summary with the 24 h EPANET 2.3 check (`runze.cli.demo_city.print_city`).
Ctrl-C (or SIGTERM) stops the server, then the replay threads, and exits 0.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import typer

CST = timezone(timedelta(hours=8))
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"
DEFAULT_PREFIX = "runze/demo"  # not runze/readings: the demo's readings stay out of a live listener's topics
DEMO_LOGIN = "dispatcher"

TEXT = {
    "help": "演示：示范城市看板 + 一天的遥测回放 / Demo: the dashboard on the demo city with a replayed day of "
            "telemetry",
    "error": "错误 / error",
    "migrated": "数据库 / database: {url} (schema {rev})",
    "loading": "首次运行：载入示范城市和一年的运行记录 … / first run: loading the demo city and a year of records …",
    "loaded": "示范数据已载入 / demo data loaded: {wo} work orders, {inc} incidents ({sec:.0f} s)",
    "present": "示范数据已存在 / demo data already present",
    "city": "示范城市 / Demo city: {plants} plants, {cap:,.0f} m³/d capacity, {demand:,.0f} m³/d average demand, "
            "{km:.0f} km mains, {dmas} DMAs, {cust:,} connections, {sensors} sensors",
    "dashboard": "润泽 Runze dashboard: {url}/  (login: {user} / password {password})",
    "docs": "接口文档 / API docs: {url}/docs   停止 / stop: Ctrl-C",
    "port_busy": "端口已被占用 / port in use: {host}:{port} ({err}); choose another with --port",
    "replay_build": "回放 / replay: simulating {hours:g} h of the demo city from {start} …",
    "replay_ready": "回放 / replay: {n} readings, {s} sensors, {speed:g}× real time; events: {events}",
    "via_mqtt": "回放经 MQTT / replay via MQTT: {broker} topics {prefix}/+",
    "no_broker": "MQTT 代理不可达 ({broker}: {err})，回放直接写入数据库 / no MQTT broker reachable, "
                 "feeding the replay straight into the store",
    "progress": "回放 / replay {clock}: published {pub}, stored {stored}, quarantined {quar}, alarms raised "
                "{raised}",
    "alarm": "  报警 / alarm {code} {rule} {sensor} = {value} at {at}",
    "done": "回放完成 / replay done: {pub} readings sent, {stored} stored, {quar} quarantined, {raised} alarms "
            "raised ({sec:.0f} s)",
    "unstored": "警告 / warning: {n} published readings were not stored before the timeout",
    "stopping": "正在停止 / stopping …",
    "fallback": "./runze-data 不可写, 改用临时目录 / ./runze-data not writable, using {path}",
}


def register(app: typer.Typer) -> None:
    app.command("demo", help=TEXT["help"])(demo)


def _fail(message: str) -> None:
    typer.echo(f"{TEXT['error']}: {message}", err=True)
    raise typer.Exit(code=2)


def _say(message: str) -> None:
    typer.echo(message)
    sys.stdout.flush()  # the address line must reach a pipe (tests, make) at once


def _database_url(db: str | None) -> str | None:
    """A URL as given, a bare path as an SQLite file, None for the settings' default."""
    if db is None or "://" in db:
        return db
    return f"sqlite:///{Path(db).resolve()}"


def _check_port(host: str, port: int) -> None:
    """Fail now, with a message, rather than after the demo is loaded and uvicorn exits on a busy port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            _fail(TEXT["port_busy"].format(host=host, port=port, err=exc.strerror or exc))


def _prepare(settings):  # noqa: ANN001, ANN202
    """Open and migrate the database; load the demo when it has no users."""
    from runze.ops import database as db_ops
    from runze.ops.errors import OpsError

    try:
        database = db_ops.open_database(settings)
        db_ops.migrate(database)
        rev = db_ops.schema_state(database)[0]
        _say(TEXT["migrated"].format(url=database.url, rev=rev))
        with database.session() as session:
            empty = not db_ops.has_users(session)
        if empty:
            from runze.ops.demo import load_demo

            _say(TEXT["loading"])
            started = time.perf_counter()
            with database.session() as session:
                report = load_demo(session, settings)
            _say(TEXT["loaded"].format(wo=report.work_orders, inc=report.incidents,
                                       sec=time.perf_counter() - started))
        else:
            _say(TEXT["present"])
    except OpsError as exc:
        _fail(exc.message)
    except Exception as exc:  # bad URL, unreachable server, unwritable folder: a message, not a traceback
        _fail(f"cannot open the database {settings.database_url!r}: {type(exc).__name__}: {exc}")
    return database


def _print_summary(net) -> None:  # noqa: ANN001
    from runze.network.demo_city import city_summary

    s = city_summary(net)
    _say(TEXT["city"].format(plants=len(s["plants"]), cap=s["capacity_m3d"], demand=s["average_demand_m3d"],
                             km=s["mains_km"], dmas=s["dmas"], cust=s["customers"], sensors=s["sensors"]))


def replay_start(database, start_hour: int, now: datetime | None = None) -> datetime:  # noqa: ANN001
    """START-HOUR on the day before today (CST), or on the day after the newest stored reading if later."""
    from runze.ops.telemetry import newest_reading_time

    today = (now or datetime.now(CST)).astimezone(CST).date()
    start = datetime(today.year, today.month, today.day, start_hour, tzinfo=CST) - timedelta(days=1)
    with database.session() as session:
        newest = newest_reading_time(session)
    if newest is not None:  # the first START-HOUR after the newest stored reading
        day = newest.astimezone(CST).date()
        after = datetime(day.year, day.month, day.day, start_hour, tzinfo=CST)
        start = max(start, after if after > newest else after + timedelta(days=1))
    return start


def _local(at: object) -> str:
    """An event time (ISO text) as CST clock time, the way the dashboard shows it."""
    try:
        return datetime.fromisoformat(str(at)).astimezone(CST).strftime("%m-%d %H:%M")
    except ValueError:
        return str(at)


class ReplayRunner:
    """Build the scenario, then publish it paced through MQTT to a listener in this process (or store directly)."""

    def __init__(self, database, network, *, broker: str, speed: float, hours: float, start_hour: int,  # noqa: ANN001
                 step_s: int, prefix: str) -> None:
        self.database, self.network = database, network
        self.broker, self.speed, self.hours, self.step_s = broker, speed, hours, step_s
        self.start_hour, self.prefix = start_hour, prefix.rstrip("/")
        self.stop = threading.Event()
        self.done = threading.Event()
        self.error: str | None = None
        self.published = self.stored = self.quarantined = self.raised = 0
        self.unstored = 0
        self.via_mqtt = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._main, name="runze-demo-replay", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _main(self) -> None:
        started = time.perf_counter()
        try:
            self._run()
            _say(TEXT["done"].format(pub=self.published, stored=self.stored, quar=self.quarantined,
                                     raised=self.raised, sec=time.perf_counter() - started))
        except Exception as exc:  # shown, not a traceback; the server keeps running
            self.error = f"{type(exc).__name__}: {exc}"
            typer.echo(f"{TEXT['error']}: replay: {self.error}", err=True)
        finally:
            self.done.set()

    def _store(self, batch) -> None:  # noqa: ANN001
        from runze.ops import telemetry as ops

        with self.database.session() as session:
            report = ops.ingest_messages(session, batch, prefix=self.prefix)
        with self._lock:
            self.stored += report.stored
            self.quarantined += report.quarantined
        for event in report.alarm_events:
            if event.get("type") != "raised":
                continue
            with self._lock:
                self.raised += 1
            # the 30 % step rule fires often on small DMA flows, and every sensor goes "silent" across the gap
            # between two replays: counted, not listed
            if event.get("rule_id") not in ("flow_step", "silent"):
                value = event.get("value")
                _say(TEXT["alarm"].format(code=event.get("alarm_id"), rule=event.get("rule_id"),
                                          sensor=event.get("sensor_id"), at=_local(event.get("at")),
                                          value="-" if value is None else f"{value:.3f}"))

    def _run(self) -> None:
        from runze.ops import telemetry as ops
        from runze.telemetry import replay as rp
        from runze.telemetry.mqtt import Subscriber, connect_publisher, forget_session

        start = replay_start(self.database, self.start_hour)
        _say(TEXT["replay_build"].format(hours=self.hours, start=start.isoformat()))
        scenario = rp.build_scenario(hours=self.hours, step_s=self.step_s, start=start, network=self.network)
        _say(TEXT["replay_ready"].format(n=len(scenario.readings), s=len(scenario.sensors), speed=self.speed,
                                         events="; ".join(scenario.events)))
        # a level in "m" cannot tell its own kind: the sensors are registered before the first reading
        with self.database.session() as session:
            ops.register_sensors_now(session, [
                {"sensor_id": s["id"], "kind": s["kind"], "unit": s["unit"], "element": s["element"],
                 "name": s.get("name", ""), "role": ops.role_of(s["id"], s["kind"])} for s in scenario.sensors])
        by_time: dict[float, list[tuple[str, dict]]] = {}
        for sec, sid, payload in scenario.readings:
            by_time.setdefault(sec, []).append((sid, payload))

        client = subscriber = listener = None
        sub_stop = threading.Event()
        client_id = f"runze-demo-{os.getpid()}"
        try:
            client = connect_publisher(self.broker)
        except (OSError, ValueError) as exc:
            _say(TEXT["no_broker"].format(broker=self.broker, err=getattr(exc, "strerror", None) or exc))
        if client is not None:
            subscriber = Subscriber(self.broker, self._store, client_id=client_id, prefix=self.prefix,
                                    batch_size=2000, flush_s=0.25)
            listener = threading.Thread(target=subscriber.run, args=(sub_stop,), name="runze-demo-listen",
                                        daemon=True)
            listener.start()
            if not subscriber.subscribed.wait(15.0):
                raise RuntimeError(f"the listener did not subscribe at {self.broker}")
            self.via_mqtt = True
            _say(TEXT["via_mqtt"].format(broker=self.broker, prefix=self.prefix))
        try:
            self._pace(scenario, by_time, client)
            if subscriber is not None:  # wait until the listener has stored what the broker confirmed
                deadline = time.monotonic() + 60.0
                while subscriber.stats.acknowledged < self.published and time.monotonic() < deadline \
                        and not self.stop.is_set():
                    time.sleep(0.1)
                self.unstored = max(0, self.published - subscriber.stats.acknowledged)
                if self.unstored and not self.stop.is_set():
                    _say(TEXT["unstored"].format(n=self.unstored))
        finally:
            if client is not None:
                client.disconnect()
                client.loop_stop()
            if listener is not None:
                sub_stop.set()
                listener.join(10.0)
                try:  # the demo's session is not worth keeping on the broker
                    forget_session(self.broker, client_id)
                except OSError:
                    pass

    def _pace(self, scenario, by_time: dict, client) -> None:  # noqa: ANN001
        from runze.telemetry.messages import Message
        from runze.telemetry.mqtt import publish_readings

        wall0 = time.monotonic()
        for sec in sorted(by_time):
            if self.stop.wait(max(0.0, wall0 + sec / self.speed - time.monotonic())):
                return
            batch = by_time[sec]
            if client is not None:
                self.published += publish_readings(self.broker, batch, prefix=self.prefix, client=client)
            else:
                now = datetime.now(UTC)
                self._store([Message(f"{self.prefix}/{sid}", json.dumps(p).encode(), now) for sid, p in batch])
                self.published += len(batch)
            if int(sec) % 3600 == 0 and sec > 0:
                clock = (scenario.start + timedelta(seconds=sec)).astimezone(CST).strftime("%m-%d %H:%M")
                _say(TEXT["progress"].format(clock=clock, pub=self.published, stored=self.stored,
                                             quar=self.quarantined, raised=self.raised))


def _summary_only(seed: int) -> None:
    """The earlier provisional `runze demo`: write the city into ./runze-data and print the full check."""
    from runze.cli.demo_city import _generate, print_city

    out = Path("runze-data")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError:
        out = Path(tempfile.mkdtemp(prefix="runze-demo-"))
        _say(TEXT["fallback"].format(path=out))
    inp, side, sec = _generate(out, seed, 1.0)
    _say(f"{inp} + {side}  ({sec:.1f} s)")
    print_city(inp)


def _serve(settings, database, runner: ReplayRunner | None, log_level: str) -> None:  # noqa: ANN001
    import uvicorn

    from runze.ops.demo import DEMO_PASSWORD
    from runze.web import create_app

    app = create_app(settings, database=database)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level=log_level))
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{settings.port}"

    def banner() -> None:  # after the socket is listening, so whoever reads the line can connect at once
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            _say(TEXT["dashboard"].format(url=url, user=DEMO_LOGIN, password=DEMO_PASSWORD))
            _say(TEXT["docs"].format(url=url))
            if runner is not None:
                runner.start()

    threading.Thread(target=banner, name="runze-demo-banner", daemon=True).start()
    server.run()  # handles Ctrl-C / SIGTERM itself, then re-raises them into our handlers (see demo())


def demo(
    host: str | None = typer.Option(None, "--host", help="address to listen on (default 127.0.0.1)"),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="port (default 8000)"),
    db: str | None = typer.Option(None, "--db", help="database URL or SQLite file (default ./runze-data/runze.db)"),
    broker: str = typer.Option(DEFAULT_BROKER, "--broker", help="MQTT broker mqtt://HOST:PORT"),
    speed: float = typer.Option(60.0, "--speed", min=1.0, help="replay pace: simulated seconds per second"),
    hours: float = typer.Option(24.0, "--hours", min=0.25, max=24.0, help="hours of the day to replay"),
    # 12..23 only: the replay's storm clock (runze.telemetry.replay) counts hours after noon of the start day
    start_hour: int = typer.Option(12, "--start-hour", min=12, max=23,
                                   help="clock hour the replay starts, 12-23 (12: noon to noon through the storm; "
                                        "22: straight into the rain)"),
    step_s: int = typer.Option(300, "--step", min=60, help="reading interval (s)"),
    prefix: str = typer.Option(DEFAULT_PREFIX, "--prefix", help="MQTT topic prefix of the replay"),
    no_replay: bool = typer.Option(False, "--no-replay", help="serve the dashboard without the replay"),
    no_serve: bool = typer.Option(False, "--no-serve", help="build, summary and replay only; exit when done"),
    summary_only: bool = typer.Option(False, "--summary-only",
                                      help="only write the demo city's files and print the full summary + "
                                           "EPANET check"),
    seed: int = typer.Option(2026, "--seed", help="demo city seed (with --summary-only)"),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level"),
) -> None:
    """演示 Demo: the dashboard on the demo city, with a replayed rainstorm day streaming in through MQTT."""
    if summary_only:
        _summary_only(seed)
        return
    from runze.settings import get_settings
    from runze.telemetry.mqtt import parse_broker

    try:
        parse_broker(broker)
    except ValueError as exc:
        _fail(str(exc))
    updates = {k: v for k, v in {"database_url": _database_url(db), "host": host, "port": port}.items()
               if v is not None}
    settings = get_settings().model_copy(update=updates)
    if not no_serve:
        _check_port(settings.host, settings.port)
    database = _prepare(settings)
    from runze.network.demo_city import build_demo_city

    network = build_demo_city()
    _print_summary(network)
    runner = None if no_replay else ReplayRunner(database, network, broker=broker, speed=speed, hours=hours,
                                                 start_hour=start_hour, step_s=step_s, prefix=prefix)
    stopping = threading.Event()

    def on_signal(*_args) -> None:  # noqa: ANN002
        stopping.set()
        if runner is not None:
            runner.stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        if not no_serve:
            _serve(settings, database, runner, log_level)
        elif runner is not None:
            runner.start()
            while not runner.done.wait(0.2):
                pass
    finally:
        if runner is not None and runner.thread.is_alive():
            _say(TEXT["stopping"])
            runner.stop.set()
            runner.thread.join(20.0)
        database.dispose()
    if no_serve and runner is not None and (runner.error or (runner.unstored and not stopping.is_set())):
        raise typer.Exit(code=1)
