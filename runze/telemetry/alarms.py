"""Alarm rule engine for telemetry readings: pure logic, no storage.

Rules (factories below build the usual ones, all limits configurable):

* ``low`` / ``high`` — value below / above a limit: network pressure < 0.14 MPa, pressure above a limit, tank level
  below its minimum, raw-water turbidity above what the plant can treat, plant-outlet turbidity > 1 NTU (the
  default values live in :class:`runze.settings.AlarmLimits`, with per-plant and per-sensor overrides).
  **Hysteresis**: raised when the value crosses the limit, cleared only once it is back past ``limit ± deadband``,
  so a value hovering at the limit gives one alarm, not a storm.  ``min_duration_s`` additionally requires the
  condition to hold that long (by reading time) before the alarm is raised.
* ``flatline`` — the last ``count`` readings of a sensor differ by no more than ``limit`` (a stuck sensor).
* ``silent`` — no reading for ``silence_s`` seconds (checked between readings and, with ``now``, at the end).
* ``step`` — a jump of more than ``limit`` (fraction, 0.3 = 30 %) between consecutive readings (a burst or a
  meter fault); previous values with ``|v| < min_base`` are not used as the base, to avoid dividing by ~0.

Lifecycle of an :class:`Alarm`: ``raised`` → (``acknowledged``) → ``cleared``; an alarm that clears before anyone
acknowledged it is ``cleared_unacknowledged`` until acknowledged, then ``cleared``.  Alarms carry ``incident_id``
and ``work_order_id`` link fields.

:class:`AlarmEngine` keeps per (rule, sensor) state between batches, so feeding readings in several batches gives
the same events as one batch; :meth:`AlarmEngine.export_state` / :meth:`AlarmEngine.from_state` turn that state
into JSON-able dicts for the storage layer.  Work per batch is vectorised per sensor (numpy masks, forward fill
for hysteresis); Python loops run only over *runs* of the alarm condition, not over readings.

Readings: a DataFrame with ``timestamp`` (tz-aware), ``sensor_id``, ``value`` in the canonical unit of the
sensor's kind (see :mod:`runze.telemetry.units`), as :func:`runze.telemetry.parse.parse_tidy_csv` returns.
Per (rule, sensor), readings at or before the last one already evaluated are skipped, so a re-sent batch raises
nothing twice (late, out-of-order readings are not evaluated either: store them, but they cannot raise alarms).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from runze.i18n import both, t
from runze.settings import AlarmLimits

# the defaults of the factories below; a deployment sets its own (per plant too) in Settings.alarm_limits
DEFAULT_LIMITS = AlarmLimits()

CONDITIONS = ("low", "high", "flatline", "silent", "step")
STATUSES = ("raised", "acknowledged", "cleared", "cleared_unacknowledged")


@dataclass(frozen=True, slots=True)
class SensorInfo:
    sensor_id: str
    kind: str  # pressure / flow / level / turbidity
    role: str | None = None  # e.g. network, tank, raw_water, plant_outlet, tap


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """One rule.  It applies to a sensor when every given selector matches (kind, role, explicit ids)."""

    rule_id: str
    condition: str  # one of CONDITIONS
    limit: float = 0.0  # low/high: value; step: fraction; flatline: largest change still counted as "no change"
    deadband: float = 0.0  # low/high hysteresis, in the value's unit
    count: int = 0  # flatline: number of readings
    silence_s: float = 0.0  # silent: seconds without a reading
    min_base: float = 1e-9  # step: smallest |previous value| used as the base of the percentage
    min_duration_s: float = 0.0  # condition must hold this long before raising (low/high/flatline)
    sensor_kind: str | None = None
    role: str | None = None
    sensor_ids: tuple[str, ...] | None = None
    severity: str = "major"  # critical / major / minor, for display and routing
    message_key: str = "alarm.value_low"

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise ValueError(f"rule {self.rule_id!r}: condition {self.condition!r} is not one of {CONDITIONS}")
        if self.deadband < 0 or self.min_duration_s < 0:
            raise ValueError(f"rule {self.rule_id!r}: deadband and min_duration_s must be >= 0")
        if self.condition == "flatline" and self.count < 2:
            raise ValueError(f"rule {self.rule_id!r}: a flat-line rule needs count >= 2 readings")
        if self.condition == "silent" and self.silence_s <= 0:
            raise ValueError(f"rule {self.rule_id!r}: a silent-sensor rule needs silence_s > 0")
        if self.condition == "step" and self.limit <= 0:
            raise ValueError(f"rule {self.rule_id!r}: a step rule needs a fraction limit > 0")

    def applies_to(self, sensor: SensorInfo) -> bool:
        if self.sensor_ids is not None and sensor.sensor_id not in self.sensor_ids:
            return False
        if self.sensor_kind is not None and sensor.kind != self.sensor_kind:
            return False
        return self.role is None or sensor.role == self.role


# ----------------------------------------------------------------------------- rule factories


def pressure_low(limit: float | None = None, deadband: float = 0.01, min_duration_s: float = 0.0,
                 role: str | None = None, rule_id: str = "pressure_low") -> AlarmRule:
    """Service pressure below ``limit`` MPa (default 0.14 MPa ≈ 14 m at the far end of the network)."""
    limit = DEFAULT_LIMITS.pressure_low_mpa if limit is None else limit
    return AlarmRule(rule_id, "low", limit=limit, deadband=deadband, min_duration_s=min_duration_s,
                     sensor_kind="pressure", role=role, message_key="alarm.pressure_low")


def pressure_high(limit: float | None = None, deadband: float = 0.02, min_duration_s: float = 0.0,
                  role: str | None = None, rule_id: str = "pressure_high") -> AlarmRule:
    limit = DEFAULT_LIMITS.pressure_high_mpa if limit is None else limit
    return AlarmRule(rule_id, "high", limit=limit, deadband=deadband, min_duration_s=min_duration_s,
                     sensor_kind="pressure", role=role, message_key="alarm.pressure_high")


def tank_low(minimums: Mapping[str, float], deadband: float = 0.1, min_duration_s: float = 0.0) -> list[AlarmRule]:
    """One rule per tank level sensor: level (m) below that tank's minimum."""
    return [
        AlarmRule(f"tank_low:{sid}", "low", limit=float(m), deadband=deadband, min_duration_s=min_duration_s,
                  sensor_kind="level", sensor_ids=(sid,), severity="critical", message_key="alarm.tank_low")
        for sid, m in minimums.items()
    ]


