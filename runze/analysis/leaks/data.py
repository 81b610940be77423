"""Reading a SCADA directory for leak work: BattLeDIM wide files or tidy CSV, as one wide frame per kind.

Layouts accepted in DIR:

* BattLeDIM: ``Pressures.csv`` (m), ``Flows.csv`` (m³/h), ``Levels.csv`` (m), optional ``Demands.csv`` (AMR, L/h);
  first column ``Timestamp`` (``2019-01-01 00:05:00``), ``;`` separator, ``,`` decimal mark, one column per
  sensor named by its sensor id or by the node/link it sits on.
* tidy: any other ``*.csv`` with ``timestamp,sensor_id,value,unit[,quality]`` (units converted; a unit of the
  wrong kind for the sensor is reported).

Parsing is `runze.telemetry.parse` (pyarrow).  Bad rows, duplicates and gaps are reported in `ScadaData.issues`
and never fatal; what is fatal, with a message naming the file and the column: a file in neither layout, a column
that is no known sensor (and no node/link of the right kind), a sensor in the file of another kind, values whose
magnitude shows another unit (pressures in kPa in Pressures.csv).  Output frames are on a regular 5-minute grid
(NaN in gaps), naive timestamps as written in the files (BattLeDIM) or UTC (tidy), in m, m³/h, m, L/h.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from runze.analysis.leaks.layout import FILE_OF_KIND, KIND_UNITS, SensorLayout
from runze.i18n import bilingual
from runze.network.model import Network
from runze.telemetry.parse import ParseResult, parse_battledim_csv, parse_tidy_csv
from runze.telemetry.units import factor

STEP = pd.Timedelta(minutes=5)
TELEMETRY_KIND = {"pressure": "pressure", "flow": "flow", "level": "level", "demand": "flow"}
# a median outside these (in the file's declared unit) means the file is in another unit
PLAUSIBLE_MEDIAN = {"pressure": (-5.0, 250.0), "level": (-1.0, 60.0)}

class ScadaError(ValueError):
    """SCADA input that cannot be used (bilingual message naming the file and column)."""


def _msg(key: str, **kw) -> str:
    return bilingual(f"leaks.scada.{key}", **kw)


@dataclass
class ScadaData:
    frames: dict[str, pd.DataFrame]  # kind -> (time x sensor id) on a 5-minute grid
    issues: list[str] = field(default_factory=list)  # rejected rows, duplicates and gaps, readable
    rejected: int = 0
    gaps: int = 0

    @property
    def index(self) -> pd.DatetimeIndex:
        return next(iter(self.frames.values())).index


def _resolve_column(col: str, kind: str, layout: SensorLayout, net: Network | None, fname: str) -> str:
    """Sensor id for a column named by sensor id or element id; adds network elements as new sensors."""
    sensors = layout.of_kind(kind)
    if col in sensors:
        return col
    by_element = layout.element_to_sensor(kind)
    if col in by_element:
        return by_element[col]
    for other in KIND_UNITS:
        if other != kind and (col in layout.of_kind(other)):
            raise ScadaError(_msg("wrong_kind", f=fname, col=col, other=other, kind=kind))
    if net is not None:
        ok = {"pressure": net.has_node(col), "demand": col in net.junctions, "level": col in net.tanks,
              "flow": net.has_link(col)}[kind]
        if ok:
            sensors[col] = col
            return col
    what = {"pressure": "node", "demand": "junction", "level": "tank", "flow": "link"}[kind]
    raise ScadaError(_msg("unknown", f=fname, col=col, kind=kind, what=what))


def _issues(res: ParseResult, limit: int = 50) -> list[str]:
    out = [str(r) for r in res.rejected[:limit]]
    if res.rejected_total > limit:
        out.append(f"... {res.rejected_total - limit} more rejected rows")
    out += [f"gap {g.sensor_id}: {g.start} .. {g.end} ({g.missing} readings)" for g in res.gaps[:limit]]
    return out


def _wide(readings: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Readings (canonical units) to a wide frame in the leak units (m, m³/h, m, L/h)."""
    tkind = TELEMETRY_KIND[kind]
    scale = 1.0 / factor(KIND_UNITS[kind], tkind)
    ts = readings["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    times, ti = np.unique(ts, return_inverse=True)
    sensors, si = np.unique(readings["sensor_id"].astype(str).to_numpy(), return_inverse=True)
    values = np.full((len(times), len(sensors)), np.nan)
    values[ti, si] = readings["value"].to_numpy(float) * scale  # the parser already dropped duplicates
    return pd.DataFrame(values, index=pd.DatetimeIndex(times), columns=list(sensors))


def read_scada(directory: str | Path, layout: SensorLayout, net: Network | None = None) -> ScadaData:
    """All SCADA files of DIR (see the module docstring) as wide 5-minute frames per kind."""
    d = Path(directory)
    if not d.is_dir():
        raise ScadaError(_msg("empty", d=d))
    frames: dict[str, list[pd.DataFrame]] = {}
    issues: list[str] = []
    rejected = gaps = 0
    known = {v: k for k, v in FILE_OF_KIND.items()}
    files = sorted(p for p in d.glob("*.csv") if p.name not in ("leaks.csv",) and not p.name.startswith("detect"))
    for path in files:
        head = path.open(encoding="utf-8", errors="replace").readline().strip()
        if path.name in known:
            kind = known[path.name]
            if not head.lower().startswith("timestamp;"):
                raise ScadaError(_msg("layout", f=path, head=head[:60]))
            cols = [c.strip() for c in head.split(";")[1:]]
            rename = {c: _resolve_column(c, kind, layout, net, path.name) for c in cols}
            res = parse_battledim_csv(path, TELEMETRY_KIND[kind], KIND_UNITS[kind], tz="UTC",
                                      plausible={"pressure": (None, None), "flow": (None, None),
                                                 "level": (None, None)})
            wide = _wide(res.readings, kind).rename(columns=rename) if len(res.readings) else pd.DataFrame()
            frames.setdefault(kind, []).append(wide)
        elif head.lower().replace(" ", "").startswith("timestamp,sensor_id,value,unit"):
            kinds = {sid: TELEMETRY_KIND[k] for k in KIND_UNITS for sid in layout.of_kind(k)}
            res = parse_tidy_csv(path, sensor_kinds=kinds, naive_tz="UTC")
            if len(res.readings):
                sid = res.readings["sensor_id"].astype(str)
                unknown = sorted(set(sid) - set(kinds))
                if unknown:
                    raise ScadaError(_msg("unknown", f=path.name, col=unknown[0], kind="", what="sensor"))
                for kind in KIND_UNITS:
                    mine = sid.isin(list(layout.of_kind(kind)))
                    if mine.any():
                        frames.setdefault(kind, []).append(_wide(res.readings[mine.to_numpy()], kind))
        else:
            raise ScadaError(_msg("layout", f=path, head=head[:60]))
        issues += _issues(res)
        rejected += res.rejected_total
        gaps += len(res.gaps)
    if not frames:
        raise ScadaError(_msg("empty", d=d))
    out: dict[str, pd.DataFrame] = {}
    start = min(f.index.min() for fs in frames.values() for f in fs if len(f))
    end = max(f.index.max() for fs in frames.values() for f in fs if len(f))
    grid = pd.date_range(start.floor("5min"), end, freq=STEP)
    for kind, parts in frames.items():
        parts = [p for p in parts if len(p)]
        if not parts:
            continue
        wide = pd.concat(parts, axis=1)
        wide = wide.loc[:, ~wide.columns.duplicated()]
        wide.index = wide.index.round("5min")
        wide = wide[~wide.index.duplicated()].reindex(grid)
        for col in wide.columns:
            lo_hi = PLAUSIBLE_MEDIAN.get(kind)
            med = float(np.nanmedian(wide[col].to_numpy())) if wide[col].notna().any() else 0.0
            if lo_hi and not lo_hi[0] <= med <= lo_hi[1]:
                raise ScadaError(_msg("magnitude", f=FILE_OF_KIND[kind], col=col, med=med, unit=KIND_UNITS[kind]))
        out[kind] = wide
    return ScadaData(out, issues, rejected, gaps)
