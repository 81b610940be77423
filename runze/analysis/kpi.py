"""Water-loss KPIs: IWA water balance, NRW, UARL/ILI and the CJJ 92-2016 leakage rates.  Pure functions.

Volumes are m³ over one period (``period_days``, a year by default); lengths km; pressures m of head (IWA) or
MPa (CJJ).  Every result is a dataclass with ``.to_dict()`` and a list of :class:`KpiWarning`; a balance that does
not close, negative volumes, an ILI outside the formula's validity range or unconfirmed CJJ coefficients always
show up as warnings next to the number, never as a silent number.  ``strict=True`` raises :class:`KpiError`
instead when a warning is an error.

Formulas
--------
IWA water balance (Alegre et al., *Performance Indicators for Water Supply Services*; Lambert & Hirner 2000)::

    system input = authorised consumption + water losses
    authorised   = billed metered + billed unmetered + unbilled metered + unbilled unmetered
    water losses = apparent losses (unauthorised use + customer-meter inaccuracies + data-handling errors)
                 + real losses (leaks, bursts, storage overflows up to the customer meter)
    NRW          = system input − billed authorised consumption

UARL (Lambert et al. 1999), litres/day::

    UARL = (18 · Lm + 0.8 · Nc + 25 · Lp) · P

Lm mains length (km), Nc number of service connections, Lp total length of private pipe between the property
boundary and the customer meter (km), P average operating pressure (m).  ILI = CARL / UARL, CARL the current annual
real losses.  The formula is considered valid for Nc > 5,000 (some use 3,000: ``IliLimits.min_connections``),
connection density Nc/Lm > 20 per km and P between 25 and 100 m; outside that the ILI comes with warnings.

CJJ 92-2016 (城镇供水管网漏损控制及评定标准, as amended by the 2018 partial revision in force 2019-02-01)::

    R_WL = (Qs − Qa) / Qs            综合漏损率 (5.2.2-2): Qs system input, Qa registered (注册用户) use
    R_BL = R_WL − Rn                 漏损率, the graded indicator (5.2.2-1)
    Rn   = R1 + R2 + R3 + R4         总修正值 (5.2.3-1)

R1 household-metering (居民抄表到户水量), R2 pipe length per unit of supply (单位供水量管长), R3 average plant-outlet
pressure (年平均出厂压力), R4 maximum frost depth (最大冻土深度).  Grades (5.1.2): grade 1 ≤ 10 %, grade 2 ≤ 12 %;
the national target is ≤ 9 % by 2025.  **The coefficient values in** :class:`CjjCorrectionConfig` **are defaults we
recall from the 2016 text and have NOT confirmed against the standard**; the config says so (``confirmed=False``)
and every result then carries a ``kpi.cjj_unconfirmed`` warning until the utility confirms or replaces them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from runze.i18n import both

M3_PER_L = 1.0e-3


@dataclass(frozen=True, slots=True)
class KpiWarning:
    """A problem found while computing a KPI: an i18n message key with its values, and how serious it is."""

    code: str  # key in runze.i18n.MESSAGES
    params: dict
    severity: str = "warning"  # "error": the figure cannot be trusted; "warning": it can, with a caveat

    def message(self, lang: str = "zh") -> str:
        return both(self.code, **self.params)[lang]

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "params": dict(self.params),
                "message": both(self.code, **self.params)}

    def __str__(self) -> str:
        return self.message("en")


class KpiError(ValueError):
    """Raised in strict mode; carries every warning, the errors first."""

    def __init__(self, warnings: list[KpiWarning]) -> None:
        self.warnings = sorted(warnings, key=lambda w: w.severity != "error")
        super().__init__("; ".join(str(w) for w in self.warnings))


def _check_strict(warnings: list[KpiWarning], strict: bool) -> None:
    if strict and any(w.severity == "error" for w in warnings):
        raise KpiError(warnings)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den and den > 0 else None


# ----------------------------------------------------------------------------- IWA water balance


@dataclass(frozen=True, slots=True)
class WaterBalance:
    """A completed IWA water balance (m³ for the period) with its closure check."""

    system_input: float
    billed_metered: float
    billed_unmetered: float
    unbilled_metered: float
    unbilled_unmetered: float
    unauthorised_consumption: float
    customer_meter_inaccuracies: float
    data_handling_errors: float
    real_losses: float
    real_losses_given: bool  # True: measured/estimated independently and checked; False: the residual
    period_days: float
    closure_difference: float  # system input − sum of every component (0 when real losses are the residual)
    tolerance: float
    warnings: list[KpiWarning] = field(default_factory=list)

    @property
    def billed_authorised(self) -> float:
        return self.billed_metered + self.billed_unmetered

    @property
    def unbilled_authorised(self) -> float:
        return self.unbilled_metered + self.unbilled_unmetered

    @property
    def authorised_consumption(self) -> float:
        return self.billed_authorised + self.unbilled_authorised

    @property
    def apparent_losses(self) -> float:
        return self.unauthorised_consumption + self.customer_meter_inaccuracies + self.data_handling_errors

    @property
    def water_losses(self) -> float:
        return self.apparent_losses + self.real_losses

    @property
    def revenue_water(self) -> float:
        return self.billed_authorised

    @property
    def non_revenue_water(self) -> float:
        return self.system_input - self.billed_authorised

    @property
    def nrw_fraction(self) -> float | None:
        return _ratio(self.non_revenue_water, self.system_input)

    @property
    def real_losses_l_per_day(self) -> float:
        """CARL as litres/day, the unit of UARL."""
        return self.real_losses / M3_PER_L / self.period_days

    @property
    def closes(self) -> bool:
        return not any(w.severity == "error" for w in self.warnings)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = [w.to_dict() for w in self.warnings]
        for name in ("billed_authorised", "unbilled_authorised", "authorised_consumption", "apparent_losses",
                     "water_losses", "revenue_water", "non_revenue_water", "nrw_fraction", "real_losses_l_per_day",
                     "closes"):
            d[name] = getattr(self, name)
        d["nrw_percent"] = None if self.nrw_fraction is None else 100.0 * self.nrw_fraction
        return d


def water_balance(
    system_input: float,
    billed_metered: float,
    billed_unmetered: float = 0.0,
    unbilled_metered: float = 0.0,
    unbilled_unmetered: float = 0.0,
    unauthorised_consumption: float = 0.0,
    customer_meter_inaccuracies: float = 0.0,
    data_handling_errors: float = 0.0,
    real_losses: float | None = None,
    *,
    period_days: float = 365.0,
    tolerance: float = 0.005,
    strict: bool = False,
) -> WaterBalance:
    """Build and check an IWA balance.

    ``real_losses=None`` takes them as the residual (system input − authorised − apparent); a negative residual
    is an error.  Given real losses (e.g. from a bottom-up night-flow estimate) must make the components add up
    to the system input within ``tolerance`` × system input (0.5 % by default), else an error warning lists the
    mismatch.  ``strict=True`` raises :class:`KpiError` on any error.
    """
    parts = {
        "system_input": system_input,
        "billed_metered": billed_metered,
        "billed_unmetered": billed_unmetered,
        "unbilled_metered": unbilled_metered,
        "unbilled_unmetered": unbilled_unmetered,
        "unauthorised_consumption": unauthorised_consumption,
        "customer_meter_inaccuracies": customer_meter_inaccuracies,
        "data_handling_errors": data_handling_errors,
    }
    if real_losses is not None:
        parts["real_losses"] = real_losses
    warnings: list[KpiWarning] = []
    for name, value in parts.items():
        if value is None or not math.isfinite(float(value)):
            raise ValueError(f"water balance: '{name}' must be a finite number of m³, got {value!r}")
        if value < 0:
            warnings.append(KpiWarning("kpi.negative_volume", {"component": name, "value": float(value)}, "error"))
    if period_days <= 0:
        raise ValueError(f"water balance: period_days must be > 0, got {period_days!r}")
    if system_input <= 0:
        warnings.append(KpiWarning("kpi.zero_system_input", {}, "error"))
    authorised = billed_metered + billed_unmetered + unbilled_metered + unbilled_unmetered
    apparent = unauthorised_consumption + customer_meter_inaccuracies + data_handling_errors
    difference = 0.0
    if real_losses is None:
        real = system_input - authorised - apparent
        if real < 0:
            warnings.append(KpiWarning("kpi.negative_real_losses", {"value": real}, "error"))
    else:
        real = float(real_losses)
        components = authorised + apparent + real
        difference = system_input - components
        if abs(difference) > tolerance * max(system_input, 0.0):
            warnings.append(KpiWarning("kpi.balance_not_closed", {
                "system_input": float(system_input), "components": components, "difference": difference,
                "percent": 100.0 * difference / system_input if system_input > 0 else float("nan"),
                "tolerance_percent": 100.0 * tolerance}, "error"))
    _check_strict(warnings, strict)
    return WaterBalance(
        float(system_input), float(billed_metered), float(billed_unmetered), float(unbilled_metered),
        float(unbilled_unmetered), float(unauthorised_consumption), float(customer_meter_inaccuracies),
        float(data_handling_errors), float(real), real_losses is not None, float(period_days), float(difference),
        float(tolerance), warnings)


# ----------------------------------------------------------------------------- UARL and ILI


@dataclass(frozen=True, slots=True)
class IliLimits:
    """Where the UARL formula is trusted (configurable; some utilities use 3,000 connections)."""

    min_connections: int = 5000
    min_density_per_km: float = 20.0
    pressure_range_m: tuple[float, float] = (25.0, 100.0)


def uarl_litres_per_day(mains_km: float, connections: float, private_pipe_km: float, pressure_m: float) -> float:
    """Unavoidable annual real losses, L/day: (18·Lm + 0.8·Nc + 25·Lp)·P."""
    for name, v in (("mains_km", mains_km), ("connections", connections), ("private_pipe_km", private_pipe_km),
                    ("pressure_m", pressure_m)):
        if v is None or not math.isfinite(float(v)) or v < 0:
            raise ValueError(f"UARL: '{name}' must be a finite number >= 0, got {v!r}")
    return (18.0 * mains_km + 0.8 * connections + 25.0 * private_pipe_km) * pressure_m


@dataclass(frozen=True, slots=True)
class IliResult:
    carl_m3: float  # real losses over the period
    period_days: float
    uarl_l_per_day: float
    ili: float | None
    connection_density_per_km: float | None
    warnings: list[KpiWarning] = field(default_factory=list)

    @property
    def carl_l_per_day(self) -> float:
        return self.carl_m3 / M3_PER_L / self.period_days

    @property
    def uarl_m3_per_year(self) -> float:
        return self.uarl_l_per_day * M3_PER_L * 365.0

    @property
    def valid(self) -> bool:
        """True when every validity condition of the UARL formula holds."""
        return self.ili is not None and not self.warnings

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = [w.to_dict() for w in self.warnings]
        d.update(carl_l_per_day=self.carl_l_per_day, uarl_m3_per_year=self.uarl_m3_per_year, valid=self.valid)
        return d


def infrastructure_leakage_index(
    real_losses_m3: float,
    mains_km: float,
    connections: int,
    private_pipe_km: float,
    pressure_m: float,
    *,
    period_days: float = 365.0,
    limits: IliLimits = IliLimits(),
) -> IliResult:
    """ILI = CARL / UARL, with the formula's validity conditions reported as warnings (the ILI is still given)."""
    if real_losses_m3 is None or not math.isfinite(real_losses_m3) or real_losses_m3 < 0:
        raise ValueError(f"ILI: real losses must be a finite volume >= 0 m³, got {real_losses_m3!r}")
    uarl = uarl_litres_per_day(mains_km, connections, private_pipe_km, pressure_m)
    carl_l_day = real_losses_m3 / M3_PER_L / period_days
    warnings = []
    if connections < limits.min_connections:
        warnings.append(KpiWarning("kpi.ili_connections", {"connections": connections,
                                                           "minimum": limits.min_connections}))
    density = connections / mains_km if mains_km > 0 else None
    if density is None or density <= limits.min_density_per_km:
        warnings.append(KpiWarning("kpi.ili_density", {"density": density if density is not None else 0.0,
                                                       "minimum": limits.min_density_per_km}))
    low, high = limits.pressure_range_m
    if not low <= pressure_m <= high:
        warnings.append(KpiWarning("kpi.ili_pressure", {"pressure": pressure_m, "low": low, "high": high}))
    return IliResult(float(real_losses_m3), float(period_days), uarl, carl_l_day / uarl if uarl > 0 else None,
                     density, warnings)


