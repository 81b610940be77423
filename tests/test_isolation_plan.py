"""Repair plans, windows, notices and criticality on the hand-made "loop" network (known answers)."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from test_isolation_nets import DAY_PATTERN, loop_network

from runze.analysis.isolation.criticality import criticality, export
from runze.analysis.isolation.demand import CST
from runze.analysis.isolation.notices import affected_customers, notice
from runze.analysis.isolation.plan import OutageInputError, OutagePlanner, find_conflicts
from runze.analysis.isolation.window import best_windows

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=CST)
START = datetime(2026, 11, 22, 3, 0, tzinfo=CST)


def plan(net=None, **kw):
    planner = OutagePlanner(net or loop_network(), max_share=kw.pop("max_share", 0.9))
    kw.setdefault("start", START)
    kw.setdefault("hours", 2.0)
    kw.setdefault("solver", "none")
    return planner.plan(now=NOW, **kw)


def test_loop_repair_closes_two_valves_and_loses_only_j2():
    p = plan(pipe="P1")
    assert p.valves_to_close == ["V1", "V2"]
    assert p.isolated_nodes == ["J2"] and sorted(p.isolated_links) == ["P1", "P2"]
    assert p.unintended_nodes == [] and p.unintended_links == []
    assert p.pipes["count"] == 2 and p.pipes["length_m"] == pytest.approx(200.0)
    assert p.pipes["volume_m3"] == pytest.approx(np.pi * 0.3**2 / 4 * 100 + np.pi * 0.2**2 / 4 * 100)
    # J2 uses 2 L/s x pattern; at 03:00 the multiplier is 0.3, at 04:00 0.2
    assert p.demand_lost_m3h == pytest.approx(2e-3 * DAY_PATTERN[3] * 3600)
    assert p.demand_lost_m3 == pytest.approx(2e-3 * 3600 * (DAY_PATTERN[3] + DAY_PATTERN[4]))
    assert p.customers == {"residential": 120} and p.critical_users == []
    assert [d["id"] for d in p.dmas] == ["D1"]
    assert not p.short_notice


def test_branch_behind_a_segment_is_closed_by_one_valve():
    p = plan(pipe="P6")
    assert p.valves_to_close == ["V4"]
    assert p.isolated_nodes == ["J6"] and p.unintended_nodes == []
    assert p.critical_users[0]["category"] == "hospital"


def test_isolation_that_cuts_off_a_dead_end_reports_unintended_nodes():
    p = plan(pipe="P5", hours=1.5)
    assert sorted(p.valves_to_close) == ["V3", "V4"]
    assert p.isolated_nodes == ["J5"] and p.unintended_nodes == ["J6"] and p.unintended_links == ["P6"]
    assert p.customers == {"residential": 40, "commercial": 2, "hospital": 1}
    assert len(p.critical_users) == 1
    q = 3.5e-3  # J5 3 L/s + J6 0.5 L/s
    assert p.demand_lost_m3 == pytest.approx(q * 3600 * (DAY_PATTERN[3] + 0.5 * DAY_PATTERN[4]))
    assert any("unintended" in w for w in p.warnings)
    # with a tank behind the dead end nothing is cut off
    p_tank = plan(loop_network(with_tank=True), pipe="P5")
    assert p_tank.unintended_nodes == []


def test_broken_valve_gives_larger_outage_and_shows_the_smaller_one():
    p = plan(pipe="P1", broken=["V2"])
    assert sorted(p.valves_to_close) == ["V1", "V3", "V6"]
    assert sorted(p.isolated_nodes) == ["J2", "J3", "J4"] and sorted(p.unintended_nodes) == ["J5", "J6"]
    assert p.broken_skipped == ["V2"]
    assert p.segment_without_broken["valves_to_close"] == ["V1", "V2"]
    assert p.segment_without_broken["isolated_nodes"] == ["J2"]


def test_bad_requests_get_clear_errors():
    with pytest.raises(OutageInputError, match="unknown pipe 'PX'"):
        plan(pipe="PX")
    with pytest.raises(OutageInputError, match="more than 0 hours"):
        plan(pipe="P1", hours=0)
    with pytest.raises(OutageInputError, match="over 7 days"):
        plan(pipe="P1", hours=24 * 7 + 1)
    with pytest.raises(OutageInputError, match="unknown broken valve"):
        plan(pipe="P1", broken=["VX"])


def test_large_segment_and_short_notice_are_flagged():
    net = loop_network()
    net.utility.valves = []  # no valves at all: the whole network is one segment
    p = plan(net, pipe="P3", max_share=0.1, start=NOW + timedelta(hours=5))
    assert p.share_of_network == pytest.approx(1.0)
    assert any("large outage" in w for w in p.warnings) and any("empty" in w for w in p.warnings)
    assert p.short_notice and any("24 h notice" in w for w in p.warnings)


def test_overlapping_outages_are_flagged():
    a = plan(pipe="P5", start=START, hours=3)
    b = plan(pipe="P6", start=START + timedelta(hours=2), hours=2)  # shares J6, overlaps 1 h
    c = plan(pipe="P1", start=START + timedelta(hours=1), hours=2)  # overlaps in time, not in place
    d = plan(pipe="P6", start=START + timedelta(hours=3), hours=2)  # same place, after a ends
    found = find_conflicts([a, b, c, d])
    assert [f["plans"] for f in found] == [[0, 1], [1, 3]]
    assert found[0]["shared_nodes"] == ["J6"]


def test_best_window_minimises_lost_volume():
    planner = OutagePlanner(loop_network())
    res = best_windows(planner, pipe="P1", hours=2, days=3, now=NOW)
    starts = [w["start"] for w in res["windows"]]
    # 2026-11-21 03:00 is within the 24 h notice period: the first allowed night is the 22nd
    assert starts == ["2026-11-22T03:00:00+08:00", "2026-11-22T04:00:00+08:00", "2026-11-22T02:00:00+08:00"]
    vols = [w["volume_m3"] for w in res["windows"]]
    assert vols == pytest.approx([2e-3 * 3600 * (m1 + m2) for m1, m2 in ((0.3, 0.2), (0.2, 0.5), (0.6, 0.3))])
    # telemetry: J2 measured 10 L/s all night on the 22nd, so the best night moves to the 23rd
    idx = pd.date_range("2026-11-22 00:00", "2026-11-22 08:00", freq="15min", tz=CST)
    tele = {"J2": pd.Series(np.full(len(idx), 0.01), index=idx)}
    res2 = best_windows(planner, pipe="P1", hours=2, days=3, now=NOW, telemetry=tele)
    assert res2["windows"][0]["start"] == "2026-11-23T03:00:00+08:00"
    with pytest.raises(OutageInputError):
        best_windows(planner, pipe="P1", hours=0, now=NOW)


def test_notice_texts_and_customer_list():
    p = plan(pipe="P5", start=NOW + timedelta(hours=10))
    n = notice(p, now=NOW)
    zh, en = n["texts"]["zh"], n["texts"]["en"]
    assert "停水通知" in zh and "河西片区" in zh and "J5、J6" in zh and "储水" in zh
    assert "2026年11月20日 19:00" in zh and "2026年11月20日 21:00" in zh
    assert "store water" in en and "2026-11-20 19:00" in en and "J5, J6" in en
    assert n["short_notice"] and "24" in n["flags"][0]["en"]
    assert "人民医院" in n["critical_users"]["zh"]
    counts = affected_customers(p)
    assert {(r["node"], r["category"], r["count"], r["cause"]) for r in counts} == {
        ("J5", "residential", 30, "isolated"), ("J5", "commercial", 2, "isolated"),
        ("J6", "hospital", 1, "unintended"), ("J6", "residential", 10, "unintended")}
    records = [{"id": "C1", "node": "J6", "name": "王"}, {"id": "C2", "node": "J1", "name": "李"}]
    assert [r["id"] for r in affected_customers(p, records)] == ["C1"]
    assert not notice(p, now=p.start - timedelta(hours=30))["short_notice"]


def test_criticality_ranks_segments_with_unintended_isolation(tmp_path):
    planner = OutagePlanner(loop_network())
    ticks = []
    frame = criticality(planner, progress=lambda d, t: ticks.append((d, t)))
    assert len(frame) == 6 and ticks and ticks[-1][0] == ticks[-1][1]
    by_nodes = {tuple(sorted(planner.graph.node_ids[i] for i in planner.segmentation().segment_nodes([s]))): row
                for s, row in zip(frame["segment"], frame.to_dict("records"), strict=True)}
    j1 = by_nodes[("J1",)]
    assert j1["customers"] == 163 and j1["unintended_nodes"] == 5  # everything downstream of J1
    j5 = by_nodes[("J5",)]
    assert j5["customers"] == 43 and j5["unintended_nodes"] == 1 and j5["critical_users"] == 1
    assert by_nodes[("J2",)]["customers"] == 120 and by_nodes[("J2",)]["unintended_nodes"] == 0
    # agrees with the plan for each segment's pipe
    p = plan(pipe="P5")
    assert j5["demand_m3h"] == pytest.approx(planner.demand.mean_per_node()[[4, 5]].sum() * 3600, rel=1e-3)
    assert j5["unintended_nodes"] == len(p.unintended_nodes)
    assert frame["rank"].tolist() == list(range(1, 7)) and frame["customers"].is_monotonic_decreasing
    export(planner, frame, tmp_path / "c.csv")
    rows = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert len(rows) == 6 and rows[0]["rank"] == "1"
    export(planner, frame, tmp_path / "c.geojson")
    gj = json.loads((tmp_path / "c.geojson").read_text())
    geoms = {f["properties"]["valves"]: f["geometry"] for f in gj["features"]}
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 6
    assert geoms["V1 V2"] == {"type": "MultiLineString",
                              "coordinates": [[[0.0, 0.0], [100.0, 0.0]], [[100.0, 0.0], [200.0, 0.0]]]}


def test_backfeed_opens_a_normally_closed_boundary_pipe():
    from runze.network.model import Pipe

    net = loop_network()
    net.pipes["P8"] = Pipe("P8", "J6", "J4", 300.0, 0.15, 110.0, initial_status="CLOSED")  # DMA boundary
    p = plan(net, pipe="P5")
    assert p.unintended_nodes == ["J6"] and p.valves_to_open == [] and "P8" not in p.already_closed
    q = plan(net, pipe="P5", backfeed=True)
    assert q.valves_to_open == ["P8"] and q.backfed_nodes == ["J6"] and q.unintended_nodes == []
    assert q.demand_lost_m3 < p.demand_lost_m3
    planner = OutagePlanner(net)
    normal = criticality(planner).set_index("valves")
    fed_back = criticality(planner, backfeed=True).set_index("valves")
    assert normal.loc["V3 V4", "unintended_nodes"] == 1 and fed_back.loc["V3 V4", "unintended_nodes"] == 0


def test_leakage_demand_is_not_counted_as_customer_demand():
    from runze.network.model import Demand

    net = loop_network()
    net.junctions["J2"].demands.append(Demand(5e-3, None, "leakage"))  # a big leak at J2
    p = plan(net, pipe="P1")
    assert p.demand_lost_m3h == pytest.approx(2e-3 * DAY_PATTERN[3] * 3600)
    with_leak = OutagePlanner(net, exclude_categories=()).plan(pipe="P1", start=START, hours=2, solver="none",
                                                               now=NOW)
    assert with_leak.demand_lost_m3h == pytest.approx((2e-3 + 5e-3) * DAY_PATTERN[3] * 3600)
