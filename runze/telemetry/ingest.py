"""Batched, idempotent writer of readings: arrays in, `INSERT ... ON CONFLICT DO NOTHING` out.

A batch is four numpy arrays (sensor key, time in µs since the Unix epoch UTC, canonical value, quality code).
It is de-duplicated on (sensor, time) in numpy first (the first reading of a pair wins, as the database keeps
the first one stored), then written in one statement so that a batch is all-or-nothing inside the caller's
transaction.  The readings table's primary key (sensor_id, t) makes writing the same reading twice store it once.

Methods (the caller passes the SQLAlchemy Connection and the readings Table, so this module needs no models):

* ``"copy"`` (PostgreSQL, the default there): the batch is packed by numpy into PostgreSQL's binary COPY format
  (fixed-width rows: no per-reading Python work), copied into a temporary table, then
  ``INSERT INTO readings SELECT ... FROM tmp ON CONFLICT DO NOTHING``.
* ``"executemany"`` (PostgreSQL): psycopg 3 ``executemany`` of a plain INSERT ... ON CONFLICT DO NOTHING
  (psycopg pipelines it: one round trip for the batch).
* ``"sqlalchemy"`` (SQLite's default, any dialect): the dialect's ``insert().on_conflict_do_nothing()``
  executed with a list of parameter rows (SQLAlchemy's executemany / insertmanyvalues).

benchmarks/bench_ingest.py measures them.  Returns the number of readings actually inserted (new ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql, sqlite

PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in µs since 1970: the zero of PostgreSQL's timestamps
_TEMP = "_runze_readings_in"
# binary COPY row: field count, then (length, value) for sensor int4, t int8 µs, value float8, quality int2
_COPY_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("sensor", ">i4"), ("l2", ">i4"), ("t", ">i8"),
                      ("l3", ">i4"), ("value", ">f8"), ("l4", ">i4"), ("quality", ">i2")])
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


@dataclass(slots=True)
class ReadingArrays:
    """Readings ready to write: parallel arrays, canonical units, integer sensor keys."""

    sensor: np.ndarray  # int32 sensor key (telemetry_sensors.id)
    t_us: np.ndarray  # int64 µs since 1970-01-01 UTC
    value: np.ndarray  # float64
    quality: np.ndarray  # int16

    def __len__(self) -> int:
        return len(self.sensor)

    @classmethod
    def of(cls, sensor, t_us, value, quality=None) -> ReadingArrays:
        sensor = np.asarray(sensor, dtype=np.int32)
        q = np.zeros(len(sensor), dtype=np.int16) if quality is None else np.asarray(quality, dtype=np.int16)
        return cls(sensor, np.asarray(t_us, dtype=np.int64), np.asarray(value, dtype=np.float64), q)

    def take(self, index: np.ndarray) -> ReadingArrays:
        return ReadingArrays(self.sensor[index], self.t_us[index], self.value[index], self.quality[index])

    def unique(self) -> ReadingArrays:
        """One reading per (sensor, time), the first in batch order, sorted by sensor then time."""
        if len(self) < 2:
            return self
        order = np.lexsort((np.arange(len(self)), self.t_us, self.sensor))  # stable: first occurrence first
        s, t = self.sensor[order], self.t_us[order]
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
        return self.take(order[keep])


def to_us(times) -> np.ndarray:
    """µs since the epoch from tz-aware datetimes / a pandas DatetimeIndex or Series (UTC)."""
    import pandas as pd

    idx = pd.DatetimeIndex(times)
    if idx.tz is None:
        raise ValueError("naive timestamps: readings must carry a UTC offset")
    return idx.tz_convert("UTC").as_unit("us").asi8.astype(np.int64)


def us_to_datetime(t_us: int) -> datetime:
    return datetime.fromtimestamp(int(t_us) / 1e6, tz=UTC)


def default_method(connection: Connection) -> str:
    return "copy" if connection.dialect.name == "postgresql" else "sqlalchemy"


def write_readings(connection: Connection, table: Table, batch: ReadingArrays, *, method: str | None = None,
                   deduplicate: bool = True) -> int:
    """Insert the batch, skipping readings already stored; returns how many were new."""
    if deduplicate:
        batch = batch.unique()
    if len(batch) == 0:
        return 0
    method = method or default_method(connection)
    if method == "copy":
        return _write_copy(connection, table, batch)
    if method == "executemany":
        return _write_executemany(connection, table, batch)
    if method == "sqlalchemy":
        return _write_sqlalchemy(connection, table, batch)
    raise ValueError(f"unknown write method {method!r} (copy, executemany, sqlalchemy)")


def _write_sqlalchemy(connection: Connection, table: Table, batch: ReadingArrays) -> int:
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(connection.dialect.name)
    if insert is None:
        raise ValueError(f"no ON CONFLICT insert for dialect {connection.dialect.name!r}")
    stmt = insert(table).on_conflict_do_nothing(index_elements=["sensor_id", "t"])
    times = _datetimes(batch.t_us)
    rows = [{"sensor_id": s, "t": t, "value": v, "quality": q}
            for s, t, v, q in zip(batch.sensor.tolist(), times, batch.value.tolist(), batch.quality.tolist(),
                                  strict=True)]
    result = connection.execute(stmt, rows)
    return max(int(result.rowcount), 0)


def _datetimes(t_us: np.ndarray) -> list[datetime]:
    import pandas as pd

    return list(pd.to_datetime(t_us, unit="us", utc=True).to_pydatetime())


def _dbapi(connection: Connection):  # noqa: ANN202  (the psycopg connection under SQLAlchemy's)
    if connection.dialect.name != "postgresql":
        raise ValueError("the copy and executemany methods need PostgreSQL")
    return connection.connection.driver_connection


def _write_executemany(connection: Connection, table: Table, batch: ReadingArrays) -> int:
    raw = _dbapi(connection)
    sql = (f"INSERT INTO {table.name} (sensor_id, t, value, quality) VALUES (%s, %s, %s, %s) "
           "ON CONFLICT DO NOTHING")
    rows = list(zip(batch.sensor.tolist(), _datetimes(batch.t_us), batch.value.tolist(), batch.quality.tolist(),
                    strict=True))
    with raw.cursor() as cur:
        cur.executemany(sql, rows)
        return max(int(cur.rowcount), 0)


def copy_payload(batch: ReadingArrays) -> bytes:
    """The batch in PostgreSQL's binary COPY format (numpy packs every row; no Python loop)."""
    rows = np.empty(len(batch), dtype=_COPY_ROW)
    rows["n"], rows["l1"], rows["l2"], rows["l3"], rows["l4"] = 4, 4, 8, 8, 2
    rows["sensor"] = batch.sensor
    rows["t"] = batch.t_us - PG_EPOCH_US
    rows["value"] = batch.value
    rows["quality"] = batch.quality
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def _write_copy(connection: Connection, table: Table, batch: ReadingArrays) -> int:
    connection.execute(text(
        f"CREATE TEMP TABLE IF NOT EXISTS {_TEMP} (sensor_id int4, t timestamptz, value float8, quality int2) "
        "ON COMMIT DELETE ROWS"))
    raw = _dbapi(connection)
    with raw.cursor() as cur:
        with cur.copy(f"COPY {_TEMP} (sensor_id, t, value, quality) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(copy_payload(batch))
        cur.execute(f"INSERT INTO {table.name} (sensor_id, t, value, quality) "
                    f"SELECT sensor_id, t, value, quality FROM {_TEMP} ON CONFLICT DO NOTHING")
        inserted = max(int(cur.rowcount), 0)
        cur.execute(f"TRUNCATE {_TEMP}")  # a second batch in the same transaction starts empty
    return inserted