def ili_from_balance(balance: WaterBalance, mains_km: float, connections: int, private_pipe_km: float,
                     pressure_m: float, limits: IliLimits = IliLimits()) -> IliResult:
    """ILI using a balance's real losses and period; the balance's own errors are carried over."""
    res = infrastructure_leakage_index(balance.real_losses if balance.real_losses > 0 else 0.0, mains_km,
                                       connections, private_pipe_km, pressure_m,
                                       period_days=balance.period_days, limits=limits)
    carried = [w for w in balance.warnings if w.severity == "error"]
    return IliResult(res.carl_m3, res.period_days, res.uarl_l_per_day, res.ili, res.connection_density_per_km,
                     carried + res.warnings)


# ----------------------------------------------------------------------------- CJJ 92-2016


@dataclass(frozen=True, slots=True)
class CjjCorrectionConfig:
    """Coefficients of the four CJJ 92-2016 corrections.  UNCONFIRMED DEFAULTS — the utility must check them.

    Structure (from our reading of the standard, values as we recall them):

    * R1 = ``r1_factor`` × r, r = share of total supply metered household by household (居民抄表到户水量占比).
    * R2 = ``r2_factor`` × (A − ``r2_reference``), clamped to [``r2_min``, ``r2_max``]; A = length of mains
      (DN ≥ 75) per unit of supply, in the unit the standard defines — unconfirmed, so the caller passes A
      itself.  (The reference 0.0693 only makes sense for A in km per 10⁴ m³ of annual supply: our utility's
      400 km / 3,650 万m³ gives 0.11, whereas km per m³/d would give 0.004 and a large negative R2 for every
      utility.)  We recall a 3 % cap; the standard may also floor R2 (set ``r2_min``).
    * R3 = the correction of the band that the annual mean plant-outlet pressure (MPa) falls in:
      ``r3_bands`` = ((lower exclusive, upper inclusive, correction), ...).
    * R4 = ``r4_correction`` when the maximum frost depth exceeds ``r4_frost_depth_m``.

    All corrections are fractions (0.01 = 1 %).  Set ``confirmed=True`` once checked, which removes the warning.
    """

    r1_factor: float = 0.08
    r2_factor: float = 0.99
    r2_reference: float = 0.0693
    r2_min: float | None = None
    r2_max: float | None = 0.03
    r3_bands: tuple[tuple[float, float, float], ...] = ((0.35, 0.55, 0.005), (0.55, 0.75, 0.01),
                                                        (0.75, math.inf, 0.02))
    r4_frost_depth_m: float = 1.4
    r4_correction: float = 0.01
    grade1_limit: float = 0.10
    grade2_limit: float = 0.12
    national_target: float = 0.09
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class CjjInputs:
    """Facts about the utility that the corrections need (any may be None: that correction is then 0)."""

    household_metered_share: float | None = None  # r, 0..1
    pipe_length_per_supply: float | None = None  # A, see CjjCorrectionConfig
    mean_outlet_pressure_mpa: float | None = None
    max_frost_depth_m: float | None = None


