"""SCADA reading for leak work (BattLeDIM and tidy layouts), sensor layouts and BattLeDIM scoring."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from runze.analysis.leaks.data import ScadaError, read_scada
from runze.analysis.leaks.layout import LayoutError, SensorLayout, read_layout
from runze.analysis.leaks.score import ScoreInputError, score, volume_after
from runze.network.inp import read_inp

NETS = Path(__file__).resolve().parents[1] / ".venv/lib/python3.11/site-packages/wntr/library/networks"


@pytest.fixture(scope="module")
def net3():
    return read_inp(NETS / "Net3.inp")


def _layout() -> SensorLayout:
    return SensorLayout(pressure={"P-101": "101", "P-123": "123"}, flow={"Q-10": "10"}, level={"L-1": "1"})


def _write(d: Path, name: str, header: str, rows: list[str]) -> None:
    (d / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def test_battledim_layout_read_with_issues_reported(tmp_path, net3):
    _write(tmp_path, "Pressures.csv", "Timestamp;101;P-123",
           ["2019-01-01 00:00:00;50,1;40,2", "2019-01-01 00:05:00;50,2;abc", "2019-01-01 00:05:00;50,2;40,0",
            "2019-01-01 00:20:00;50,3;40,1"])
    _write(tmp_path, "Flows.csv", "Timestamp;10", ["2019-01-01 00:00:00;1200,5", "2019-01-01 00:05:00;1190,0"])
    data = read_scada(tmp_path, _layout(), net3)
    p = data.frames["pressure"]
    assert list(p.columns) == ["P-101", "P-123"]  # a column named by its node maps to the sensor
    assert p.loc["2019-01-01 00:00:00", "P-101"] == pytest.approx(50.1)
    assert pd.isna(p.loc["2019-01-01 00:10:00", "P-101"])  # the gap stays a gap on the 5-minute grid
    assert data.frames["flow"].iloc[0, 0] == pytest.approx(1200.5)
    assert data.rejected >= 2 and data.issues  # the bad number and the duplicate row are reported


def test_tidy_layout_converts_units(tmp_path, net3):
    _write(tmp_path, "readings.csv", "timestamp,sensor_id,value,unit",
           ["2019-01-01T00:00:00Z,P-101,0.5,MPa", "2019-01-01T00:05:00Z,P-101,0.51,MPa",
            "2019-01-01T00:00:00Z,Q-10,100,L/s"])
    data = read_scada(tmp_path, _layout(), net3)
    assert data.frames["pressure"].iloc[0, 0] == pytest.approx(50.99, abs=0.01)  # 0.5 MPa in m head
    assert data.frames["flow"].iloc[0, 0] == pytest.approx(360.0)


@pytest.mark.parametrize(("name", "header", "row", "needle"), [
    ("Pressures.csv", "Timestamp;NOPE", "2019-01-01 00:00:00;1,0", "NOPE"),  # unknown sensor
    ("Pressures.csv", "Timestamp;Q-10", "2019-01-01 00:00:00;1,0", "unit mismatch"),  # a flow meter's column
    ("Pressures.csv", "Timestamp;101", "2019-01-01 00:00:00;480,0", "median"),  # kPa written as m
    ("Pressures.csv", "time,101", "2019-01-01 00:00:00,1.0", "layout"),  # wrong layout
    ("other.csv", "a;b;c", "1;2;3", "layout"),
])
def test_clear_errors(tmp_path, net3, name, header, row, needle):
    _write(tmp_path, name, header, [row])
    with pytest.raises(ScadaError, match=needle) as err:
        read_scada(tmp_path, _layout(), net3)
    assert name in str(err.value) or needle == "unit mismatch"


def test_layout_names_unknown_elements(tmp_path, net3):
    p = tmp_path / "s.json"
    p.write_text('[{"id": "X1", "kind": "pressure", "element": "ZZZ"}]', encoding="utf-8")
    with pytest.raises(LayoutError, match="ZZZ"):
        read_layout(p, net3)


def test_score_money_and_counts(net3):
    truth = pd.DataFrame({"pipe": ["101", "329"], "start": ["2019-01-02 00:00:00", "2019-01-05 00:00:00"],
                          "end": ["2019-01-04 00:00:00", "2019-01-09 00:00:00"], "kind": ["abrupt", "incipient"],
                          "peak_m3h": [10.0, 20.0]})
    det = pd.DataFrame({"pipe_id": ["101", "101", "329", "329"],
                        "detected_at": ["2019-01-03 00:00:00", "2019-01-03 06:00:00", "2019-01-01 00:00:00",
                                        "2019-01-07 00:00:00"]})
    summary, table = score(truth, det, net3)
    # scored in time order: the early one is before any leak, the second hit on 101 is a repeat
    assert list(table["outcome"]) == ["false_positive", "true_positive", "repeat", "true_positive"]
    assert table["eur"].iloc[1] == pytest.approx(0.8 * 10 * 24)  # 24 h left at 10 m³/h, distance 0
    # incipient: 0→20 m³/h over 96 h, half-way: 3/4 of the total 960 m³ still to come
    assert table["eur"].iloc[3] == pytest.approx(0.8 * 0.75 * 960)
    assert summary["false_positives"] == 1 and summary["leaks_found"] == 2
    perfect = 0.8 * (10 * 48 + 960)
    assert summary["perfect_eur"] == pytest.approx(perfect)
    assert summary["score_pct_of_perfect"] == pytest.approx(100 * (192 + 576 - 500) / perfect, abs=0.01)
    assert volume_after(truth, pd.Timestamp("2019-01-10"))[1] == 0


def test_score_distance_penalty_and_bad_input(net3):
    truth = pd.DataFrame({"pipe": ["101"], "start": ["2019-01-02"], "end": ["2019-01-04"], "kind": ["abrupt"],
                          "peak_m3h": [10.0]})
    near = [p.id for p in net3.pipes.values() if p.node1 == net3.pipes["101"].node2
            or p.node2 == net3.pipes["101"].node2]
    near = [p for p in near if p != "101"][0]
    summary, table = score(truth, pd.DataFrame({"pipe_id": [near], "detected_at": ["2019-01-03"]}), net3)
    d = (net3.pipes["101"].length + net3.pipes[near].length) / 2  # adjacent pipes: half-lengths
    if d <= 300:
        assert table["distance_m"].iloc[0] == pytest.approx(d)
        assert table["eur"].iloc[0] == pytest.approx(0.8 * 240 - d / 300 * 500)
    else:
        assert table["outcome"].iloc[0] == "false_positive" and summary["false_positives"] == 1
    with pytest.raises(ScoreInputError, match="NOPE"):
        score(truth, pd.DataFrame({"pipe_id": ["NOPE"], "detected_at": ["2019-01-03"]}), net3)
    with pytest.raises(ScoreInputError, match="detected_at"):
        score(truth, pd.DataFrame({"pipe_id": ["101"]}), net3)
