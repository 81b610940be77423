"""Sustained ingest rate of readings into SQLite and PostgreSQL (readings per second).

    python benchmarks/bench_ingest.py [--readings 1000000] [--batch 50000] [--repeats 3] [--no-pg] [--mqtt 20000]

Three levels, each on a fresh migrated database (SQLite file in a temp dir; PostgreSQL database created on
127.0.0.1:5432 and dropped at the end):

1. writer: `runze.telemetry.ingest.write_readings` with each method (copy / executemany / sqlalchemy), batches of
   new readings for 200 sensors, one transaction per batch, plus a pass re-sending the same batches (all
   duplicates: the idempotent path);
2. pipeline: `runze.ops.telemetry.ingest_messages` on JSON messages (validation, unit conversion, sensors,
   write, with and without the alarm engine), batches of 5,000 messages;
3. MQTT (optional, --mqtt N): N messages published to Mosquitto, received by a `Subscriber` thread, stored and
   acknowledged; rate from the first to the last acknowledgement.

Every figure is one timed run; repeats show the noise (the machine is shared: report the load average too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import psycopg

from runze.ops import telemetry as ops
from runze.ops.database import migrate, open_database
from runze.settings import Settings
from runze.store.telemetry_models import Reading
from runze.telemetry.ingest import ReadingArrays, write_readings
from runze.telemetry.messages import Message

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
SENSORS = 200
T0_US = 1_764_000_000 * 1_000_000


def fresh_db(kind: str, tmp: str):  # noqa: ANN201
    if kind == "sqlite":
        url = f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:6]}.db"
        name = None
    else:
        name = f"runze_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    db = open_database(Settings(), url)
    migrate(db)
    with db.session() as session:
        ops.register_sensors_now(session, [{"sensor_id": f"S{i:03d}", "kind": "pressure", "unit": "MPa"}
                                           for i in range(SENSORS)])
    return db, name


def drop(db, name: str | None) -> None:  # noqa: ANN001
    db.dispose()
    if name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def writer_runs(db, method: str, total: int, batch: int, start_step: int) -> tuple[float, float, int]:  # noqa: ANN001
    """(new readings/s, duplicate readings/s, next step): `total` new readings, then the same again."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        keys = np.array([r[0] for r in conn.execute(text("SELECT id FROM telemetry_sensors ORDER BY id"))],
                        dtype=np.int32)
    steps_per_batch = batch // SENSORS
    batches = []
    step = start_step
    for _ in range(max(1, total // batch)):
        t = T0_US + (step + np.repeat(np.arange(steps_per_batch), SENSORS)) * 60_000_000
        batches.append(ReadingArrays.of(np.tile(keys, steps_per_batch), t,
                                        np.random.default_rng(step).random(len(t))))
        step += steps_per_batch
    rates = []
    for _pass in range(2):  # new, then all duplicates
        n = 0
        started = time.perf_counter()
        for b in batches:
            with db.engine.begin() as conn:
                got = write_readings(conn, Reading.__table__, b, method=method)
            n += len(b)
            if _pass == 0 and got not in (len(b), -1) and not (method == "sqlalchemy" and got == 0):
                raise AssertionError(f"{method}: {got} of {len(b)} new readings inserted")
        rates.append(n / (time.perf_counter() - started))
    return rates[0], rates[1], step


def pipeline_run(db, total: int, alarms: bool, start_step: int) -> tuple[float, int]:  # noqa: ANN001
    now = datetime.now(UTC)
    msgs = []
    for k in range(total):
        step = start_step + k // SENSORS
        t = datetime.fromtimestamp((T0_US // 1_000_000) + step * 60, tz=UTC).isoformat()
        body = {"t": t, "v": 0.3 + (k % 13) / 1000.0, "unit": "MPa", "q": "good"}
        msgs.append(Message(f"runze/readings/S{k % SENSORS:03d}", json.dumps(body).encode(), now))
    started = time.perf_counter()
    for i in range(0, total, 5000):
        with db.session() as session:
            ops.ingest_messages(session, msgs[i:i + 5000], alarms=alarms)
    return total / (time.perf_counter() - started), start_step + total // SENSORS + 1


def mqtt_run(db, total: int, start_step: int) -> float:  # noqa: ANN001
    from runze.telemetry.mqtt import Subscriber, forget_session, publish_readings

    tag = uuid.uuid4().hex[:8]
    prefix, client_id = f"runze-bench-{tag}/readings", f"runze-bench-{tag}"
    marks: list[float] = []

    def store(batch) -> None:  # noqa: ANN001
        with db.session() as session:
            ops.ingest_messages(session, batch, prefix=prefix)
        marks.append(time.perf_counter())

    sub = Subscriber("mqtt://127.0.0.1:1883", store, client_id=client_id, prefix=prefix, batch_size=5000,
                     flush_s=0.2)
    stop = threading.Event()
    worker = threading.Thread(target=sub.run, args=(stop,), daemon=True)
    worker.start()
    sub.subscribed.wait(10)
    readings = [(f"S{k % SENSORS:03d}", {"t": datetime.fromtimestamp((T0_US // 1_000_000) + (start_step + k // SENSORS)
                                                                     * 60, tz=UTC).isoformat(),
                                         "v": 0.3, "unit": "MPa"}) for k in range(total)]
    first = time.perf_counter()
    publish_readings("mqtt://127.0.0.1:1883", readings, prefix=prefix)
    deadline = time.time() + 120
    while sub.stats.acknowledged < total and time.time() < deadline:
        time.sleep(0.1)
    stop.set()
    worker.join(10)
    forget_session("mqtt://127.0.0.1:1883", client_id)
    if sub.stats.acknowledged < total:
        print(f"  MQTT: only {sub.stats.acknowledged} of {total} acknowledged (broker queue limit?)")
    return sub.stats.acknowledged / (marks[-1] - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000, help="new readings per writer run (PostgreSQL)")
    parser.add_argument("--sqlite-readings", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline", type=int, default=50_000, help="messages per pipeline run")
    parser.add_argument("--mqtt", type=int, default=0, help="messages through Mosquitto (0: skip)")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}  cores: {os.cpu_count()}")
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ["sqlite"] + ([] if args.no_pg else ["postgresql"]):
            db, name = fresh_db(kind, tmp)
            try:
                step = 0
                methods = ["sqlalchemy"] if kind == "sqlite" else ["copy", "executemany", "sqlalchemy"]
                total = args.sqlite_readings if kind == "sqlite" else args.readings
                for method in methods:
                    n = total if method in ("copy", "sqlalchemy") and kind == "sqlite" or method == "copy" \
                        else min(total, 200_000)
                    for _ in range(args.repeats):
                        new, dup, step = writer_runs(db, method, n, args.batch, step)
                        results.setdefault(f"{kind} writer {method} new", []).append(new)
                        results.setdefault(f"{kind} writer {method} duplicates", []).append(dup)
                        print(f"{kind:10s} writer {method:11s} {n:>9,} new {new:>10,.0f}/s  duplicates {dup:>10,.0f}/s"
                              f"  load {os.getloadavg()[0]:.1f}", flush=True)
                for alarms in (False, True):
                    for _ in range(args.repeats):
                        rate, step = pipeline_run(db, args.pipeline, alarms, step)
                        results.setdefault(f"{kind} pipeline alarms={alarms}", []).append(rate)
                        print(f"{kind:10s} pipeline alarms={alarms!s:5s} {args.pipeline:>9,} msgs {rate:>10,.0f}/s"
                              f"  load {os.getloadavg()[0]:.1f}", flush=True)
                if args.mqtt:
                    rate = mqtt_run(db, args.mqtt, step + 10)
                    results.setdefault(f"{kind} mqtt", []).append(rate)
                    print(f"{kind:10s} mqtt end-to-end {args.mqtt:>9,} msgs {rate:>10,.0f}/s", flush=True)
            finally:
                drop(db, name)
    print("\nsummary (readings/s: median [min..max] of runs)")
    for key, vals in results.items():
        print(f"  {key:42s} {statistics.median(vals):>10,.0f} [{min(vals):,.0f}..{max(vals):,.0f}]")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
