"""Parsing telemetry CSV files into clean readings plus a report of every row that was not used.

Two layouts are read:

* **tidy** — ``timestamp,sensor_id,value,unit[,quality]``, one reading per line, header required.  Timestamps are
  ISO 8601; one without an offset is taken as local time in ``naive_tz`` (Asia/Shanghai by default).
* **BattLeDIM wide** — ``Timestamp;<sensor>;<sensor>;...`` with ``;`` separators and ``,`` as the decimal mark,
  timestamps like ``2019-01-01 00:05:00``; one file per kind, so the caller says the kind and unit.

Bad input is never fatal: a row with a bad field, a wrong number of fields, an unknown unit, an implausible value,
a "bad" quality flag or a duplicate (same sensor and time) is left out and reported as a :class:`RejectedRow`
naming the file, the 1-based line (the header is line 1), the field and the reason.  Gaps in each sensor's series
are reported as :class:`Gap`.  The work is vectorised: pyarrow's CSV reader splits the file in C++, string
trimming and number casts are Arrow kernels, sorting and duplicate detection are numpy on integer codes, so files
of millions of readings parse in seconds; only rejected rows become Python objects, and at most ``max_rejected``
of them (the total count is always exact).

Output readings: a DataFrame with columns ``timestamp`` (UTC, tz-aware), ``sensor_id`` (str), ``kind``,
``value`` (float, canonical unit of the kind, see :mod:`runze.telemetry.units`), ``unit`` (canonical unit name),
``quality`` and ``line`` (source line), sorted by sensor and time.  The text columns (sensor_id, kind, unit,
quality) are pandas categoricals: millions of readings share a few dozen distinct strings.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from runze.i18n import t
from runze.telemetry.units import (
    CANONICAL,
    KIND_NAMES_ZH,
    KINDS,
    TelemetryUnitError,
    factor,
    kind_of_unit,
    normalise_unit,
)

TIDY_COLUMNS = ("timestamp", "sensor_id", "value", "unit")
READING_COLUMNS = ("timestamp", "sensor_id", "kind", "value", "unit", "quality", "line")
# values outside these (canonical units) are rejected as implausible; None = no bound.  Configurable per call.
DEFAULT_PLAUSIBLE: dict[str, tuple[float | None, float | None]] = {
    "pressure": (-0.2, 3.0),  # MPa: a little vacuum is physical, 3 MPa is far above any city network
    "flow": (None, None),  # negative flow is a reverse flow, not an error
    "level": (-1.0, 100.0),  # m
    "turbidity": (0.0, 10000.0),  # NTU: flood rivers reach thousands
}
DEFAULT_REJECT_QUALITY = ("bad", "invalid", "0")
_OFFSET_RE = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """One input row (or one field of it) that was not used, and why (an i18n key with its values)."""

    file: str
    line: int
    field: str
    code: str  # key in runze.i18n.MESSAGES
    params: dict
    text: str = ""

    def message(self, lang: str = "zh") -> str:
        params = self.params
        if lang == "zh":  # kind names in Chinese
            params = {k: KIND_NAMES_ZH.get(v, v) if k in ("kind", "unit_kind") else v for k, v in params.items()}
        return t(self.code, lang, **params)

    @property
    def reason(self) -> str:
        return self.message("en")

    def __str__(self) -> str:
        return f"{self.file}: line {self.line}: field '{self.field}': {self.reason}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "code": self.code,
                "reason": self.reason, "reason_zh": self.message("zh"), "text": self.text}


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with no readings for one sensor: ``end - start`` exceeded the expected interval."""

    sensor_id: str
    start: pd.Timestamp  # last reading before the gap
    end: pd.Timestamp  # first reading after it
    expected_interval_s: float
    missing: int  # readings that the expected interval says are absent

    def to_dict(self) -> dict:
        return {
            "sensor_id": self.sensor_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "expected_interval_s": self.expected_interval_s,
            "missing": self.missing,
        }


