"""`runze dispatch` end to end on the demo city: JSON and HTML written, impossible requests exit 2 with a message."""

from __future__ import annotations

import json

import pytest
from _dispatch_city import demo_city, demo_city_inp
from typer.testing import CliRunner

from runze.cli.main import app
from runze.network.inp import write_inp

runner = CliRunner()


def test_whatif_writes_json_and_html(tmp_path):
    out, page = tmp_path / "p3.json", tmp_path / "p3.html"
    r = runner.invoke(app, ["dispatch", "whatif", str(demo_city_inp()), "--plant", "3", "--capacity", "0.4",
                            "--start", "22:00", "--hours", "13", "--json", str(out), "--html", str(page),
                            "--max-evals", "10"])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text(encoding="utf-8"))
    for key in ("no_action", "plan"):
        assert {"unmet_demand_m3", "customer_hours_below_service", "hourly", "tanks", "plants"} <= set(d[key])
    assert isinstance(d["plan"]["actions"], list)
    assert d["event"]["capacity"] == {"P3": 0.4} and d["window"]["start"] == "22:00" and d["window"]["hours"] == 13
    assert d["sources"]["normal"]["zones"] and "verdict" in d and d["verdict"]["zh"]
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("data:image/png;base64,") == 3
    assert "应急调度" in text and "Emergency dispatch" in text and "调度指令" in text


def _late_start_copy(tmp_path):
    net = demo_city().copy()
    net.options.time.start_clocktime = 6 * 3600.0
    path = tmp_path / "late.inp"
    write_inp(net, path)
    return path


@pytest.mark.parametrize("args, needle", [
    (["--plant", "9", "--capacity", "0.4"], "unknown plant"),
    (["--plant", "P7", "--capacity", "0.4"], "unknown plant"),
    (["--plant", "3", "--capacity", "1.4"], "between 0 and 1"),
    (["--plant", "3", "--capacity", "-0.2"], "between 0 and 1"),
    (["--plant", "3", "--capacity", "0.4", "--hours", "49"], "1 to 48"),
    (["--plant", "3", "--capacity", "0.4", "--hours", "0"], "1 to 48"),
    (["--plant", "3", "--capacity", "0.4", "--start", "25:61"], "HH:MM"),
    (["--main", "NOPE"], "unknown link"),
    (["--station", "BS7"], "unknown pump station"),
    (["--source", "sea"], "unknown source"),
    (["--plant", "3", "--capacity", "0.4", "--levels", "T9=3"], "unknown tank"),
    (["--plant", "3", "--capacity", "0.4", "--solver", "magic"], "auto | runze | epanet"),
])
def test_impossible_requests_exit_2(args, needle, tmp_path):
    out = tmp_path / "x.json"
    r = runner.invoke(app, ["dispatch", "whatif", str(demo_city_inp()), *args, "--json", str(out)])
    assert r.exit_code == 2, r.output
    assert needle in r.output and "Traceback" not in r.output
    assert not out.exists()  # nothing half-written


def test_start_before_the_data_and_missing_file(tmp_path):
    late = _late_start_copy(tmp_path)
    r = runner.invoke(app, ["dispatch", "whatif", str(late), "--plant", "3", "--capacity", "0.4", "--start", "05:00"])
    assert r.exit_code == 2 and "before the data begins" in r.output
    r = runner.invoke(app, ["dispatch", "whatif", str(tmp_path / "none.inp"), "--plant", "3"])
    assert r.exit_code == 2 and "no such file" in r.output
    r = runner.invoke(app, ["dispatch", "scenario", str(demo_city_inp()), "--kind", "flood"])
    assert r.exit_code == 2 and "commission-plant4" in r.output
    r = runner.invoke(app, ["dispatch", "scenario", str(demo_city_inp()), "--kind", "maintenance"])
    assert r.exit_code == 2 and "--plant" in r.output


def test_network_without_plants_is_refused(tmp_path):
    net = demo_city().copy()
    net.utility.plants = []
    path = tmp_path / "bare.inp"
    write_inp(net, path)
    r = runner.invoke(app, ["dispatch", "whatif", str(path), "--plant", "1", "--capacity", "0.5"])
    assert r.exit_code == 2 and "plants" in r.output


def test_commission_scenario_compares_before_and_after(tmp_path):
    out = tmp_path / "c.json"
    r = runner.invoke(app, ["dispatch", "scenario", str(demo_city_inp()), "--kind", "commission-plant4",
                            "--hours", "24", "--json", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert d["scenario"]["kind"] == "commission-plant4" and d["verdict"]["kind"] == "commission"
    before, after = d["no_action"], d["normal"]
    assert before["customer_hours_below_service"] >= after["customer_hours_below_service"]
    assert d["verdict"]["zones_served_20pct"]  # plant 4 is a main source somewhere once in service
    share_after = next(z for z in d["sources"]["normal"]["zones"] if z["id"] == "zone:main")["shares"]["P4"]
    share_before = next(z for z in d["sources"]["no_action"]["zones"] if z["id"] == "zone:main")["shares"]["P4"]
    assert share_before == 0 and share_after > 0.05
