"""Dispatch events as network modifications: plant lookup, caps as FCVs, outages, sources, bad requests."""

from __future__ import annotations

import pytest
from _dispatch_city import demo_city

from runze.analysis.dispatch.events import EventError, apply_event, build_event, cap_plants, resolve_plant
from runze.analysis.dispatch.whatif import check_hours, parse_start


def test_plant_by_id_number_or_name():
    net = demo_city()
    assert resolve_plant(net, "P3")["id"] == "P3"
    assert resolve_plant(net, 3)["id"] == "P3"
    assert resolve_plant(net, "三水厂")["id"] == "P3"
    with pytest.raises(EventError, match="unknown plant"):
        resolve_plant(net, 5)
    with pytest.raises(EventError, match="unknown plant"):
        resolve_plant(net, "P9")


def test_capacity_is_an_fcv_on_the_outlet_at_fraction_of_capacity():
    net = demo_city()
    ev = build_event(net, plant=3, capacity=0.4)
    mod = apply_event(net, ev)
    p3 = resolve_plant(net, 3)
    v = mod.valves[p3["outlet_link"]]
    assert v.valve_type == "FCV" and p3["outlet_link"] not in mod.pipes
    assert v.setting == pytest.approx(0.4 * p3["capacity_m3d"] / 86400.0)
    assert v.diameter == net.pipes[p3["outlet_link"]].diameter
    # the other plants are capped at their full capacity; the source network is untouched
    p1 = resolve_plant(net, 1)
    assert mod.valves[p1["outlet_link"]].setting == pytest.approx(p1["capacity_m3d"] / 86400.0)
    assert p3["outlet_link"] in net.pipes and not net.valves
    assert all(mod.pumps[u].initial_status == net.pumps[u].initial_status for u in p3["pumps"])


def test_plant_out_station_out_main_out_and_source_lost():
    net = demo_city()
    mod = apply_event(net, build_event(net, plant="P1", capacity=0))
    p1 = resolve_plant(net, 1)
    assert all(mod.pumps[u].initial_status == "CLOSED" for u in p1["pumps"])
    assert mod.valves[p1["outlet_link"]].initial_status == "CLOSED"
    mod = apply_event(net, build_event(net, stations=["BS1"]))
    assert all(mod.pumps[u].initial_status == "CLOSED" for u in ("BS1_PU1", "BS1_PU2", "BS1_PU3"))
    assert not [c for c in mod.controls if c.link.startswith("BS1_")]  # level controls cannot restart them
    main = p1["trunk_mains"][0]
    mod = apply_event(net, build_event(net, mains=[main]))
    assert mod.pipes[main].initial_status == "CLOSED"
    ev = build_event(net, sources=["river"])
    assert ev.capacity == {"P1": 0.0, "P2": 0.0, "P3": 0.0}
    hot = apply_event(net, build_event(net, demand_factor=1.3))
    j = next(j for j in net.junctions.values() if len(j.demands) > 1)
    for d0, d1 in zip(j.demands, hot.junctions[j.id].demands, strict=True):
        assert d1.base == pytest.approx(d0.base * (1.0 if d0.category == "leakage" else 1.3))


@pytest.mark.parametrize("kwargs, match", [
    ({"plant": 3, "capacity": 1.5}, "between 0 and 1"),
    ({"plant": 3, "capacity": -0.1}, "between 0 and 1"),
    ({"plant": 7, "capacity": 0.5}, "unknown plant"),
    ({"capacity": 0.5}, "needs --plant"),
    ({"mains": ["NOPE"]}, "unknown link"),
    ({"stations": ["BS9"]}, "unknown pump station"),
    ({"sources": ["lake"]}, "unknown source"),
])
def test_impossible_requests(kwargs, match):
    with pytest.raises(EventError, match=match):
        build_event(demo_city(), **kwargs)


def test_start_and_hours_checks():
    net = cap_plants(demo_city().copy())
    assert parse_start("22:00", net) == 22 * 3600
    assert parse_start("1d 06:30", net) == 30 * 3600 + 1800
    net.options.time.start_clocktime = 6 * 3600.0
    assert parse_start("22:00", net) == 16 * 3600
    with pytest.raises(EventError, match="before the data begins"):
        parse_start("05:00", net)
    for bad in ("25:00", "22h", "", "8d 00:00"):
        with pytest.raises(EventError):
            parse_start(bad, net)
    assert check_hours(13) == 13
    for bad in (0, -1, 49, 2.5, float("nan")):
        with pytest.raises(EventError):
            check_hours(bad)
    with pytest.raises(EventError, match="longer than the simulation"):
        check_hours(13, horizon=12)