def raw_turbidity_high(limits: Mapping[str, float], deadband_fraction: float = 0.1,
                       min_duration_s: float = 0.0) -> list[AlarmRule]:
    """One rule per raw-water turbidity sensor: NTU above the level its plant can treat (plant-specific)."""
    return [
        AlarmRule(f"raw_turbidity_high:{sid}", "high", limit=float(lim), deadband=float(lim) * deadband_fraction,
                  min_duration_s=min_duration_s, sensor_kind="turbidity", sensor_ids=(sid,), severity="critical",
                  message_key="alarm.raw_turbidity_high")
        for sid, lim in limits.items()
    ]


def outlet_turbidity_high(limit: float | None = None, deadband: float = 0.1, min_duration_s: float = 0.0,
                          role: str = "plant_outlet", rule_id: str = "outlet_turbidity_high",
                          sensor_ids: tuple[str, ...] | None = None) -> AlarmRule:
    """Plant-outlet (or tap, with ``role="tap"``) turbidity above ``limit`` NTU (default 1 NTU, GB 5749-2022);
    ``sensor_ids`` restricts the rule to those sensors (a plant with its own limit gets its own rule)."""
    limit = DEFAULT_LIMITS.outlet_turbidity_ntu if limit is None else limit
    return AlarmRule(rule_id, "high", limit=limit, deadband=deadband, min_duration_s=min_duration_s,
                     sensor_kind="turbidity", role=role, sensor_ids=sensor_ids, severity="critical",
                     message_key="alarm.outlet_turbidity_high")


def flatline(count: int = 12, tolerance: float = 0.0, sensor_kind: str | None = None,
             rule_id: str = "flatline") -> AlarmRule:
    return AlarmRule(rule_id, "flatline", limit=tolerance, count=count, sensor_kind=sensor_kind, severity="minor",
                     message_key="alarm.flatline")


