"""Parsing telemetry CSV files into clean readings plus a report of every row that was not used.

Two layouts are read:

* **tidy** — ``timestamp,sensor_id,value,unit[,quality]``, one reading per line, header required.  Timestamps are
  ISO 8601; one without an offset is taken as local time in ``naive_tz`` (Asia/Shanghai by default).
* **BattLeDIM wide** — ``Timestamp;<sensor>;<sensor>;...`` with ``;`` separators and ``,`` as the decimal mark,
  timestamps like ``2019-01-01 00:05:00``; one file per kind, so the caller says the kind and unit.

Bad input is never fatal: a row with a bad field, a wrong number of fields, an unknown unit, an implausible value,
a "bad" quality flag or a duplicate (same sensor and time) is left out and reported as a :class:`RejectedRow`
naming the file, the 1-based line (the header is line 1), the field and the reason.  Gaps in each sensor's series
are reported as :class:`Gap`.  The work is vectorised with pandas (string splits, ``to_datetime``/``to_numeric``
with ``errors="coerce"``), so files of millions of rows parse in seconds; only rejected rows become Python objects,
and at most ``max_rejected`` of them (the total count is always exact).

Output readings: a DataFrame with columns ``timestamp`` (UTC, tz-aware), ``sensor_id`` (str), ``kind``,
``value`` (float, canonical unit of the kind, see :mod:`runze.telemetry.units`), ``unit`` (canonical unit name),
``quality`` (str) and ``line`` (source line), sorted by sensor and time.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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


def _read_text(source) -> tuple[str, str]:
    """(text, display name) from a path, a file object or a string of CSV text (one with a newline)."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source):
        path = os.fspath(source)
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return fh.read(), path
    if isinstance(source, str):
        return source.lstrip("\ufeff"), "<text>"
    text = source.read()
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    return text.lstrip("\ufeff"), getattr(source, "name", "<stream>")


def _split_lines(text: str, sep: str, n_fields: int | tuple[int, ...], rejects: _Rejects):
    """Split body lines into a DataFrame of string fields; wrong field counts are rejected.

    Returns (fields DataFrame with int column names, line numbers array).  Lines with a quote character go
    through the csv module one by one (rare); the rest are split vectorised.
    """
    raw = text.splitlines()
    body = pd.Series(raw[1:], dtype=object)
    line_no = np.arange(2, len(raw) + 1, dtype=np.int64)
    keep = body.str.strip().str.len() > 0  # blank lines (often one at the end) are not data
    body, line_no = body[keep.to_numpy()], line_no[keep.to_numpy()]
    allowed = (n_fields,) if isinstance(n_fields, int) else n_fields
    width = max(allowed)
    quoted = body.str.contains('"', regex=False).to_numpy()
    counts = body.str.count(sep).to_numpy() + 1
    plain_ok = ~quoted & np.isin(counts, allowed)
    bad_count = ~quoted & ~plain_ok
    exp = " or ".join(str(a) for a in allowed)
    for cnt in np.unique(counts[bad_count]):
        sel = bad_count & (counts == cnt)
        rejects.add(line_no[sel], "row", "telemetry.field_count", {"expected": exp, "sep": sep, "found": int(cnt)},
                    body[sel].to_numpy())
    fields = body[plain_ok].str.split(sep, expand=True, n=width - 1) if plain_ok.any() else pd.DataFrame()
    fields = fields.reindex(columns=range(width))
    fields.index = line_no[plain_ok]
    if quoted.any():
        extra_rows, extra_lines = [], []
        for ln, txt in zip(line_no[quoted], body[quoted], strict=True):
            try:
                parts = next(csv.reader([txt], delimiter=sep))
            except csv.Error as exc:
                rejects.add([ln], "row", "telemetry.unreadable_csv", {"error": str(exc)}, txt)
                continue
            if len(parts) not in allowed:
                rejects.add([ln], "row", "telemetry.field_count", {"expected": exp, "sep": sep, "found": len(parts)},
                            txt)
                continue
            extra_rows.append(parts + [None] * (width - len(parts)))
            extra_lines.append(ln)
        if extra_rows:
            extra = pd.DataFrame(extra_rows, index=extra_lines, columns=range(width))
            fields = pd.concat([fields, extra]).sort_index()
    return fields, fields.index.to_numpy(dtype=np.int64)


