"""Validation of telemetry messages (MQTT and the like): one reading per message, pure logic, no storage.

A message is a topic ``<prefix>/<sensor_id>`` and a JSON payload
``{"t": "2026-11-25T03:05:00+08:00", "v": 0.31, "unit": "MPa", "q": "good"}`` (``q`` optional, default good).
:func:`validate_messages` turns a batch into arrays of good readings in canonical units and a list of
:class:`Rejected` messages, each with the raw payload, the field and the reason (i18n code, English and Chinese),
so that the storage layer can quarantine them: nothing is dropped silently.

Rules: the topic names a sensor (≤ 64 characters); the payload is a UTF-8 JSON object; ``t`` is ISO 8601 (a time
without an offset is read in ``naive_tz``, Asia/Shanghai, as the CSV parser does); ``v`` is a finite number;
``unit`` is a unit of the sensor's kind (a sensor not yet known gets its kind from the unit when the unit names
one kind; ``m`` does not); ``q`` is good / uncertain / estimated / manual (``bad``, ``invalid`` and ``0`` are
rejected, as anything else); the canonical value lies in the plausible range of its kind (parse.DEFAULT_PLAUSIBLE).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from runze.i18n import t as i18n_t
from runze.telemetry.parse import DEFAULT_PLAUSIBLE
from runze.telemetry.units import CANONICAL, TelemetryUnitError, factor, kind_of_unit

QUALITY_CODES: dict[str, int] = {"good": 0, "uncertain": 1, "estimated": 2, "manual": 3}
REJECT_QUALITY = ("bad", "invalid", "0")
MAX_SENSOR_ID = 64
# reasons that the shared catalogue (runze.i18n) does not have yet: kept here, one dict for this module
MESSAGES = {
    "telemetry.bad_topic": {"zh": "主题“{topic}”不是 {prefix}/<测点编号>",
                            "en": "topic '{topic}' is not {prefix}/<sensor id>"},
    "telemetry.bad_json": {"zh": "消息不是 JSON 对象：{error}", "en": "payload is not a JSON object: {error}"},
    "telemetry.missing_field": {"zh": "缺少字段“{field}”", "en": "missing field '{field}'"},
    "telemetry.unknown_quality": {"zh": "未知的质量标记“{flag}”（可用：{known}）",
                                  "en": "unknown quality flag '{flag}' (known: {known})"},
    "telemetry.unknown_sensor": {"zh": "未登记的测点“{sensor}”", "en": "sensor '{sensor}' is not registered"},
}


def reason(code: str, lang: str, params: Mapping[str, object]) -> str:
    if code in MESSAGES:
        template = MESSAGES[code][lang]
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template
    return i18n_t(code, lang, **params)


@dataclass(slots=True)
class Message:
    """One received message.  ``mid``/``qos`` identify it for the broker's acknowledgement."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    qos: int = 0


@dataclass(slots=True)
class Rejected:
    origin: str  # topic, or file:line
    payload: str
    field: str
    code: str
    params: dict = field(default_factory=dict)
    received_at: datetime | None = None

    @property
    def reason(self) -> str:
        return reason(self.code, "en", self.params)

    @property
    def reason_zh(self) -> str:
        return reason(self.code, "zh", self.params)


@dataclass(slots=True)
class ValidReadings:
    """Good readings as parallel arrays; ``kind`` per reading so new sensors can be registered."""

    sensor_id: list[str]
    kind: list[str]
    unit: list[str]  # the unit as sent
    t_us: np.ndarray  # int64 µs since the epoch, UTC
    value: np.ndarray  # canonical unit of the kind
    quality: np.ndarray  # int16 code (QUALITY_CODES)

    def __len__(self) -> int:
        return len(self.sensor_id)


def sensor_of_topic(topic: str, prefix: str) -> str | None:
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return None
    sid = topic[len(head):]
    if not sid or "/" in sid or len(sid) > MAX_SENSOR_ID or any(c in sid for c in "+#\x00"):
        return None
    return sid