def silent(after_s: float = 900.0, sensor_kind: str | None = None, rule_id: str = "silent") -> AlarmRule:
    return AlarmRule(rule_id, "silent", silence_s=after_s, sensor_kind=sensor_kind, severity="minor",
                     message_key="alarm.silent")


def flow_step(fraction: float = 0.3, min_base: float = 1.0, rule_id: str = "flow_step") -> AlarmRule:
    """Flow changing by more than ``fraction`` between readings; bases below ``min_base`` m³/h are skipped."""
    return AlarmRule(rule_id, "step", limit=fraction, min_base=min_base, sensor_kind="flow",
                     message_key="alarm.flow_step")


# ----------------------------------------------------------------------------- alarms and events


@dataclass
class Alarm:
    alarm_id: str
    rule_id: str
    sensor_id: str
    condition: str
    severity: str
    raised_at: pd.Timestamp
    raise_value: float | None  # None for a silent sensor
    message_key: str
    params: dict
    acknowledged_at: pd.Timestamp | None = None
    acknowledged_by: str | None = None
    cleared_at: pd.Timestamp | None = None
    clear_value: float | None = None
    incident_id: str | None = None
    work_order_id: str | None = None

    @property
    def status(self) -> str:
        if self.cleared_at is None:
            return "raised" if self.acknowledged_at is None else "acknowledged"
        return "cleared" if self.acknowledged_at is not None else "cleared_unacknowledged"

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    def message(self, lang: str = "zh") -> str:
        return t(self.message_key, lang, **self.params)

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("raised_at", "acknowledged_at", "cleared_at"):
            d[k] = None if d[k] is None else pd.Timestamp(d[k]).isoformat()
        d["status"] = self.status
        d["message"] = both(self.message_key, **self.params)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Alarm:
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k in ("raised_at", "acknowledged_at", "cleared_at"):
            kw[k] = None if kw.get(k) is None else pd.Timestamp(kw[k])
        return cls(**kw)


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """Something that happened to an alarm: ``raised``, ``cleared``, ``acknowledged`` or ``linked``."""

    type: str
    alarm_id: str
    rule_id: str
    sensor_id: str
    at: pd.Timestamp
    value: float | None
    status: str  # the alarm's status after the event
    message: dict  # {"zh": ..., "en": ...}

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["at"] = pd.Timestamp(self.at).isoformat()
        return d


@dataclass
class _Track:
    """State of one (rule, sensor) pair carried between batches."""

    in_condition: bool = False  # hysteresis state after the last reading
    pending_since: pd.Timestamp | None = None  # condition holding but min_duration not yet reached
    alarm_id: str | None = None  # the active alarm, if any
    tail: list[float] = field(default_factory=list)  # flatline: last count-1 values
    last_value: float | None = None
    last_time: pd.Timestamp | None = None


