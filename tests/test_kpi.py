"""KPIs: IWA water balance with closure checks, UARL/ILI on a worked example, CJJ 92-2016 rates, compliance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from runze.analysis.kpi import (
    CjjCorrectionConfig,
    CjjInputs,
    IliLimits,
    KpiError,
    cjj_loss_rates,
    ili_from_balance,
    infrastructure_leakage_index,
    regional_leakage_rate,
    uarl_litres_per_day,
    water_balance,
)
from runze.analysis.kpi_report_data import (
    ExclusionPeriod,
    pressure_compliance,
    repair_timeliness,
    turbidity_compliance,
    water_quality_compliance,
)

# ---------------------------------------------------------------- IWA water balance


def test_balance_with_residual_real_losses():
    b = water_balance(10_000_000, billed_metered=7_000_000, billed_unmetered=100_000, unbilled_metered=50_000,
                      unbilled_unmetered=50_000, unauthorised_consumption=100_000,
                      customer_meter_inaccuracies=200_000)
    # authorised 7.2 M, apparent 0.3 M -> real losses = 10 M - 7.2 M - 0.3 M = 2.5 M
    assert b.authorised_consumption == 7_200_000
    assert b.apparent_losses == 300_000
    assert b.real_losses == 2_500_000 and not b.real_losses_given
    # NRW = system input - billed authorised = 10 M - 7.1 M = 2.9 M = 29 %
    assert b.non_revenue_water == 2_900_000
    assert b.nrw_fraction == pytest.approx(0.29)
    assert b.closes and b.warnings == []
    d = b.to_dict()
    assert d["nrw_percent"] == pytest.approx(29.0) and d["water_losses"] == 2_800_000
    assert b.real_losses_l_per_day == pytest.approx(2_500_000 * 1000 / 365)


def test_balance_that_does_not_close_gives_a_clear_warning():
    # measured real losses 2.0 M where the residual is 2.5 M: 0.5 M (5 %) unexplained
    b = water_balance(10_000_000, 7_000_000, 100_000, 50_000, 50_000, 100_000, 200_000, real_losses=2_000_000)
    assert not b.closes
    (w,) = b.warnings
    assert w.code == "kpi.balance_not_closed" and w.severity == "error"
    assert w.params["difference"] == pytest.approx(500_000)
    assert w.params["components"] == pytest.approx(9_500_000)
    assert "does not close" in w.message("en") and "500000.0 m³" in w.message("en")
    assert "水量平衡不闭合" in w.message("zh")
    assert b.to_dict()["warnings"][0]["params"]["percent"] == pytest.approx(5.0)
    with pytest.raises(KpiError, match="does not close"):
        water_balance(10_000_000, 7_000_000, 100_000, 50_000, 50_000, 100_000, 200_000, real_losses=2_000_000,
                      strict=True)
    # within the tolerance it closes
    ok = water_balance(10_000_000, 7_000_000, 100_000, 50_000, 50_000, 100_000, 200_000, real_losses=2_480_000)
    assert ok.closes and ok.closure_difference == pytest.approx(20_000)


def test_balance_negative_residual_and_negative_inputs_are_errors():
    b = water_balance(10_000_000, billed_metered=9_900_000, customer_meter_inaccuracies=300_000)
    assert not b.closes
    assert [w.code for w in b.warnings] == ["kpi.negative_real_losses"]
    assert b.warnings[0].params["value"] == pytest.approx(-200_000)
    b = water_balance(10_000_000, billed_metered=-5, real_losses=None)
    assert "kpi.negative_volume" in [w.code for w in b.warnings]
    b = water_balance(0, 0)
    assert b.nrw_fraction is None and not b.closes
    with pytest.raises(ValueError, match="billed_metered"):
        water_balance(10.0, float("nan"))


# ---------------------------------------------------------------- UARL / ILI


def test_ili_worked_example():
    # Worked by hand from UARL (L/day) = (18·Lm + 0.8·Nc + 25·Lp)·P:
    #   Lm = 400 km, Nc = 20,000, Lp = 0 km (meters at the boundary), P = 40 m
    #   UARL = (18×400 + 0.8×20,000 + 0)×40 = (7,200 + 16,000)×40 = 928,000 L/day
    #   cross-check with the per-connection form at 50 connections/km:
    #   (18/50 + 0.8)×40 = 46.4 L/connection/day × 20,000 = 928,000 L/day
    #   CARL = 1,500,000 m³/year = 1.5e9 L / 365 d = 4,109,589.04 L/day
    #   ILI = 4,109,589.04 / 928,000 = 4.4284
    assert uarl_litres_per_day(400, 20_000, 0, 40) == pytest.approx(928_000)
    r = infrastructure_leakage_index(1_500_000, 400, 20_000, 0, 40)
    assert r.uarl_l_per_day == pytest.approx(928_000)
    assert r.carl_l_per_day == pytest.approx(4_109_589.04, rel=1e-8)
    assert r.ili == pytest.approx(4.4284, abs=1e-4)
    assert r.valid and r.connection_density_per_km == pytest.approx(50.0)
    assert r.uarl_m3_per_year == pytest.approx(338_720)
    # Lp matters: 100 km of private pipe adds 25×100×40 = 100,000 L/day
    assert uarl_litres_per_day(400, 20_000, 100, 40) == pytest.approx(1_028_000)


def test_ili_validity_conditions_are_warnings():
    r = infrastructure_leakage_index(200_000, 300, 4_000, 0, 20)
    codes = {w.code for w in r.warnings}
    # 4,000 connections < 5,000; density 13.3/km <= 20; 20 m < 25 m
    assert codes == {"kpi.ili_connections", "kpi.ili_density", "kpi.ili_pressure"}
    assert not r.valid and r.ili is not None
    r3000 = infrastructure_leakage_index(200_000, 100, 4_000, 0, 30, limits=IliLimits(min_connections=3000))
    assert r3000.valid  # 4,000 >= 3,000, 40/km, 30 m
    with pytest.raises(ValueError, match="pressure_m"):
        uarl_litres_per_day(1, 1, 0, -3)


def test_ili_from_balance_uses_its_period():
    b = water_balance(5_000_000, 4_000_000, real_losses=None, period_days=182.5)  # half a year, 1 M real losses
    r = ili_from_balance(b, 400, 20_000, 0, 40)
    # 1e6 m³ in 182.5 d = 5,479,452 L/day; / 928,000 = 5.9046
    assert r.ili == pytest.approx(1e9 / 182.5 / 928_000)


# ---------------------------------------------------------------- CJJ 92-2016


def test_cjj_rates_and_grades():
    # Qs 3,650 万m³, Qa 3,200 万m³: R_WL = 450/3650 = 12.329 %
    plain = cjj_loss_rates(3650, 3200)
    assert plain.gross_loss_rate == pytest.approx(450 / 3650)
    assert plain.total_correction == 0 and plain.leakage_rate == plain.gross_loss_rate
    assert plain.grade == "fail" and plain.meets_national_target is False
    assert [w.code for w in plain.warnings] == ["kpi.cjj_unconfirmed"]  # defaults are flagged
    # corrections with the default (unconfirmed) coefficients:
    #   R1 = 0.08 × 0.6 = 0.048; R2 = 0.99 × (0.08 − 0.0693) = 0.010593; R3 (0.40 MPa in 0.35–0.55] = 0.005;
    #   R4 = 0 (frost 0.2 m); R_BL = 0.123288 − 0.063593 = 0.059695 -> grade 1, meets the 9 % target
    res = cjj_loss_rates(3650, 3200, CjjInputs(0.6, 0.08, 0.40, 0.2))
    assert (res.r1, res.r2, res.r3, res.r4) == pytest.approx((0.048, 0.010593, 0.005, 0.0))
    assert res.leakage_rate == pytest.approx(450 / 3650 - 0.063593)
    assert res.grade == "grade1" and res.meets_national_target
    # grade 2 band: R_WL 11 %, no corrections
    assert cjj_loss_rates(100, 89).grade == "grade2"
    d = res.to_dict()
    assert d["leakage_percent"] == pytest.approx(100 * res.leakage_rate)


def test_cjj_config_is_configurable_and_caps_r2():
    conf = CjjCorrectionConfig(r1_factor=0.1, r3_bands=((0.3, 1.0, 0.02),), r4_correction=0.015, confirmed=True)
    res = cjj_loss_rates(1000, 850, CjjInputs(0.5, 0.2, 0.31, 2.0), conf)
    # R2 raw = 0.99 × (0.2 − 0.0693) = 0.1294 -> capped at 3 %
    assert (res.r1, res.r2, res.r3, res.r4) == pytest.approx((0.05, 0.03, 0.02, 0.015))
    assert [w.code for w in res.warnings] == ["kpi.cjj_r2_capped"]
    bad = cjj_loss_rates(100, 120)
    assert bad.grade is not None and any(w.code == "kpi.cjj_registered_exceeds_input" for w in bad.warnings)
    with pytest.raises(KpiError):
        cjj_loss_rates(100, 120, strict=True)
    with pytest.raises(ValueError, match="share"):
        cjj_loss_rates(100, 90, CjjInputs(household_metered_share=60))
    # regional rate weighted by supply: (0.08×100 + 0.12×300) / 400 = 0.11
    assert regional_leakage_rate([0.08, 0.12], [100, 300]) == pytest.approx(0.11)


# ---------------------------------------------------------------- compliance


def test_pressure_compliance_with_exclusion_flags():
    values = [0.2] * 94 + [0.14] + [0.10] * 5  # 0.14 exactly counts as compliant
    flags = [None] * 95 + ["source_shortage", "source_shortage", "pump_failure", None, None]
    frame = pd.DataFrame({"value": values, "exclusion": flags, "sensor_id": ["A"] * 50 + ["B"] * 50})
    r = pressure_compliance(frame)
    # 100 readings, 2 excluded (allowed reason), 'pump_failure' is not an allowed reason: counted, with a warning
    assert (r.total_readings, r.excluded, r.counted, r.compliant) == (100, 2, 98, 95)
    assert r.rate == pytest.approx(95 / 98) and r.meets_target is False  # 96.94 % < 97 %
    assert r.excluded_by_reason == {"source_shortage": 2}
    assert [w.code for w in r.warnings] == ["kpi.exclusion_reason_not_allowed"]
    assert r.per_point["A"]["rate"] == 1.0 and r.per_point["B"]["counted"] == 48
    assert r.worst_value == pytest.approx(0.10)
    assert pressure_compliance(frame, target=0.96).meets_target is True


def test_pressure_compliance_with_exclusion_period_and_missing():
    idx = pd.date_range("2025-07-01", periods=10, freq="h", tz="Asia/Shanghai")
    s = pd.Series([0.3, 0.3, 0.05, 0.05, 0.3, np.nan, 0.3, 0.3, 0.3, 0.3], index=idx)
    flood = ExclusionPeriod(idx[2], idx[4], "force_majeure")
    r = pressure_compliance(s, exclusions=[flood])
    assert (r.excluded, r.missing, r.counted, r.compliant) == (2, 1, 7, 7)
    assert r.rate == 1.0 and r.meets_target
    assert any(w.code == "kpi.missing_values" for w in r.warnings)
    with pytest.raises(ValueError, match="timestamps"):
        pressure_compliance(pd.Series([0.3]), exclusions=[flood])


def test_turbidity_compliance():
    r = turbidity_compliance(pd.Series([0.2, 0.5, 1.0, 1.2]))
    assert (r.counted, r.compliant, r.worst_value) == (4, 3, 1.2) and r.rate == 0.75
    data = pd.DataFrame({"sensor_id": ["tap1", "tap1", "out1", "out1"], "value": [0.4, 1.1, 0.2, 0.6]})
    res = water_quality_compliance(data, {"tap1": "tap", "out1": "plant_outlet"},
                                   limits={"tap": 1.0, "plant_outlet": 0.5})
    assert res["tap"].rate == 0.5 and res["plant_outlet"].rate == 0.5 and res["plant_outlet"].limit == 0.5
    assert turbidity_compliance(pd.Series([], dtype=float)).rate is None


def test_repair_timeliness():
    r = repair_timeliness([2, 5, 30, np.nan, 10], target_hours={"main": 24, "service": 8},
                          categories=["service", "service", "main", "main", "main"])
    assert (r.total, r.open_or_unknown, r.counted, r.on_time) == (5, 1, 4, 3)
    assert r.rate == 0.75 and r.median_hours == 7.5 and r.worst_hours == 30
    assert r.by_category["main"]["on_time"] == 1 and r.by_category["service"]["rate"] == 1.0
    td = repair_timeliness(pd.Series(pd.to_timedelta([3, 30], unit="h")), target_hours=24)
    assert td.rate == 0.5 and math.isclose(td.p90_hours, 3 + 0.9 * 27)
    with pytest.raises(ValueError, match="negative"):
        repair_timeliness([-1.0])