@dataclass(frozen=True, slots=True)
class CjjResult:
    system_input: float  # Qs
    registered_consumption: float  # Qa
    gross_loss_rate: float | None  # R_WL
    r1: float
    r2: float
    r3: float
    r4: float
    leakage_rate: float | None  # R_BL
    grade: str | None  # "grade1" (≤10 %), "grade2" (≤12 %), "fail"
    meets_national_target: bool | None
    warnings: list[KpiWarning] = field(default_factory=list)

    @property
    def total_correction(self) -> float:
        return self.r1 + self.r2 + self.r3 + self.r4

    def to_dict(self) -> dict:
        d = asdict(self)
        d["warnings"] = [w.to_dict() for w in self.warnings]
        d["total_correction"] = self.total_correction
        for k in ("gross_loss_rate", "leakage_rate"):
            d[k.replace("rate", "percent")] = None if d[k] is None else 100.0 * d[k]
        return d


def cjj_corrections(inputs: CjjInputs, config: CjjCorrectionConfig = CjjCorrectionConfig()
                    ) -> tuple[tuple[float, float, float, float], list[KpiWarning]]:
    """(R1, R2, R3, R4) as fractions, plus warnings (R2 capped, unconfirmed coefficients)."""
    warnings = [] if config.confirmed else [KpiWarning("kpi.cjj_unconfirmed", {})]
    r = inputs.household_metered_share
    if r is not None and not 0.0 <= r <= 1.0:
        raise ValueError(f"CJJ: household_metered_share is a share 0..1, got {r!r}")
    r1 = config.r1_factor * r if r is not None else 0.0
    r2 = 0.0
    if inputs.pipe_length_per_supply is not None:
        raw = config.r2_factor * (inputs.pipe_length_per_supply - config.r2_reference)
        r2 = raw
        if config.r2_max is not None and raw > config.r2_max:
            r2 = config.r2_max
        if config.r2_min is not None and raw < config.r2_min:
            r2 = config.r2_min
        if r2 != raw:
            warnings.append(KpiWarning("kpi.cjj_r2_capped", {"value": raw, "cap": r2}))
    r3 = 0.0
    p = inputs.mean_outlet_pressure_mpa
    if p is not None:
        for low, high, corr in config.r3_bands:
            if low < p <= high:
                r3 = corr
                break
    d = inputs.max_frost_depth_m
    r4 = config.r4_correction if d is not None and d > config.r4_frost_depth_m else 0.0
    return (r1, r2, r3, r4), warnings


