"""Telemetry units and CSV parsing: conversions, tidy and BattLeDIM layouts, rejected rows naming file/line/field."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from runze.telemetry.parse import (
    find_gaps,
    merge_results,
    parse_battledim_csv,
    parse_tidy_csv,
    readings_from_text,
)
from runze.telemetry.units import TelemetryUnitError, convert, factor, kind_of_unit, to_canonical

# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("value", "unit", "kind", "expected"),
    [
        (1.0, "MPa", "pressure", 1.0),
        (140.0, "kPa", "pressure", 0.14),
        (1.4, "bar", "pressure", 0.14),
        # 14.28 m head × 9.80665 kPa/m = 140.039 kPa
        (14.28, "m", "pressure", 0.14003896),
        (100.0, "psi", "pressure", 0.6894757293168),  # 100 × 6894.757 Pa
        (1.0, "L/s", "flow", 3.6),
        (1.0, "m³/s", "flow", 3600.0),
        (2400.0, "m3/d", "flow", 100.0),
        (360.0, "l/h", "flow", 0.36),
        (250.0, "cm", "level", 2.5),
        (0.5, "NTU", "turbidity", 0.5),
    ],
)
def test_to_canonical(value, unit, kind, expected):
    assert to_canonical(value, unit, kind) == pytest.approx(expected, rel=1e-7)


def test_convert_round_trip_and_vectorised():
    heads = np.array([10.0, 20.0, 102.0])
    mpa = convert(heads, "m", "MPa", kind="pressure")
    assert mpa[2] == pytest.approx(1.0003, abs=1e-4)  # 1 MPa ≈ 102 m
    np.testing.assert_allclose(convert(mpa, "MPa", "mH2O", kind="pressure"), heads)
    assert convert(pd.Series([3.6]), "m3/h", "L/s", kind="flow").iloc[0] == pytest.approx(1.0)


def test_unknown_and_wrong_kind_units_raise_clearly():
    with pytest.raises(TelemetryUnitError, match="Unknown unit 'furlong'"):
        factor("furlong", "level")
    with pytest.raises(TelemetryUnitError, match="Unit 'NTU' measures turbidity, not pressure") as info:
        factor("NTU", "pressure")
    assert "NTU" in info.value.message_zh and "压力" in info.value.message_zh
    with pytest.raises(TelemetryUnitError, match="measures pressure, not flow"):
        factor("MPa", "flow")
    with pytest.raises(ValueError, match="unknown reading kind"):
        factor("m", "temperature")
    assert kind_of_unit("m") is None  # level or pressure head: ambiguous
    assert kind_of_unit("kPa") == "pressure"


# ---------------------------------------------------------------- tidy CSV

GOOD = """timestamp,sensor_id,value,unit,quality
2025-01-01T08:00:00+08:00,P1,0.30,MPa,good
2025-01-01 08:05:00,P1,30,m,
2025-01-01 08:10:00,P1,300,kPa,good
2025-01-01T00:15:00Z,P1,0.3,MPa,good
"""


def test_tidy_good_file_converts_units_and_times():
    r = readings_from_text(GOOD, sensor_kinds={"P1": "pressure"})
    assert r.ok and r.rejected == []
    assert list(r.readings["value"].round(5)) == [0.3, round(30 * 9.80665e-3, 5), 0.3, 0.3]
    # naive times are Asia/Shanghai: 08:05 local = 00:05 UTC
    assert list(r.readings["timestamp"].dt.strftime("%H:%M")) == ["00:00", "00:05", "00:10", "00:15"]
    assert str(r.readings["timestamp"].dt.tz) == "UTC"
    assert set(r.readings["unit"]) == {"MPa"}
    assert r.gaps == []


def test_tidy_bad_rows_name_file_line_field(tmp_path):
    path = tmp_path / "scada_2025-01.csv"
    path.write_text(
        "timestamp,sensor_id,value,unit\n"
        "2025-01-01 00:00:00,P1,0.30,MPa\n"  # 2 ok
        "2025-01-01 00:05:00,P1,abc,MPa\n"  # 3 value not a number
        "2025-01-01 00:10:00,P1,0.3,MPa,extra\n"  # 4 too many fields
        "31/02/2025,P1,0.3,MPa\n"  # 5 bad timestamp
        "2025-01-01 00:15:00,,0.3,MPa\n"  # 6 empty sensor
        "2025-01-01 00:20:00,P1,,MPa\n"  # 7 empty value
        "2025-01-01 00:25:00,P1,0.3,furlong\n"  # 8 unknown unit
        "2025-01-01 00:30:00,P1,9.5,MPa\n"  # 9 implausible pressure
        "2025-01-01 00:00:00,P1,0.30,MPa\n"  # 10 duplicate of line 2
        "2025-01-01 00:00:00,P1,0.35,MPa\n"  # 11 conflicting duplicate
        "2025-01-01 00:35:00,F1,12,NTU\n"  # 12 F1 is a flow meter: wrong kind unit
        "2025-01-01 00:40:00,L1,3.1,m\n"  # 13 ambiguous unit, no kind given
        "2025-01-01 00:45:00,F1,12,L/s\n",  # 14 ok
        encoding="utf-8",
    )
    r = parse_tidy_csv(path, sensor_kinds={"F1": "flow"})
    got = {(x.line, x.field) for x in r.rejected}
    assert got == {
        (3, "value"), (4, "row"), (5, "timestamp"), (6, "sensor_id"), (7, "value"), (8, "unit"),
        (9, "value"), (10, "timestamp"), (11, "timestamp"), (12, "unit"), (13, "unit"),
    }
    assert r.rejected_total == 11
    assert all(x.file == str(path) for x in r.rejected)
    by_line = {x.line: x for x in r.rejected}
    assert "not a number" in by_line[3].reason
    assert "expected 4 fields" in by_line[4].reason and "found 5" in by_line[4].reason
    assert "empty value" == by_line[7].reason
    assert "furlong" in by_line[8].reason
    assert "implausible" in by_line[9].reason
    assert "same value as line 2" in by_line[10].reason
    assert "conflicting" in by_line[11].reason and "line 2" in by_line[11].reason
    assert "measures turbidity, not flow" in by_line[12].reason
    assert str(by_line[3]) == f"{path}: line 3: field 'value': not a number"
    # every reason also in Chinese, kinds named in Chinese
    assert by_line[3].message("zh") == "数值不是数字"
    assert by_line[12].message("zh") == "单位“NTU”是浊度的单位，不能用于流量"
    assert "第 2 行" in by_line[11].to_dict()["reason_zh"]
    assert r.rejected_frame().shape == (11, 7)
    # the good rows survive; F1 at 12 L/s = 43.2 m³/h
    assert list(r.readings["line"]) == [14, 2]
    assert r.readings.loc[r.readings["sensor_id"] == "F1", "value"].iloc[0] == pytest.approx(43.2)


def test_tidy_bad_header_is_reported_not_raised():
    r = readings_from_text("time;sensor;value\n2025-01-01,P1,1\n")
    assert len(r.readings) == 0
    assert [(x.line, x.field) for x in r.rejected] == [(1, "header")]


def test_tidy_quoted_fields_and_quality_flag():
    text = (
        "timestamp,sensor_id,value,unit,quality\n"
        '2025-01-01 00:00:00,"P,1",0.3,MPa,good\n'
        "2025-01-01 00:05:00,P2,0.3,MPa,BAD\n"
    )
    r = readings_from_text(text)
    assert list(r.readings["sensor_id"]) == ["P,1"]
    assert [(x.line, x.field) for x in r.rejected] == [(3, "quality")]


def test_gaps_are_reported_with_missing_count():
    t = pd.date_range("2025-01-01", periods=12, freq="5min", tz="UTC")
    keep = np.r_[0:5, 8:12]  # 3 readings missing (indices 5, 6, 7)
    lines = [f"{ts.isoformat()},P1,0.3,MPa" for ts in t[keep]]
    r = readings_from_text("timestamp,sensor_id,value,unit\n" + "\n".join(lines) + "\n")
    assert len(r.gaps) == 1
    g = r.gaps[0]
    assert (g.sensor_id, g.missing, g.expected_interval_s) == ("P1", 3, 300.0)
    assert g.start == t[4] and g.end == t[8]
    assert find_gaps(r.readings, expected_interval=pd.Timedelta("30min")) == []


# ---------------------------------------------------------------- BattLeDIM wide

BATTLEDIM = """Timestamp;n1;n4;n31
2019-01-01 00:00:00;50,52;49,1;48
2019-01-01 00:05:00;;49,2;48,1
2019-01-01 00:10:00;50,7;x;48,2
2019-01-01 00:15:00;50,8;49,3
2019-01-01 00:20:00;50,9;49,4;48,3
"""


def test_battledim_wide_file():
    r = parse_battledim_csv(io.StringIO(BATTLEDIM), kind="pressure", unit="m")
    rej = {(x.line, x.field): x.reason for x in r.rejected}
    assert rej.keys() == {(3, "n1"), (4, "n4"), (5, "row")}
    assert rej[(3, "n1")] == "empty value"
    assert "expected 4 fields separated by ';', found 3" in rej[(5, "row")]
    n1 = r.readings[r.readings["sensor_id"] == "n1"]
    # decimal comma: 50,52 m head -> 50.52 × 0.00980665 MPa
    assert n1["value"].iloc[0] == pytest.approx(50.52 * 9.80665e-3)
    assert list(n1["line"]) == [2, 4, 6]
    assert len(r.readings) == 4 * 3 - 2  # lines 2,3,4,6 × 3 sensors, less the two bad cells
    assert r.readings["timestamp"].iloc[0] == pd.Timestamp("2019-01-01 00:00", tz="UTC")
    # n1 is missing 00:05 and every sensor misses 00:15 (bad row): gaps found with the 5-min spacing
    gaps = {(g.sensor_id, g.start.strftime("%H:%M"), g.missing) for g in r.gaps}
    assert ("n31", "00:10", 1) in gaps


def test_battledim_flow_units_and_bad_header():
    r = parse_battledim_csv(io.StringIO("Timestamp;PUMP_1\n2019-01-01 00:00:00;100,5\n"), "flow", "m3/h")
    assert r.readings["value"].iloc[0] == pytest.approx(100.5)
    r = parse_battledim_csv(io.StringIO("Time;a;a\n"), "flow", "m3/h")
    assert r.rejected[0].field == "header"
    with pytest.raises(TelemetryUnitError):
        parse_battledim_csv(io.StringIO(BATTLEDIM), kind="level", unit="NTU")


def test_merge_and_large_file_is_vectorised():
    # 2,000 rows × 50 sensors = 100,000 readings: must parse well within a second or two
    t = pd.date_range("2019-01-01", periods=2000, freq="5min")
    vals = np.round(np.random.default_rng(1).uniform(30, 60, (2000, 50)), 2)
    body = "\n".join(
        ts.strftime("%Y-%m-%d %H:%M:%S") + ";" + ";".join(f"{v:.2f}".replace(".", ",") for v in row)
        for ts, row in zip(t, vals, strict=True)
    )
    text = "Timestamp;" + ";".join(f"n{i}" for i in range(50)) + "\n" + body + "\n"
    import time

    t0 = time.perf_counter()
    r = parse_battledim_csv(io.StringIO(text), "level", "m")
    elapsed = time.perf_counter() - t0
    assert len(r.readings) == 100_000 and r.ok and r.gaps == []
    assert elapsed < 10.0
    both = merge_results([r, readings_from_text(GOOD, sensor_kinds={"P1": "pressure"})])
    assert len(both.readings) == 100_004 and len(both.files) == 2