def _plain(v):
    """A JSON-able Python number (None for NaN) from a numpy scalar, so alarm params can be stored as JSON."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _ts_or_none(x):
    return None if x is None else pd.Timestamp(x)


class AlarmEngine:
    """Evaluates rules on batches of readings and keeps the alarms they raise."""

    def __init__(self, rules: Iterable[AlarmRule], sensors: Iterable[SensorInfo] | Mapping[str, str],
                 *, start: pd.Timestamp | None = None, id_prefix: str = "ALM") -> None:
        self.rules = list(rules)
        ids = [r.rule_id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rule ids must be unique, repeated: {sorted({i for i in ids if ids.count(i) > 1})}")
        if isinstance(sensors, Mapping):
            sensors = [SensorInfo(sid, kind) for sid, kind in sensors.items()]
        self.sensors = {s.sensor_id: s for s in sensors}
        self.start = _ts_or_none(start)  # silent-sensor clock for sensors never heard from
        self.id_prefix = id_prefix
        self.counter = 0
        self.alarms: dict[str, Alarm] = {}
        self.tracks: dict[tuple[str, str], _Track] = {}

    # ---- public API
    def process(self, readings: pd.DataFrame, now: pd.Timestamp | None = None) -> list[AlarmEvent]:
        """Evaluate a batch (any sensors, any order); returns the events in time order."""
        events: list[AlarmEvent] = []
        if len(readings):
            data = readings[["timestamp", "sensor_id", "value"]].dropna()
            data = data.sort_values(["sensor_id", "timestamp"], kind="stable")
            for sid, grp in data.groupby("sensor_id", sort=False):
                sensor = self.sensors.get(str(sid))
                if sensor is None:
                    continue  # unknown sensors are the parser's/registry's business, not an alarm
                times = pd.DatetimeIndex(grp["timestamp"]).as_unit("ns")  # asi8 below is then ns
                values = grp["value"].to_numpy(dtype=float)
                for rule in self.rules:
                    if rule.applies_to(sensor):
                        events += self._evaluate(rule, sensor, times, values)
        if now is not None:
            events += self.check_silence(now)
        events.sort(key=lambda e: (e.at, e.sensor_id, e.rule_id, e.type != "cleared"))
        return events

    def check_silence(self, now: pd.Timestamp) -> list[AlarmEvent]:
        """Raise silent-sensor alarms for sensors with no reading since ``now - silence_s``."""
        now = pd.Timestamp(now)
        events = []
        for rule in self.rules:
            if rule.condition != "silent":
                continue
            for sensor in self.sensors.values():
                if not rule.applies_to(sensor):
                    continue
                tr = self._track(rule, sensor)
                last = tr.last_time if tr.last_time is not None else self.start
                if tr.alarm_id is None and last is not None and (now - last).total_seconds() > rule.silence_s:
                    at = last + pd.Timedelta(seconds=rule.silence_s)
                    events.append(self._raise(rule, sensor, tr, at, np.nan, {"minutes": rule.silence_s / 60}))
        return events

    def acknowledge(self, alarm_id: str, by: str, at: pd.Timestamp) -> AlarmEvent:
        alarm = self._get(alarm_id)
        if alarm.acknowledged_at is None:
            alarm.acknowledged_at, alarm.acknowledged_by = pd.Timestamp(at), by
        return self._event("acknowledged", alarm, alarm.acknowledged_at, None)

    def link(self, alarm_id: str, *, incident_id: str | None = None, work_order_id: str | None = None) -> AlarmEvent:
        alarm = self._get(alarm_id)
        if incident_id is not None:
            alarm.incident_id = incident_id
        if work_order_id is not None:
            alarm.work_order_id = work_order_id
        return self._event("linked", alarm, alarm.raised_at, None)

    def active(self) -> list[Alarm]:
        return [a for a in self.alarms.values() if a.active]

    def needing_attention(self) -> list[Alarm]:
        """Active alarms plus cleared ones nobody acknowledged."""
        return [a for a in self.alarms.values() if a.status != "cleared"]

    def forget_closed(self) -> list[Alarm]:
        """Drop cleared-and-acknowledged alarms from memory (after storing them); returns them."""
        closed = [a for a in self.alarms.values() if a.status == "cleared"]
        for a in closed:
            del self.alarms[a.alarm_id]
        return closed

    def export_state(self) -> dict:
        """JSON-able state: counter, tracks and kept alarms (rules and sensors are configuration, not state)."""
        return {
            "counter": self.counter,
            "start": None if self.start is None else self.start.isoformat(),
            "tracks": [
                {"rule_id": r, "sensor_id": s, "in_condition": tr.in_condition,
                 "pending_since": None if tr.pending_since is None else tr.pending_since.isoformat(),
                 "alarm_id": tr.alarm_id, "tail": list(tr.tail), "last_value": tr.last_value,
                 "last_time": None if tr.last_time is None else tr.last_time.isoformat()}
                for (r, s), tr in self.tracks.items()
            ],
            "alarms": [a.to_dict() for a in self.alarms.values()],
        }

    @classmethod
    def from_state(cls, rules, sensors, state: Mapping, id_prefix: str = "ALM") -> AlarmEngine:
        eng = cls(rules, sensors, start=_ts_or_none(state.get("start")), id_prefix=id_prefix)
        eng.counter = int(state.get("counter", 0))
        for d in state.get("tracks", []):
            eng.tracks[(d["rule_id"], d["sensor_id"])] = _Track(
                d["in_condition"], _ts_or_none(d["pending_since"]), d["alarm_id"], list(d["tail"]),
                d["last_value"], _ts_or_none(d["last_time"]))
        for d in state.get("alarms", []):
            a = Alarm.from_dict(d)
            eng.alarms[a.alarm_id] = a
        return eng

    # ---- internals
    def _get(self, alarm_id: str) -> Alarm:
        try:
            return self.alarms[alarm_id]
        except KeyError:
            raise KeyError(f"no alarm {alarm_id!r} in this engine") from None

    def _track(self, rule: AlarmRule, sensor: SensorInfo) -> _Track:
        return self.tracks.setdefault((rule.rule_id, sensor.sensor_id), _Track())

    def _event(self, kind: str, alarm: Alarm, at, value) -> AlarmEvent:
        msg = both(alarm.message_key, **alarm.params)
        if kind == "cleared":
            msg = {lang: t("alarm.cleared", lang, message=text) for lang, text in msg.items()}
        v = None if value is None or not np.isfinite(value) else float(value)
        return AlarmEvent(kind, alarm.alarm_id, alarm.rule_id, alarm.sensor_id, pd.Timestamp(at), v, alarm.status, msg)

    def _raise(self, rule, sensor, tr: _Track, at, value, extra: dict) -> AlarmEvent:
        self.counter += 1
        alarm_id = f"{self.id_prefix}-{self.counter:06d}"
        value = _plain(value)
        params = {"sensor": sensor.sensor_id, "value": value, "limit": rule.limit,
                  **{k: _plain(v) for k, v in extra.items()}}
        alarm = Alarm(alarm_id, rule.rule_id, sensor.sensor_id, rule.condition, rule.severity, pd.Timestamp(at),
                      value, rule.message_key, params)
        self.alarms[alarm_id] = alarm
        tr.alarm_id = alarm_id
        tr.pending_since = None
        return self._event("raised", alarm, at, value)

    def _clear(self, tr: _Track, at, value) -> AlarmEvent:
        alarm = self.alarms[tr.alarm_id]
        alarm.cleared_at = pd.Timestamp(at)
        alarm.clear_value = None if value is None or not np.isfinite(value) else float(value)
        tr.alarm_id = None
        return self._event("cleared", alarm, at, value)

    def _evaluate(self, rule, sensor, times: pd.DatetimeIndex, values: np.ndarray) -> list[AlarmEvent]:
        tr = self._track(rule, sensor)
        if tr.last_time is not None:
            # readings at or before the last one evaluated were seen already (a re-sent batch) or arrived too
            # late to evaluate in order: skip them, so re-processing a batch raises nothing twice
            newer = times > tr.last_time
            if not newer.all():
                times, values = times[newer], values[newer]
                if len(times) == 0:
                    return []
        if rule.condition == "silent":
            return self._evaluate_silent(rule, sensor, tr, times, values)
        extras = None
        if rule.condition in ("low", "high"):
            if rule.condition == "low":
                set_mask, reset_mask = values < rule.limit, values >= rule.limit + rule.deadband
            else:
                set_mask, reset_mask = values > rule.limit, values <= rule.limit - rule.deadband
            # hysteresis without a loop: 1 where set, 0 where reset, carry the last decision forward
            decided = np.where(set_mask, 1.0, np.where(reset_mask, 0.0, np.nan))
            state = pd.Series(decided).ffill().fillna(float(tr.in_condition)).to_numpy() > 0.5
        elif rule.condition == "flatline":
            n = rule.count
            full = np.concatenate([np.asarray(tr.tail[-(n - 1):], dtype=float), values])
            k = len(full) - len(values)  # carried values before this batch
            flat = np.zeros(len(values), dtype=bool)
            if len(full) >= n:
                win = np.lib.stride_tricks.sliding_window_view(full, n)
                flat_full = (win.max(axis=1) - win.min(axis=1)) <= rule.limit  # window w ends at full[w + n - 1]
                ends = k + np.arange(len(values))
                valid = ends >= n - 1
                flat[valid] = flat_full[ends[valid] - (n - 1)]
            state = flat
            tr.tail = full[-(n - 1):].tolist()
            extras = {"count": n}
        else:  # step
            prev = np.concatenate([[np.nan if tr.last_value is None else tr.last_value], values[:-1]])
            base = np.abs(prev)
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.abs(values - prev) / base
            state = (base >= rule.min_base) & (rel > rule.limit)
            extras = {"previous": prev, "percent": rel * 100.0, "limit_percent": rule.limit * 100.0}
        events = self._runs(rule, sensor, tr, times, values, state, extras)
        tr.last_value, tr.last_time = float(values[-1]), times[-1]
        return events

    def _runs(self, rule, sensor, tr: _Track, times, values, state: np.ndarray, extras) -> list[AlarmEvent]:
        """Turn the condition state per reading into raise/clear events (a loop over runs, not readings)."""
        events = []
        n = len(state)
        change = np.flatnonzero(np.diff(np.concatenate([[tr.in_condition], state]).astype(np.int8)) != 0)
        bounds = np.concatenate([[0], change, [n]])
        tsec = times.asi8 / 1e9  # ns -> s, float for the duration test
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if a == b:
                continue
            if not state[a]:
                if tr.alarm_id is not None:
                    events.append(self._clear(tr, times[a], values[a]))
                tr.pending_since = None
                continue
            if tr.alarm_id is not None:
                continue  # already raised, still in condition
            start = tr.pending_since if (a == 0 and tr.in_condition and tr.pending_since is not None) else times[a]
            need = start.value / 1e9 + rule.min_duration_s
            j = a + int(np.searchsorted(tsec[a:b], need - 1e-9, side="left"))
            if j < b:
                extra = {} if extras is None else {
                    k: (v[j] if isinstance(v, np.ndarray) else v) for k, v in extras.items()}
                events.append(self._raise(rule, sensor, tr, times[j], values[j], extra))
            else:
                tr.pending_since = start
        tr.in_condition = bool(state[-1]) if n else tr.in_condition
        return events

    def _evaluate_silent(self, rule, sensor, tr: _Track, times, values) -> list[AlarmEvent]:
        events = []
        prev_time = tr.last_time if tr.last_time is not None else self.start
        if tr.alarm_id is not None:  # raised by check_silence: the first new reading ends it
            events.append(self._clear(tr, times[0], values[0]))
        stamps = (times if prev_time is None else times.insert(0, prev_time)).as_unit("ns")
        gaps = np.diff(stamps.asi8) / 1e9
        offset = 0 if prev_time is None else 1
        for i in np.flatnonzero(gaps > rule.silence_s):
            j = i + 1 - offset  # the reading that ended the silence
            if j == 0 and events:
                continue  # the carried alarm already covers this silence
            at = stamps[i] + pd.Timedelta(seconds=rule.silence_s)
            events.append(self._raise(rule, sensor, tr, at, np.nan, {"minutes": rule.silence_s / 60}))
            events.append(self._clear(tr, times[j], values[j]))
        tr.last_value, tr.last_time = float(values[-1]), times[-1]
        return events


def default_rules(pressure_high_limit: float | None = None, limits: AlarmLimits | None = None) -> list[AlarmRule]:
    """A starting rule set for a city network with the thresholds of ``limits`` (default: ``DEFAULT_LIMITS``);
    tank and raw-water rules need per-site sensors, see ``runze.ops.telemetry.alarm_rules``."""
    limits = limits or DEFAULT_LIMITS
    return [
        pressure_low(limits.pressure_low_mpa),
        pressure_high(limits.pressure_high_mpa if pressure_high_limit is None else pressure_high_limit),
        outlet_turbidity_high(limits.outlet_turbidity_ntu),
        flatline(count=12),
        silent(after_s=900.0),
        flow_step(),
    ]


def with_limit(rule: AlarmRule, **changes) -> AlarmRule:
    """A copy of ``rule`` with fields changed (rules are frozen)."""
    return replace(rule, **changes)
