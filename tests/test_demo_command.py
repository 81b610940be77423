"""`runze demo` end to end, as subprocesses in a temporary folder, against the real Mosquitto broker.

* `--no-serve`: a fresh SQLite file gets the demo (users, a year of records), then 3 replayed hours from 22:00
  (15-min readings) go through MQTT into the store: all 13 × 77 readings are stored and raw turbidity at plant 3
  raises its alarm at 00:15 (314 NTU > 300), the first reading above the limit;
* no broker reachable: one line says so and the next day's readings are fed straight into the store (a rerun
  streams new timestamps, so its alarms raise again);
* the full command on a free port: the printed address answers `/` and `/api/health`, and SIGINT stops the
  server and the replay threads, exit status 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

CST = timezone(timedelta(hours=8))
READINGS_PER_RUN = 13 * 77  # 22:00 … 01:00 every 15 min, 77 sensors
REPLAY = ["--speed", "100000", "--hours", "3", "--step", "900", "--start-hour", "22"]


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            return True
    except OSError:
        return False


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RUNZE_DATABASE_URL", None)
    env.update(RUNZE_ARGON2_TIME_COST="1", RUNZE_ARGON2_MEMORY_KIB="64", PYTHONUNBUFFERED="1")
    return env


def _runze(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runze", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def _turbidity_alarms(db: Path) -> list[tuple[datetime, float]]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT raised_at, raise_value FROM telemetry_alarms WHERE sensor_id = 'P3-RAW-NTU' "
                           "AND rule_id LIKE 'raw_turbidity_high%' ORDER BY raised_at").fetchall()
    # stored as naive UTC text
    return [(datetime.fromisoformat(t).replace(tzinfo=UTC).astimezone(CST), v) for t, v in rows]


def _reading_count(db: Path) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT count(*) FROM telemetry_readings").fetchone()[0]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runze-demo")


@pytest.mark.skipif(not _broker_up(), reason="no MQTT broker at 127.0.0.1:1883")
def test_demo_no_serve_streams_through_mqtt_into_the_store(demo_dir: Path) -> None:
    prefix = f"runze/test-demo-{uuid.uuid4().hex[:8]}"
    done = _runze("demo", "--no-serve", "--db", "demo.db", "--prefix", prefix, *REPLAY, cwd=demo_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "first run: loading the demo city" in out
    assert "Demo city: 4 plants" in out and "77 sensors" in out
    assert f"replay via MQTT: mqtt://127.0.0.1:1883 topics {prefix}/+" in out
    assert f"replay done: {READINGS_PER_RUN} readings sent, {READINGS_PER_RUN} stored, 0 quarantined" in out
    db = demo_dir / "demo.db"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] > 0  # the demo was loaded
        assert con.execute("SELECT count(*) FROM work_orders").fetchone()[0] > 1000
    assert _reading_count(db) == READINGS_PER_RUN
    alarms = _turbidity_alarms(db)
    assert len(alarms) == 1
    at, value = alarms[0]
    assert (at.hour, at.minute) == (0, 15) and 300 < value < 330
    assert "raw_turbidity_high:P3-RAW-NTU P3-RAW-NTU = " in out


def test_demo_without_broker_feeds_the_store_directly(demo_dir: Path) -> None:
    db = demo_dir / "demo.db"
    before = _reading_count(db) if db.exists() else 0
    alarms_before = len(_turbidity_alarms(db)) if db.exists() else 0
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    done = _runze("demo", "--no-serve", "--db", "demo.db", "--broker", f"mqtt://127.0.0.1:{dead}", *REPLAY,
                  cwd=demo_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no MQTT broker reachable, feeding the replay straight into the store" in done.stdout
    assert _reading_count(db) == before + READINGS_PER_RUN  # new timestamps: the day after the last replay
    alarms = _turbidity_alarms(db)
    assert len(alarms) == alarms_before + 1
    assert (alarms[-1][0].hour, alarms[-1][0].minute) == (0, 15)


def test_demo_serves_the_dashboard_and_stops_on_sigint(demo_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "runze", "demo", "--db", "demo.db", "--port", str(port),
                             "--prefix", f"runze/test-demo-{uuid.uuid4().hex[:8]}", "--speed", "600",
                             "--hours", "1", "--start-hour", "22"],
                            cwd=demo_dir, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    address: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"Runze dashboard: (http://\S+?)/\s", line)
            if found:
                address.append(found.group(1))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not address and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert address, "".join(lines)
        assert address[0] == f"http://127.0.0.1:{port}"
        assert "login: dispatcher / password runze-demo-2025" in "".join(lines)
        page = httpx.get(address[0] + "/", timeout=30)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        health = httpx.get(address[0] + "/api/health", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    with socket.socket() as s:  # the port is free again: the server really stopped
        s.bind(("127.0.0.1", port))