@dataclass
class ParseResult:
    readings: pd.DataFrame
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_total: int = 0  # exact, even when `rejected` was truncated at max_rejected
    gaps: list[Gap] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.rejected_total == 0

    def rejected_frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_dict() for r in self.rejected],
                            columns=["file", "line", "field", "code", "reason", "reason_zh", "text"])

    def summary(self) -> dict:
        return {
            "files": list(self.files),
            "readings": int(len(self.readings)),
            "sensors": int(self.readings["sensor_id"].nunique()) if len(self.readings) else 0,
            "rejected": int(self.rejected_total),
            "gaps": len(self.gaps),
            "missing_readings": int(sum(g.missing for g in self.gaps)),
        }


def _empty_readings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series([], dtype="datetime64[ns, UTC]"),
            "sensor_id": pd.Series([], dtype=object),
            "kind": pd.Series([], dtype=object),
            "value": pd.Series([], dtype=float),
            "unit": pd.Series([], dtype=object),
            "quality": pd.Series([], dtype=object),
            "line": pd.Series([], dtype=np.int64),
        }
    )


class _Rejects:
    """Collects rejections as arrays (cheap) and turns at most ``cap`` of them into objects at the end.

    ``params`` values may be scalars (same for every row) or arrays with one value per rejected row.
    """

    def __init__(self, file: str, cap: int) -> None:
        self.file = file
        self.cap = cap
        self.parts: list[pd.DataFrame] = []
        self.meta: list[tuple[str, dict]] = []

    def add(self, lines, field_name, code: str, params: dict | None = None, text=None) -> None:
        lines = np.asarray(lines, dtype=np.int64)
        if lines.size == 0:
            return
        n = lines.size
        self.parts.append(
            pd.DataFrame(
                {
                    "line": lines,
                    "field": np.broadcast_to(np.asarray(field_name, dtype=object), n),
                    "part": len(self.meta),
                    "idx": np.arange(n),
                    "text": np.broadcast_to(np.asarray("" if text is None else text, dtype=object), n),
                }
            )
        )
        self.meta.append((code, dict(params or {})))

    def finish(self) -> tuple[list[RejectedRow], int]:
        if not self.parts:
            return [], 0
        frame = pd.concat(self.parts, ignore_index=True).sort_values("line", kind="stable")
        head = frame.head(self.cap)
        rows = []
        for ln, f, part, idx, tx in zip(head["line"], head["field"], head["part"], head["idx"], head["text"],
                                        strict=True):
            code, params = self.meta[part]
            row_params = {k: _plain(v[idx]) if isinstance(v, np.ndarray) else v for k, v in params.items()}
            rows.append(RejectedRow(self.file, int(ln), str(f), code, row_params, str(tx)[:200]))
        return rows, len(frame)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _open(source) -> tuple[object, str, str]:
    """(what pyarrow can read, display name, first line) from a path, a file object or CSV text."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source):
        path = os.fspath(source)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
        return path, path, first.rstrip("\r\n")
    if isinstance(source, str):
        data, name = source.encode("utf-8"), "<text>"
    else:
        data, name = source.read(), getattr(source, "name", "<stream>")
        if isinstance(data, str):
            data = data.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    return io.BytesIO(data), str(name), first


def _read_rows(readable, sep: str, columns: list[str], rejects: _Rejects) -> tuple[dict, np.ndarray]:
    """Body rows (after the header) as trimmed Arrow string arrays per column, and each row's 1-based file line.

    pyarrow's CSV reader does the splitting (quotes included) in C++; rows with the wrong number of fields go
    to the handler (a Python call per *bad* row only) and are rejected.  Blank lines are skipped silently.
    Fields may not contain line breaks (then line numbers would shift), which telemetry files never need.
    """
    invalid: list[tuple[int, int, str]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    names = [f"c{i}" for i in range(len(columns))]
    try:
        table = pacsv.read_csv(
            readable,
            read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, invalid_row_handler=on_invalid,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        rejects.add([1], "file", "telemetry.unreadable_csv", {"error": str(exc).splitlines()[0][:200]})
        return {c: pa.array([], pa.string()) for c in columns}, np.zeros(0, dtype=np.int64)
    bad_lines = np.array([n for n, _c, _t in invalid], dtype=np.int64)
    for number, found, text in invalid:
        if text.strip():
            rejects.add([number], "row", "telemetry.field_count",
                        {"expected": len(columns), "sep": sep, "found": found}, text)
    # every physical line after the header is either a row of the table or an invalid row
    all_lines = np.arange(2, 2 + table.num_rows + len(invalid), dtype=np.int64)
    lines = np.setdiff1d(all_lines, bad_lines, assume_unique=True) if len(invalid) else all_lines
    cols = {c: pc.utf8_trim_whitespace(table.column(n).combine_chunks()) for c, n in zip(columns, names, strict=True)}
    blank = np.logical_and.reduce([_is_empty(a) for a in cols.values()])
    if blank.any():
        keep = pa.array(~blank)
        cols, lines = {c: a.filter(keep) for c, a in cols.items()}, lines[~blank]
    return cols, lines


def _is_empty(arr: pa.Array) -> np.ndarray:
    return pc.equal(pc.utf8_length(arr), 0).to_numpy(zero_copy_only=False)


def _numbers(arr: pa.Array, decimal_comma: bool = False) -> np.ndarray:
    """Strings to float64, NaN where empty or not a number.  Arrow's cast is the fast path; a column with any
    unreadable text falls back to pandas' per-value coercion (rare: only files with bad cells pay for it)."""
    if decimal_comma:
        arr = pc.replace_substring(arr, ",", ".")
    arr = pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr)
    try:
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        series = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _parse_times(arr: pa.Array, naive_tz: str) -> np.ndarray:
    """Strings to naive-UTC datetime64[ns]; NaT where unreadable.  Offset-less strings are local to ``naive_tz``."""
    text = pd.Series(pd.arrays.ArrowStringArray(arr))
    has_offset = text.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool, na_value=False)
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], errors="coerce", utc=True, format="ISO8601")
        out[has_offset] = aware.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    naive = ~has_offset & ~_is_empty(arr)
    if naive.any():
        local = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
        if naive_tz.upper() != "UTC":
            local = local.dt.tz_localize(naive_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(None)
        out[naive] = local.to_numpy(dtype="datetime64[ns]")
    return out


@dataclass
class _Rows:
    """Candidate readings as plain numpy arrays (no per-row Python objects)."""

    time: np.ndarray  # datetime64[ns], UTC, NaT = unreadable
    scode: np.ndarray  # sensor code into `sensors` (sorted)
    kcode: np.ndarray  # kind code into KINDS, -1 = unknown
    value: np.ndarray  # canonical units
    qcode: np.ndarray  # quality code into `qualities`
    qualities: np.ndarray  # object, quality labels
    line: np.ndarray
    sensors: np.ndarray  # object, sorted sensor ids


def _check_plausible(rows: _Rows, ok: np.ndarray, plausible, rejects: _Rejects, field_is_sensor: bool) -> np.ndarray:
    for kind, (low, high) in plausible.items():
        if kind not in KINDS:
            continue
        in_kind = ok & (rows.kcode == KINDS.index(kind))
        if not in_kind.any():
            continue
        with np.errstate(invalid="ignore"):
            bad = in_kind & (((rows.value < low) if low is not None else False)
                             | ((rows.value > high) if high is not None else False))
        if bad.any():
            fields = rows.sensors[rows.scode[bad]] if field_is_sensor else "value"
            rejects.add(rows.line[bad], fields, "telemetry.implausible",
                        {"kind": kind, "low": low, "high": high, "unit": CANONICAL[kind]},
                        rows.value[bad].astype(str))
            ok = ok & ~bad
    return ok


def _gaps_sorted(codes: np.ndarray, ns: np.ndarray, sensors, expected_interval, factor_: float) -> list[Gap]:
    """Gaps in readings already sorted by (sensor code, time); ``ns`` int64 nanoseconds UTC."""
    if len(codes) < 2:
        return []
    diff = np.diff(ns).astype(float) / 1e9
    diff[codes[1:] != codes[:-1]] = np.nan  # the first reading of each sensor has no predecessor
    seconds = np.concatenate([[np.nan], diff])
    if expected_interval is None:
        spacing = pd.DataFrame({"s": codes, "d": seconds}).dropna()
        counts = spacing.groupby(["s", "d"]).size().reset_index(name="n")
        mode = counts.sort_values(["s", "n", "d"], ascending=[True, False, True]).drop_duplicates("s")
        per_sensor = np.full(len(sensors), np.nan)
        per_sensor[mode["s"].to_numpy()] = mode["d"].to_numpy()
        expected = per_sensor[codes]
    else:
        sec = (expected_interval.total_seconds() if isinstance(expected_interval, pd.Timedelta)
               else float(expected_interval))
        expected = np.full(len(codes), sec)
    with np.errstate(invalid="ignore"):
        is_gap = (seconds > factor_ * expected) & (expected > 0)
    return [
        Gap(str(sensors[codes[i]]), pd.Timestamp(ns[i - 1], tz="UTC"), pd.Timestamp(ns[i], tz="UTC"),
            float(expected[i]), int(round(seconds[i] / expected[i])) - 1)
        for i in np.flatnonzero(is_gap)
    ]


def find_gaps(readings: pd.DataFrame, expected_interval: pd.Timedelta | float | None = None,
              factor_: float = 1.5) -> list[Gap]:
    """Gaps per sensor: consecutive readings further apart than ``factor_`` × the expected interval.

    ``expected_interval`` (Timedelta or seconds) defaults to each sensor's most common spacing (a median would
    be pulled up by the gaps themselves).
    """
    if len(readings) < 2:
        return []
    codes, sensors = pd.factorize(readings["sensor_id"], sort=True)
    ns = pd.DatetimeIndex(readings["timestamp"]).as_unit("ns").asi8
    order = np.lexsort((ns, codes))
    return _gaps_sorted(codes[order], ns[order], np.asarray(sensors, dtype=object), expected_interval, factor_)


def _finish(rows: _Rows, ok: np.ndarray, rejects: _Rejects, name: str, expected_interval,
            gap_factor) -> ParseResult:
    """Drop rejected rows and duplicates, sort by sensor then time, build the tz-aware readings frame."""
    sel = np.flatnonzero(ok)
    ns = rows.time[sel].view(np.int64)
    sc = rows.scode[sel]
    order = sel[np.lexsort((ns, sc))]  # lexsort is stable: equal (sensor, time) keep file order
    ns, sc, val, line = rows.time[order].view(np.int64), rows.scode[order], rows.value[order], rows.line[order]
    dup = np.zeros(len(order), dtype=bool)
    dup[1:] = (sc[1:] == sc[:-1]) & (ns[1:] == ns[:-1])
    if dup.any():
        first = np.maximum.accumulate(np.where(dup, 0, np.arange(len(order))))  # index of each run's first row
        same = np.isclose(val, val[first], rtol=0, atol=1e-12)
        for is_same, code in ((True, "telemetry.duplicate"), (False, "telemetry.duplicate_conflict")):
            pick = dup & (same == is_same)
            if pick.any():
                rejects.add(line[pick], "timestamp", code, {"first_line": line[first][pick]})
        keep = ~dup
        order, ns, sc, val, line = order[keep], ns[keep], sc[keep], val[keep], line[keep]
    kc = rows.kcode[order]
    # text columns as categoricals built from integer codes: no per-row string objects for millions of rows
    out = pd.DataFrame({
        "timestamp": pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC"),
        "sensor_id": pd.Categorical.from_codes(sc, categories=pd.Index(rows.sensors, dtype=object)),
        "kind": pd.Categorical.from_codes(kc, categories=pd.Index(KINDS, dtype=object)),
        "value": val,
        "unit": pd.Categorical.from_codes(kc, categories=pd.Index([CANONICAL[k] for k in KINDS], dtype=object)),
        "quality": pd.Categorical.from_codes(rows.qcode[order], categories=pd.Index(rows.qualities, dtype=object)),
        "line": line,
    }) if len(order) else _empty_readings()
    found, total = rejects.finish()
    gaps = _gaps_sorted(sc, ns, rows.sensors, expected_interval, gap_factor)
    return ParseResult(readings=out, rejected=found, rejected_total=total, gaps=gaps, files=[name])


def _empty_result(rejects: _Rejects, name: str) -> ParseResult:
    found, total = rejects.finish()
    return ParseResult(_empty_readings(), found, total, [], [name])


def _factorize(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(pd.Series(pd.arrays.ArrowStringArray(arr)), sort=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def parse_tidy_csv(
    source,
    *,
    sensor_kinds: Mapping[str, str] | None = None,
    naive_tz: str = "Asia/Shanghai",
    plausible: Mapping[str, tuple[float | None, float | None]] = DEFAULT_PLAUSIBLE,
    reject_quality: Iterable[str] = DEFAULT_REJECT_QUALITY,
    expected_interval: pd.Timedelta | float | None = None,
    gap_factor: float = 1.5,
    max_rejected: int = 10_000,
) -> ParseResult:
    """Read ``timestamp,sensor_id,value,unit[,quality]`` readings (path, file object or CSV text).

    ``sensor_kinds`` maps sensor id → kind (pressure/flow/level/turbidity); without it a sensor's kind comes from
    the first unit of its rows that names one kind, and a unit that names none (``m``: level or pressure head)
    is rejected for that row.  A unit of another kind than the sensor's (``NTU`` on a flow meter) is rejected.
    """
    readable, name, first = _open(source)
    rejects = _Rejects(name, max_rejected)
    header = [h.strip().strip('"').lower() for h in first.split(",")]
    if tuple(header[:4]) != TIDY_COLUMNS or len(header) not in (4, 5) or (len(header) == 5 and header[4] != "quality"):
        rejects.add([1], "header", "telemetry.bad_header", {"expected": "timestamp,sensor_id,value,unit[,quality]"},
                    first)
        return _empty_result(rejects, name)
    cols, lines = _read_rows(readable, ",", header, rejects)
    n = len(lines)
    if n == 0:
        return _empty_result(rejects, name)
    scode, sensors = _factorize(cols["sensor_id"])
    time = _parse_times(cols["timestamp"], naive_tz)
    value = _numbers(cols["value"])
    if "quality" in cols:
        # an empty quality field means good; merge it into an existing "good" category
        lowered = pc.utf8_lower(cols["quality"])
        qcode, qual = _factorize(pc.if_else(pc.equal(pc.utf8_length(lowered), 0), "good", lowered))
    else:
        qual, qcode = np.array(["good"], dtype=object), np.zeros(n, dtype=np.int64)
    rows = _Rows(time, scode, np.full(n, -1, dtype=np.int64), value, qcode, qual, lines, sensors)

    ok = ~np.isnat(time)
    rejects.add(lines[~ok], "timestamp", "telemetry.bad_timestamp", {"example": "2025-03-01T08:00:00+08:00"},
                cols["timestamp"].filter(pa.array(~ok)).to_numpy(zero_copy_only=False))
    bad = (sensors == "")[scode]
    rejects.add(lines[bad & ok], "sensor_id", "telemetry.empty_sensor")
    ok &= ~bad
    nan = ~np.isfinite(value) & ok
    empty = _is_empty(cols["value"])
    rejects.add(lines[nan & empty], "value", "telemetry.empty_value")
    rejects.add(lines[nan & ~empty], "value", "telemetry.not_a_number", None,
                cols["value"].filter(pa.array(nan & ~empty)).to_numpy(zero_copy_only=False))
    ok &= ~nan

    # the kind of each sensor: configured, else the first unit among its good rows that names exactly one kind
    ucode, units = _factorize(cols["unit"])
    unit_kcode = np.array([KINDS.index(k) if (k := kind_of_unit(u)) else -1 for u in units], dtype=np.int64)
    configured = dict(sensor_kinds or {})
    sensor_k = np.array([KINDS.index(configured[s]) if configured.get(s) in KINDS
                         else (-2 if s in configured else -1) for s in sensors], dtype=np.int64)
    need = np.flatnonzero(sensor_k == -1)
    if len(need):
        row_k = unit_kcode[ucode] if len(units) else np.full(n, -1)
        cand = ok & (row_k >= 0) & np.isin(scode, need)
        idx = np.flatnonzero(cand)
        sc_c = scode[idx]
        firsts = np.unique(sc_c, return_index=True)  # rows are in file order: the first per sensor
        sensor_k[firsts[0]] = row_k[idx[firsts[1]]]
    kcode = sensor_k[scode]
    unknown_cfg = ok & (kcode == -2)
    rejects.add(lines[unknown_cfg], "sensor_id", "telemetry.kind_not_known", {"known": ", ".join(KINDS)})
    no_kind = ok & (kcode == -1)
    rejects.add(lines[no_kind], "unit", "telemetry.unit_without_kind", {"unit": units[ucode[no_kind]]},
                units[ucode[no_kind]])
    ok &= (kcode >= 0)
    rows.kcode = np.where(kcode >= 0, kcode, 0)

    # unit factor per distinct (kind, unit) pair: few pairs, so one factor() call each
    pair = rows.kcode * max(len(units), 1) + ucode
    factors = np.full(n, np.nan)
    for code in np.unique(pair[ok]):
        sel = ok & (pair == code)
        kind, unit = KINDS[code // max(len(units), 1)], units[code % max(len(units), 1)]
        try:
            factors[sel] = factor(unit, kind)
        except TelemetryUnitError as exc:
            rejects.add(lines[sel], "unit", exc.key, exc.params, units[ucode[sel]])
            ok &= ~sel
    rows.value = value * factors

    rq = {normalise_unit(q) for q in reject_quality}
    bad_q = ok & np.isin(qcode, [i for i, q in enumerate(qual) if normalise_unit(q) in rq])
    rejects.add(lines[bad_q], "quality", "telemetry.bad_quality", {"flag": qual[qcode[bad_q]]}, qual[qcode[bad_q]])
    ok &= ~bad_q
    ok = _check_plausible(rows, ok, plausible, rejects, field_is_sensor=False)
    return _finish(rows, ok, rejects, name, expected_interval, gap_factor)


def parse_battledim_csv(
    source,
    kind: str,
    unit: str,
    *,
    tz: str = "UTC",
    plausible: Mapping[str, tuple[float | None, float | None]] = DEFAULT_PLAUSIBLE,
    expected_interval: pd.Timedelta | float | None = None,
    gap_factor: float = 1.5,
    max_rejected: int = 10_000,
) -> ParseResult:
    """Read a BattLeDIM SCADA file: ``Timestamp;<sensor>;...``, ``;`` separated, ``,`` decimal mark.

    ``kind``/``unit`` describe every column (BattLeDIM: pressures ``m``, flows ``m3/h``, levels ``m``, AMR demands
    ``L/h`` as kind ``flow``).  Timestamps carry no zone; ``tz`` says which one they are in.  An empty cell is
    reported (field = the sensor's column name) and left out; the rest of its line is used.
    """
    scale = factor(unit, kind)  # a wrong unit is the caller's error, not the file's: raise it
    kind = kind.strip().lower()
    readable, name, first = _open(source)
    rejects = _Rejects(name, max_rejected)
    header = [h.strip() for h in first.split(";")]
    if len(header) < 2 or header[0].lower() != "timestamp":
        rejects.add([1], "header", "telemetry.bad_header", {"expected": "Timestamp;<sensor id>;..."}, first)
        return _empty_result(rejects, name)
    sensors = header[1:]
    dupes = sorted({s for s in sensors if sensors.count(s) > 1} | ({""} if "" in sensors else set()))
    if dupes:
        rejects.add([1], "header", "telemetry.repeated_columns", {"columns": ", ".join(dupes) or "''"}, first)
        return _empty_result(rejects, name)
    cols, lines = _read_rows(readable, ";", ["Timestamp", *sensors], rejects)
    if len(lines) == 0:
        return _empty_result(rejects, name)
    times = _parse_times(cols["Timestamp"], tz)
    bad_t = np.isnat(times)
    rejects.add(lines[bad_t], "Timestamp", "telemetry.bad_timestamp", {"example": "2019-01-01 00:05:00"},
                cols["Timestamp"].filter(pa.array(bad_t)).to_numpy(zero_copy_only=False))
    keep = pa.array(~bad_t)
    lines_ok, times_ok = lines[~bad_t], times[~bad_t]
    n_rows, n_sens = len(lines_ok), len(sensors)
    # one sensor column at a time (Arrow kernels in C++), stacked sensor-major: rows come out grouped by sensor
    values = np.empty((n_sens, n_rows))
    for j, sensor in enumerate(sensors):
        col = cols[sensor].filter(keep)
        values[j] = _numbers(col, decimal_comma=True)
        nan = ~np.isfinite(values[j])
        if nan.any():
            empty = _is_empty(col)
            rejects.add(lines_ok[nan & empty], sensor, "telemetry.empty_value")
            rejects.add(lines_ok[nan & ~empty], sensor, "telemetry.not_a_number", None,
                        col.filter(pa.array(nan & ~empty)).to_numpy(zero_copy_only=False))
    sorted_names = np.asarray(sorted(sensors), dtype=object)
    code_of = {s: i for i, s in enumerate(sorted_names)}
    rows = _Rows(
        time=np.tile(times_ok, n_sens),
        scode=np.repeat(np.array([code_of[s] for s in sensors], dtype=np.int64), n_rows),
        kcode=np.full(n_rows * n_sens, KINDS.index(kind), dtype=np.int64),
        value=values.ravel() * scale,
        qcode=np.zeros(n_rows * n_sens, dtype=np.int64),
        qualities=np.array(["good"], dtype=object),
        line=np.tile(lines_ok, n_sens),
        sensors=sorted_names,
    )
    ok = _check_plausible(rows, np.isfinite(rows.value), plausible, rejects, field_is_sensor=True)
    return _finish(rows, ok, rejects, name, expected_interval, gap_factor)


def merge_results(results: Iterable[ParseResult]) -> ParseResult:
    """Several files' results as one (readings concatenated and re-sorted; duplicates across files kept)."""
    results = list(results)
    frames = [r.readings for r in results if len(r.readings)]
    readings = (pd.concat(frames, ignore_index=True).sort_values(["sensor_id", "timestamp"], kind="stable")
                .reset_index(drop=True)) if frames else _empty_readings()
    return ParseResult(
        readings=readings,
        rejected=[x for r in results for x in r.rejected],
        rejected_total=sum(r.rejected_total for r in results),
        gaps=[g for r in results for g in r.gaps],
        files=[f for r in results for f in r.files],
    )


def readings_from_text(text: str, **kw) -> ParseResult:
    """Convenience for tests and the API: parse tidy CSV given as a string."""
    return parse_tidy_csv(io.StringIO(text), **kw)