def validate_messages(messages: Iterable[Message], *, prefix: str, sensor_kinds: Mapping[str, str],
                      auto_register: bool = True, naive_tz: str = "Asia/Shanghai",
                      plausible: Mapping[str, tuple[float | None, float | None]] = DEFAULT_PLAUSIBLE,
                      ) -> tuple[ValidReadings, list[Rejected]]:
    """Split a batch into good readings (canonical units) and rejected messages with their reasons."""
    tz = ZoneInfo(naive_tz)
    sids: list[str] = []
    kinds: list[str] = []
    units: list[str] = []
    times: list[int] = []
    values: list[float] = []
    quals: list[int] = []
    rejected: list[Rejected] = []
    factors: dict[tuple[str, str], float | TelemetryUnitError] = {}
    new_kinds: dict[str, str] = {}

    for msg in messages:
        def reject(fld: str, code: str, msg: Message = msg, **params: object) -> None:
            rejected.append(Rejected(msg.topic, msg.payload.decode("utf-8", errors="replace")[:4000], fld, code,
                                     params, msg.received_at))

        sid = sensor_of_topic(msg.topic, prefix)
        if sid is None:
            reject("topic", "telemetry.bad_topic", topic=msg.topic[:200], prefix=prefix)
            continue
        try:
            data = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            reject("payload", "telemetry.bad_json", error=str(exc)[:200])
            continue
        if not isinstance(data, dict):
            reject("payload", "telemetry.bad_json", error=f"{type(data).__name__}, not an object")
            continue
        missing = [k for k in ("t", "v", "unit") if k not in data]
        if missing:
            reject(missing[0], "telemetry.missing_field", field=missing[0])
            continue
        stamp = data["t"]
        try:
            when = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
        except ValueError:
            when = None
        if when is None:
            reject("t", "telemetry.bad_timestamp", example="2026-11-25T03:05:00+08:00")
            continue
        if when.tzinfo is None or when.utcoffset() is None:
            when = when.replace(tzinfo=tz)
        value = data["v"]
        if value is None or value == "":
            reject("v", "telemetry.empty_value")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            reject("v", "telemetry.not_a_number")
            continue
        unit = data["unit"]
        if not isinstance(unit, str):
            reject("unit", "telemetry.unknown_unit", unit=str(unit), kind="?", known="MPa, m3/h, m, NTU")
            continue
        kind = sensor_kinds.get(sid) or new_kinds.get(sid)
        if kind is None:
            if not auto_register:
                reject("topic", "telemetry.unknown_sensor", sensor=sid)
                continue
            kind = kind_of_unit(unit)
            if kind is None:
                reject("unit", "telemetry.unit_without_kind", unit=unit)
                continue
            new_kinds[sid] = kind
        key = (unit, kind)
        if key not in factors:
            try:
                factors[key] = factor(unit, kind)
            except TelemetryUnitError as exc:
                factors[key] = exc
        f = factors[key]
        if isinstance(f, TelemetryUnitError):
            reject("unit", f.key, **f.params)
            continue
        flag = str(data.get("q", "good") or "good").strip().lower()
        if flag in REJECT_QUALITY:
            reject("q", "telemetry.bad_quality", flag=flag)
            continue
        if flag not in QUALITY_CODES:
            reject("q", "telemetry.unknown_quality", flag=flag[:32], known=", ".join(QUALITY_CODES))
            continue
        canonical = float(value) * f
        low, high = plausible.get(kind, (None, None))
        if (low is not None and canonical < low) or (high is not None and canonical > high):
            reject("v", "telemetry.implausible", kind=kind, low=low, high=high, unit=CANONICAL[kind])
            continue
        sids.append(sid)
        kinds.append(kind)
        units.append(unit)
        # integer µs from the aware datetime without float rounding
        times.append((when - _EPOCH).days * 86_400_000_000 + (when - _EPOCH).seconds * 1_000_000
                     + (when - _EPOCH).microseconds)
        values.append(canonical)
        quals.append(QUALITY_CODES[flag])
    valid = ValidReadings(sids, kinds, units, np.asarray(times, dtype=np.int64), np.asarray(values, dtype=float),
                          np.asarray(quals, dtype=np.int16))
    return valid, rejected


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
