"""New water connections (报装) under the "五零" service: the storage-free rules and the 获得用水 figures.

* The **zeros** (五零) are configurable: each :class:`Zero` names a record field and the largest value that still
  counts as "zero" (``零跑腿`` customer visits ≤ 0, ``零资料`` documents ≤ 0, ``零审批`` approvals ≤ 0, ``零费用`` cost ≤ 0,
  ``零等待`` working days ≤ 2 by default).  Cities word and choose them differently, so pass your own tuple.
* The **steps** run application → survey → scheme → construction → meter_installation → water_on.  Legal moves:
  forward to the next step, forward over steps listed as skippable (a connection without outside works goes
  application → meter_installation → water_on), back for rework where ``rework`` allows it, and to ``cancelled``
  (any open step) or ``rejected`` (steps in ``rejectable``).  ``water_on``, ``cancelled`` and ``rejected`` are final.
* **Overdue**: each step has a limit in working days (:mod:`runze.ops.workdays`); time in a step runs from entering
  it to entering the next (or ``now``).  The defaults below are placeholders for the utility's own service promise.
* **获得用水** (getting water) is measured like the World Bank's "getting electricity": number of procedures the
  customer goes through, working days from application to water on, and cost to the customer.  Procedures default
  to the customer-facing steps passed (application and water-on: 2).  :func:`monthly_getting_water` gives median
  and worst figures per month and customer kind, plus the share of applications meeting each zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from runze.i18n import both, t
from runze.ops.workdays import WorkdayCalendar, default_calendar

STEPS = ("application", "survey", "scheme", "construction", "meter_installation", "water_on")
FINAL = ("water_on", "cancelled", "rejected")


@dataclass(frozen=True, slots=True)
class Zero:
    """One of the "zeros": met when ``getattr(record_or_figures, field) <= max_value``."""

    key: str  # label key suffix: i18n "connection.zero.<key>"
    field: str  # customer_visits / documents / approvals / cost_yuan / working_days / procedures
    max_value: float = 0.0

    def label(self, lang: str = "zh") -> str:
        return t(f"connection.zero.{self.key}", lang)


DEFAULT_ZEROS: tuple[Zero, ...] = (
    Zero("visits", "customer_visits"),
    Zero("paperwork", "documents"),
    Zero("approvals", "approvals"),
    Zero("cost", "cost_yuan"),
    Zero("waiting", "working_days", 2.0),  # "≤ 2 working days" for connections without outside works
)


def _frozen(d: Mapping) -> Mapping:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class ConnectionRules:
    """Configurable rules.  Limits are PLACEHOLDER defaults: set the utility's published service promise."""

    steps: tuple[str, ...] = STEPS
    skippable: frozenset[str] = frozenset({"survey", "scheme", "construction"})
    rework: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: _frozen({"scheme": ("survey",), "construction": ("scheme",)}))
    rejectable: frozenset[str] = frozenset({"application", "survey", "scheme"})
    step_limits_workdays: Mapping[str, float] = field(default_factory=lambda: _frozen({
        "application": 0.5, "survey": 1.0, "scheme": 1.0, "construction": 5.0, "meter_installation": 1.0}))
    customer_steps: frozenset[str] = frozenset({"application", "water_on"})
    zeros: tuple[Zero, ...] = DEFAULT_ZEROS

    def __post_init__(self) -> None:
        unknown = (set(self.skippable) | set(self.rework) | set(self.step_limits_workdays)
                   | set(self.customer_steps) | set(self.rejectable)) - set(self.steps)
        if unknown:
            raise ValueError(f"connection rules name steps that are not in {self.steps}: {sorted(unknown)}")
        if self.steps[0] in self.skippable or self.steps[-1] in self.skippable:
            raise ValueError("the first and last steps cannot be skippable")


class TransitionError(ValueError):
    """An illegal move between steps; ``message`` holds both languages."""

    def __init__(self, key: str, **kw) -> None:
        self.key, self.params = key, kw
        self.message = both(key, **kw)
        super().__init__(self.message["en"])


