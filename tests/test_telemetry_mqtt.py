"""Readings through the real Mosquitto broker (127.0.0.1:1883) into SQLite and PostgreSQL.

* in-process subscriber: shuffled (out-of-order) readings, duplicates and malformed messages; every good reading
  stored once, in time order, every bad one quarantined, and every message acknowledged (nothing redelivered);
* kill test: `runze telemetry listen` in a subprocess is SIGKILLed mid-stream and restarted with the same client
  id; all N readings published with QoS 1 end up stored exactly once.

Each test uses its own topic prefix and client ids, and asks the broker to forget its sessions at the end.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from runze_db_fixtures import *  # noqa: F403
from sqlalchemy import func, select

from runze.ops import telemetry as ops
from runze.store.telemetry_models import QuarantinedMessage, Reading, Sensor
from runze.telemetry.mqtt import Subscriber, forget_session, publish_readings

BROKER = "mqtt://127.0.0.1:1883"
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker at 127.0.0.1:1883")


def _readings(n_sensors: int, n_times: int) -> list[tuple[str, dict]]:
    return [(f"S{s:02d}", {"t": (T0 + timedelta(minutes=5 * k)).isoformat(), "v": round(0.2 + 0.001 * k + s / 100, 4),
                           "unit": "MPa", "q": "good"}) for k in range(n_times) for s in range(n_sensors)]


def _stored(database) -> set[tuple[str, datetime, float]]:
    with database.session() as session:
        rows = session.execute(select(Sensor.sensor_id, Reading.t, Reading.value).join(
            Sensor, Sensor.id == Reading.sensor_id)).all()
    return {(sid, t, round(v, 6)) for sid, t, v in rows}


def _expected(readings) -> set[tuple[str, datetime, float]]:
    return {(sid, datetime.fromisoformat(p["t"]), round(p["v"], 6)) for sid, p in readings}


def _wait(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_broker_to_store_with_duplicates_disorder_and_malformed(database):
    tag = uuid.uuid4().hex[:10]
    prefix, client_id = f"runze-test-{tag}/readings", f"runze-test-{tag}"
    good = _readings(4, 40)  # 160 readings
    sent = list(good)
    random.Random(7).shuffle(sent)  # out of order
    sent += random.Random(8).sample(good, 30)  # duplicates, after the originals
    bad = [("S00", b"{not json"), ("S01", {"t": "yesterday", "v": 1, "unit": "MPa"}),
           ("S02", {"t": T0.isoformat(), "v": 0.3, "unit": "NTU"}), ("S03", {"t": T0.isoformat(), "v": None,
                                                                              "unit": "MPa"}),
           ("S00", {"t": T0.isoformat(), "v": 0.3, "unit": "MPa", "q": "bad"})]
    sent += bad

    def store(batch) -> None:  # noqa: ANN001
        with database.session() as session:
            ops.ingest_messages(session, batch, prefix=prefix)

    stop = threading.Event()
    sub = Subscriber(BROKER, store, client_id=client_id, prefix=prefix, flush_s=0.1)
    worker = threading.Thread(target=sub.run, args=(stop,), daemon=True)
    worker.start()
    try:
        assert sub.subscribed.wait(10), "no SUBACK from the broker"
        assert publish_readings(BROKER, sent, prefix=prefix) == len(sent)
        assert _wait(lambda: sub.stats.acknowledged >= len(sent), 30), sub.stats
    finally:
        stop.set()
        worker.join(10)
    assert _stored(database) == _expected(good)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Reading)) == len(good)
        quarantined = session.scalars(select(QuarantinedMessage)).all()
        assert sorted(q.field for q in quarantined) == ["payload", "q", "t", "unit", "v"]
        frame = ops.query_readings(session, "S02")
        assert frame["timestamp"].is_monotonic_increasing and len(frame) == 40
    # everything was acknowledged: the persistent session has nothing to deliver again
    again: list = []
    stop2 = threading.Event()
    sub2 = Subscriber(BROKER, again.extend, client_id=client_id, prefix=prefix, flush_s=0.1)
    worker = threading.Thread(target=sub2.run, args=(stop2,), daemon=True)
    worker.start()
    try:
        assert sub2.subscribed.wait(10)
        time.sleep(1.0)
    finally:
        stop2.set()
        worker.join(10)
        forget_session(BROKER, client_id)
    assert again == []


class _Listener:
    """`runze telemetry listen` in a subprocess, with its output read on a thread."""

    def __init__(self, db_url: str, prefix: str, client_id: str) -> None:
        cmd = [sys.executable, "-m", "runze", "telemetry", "listen", "--broker", BROKER, "--db", db_url,
               "--prefix", prefix, "--client-id", client_id, "--batch-size", "50", "--flush-ms", "50"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if "listening" in line:
                self.ready.set()

    def stop(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(20)


def test_kill_mid_stream_loses_nothing_acknowledged_and_stores_nothing_twice(db_url, database):
    tag = uuid.uuid4().hex[:10]
    prefix, client_id = f"runze-test-{tag}/readings", f"runze-kill-{tag}"
    readings = _readings(6, 70)  # N = 420 (the broker keeps up to 1000 for an offline client)
    first = _Listener(db_url, prefix, client_id)
    second = None
    try:
        assert first.ready.wait(60), "".join(first.lines)
        published: list[int] = []
        publisher = threading.Thread(
            target=lambda: published.append(publish_readings(BROKER, readings, prefix=prefix, rate=150.0)))
        publisher.start()

        def stored() -> int:
            with database.session() as session:
                return session.scalar(select(func.count()).select_from(Reading))

        assert _wait(lambda: stored() >= 80, 30), "".join(first.lines)
        first.stop(signal.SIGKILL)  # mid-stream, possibly mid-batch
        at_kill = stored()
        publisher.join(60)
        assert published == [len(readings)]  # the broker accepted every reading (QoS 1)
        assert at_kill < len(readings), "the stream had ended before the kill"
        second = _Listener(db_url, prefix, client_id)
        assert second.ready.wait(60), "".join(second.lines)
        assert _wait(lambda: stored() >= len(readings), 60), (stored(), "".join(second.lines))
        time.sleep(0.5)  # anything redelivered late must not add rows
        assert stored() == len(readings)
        assert _stored(database) == _expected(readings)
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            second.stop(signal.SIGTERM)
        forget_session(BROKER, client_id)