def _parse_times(text: pd.Series, naive_tz: str) -> pd.Series:
    """Strings to UTC timestamps; NaT where unreadable.  Offset-less strings are local to ``naive_tz``."""
    text = text.fillna("").str.strip()
    has_offset = text.str.contains(_OFFSET_RE, regex=True)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        out[has_offset] = pd.to_datetime(text[has_offset], errors="coerce", utc=True, format="ISO8601")
    naive = ~has_offset & (text != "")
    if naive.any():
        local = pd.to_datetime(text[naive], errors="coerce", format="ISO8601")
        out[naive] = local.dt.tz_localize(naive_tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return out


def _check_plausible(frame: pd.DataFrame, ok: np.ndarray, plausible, rejects: _Rejects, value_field) -> np.ndarray:
    for kind, (low, high) in plausible.items():
        in_kind = ok & (frame["kind"].to_numpy() == kind)
        if not in_kind.any():
            continue
        vals = frame["value"].to_numpy()
        bad = np.zeros(len(frame), dtype=bool)
        if low is not None:
            bad |= in_kind & (vals < low)
        if high is not None:
            bad |= in_kind & (vals > high)
        if bad.any():
            fields = value_field if isinstance(value_field, str) else frame["sensor_id"].to_numpy()[bad]
            rejects.add(frame["line"].to_numpy()[bad], fields, "telemetry.implausible",
                        {"kind": kind, "low": low, "high": high, "unit": CANONICAL[kind]},
                        frame["value"].to_numpy()[bad].astype(str))
            ok = ok & ~bad
    return ok


def _drop_duplicates(frame: pd.DataFrame, rejects: _Rejects) -> pd.DataFrame:
    """Keep the first reading of each (sensor, time); report the others with the first one's line."""
    dup = frame.duplicated(["sensor_id", "timestamp"], keep="first").to_numpy()
    if not dup.any():
        return frame
    first_line = frame.groupby(["sensor_id", "timestamp"], sort=False)["line"].transform("first")
    first_val = frame.groupby(["sensor_id", "timestamp"], sort=False)["value"].transform("first")
    same = np.isclose(frame["value"].to_numpy(), first_val.to_numpy(), rtol=0, atol=1e-12)
    for is_same, code in ((True, "telemetry.duplicate"), (False, "telemetry.duplicate_conflict")):
        sel = dup & (same == is_same)
        if sel.any():
            rejects.add(frame["line"].to_numpy()[sel], "timestamp", code,
                        {"first_line": first_line.to_numpy()[sel]})
    return frame[~dup]


def find_gaps(readings: pd.DataFrame, expected_interval: pd.Timedelta | float | None = None,
              factor_: float = 1.5) -> list[Gap]:
    """Gaps per sensor: consecutive readings further apart than ``factor_`` × the expected interval.

    ``expected_interval`` (Timedelta or seconds) defaults to each sensor's median spacing.
    """
    if len(readings) < 2:
        return []
    r = readings.sort_values(["sensor_id", "timestamp"], kind="stable")
    dt = r.groupby("sensor_id", sort=False)["timestamp"].diff().dt.total_seconds()
    if expected_interval is None:
        # the most common spacing: a median would be pulled up by the gaps themselves
        mode = dt.groupby(r["sensor_id"], sort=False).agg(lambda x: x.mode().min() if x.notna().any() else np.nan)
        expected = r["sensor_id"].map(mode)
    else:
        sec = expected_interval.total_seconds() if isinstance(expected_interval, pd.Timedelta) else float(expected_interval)
        expected = pd.Series(sec, index=r.index)
    is_gap = (dt > factor_ * expected).to_numpy() & (expected > 0).to_numpy()
    if not is_gap.any():
        return []
    pos = np.flatnonzero(is_gap)
    before = r["timestamp"].iloc[pos - 1].tolist()
    after = r["timestamp"].iloc[pos].tolist()
    sensors = r["sensor_id"].to_numpy()[pos]
    exp_v = expected.to_numpy()[pos]
    dt_v = dt.to_numpy()[pos]
    return [
        Gap(str(s), b, a, float(e), int(round(d / e)) - 1)
        for s, b, a, e, d in zip(sensors, before, after, exp_v, dt_v, strict=True)
    ]


def _finish(frame: pd.DataFrame, ok: np.ndarray, rejects: _Rejects, name: str, expected_interval, gap_factor):
    clean = frame.loc[ok, list(READING_COLUMNS)].copy()
    clean = _drop_duplicates(clean, rejects)
    clean = clean.sort_values(["sensor_id", "timestamp"], kind="stable").reset_index(drop=True)
    clean["value"] = clean["value"].astype(float)
    clean["line"] = clean["line"].astype(np.int64)
    stamps = pd.to_datetime(clean["timestamp"])
    clean["timestamp"] = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps
    rows, total = rejects.finish()
    gaps = find_gaps(clean, expected_interval, gap_factor)
    return ParseResult(readings=clean, rejected=rows, rejected_total=total, gaps=gaps, files=[name])


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

    ``sensor_kinds`` maps sensor id → kind (pressure/flow/level/turbidity); without it the kind comes from the
    unit, and a unit that names no single kind (``m``: level or pressure head) is rejected for that row.
    """
    text, name = _read_text(source)
    rejects = _Rejects(name, max_rejected)
    first = text.splitlines()[0] if text.strip() else ""
    header = [h.strip().lower() for h in next(csv.reader([first]))] if first else []
    if tuple(header[:4]) != TIDY_COLUMNS or len(header) not in (4, 5) or (len(header) == 5 and header[4] != "quality"):
        rejects.add([1], "header", "telemetry.bad_header", {"expected": "timestamp,sensor_id,value,unit[,quality]"},
                    first)
        rows, total = rejects.finish()
        return ParseResult(_empty_readings(), rows, total, [], [name])
    has_quality = len(header) == 5
    fields, lines = _split_lines(text, ",", (5,) if has_quality else (4,), rejects)
    if len(fields) == 0:
        return _finish(_empty_readings(), np.zeros(0, bool), rejects, name, expected_interval, gap_factor)
    fields = fields.apply(lambda c: c.astype(object).str.strip())
    frame = pd.DataFrame({"line": lines})
    # internally naive UTC datetime64 (fast numpy ops); made tz-aware once at the end
    frame["timestamp"] = _parse_times(fields[0].reset_index(drop=True), naive_tz).dt.tz_convert(None).to_numpy()
    frame["sensor_id"] = fields[1].fillna("").to_numpy()
    value_text = fields[2].fillna("").reset_index(drop=True)
    frame["value"] = pd.to_numeric(value_text, errors="coerce").to_numpy(dtype=float)
    unit_text = fields[3].fillna("").to_numpy()
    frame["quality"] = fields[4].fillna("").str.lower().to_numpy() if has_quality else "good"
    frame.loc[frame["quality"] == "", "quality"] = "good"

    ok = np.ones(len(frame), dtype=bool)
    bad = frame["timestamp"].isna().to_numpy()
    rejects.add(lines[bad], "timestamp", "telemetry.bad_timestamp", {"example": "2025-03-01T08:00:00+08:00"},
                fields[0].to_numpy()[bad])
    ok &= ~bad
    bad = frame["sensor_id"].to_numpy() == ""
    rejects.add(lines[bad], "sensor_id", "telemetry.empty_sensor")
    ok &= ~bad
    nan = ~np.isfinite(frame["value"].to_numpy())
    empty = (value_text == "").to_numpy()
    rejects.add(lines[nan & empty], "value", "telemetry.empty_value")
    rejects.add(lines[nan & ~empty], "value", "telemetry.not_a_number", None, value_text.to_numpy()[nan & ~empty])
    ok &= ~nan

    # kind per row: the sensor's configured kind, else the unit's own kind
    kinds = pd.Series(frame["sensor_id"]).map(dict(sensor_kinds or {})).to_numpy(dtype=object)
    no_kind = pd.isna(kinds)
    if no_kind.any():
        uniq_units = pd.unique(unit_text[no_kind])
        unit_kind = {u: kind_of_unit(u) for u in uniq_units}
        inferred = pd.Series([unit_kind[u] for u in unit_text[no_kind]], dtype=object)
        # one kind per sensor: the kind its first telling unit names; a row whose unit is of another kind
        # (NTU on a flow meter) then fails the unit check below with a "wrong kind" reason
        sensor_of = pd.Series(frame["sensor_id"].to_numpy()[no_kind], dtype=object)
        per_sensor = inferred.groupby(sensor_of).first()
        kinds[no_kind] = sensor_of.map(per_sensor).to_numpy(dtype=object)
    bad_kind = pd.isna(kinds) & ok
    unknown_cfg = ~pd.isna(kinds) & ~np.isin(kinds.astype(str), KINDS)
    rejects.add(lines[bad_kind], "unit", "telemetry.unit_without_kind", {"unit": unit_text[bad_kind]},
                unit_text[bad_kind])
    rejects.add(lines[unknown_cfg & ok], "sensor_id", "telemetry.kind_not_known", {"known": ", ".join(KINDS)})
    ok &= ~bad_kind & ~unknown_cfg
    frame["kind"] = kinds

    # unit factor per distinct (kind, unit) pair: few pairs, so a dict lookup each is cheap
    pair = pd.MultiIndex.from_arrays([kinds.astype(str), unit_text.astype(str)])
    factors = np.full(len(frame), np.nan)
    errors: dict[int, TelemetryUnitError] = {}
    codes, uniq = pd.factorize(pair)
    for code, (kind, unit) in enumerate(uniq):
        if kind not in KINDS:
            continue
        try:
            factors[codes == code] = factor(unit, kind)
        except TelemetryUnitError as exc:
            errors[code] = exc
    bad_unit = ok & ~np.isfinite(factors)
    for code, exc in errors.items():
        sel = bad_unit & (codes == code)
        rejects.add(lines[sel], "unit", exc.key, exc.params, unit_text[sel])
    ok &= ~bad_unit
    frame["value"] = frame["value"].to_numpy() * np.where(ok, factors, np.nan)
    frame["unit"] = pd.Series(kinds).map(CANONICAL).to_numpy()

    rq = {normalise_unit(q) for q in reject_quality}
    bad_q = ok & frame["quality"].isin(rq).to_numpy()
    rejects.add(lines[bad_q], "quality", "telemetry.bad_quality", {"flag": frame["quality"].to_numpy()[bad_q]},
                frame["quality"].to_numpy()[bad_q])
    ok &= ~bad_q
    ok = _check_plausible(frame, ok, plausible, rejects, "value")
    return _finish(frame, ok, rejects, name, expected_interval, gap_factor)


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
    text, name = _read_text(source)
    rejects = _Rejects(name, max_rejected)
    first = text.splitlines()[0] if text.strip() else ""
    header = [h.strip() for h in first.split(";")]
    if len(header) < 2 or header[0].lower() != "timestamp":
        rejects.add([1], "header", "telemetry.bad_header", {"expected": "Timestamp;<sensor id>;..."}, first)
        rows, total = rejects.finish()
        return ParseResult(_empty_readings(), rows, total, [], [name])
    sensors = header[1:]
    dupes = sorted({s for s in sensors if sensors.count(s) > 1} | ({""} if "" in sensors else set()))
    if dupes:
        rejects.add([1], "header", "telemetry.repeated_columns", {"columns": ", ".join(dupes) or "''"}, first)
        rows, total = rejects.finish()
        return ParseResult(_empty_readings(), rows, total, [], [name])
    fields, lines = _split_lines(text, ";", len(header), rejects)
    if len(fields) == 0:
        return _finish(_empty_readings(), np.zeros(0, bool), rejects, name, expected_interval, gap_factor)
    fields.columns = ["Timestamp", *sensors]
    times = _parse_times(fields["Timestamp"].reset_index(drop=True), tz).dt.tz_convert(None).to_numpy()
    bad_t = pd.isna(times)
    rejects.add(lines[bad_t], "Timestamp", "telemetry.bad_timestamp", {"example": "2019-01-01 00:05:00"},
                fields["Timestamp"].to_numpy()[bad_t])
    vals_text = fields[sensors].to_numpy(dtype=object)[~bad_t]
    lines_ok, times_ok = lines[~bad_t], times[~bad_t]
    n_rows, n_sens = vals_text.shape
    flat = pd.Series(vals_text.ravel(), dtype=object).fillna("").str.strip()
    values = pd.to_numeric(flat.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
    frame = pd.DataFrame(
        {
            "timestamp": np.repeat(times_ok, n_sens),
            "sensor_id": np.tile(np.asarray(sensors, dtype=object), n_rows),
            "kind": kind,
            "value": values * scale,
            "unit": CANONICAL[kind],
            "quality": "good",
            "line": np.repeat(lines_ok, n_sens),
        }
    )
    nan = ~np.isfinite(values)
    empty = (flat == "").to_numpy()
    sens = frame["sensor_id"].to_numpy()
    rejects.add(frame["line"].to_numpy()[nan & empty], sens[nan & empty], "telemetry.empty_value")
    rejects.add(frame["line"].to_numpy()[nan & ~empty], sens[nan & ~empty], "telemetry.not_a_number", None,
                flat.to_numpy()[nan & ~empty])
    ok = _check_plausible(frame, ~nan, plausible, rejects, None)
    return _finish(frame, ok, rejects, name, expected_interval, gap_factor)


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