def _step_names(steps: Iterable[str], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(t(f"connection.step.{s}", lang) for s in steps) or "—"


def allowed_transitions(step: str | None, rules: ConnectionRules = ConnectionRules()) -> tuple[str, ...]:
    """Steps reachable from ``step`` (``None`` = a new application)."""
    if step is None:
        return (rules.steps[0],)
    if step in FINAL:
        return ()
    if step not in rules.steps:
        raise TransitionError("connection.unknown_step", step=step)
    i = rules.steps.index(step)
    forward = []
    for nxt in rules.steps[i + 1:]:
        forward.append(nxt)
        if nxt not in rules.skippable:
            break
    extra = list(rules.rework.get(step, ())) + ["cancelled"] + (["rejected"] if step in rules.rejectable else [])
    return tuple(forward + extra)


def check_transition(from_step: str | None, to_step: str, rules: ConnectionRules = ConnectionRules()) -> None:
    """Raise :class:`TransitionError` (naming both steps and the allowed ones, zh + en) unless the move is legal."""
    if to_step not in rules.steps and to_step not in FINAL:
        raise TransitionError("connection.unknown_step", step=to_step)
    allowed = allowed_transitions(from_step, rules)
    if to_step not in allowed:
        # the message is built per language so step names are translated
        err = TransitionError("connection.illegal_transition", from_step=from_step or "-", to_step=to_step,
                              allowed=", ".join(allowed) or "-")
        err.message = {lang: t("connection.illegal_transition", lang,
                               from_step=t(f"connection.step.{from_step}", lang) if from_step else "—",
                               to_step=t(f"connection.step.{to_step}", lang),
                               allowed=_step_names(allowed, lang)) for lang in ("zh", "en")}
        raise err


@dataclass(frozen=True)
class ConnectionApplication:
    """One application as the storage layer hands it over (no DB objects)."""

    application_id: str
    customer_kind: str  # e.g. residential / non_residential / small_business: a free label used for grouping
    history: tuple[tuple[str, dt.datetime], ...]  # (step, time entered), in order; starts with "application"
    cost_yuan: float = 0.0  # paid by the customer
    customer_visits: int = 0  # times the customer had to come in person
    documents: int = 0  # documents the customer had to provide
    approvals: int = 0  # outside approvals the customer had to obtain
    procedures: int | None = None  # override; default = customer-facing steps passed

    @property
    def current_step(self) -> str | None:
        return self.history[-1][0] if self.history else None

    @property
    def submitted_at(self) -> dt.datetime | None:
        return self.history[0][1] if self.history else None

    @property
    def completed_at(self) -> dt.datetime | None:
        return next((when for step, when in self.history if step == "water_on"), None)

    def procedure_count(self, rules: ConnectionRules = ConnectionRules()) -> int:
        if self.procedures is not None:
            return self.procedures
        return len({s for s, _ in self.history if s in rules.customer_steps})


def validate_history(app: ConnectionApplication, rules: ConnectionRules = ConnectionRules()) -> None:
    """Raise TransitionError/ValueError if the recorded history breaks the rules or goes back in time."""
    prev_step, prev_time = None, None
    for step, when in app.history:
        check_transition(prev_step, step, rules)
        if when.tzinfo is None:
            raise ValueError(f"application {app.application_id}: time of step '{step}' has no time zone")
        if prev_time is not None and when < prev_time:
            raise ValueError(f"application {app.application_id}: step '{step}' entered at {when.isoformat()}, "
                             f"before the previous step ({prev_time.isoformat()})")
        prev_step, prev_time = step, when


@dataclass(frozen=True, slots=True)
class StepOverdue:
    application_id: str
    step: str
    entered_at: dt.datetime
    deadline: dt.datetime
    used_workdays: float
    limit_workdays: float
    open: bool  # True: still in this step

    def message(self, lang: str = "zh") -> str:
        return t("connection.overdue", lang, application=self.application_id,
                 step=t(f"connection.step.{self.step}", lang), used=self.used_workdays, limit=self.limit_workdays)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["entered_at"], d["deadline"] = self.entered_at.isoformat(), self.deadline.isoformat()
        d["message"] = {lang: self.message(lang) for lang in ("zh", "en")}
        return d


def step_deadline(step: str, entered_at: dt.datetime, rules: ConnectionRules = ConnectionRules(),
                  calendar: WorkdayCalendar | None = None) -> dt.datetime | None:
    """When ``step`` becomes overdue, or None if it has no limit."""
    limit = rules.step_limits_workdays.get(step)
    if limit is None:
        return None
    return (calendar or default_calendar()).add_workdays(entered_at, limit)


def overdue_steps(app: ConnectionApplication, now: dt.datetime, rules: ConnectionRules = ConnectionRules(),
                  calendar: WorkdayCalendar | None = None) -> list[StepOverdue]:
    """Every step of ``app`` (finished or current) that took longer than its limit."""
    cal = calendar or default_calendar()
    out = []
    for i, (step, entered) in enumerate(app.history):
        limit = rules.step_limits_workdays.get(step)
        if limit is None:
            continue
        is_open = i == len(app.history) - 1
        left = now if is_open else app.history[i + 1][1]
        used = cal.workdays_between(entered, left)
        if used > limit + 1e-9:
            out.append(StepOverdue(app.application_id, step, entered, cal.add_workdays(entered, limit), used,
                                   limit, is_open))
    return out


# ----------------------------------------------------------------------------- 获得用水 figures


@dataclass(frozen=True, slots=True)
class GettingWaterFigures:
    month: str  # "2026-03", local (Asia/Shanghai) month of completion
    customer_kind: str  # a kind, or "all"
    completed: int
    procedures_median: float
    procedures_max: int
    workdays_median: float
    workdays_mean: float
    workdays_max: float  # the worst case
    worst_application_id: str
    cost_median: float
    cost_max: float
    cost_total: float
    free_share: float
    overdue: int  # completed applications with at least one overdue step
    zeros_met: dict  # zero key -> share of applications meeting it

    def to_dict(self) -> dict:
        return asdict(self)


def application_figures(apps: Iterable[ConnectionApplication], rules: ConnectionRules = ConnectionRules(),
                        calendar: WorkdayCalendar | None = None) -> pd.DataFrame:
    """One row per *completed* application: month, kind, procedures, working days, cost, zeros met, overdue."""
    cal = calendar or default_calendar()
    rows = []
    for app in apps:
        done = app.completed_at
        if done is None or app.submitted_at is None:
            continue
        row = {
            "application_id": app.application_id,
            "customer_kind": app.customer_kind,
            "month": cal.local(done).strftime("%Y-%m"),
            "procedures": app.procedure_count(rules),
            "working_days": cal.workdays_between(app.submitted_at, done),
            "cost_yuan": float(app.cost_yuan),
            "customer_visits": app.customer_visits,
            "documents": app.documents,
            "approvals": app.approvals,
            "overdue": bool(overdue_steps(app, done, rules, cal)),
        }
        for z in rules.zeros:
            row[f"zero_{z.key}"] = row[z.field] <= z.max_value + 1e-9
        rows.append(row)
    cols = ["application_id", "customer_kind", "month", "procedures", "working_days", "cost_yuan",
            "customer_visits", "documents", "approvals", "overdue", *[f"zero_{z.key}" for z in rules.zeros]]
    return pd.DataFrame(rows, columns=cols)


def monthly_getting_water(apps: Iterable[ConnectionApplication], rules: ConnectionRules = ConnectionRules(),
                          calendar: WorkdayCalendar | None = None) -> list[GettingWaterFigures]:
    """获得用水 per month of completion, for each customer kind and for all kinds together."""
    table = application_figures(apps, rules, calendar)
    if table.empty:
        return []
    both_levels = pd.concat([table, table.assign(customer_kind="all")], ignore_index=True)
    out = []
    for (month, kind), g in both_levels.groupby(["month", "customer_kind"], sort=True):
        worst = int(np.argmax(g["working_days"].to_numpy()))
        out.append(GettingWaterFigures(
            month=str(month), customer_kind=str(kind), completed=len(g),
            procedures_median=float(g["procedures"].median()), procedures_max=int(g["procedures"].max()),
            workdays_median=float(g["working_days"].median()), workdays_mean=float(g["working_days"].mean()),
            workdays_max=float(g["working_days"].max()),
            worst_application_id=str(g["application_id"].iloc[worst]),
            cost_median=float(g["cost_yuan"].median()), cost_max=float(g["cost_yuan"].max()),
            cost_total=float(g["cost_yuan"].sum()), free_share=float((g["cost_yuan"] <= 0).mean()),
            overdue=int(g["overdue"].sum()),
            zeros_met={z.key: float(g[f"zero_{z.key}"].mean()) for z in rules.zeros},
        ))
    # "all" first within each month reads best in reports
    out.sort(key=lambda f: (f.month, f.customer_kind != "all", f.customer_kind))
    return out