def cjj_loss_rates(system_input: float, registered_consumption: float, inputs: CjjInputs = CjjInputs(),
                   config: CjjCorrectionConfig = CjjCorrectionConfig(), *, strict: bool = False) -> CjjResult:
    """R_WL, the corrections and R_BL with its grade.  Qs and Qa in any one volume unit (the standard uses 万m³)."""
    warnings: list[KpiWarning] = []
    for name, v in (("system_input", system_input), ("registered_consumption", registered_consumption)):
        if v is None or not math.isfinite(float(v)):
            raise ValueError(f"CJJ: '{name}' must be a finite volume, got {v!r}")
        if v < 0:
            warnings.append(KpiWarning("kpi.negative_volume", {"component": name, "value": float(v)}, "error"))
    if system_input <= 0:
        warnings.append(KpiWarning("kpi.zero_system_input", {}, "error"))
    elif registered_consumption > system_input:
        warnings.append(KpiWarning("kpi.cjj_registered_exceeds_input", {
            "registered": float(registered_consumption), "system_input": float(system_input)}, "error"))
    (r1, r2, r3, r4), corr_warnings = cjj_corrections(inputs, config)
    warnings += corr_warnings
    _check_strict(warnings, strict)
    rwl = _ratio(system_input - registered_consumption, system_input)
    rbl = None if rwl is None else rwl - (r1 + r2 + r3 + r4)
    grade = None
    if rbl is not None:
        grade = "grade1" if rbl <= config.grade1_limit else "grade2" if rbl <= config.grade2_limit else "fail"
    target = None if rbl is None else rbl <= config.national_target
    return CjjResult(float(system_input), float(registered_consumption), rwl, r1, r2, r3, r4, rbl, grade, target,
                     warnings)


def regional_leakage_rate(leakage_rates: list[float], system_inputs: list[float]) -> float:
    """Leakage rate of a region (CJJ 92-2016 5.3.3): utilities' R_BL weighted by their system input."""
    if len(leakage_rates) != len(system_inputs) or not leakage_rates:
        raise ValueError("regional leakage rate: give one system input per utility's rate (at least one)")
    total = sum(system_inputs)
    if total <= 0:
        raise ValueError("regional leakage rate: total system input must be > 0")
    return sum(r * q for r, q in zip(leakage_rates, system_inputs, strict=True)) / total
