"""Working-day clock for deadlines (报装时限, 工单时限): Chinese public holidays and make-up working days (调休).

A :class:`WorkdayCalendar` says which dates are working days: Monday–Friday, minus public holidays, plus make-up
working days (a Saturday or Sunday worked in exchange for a longer holiday).  The default calendar is loaded from
the packaged ``runze/ops/data/cn_holidays.json`` (2025 and 2026 as we know them, ``confirmed: false`` — the
utility must check the dates against the State Council notice and add each new year); a utility can pass its own
file or dict, or add dates with :meth:`WorkdayCalendar.with_changes`.  Outside the years the file covers, Monday to
Friday count as working days (``strict=True`` raises instead, and :meth:`WorkdayCalendar.covers` tells).

Times must be timezone-aware (``datetime`` or ``pandas.Timestamp``); they are read in the calendar's zone
(Asia/Shanghai).  Elapsed working time is measured in working days, **counting partial days as fractions**:

* by default a working day is its whole calendar day, so Friday 16:00 → Monday 10:00 is 8/24 + 10/24 = 0.75
  working days and a deadline of "2 working days" from Tuesday 10:00 is Thursday 10:00;
* with ``office_hours=(time(8, 30), time(17, 30))`` only office time counts: a day is the 9 hours between, time
  outside them counts nothing, and deadlines land inside office hours (a request at 20:00 starts the next morning).

``add_workdays(start, n)`` is the inverse of ``workdays_between``: ``workdays_between(start, add_workdays(start,
n)) == n``.  Whole-day counting between dates is vectorised with ``numpy.busday_count``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from runze.i18n import t

DEFAULT_TZ = "Asia/Shanghai"
_MAX_DAYS = 3660  # add_workdays gives up after ten years of calendar: a wrong calendar, not a real deadline


class CalendarError(ValueError):
    """A time without a zone, a date outside a strict calendar, or a malformed holiday file."""


@dataclass(frozen=True)
class WorkdayCalendar:
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()  # years whose arrangements are configured
    tz: str = DEFAULT_TZ
    weekend: frozenset[int] = frozenset({5, 6})  # Monday = 0
    office_hours: tuple[dt.time, dt.time] | None = None
    strict: bool = False
    confirmed: bool = False
    names: Mapping[dt.date, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.office_hours is not None and not self.office_hours[0] < self.office_hours[1]:
            raise CalendarError(f"office hours must open before they close, got {self.office_hours}")
        both_ways = self.holidays & self.makeup_workdays
        if both_ways:
            raise CalendarError(f"dates both holiday and make-up working day: {sorted(both_ways)}")

    # ---- construction
    @classmethod
    def from_dict(cls, data: Mapping, **overrides) -> WorkdayCalendar:
        holidays, makeup, names = set(), set(), {}
        try:
            for year, spec in data["years"].items():
                for h in spec.get("holidays", []):
                    day, end = dt.date.fromisoformat(h["start"]), dt.date.fromisoformat(h.get("end", h["start"]))
                    while day <= end:
                        holidays.add(day)
                        names[day] = h.get("name", "")
                        day += dt.timedelta(days=1)
                for w in spec.get("workdays", []):
                    day = dt.date.fromisoformat(w["date"])
                    makeup.add(day)
                    names[day] = w.get("name", "")
                int(year)
            years = frozenset(int(y) for y in data["years"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CalendarError(f"holiday calendar: malformed entry ({exc!r}); expected "
                                '{"years": {"2025": {"holidays": [{"start", "end", "name"}], '
                                '"workdays": [{"date", "name"}]}}}') from None
        kw = dict(holidays=frozenset(holidays), makeup_workdays=frozenset(makeup), years=years,
                  tz=data.get("timezone", DEFAULT_TZ), weekend=frozenset(data.get("weekend", (5, 6))),
                  confirmed=bool(data.get("confirmed", False)), names=names)
        kw.update(overrides)
        return cls(**kw)

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides) -> WorkdayCalendar:
        """From a JSON file; without a path, the packaged ``cn_holidays.json``."""
        if path is None:
            text = resources.files("runze.ops.data").joinpath("cn_holidays.json").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text), **overrides)

    def with_changes(self, *, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
                     **fields) -> WorkdayCalendar:
        """A copy with extra holidays / make-up working days (e.g. a local holiday) and other fields changed."""
        extra_h, extra_w = frozenset(holidays), frozenset(workdays)
        return replace(self, holidays=(self.holidays - extra_w) | extra_h,
                       makeup_workdays=(self.makeup_workdays - extra_h) | extra_w, **fields)

    # ---- questions about dates
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def local(self, when: dt.datetime) -> dt.datetime:
        """``when`` in the calendar's zone; a naive time is an error (we cannot guess its zone)."""
        if not isinstance(when, dt.datetime):
            raise CalendarError(f"expected a date-time, got {when!r}")
        if when.tzinfo is None or when.utcoffset() is None:
            raise CalendarError(t("workday.naive_datetime", "en", value=when))
        return when.astimezone(self.zone)

    def _check_cover(self, first: dt.date, last: dt.date) -> None:
        if self.strict:
            missing = sorted(y for y in range(first.year, last.year + 1) if y not in self.years)
            if missing:
                raise CalendarError(t("workday.outside_calendar", "en", year=missing[0]))

    def is_workday(self, day: dt.date | dt.datetime) -> bool:
        if isinstance(day, dt.datetime):
            day = self.local(day).date()
        self._check_cover(day, day)
        if day in self.makeup_workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def count_workdays(self, first: dt.date, stop: dt.date) -> int:
        """Working days in ``[first, stop)`` (whole days), vectorised with numpy."""
        if stop <= first:
            return 0
        self._check_cover(first, stop - dt.timedelta(days=1))
        mask = [0 if d in self.weekend else 1 for d in range(7)]
        holidays = np.array(sorted(self.holidays), dtype="datetime64[D]")
        n = int(np.busday_count(np.datetime64(first), np.datetime64(stop), weekmask=mask, holidays=holidays))
        # make-up days fall on weekends, which busday_count skipped; add those inside the range
        extra = sum(1 for d in self.makeup_workdays if first <= d < stop and d.weekday() in self.weekend)
        return n + extra

    # ---- partial days
    def _fraction(self, local: dt.datetime) -> float:
        """How much of its day has passed at ``local`` (0..1), in the counting that applies."""
        midnight = dt.datetime.combine(local.date(), dt.time(0), tzinfo=local.tzinfo)
        if self.office_hours is None:
            nxt = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=local.tzinfo)
            return (local - midnight) / (nxt - midnight)
        opens, closes = (dt.datetime.combine(local.date(), x, tzinfo=local.tzinfo) for x in self.office_hours)
        clamped = min(max(local, opens), closes)
        return (clamped - opens) / (closes - opens)

    def _at_fraction(self, day: dt.date, frac: float) -> dt.datetime:
        zone = self.zone
        if self.office_hours is None:
            start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
            length = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone) - start
        else:
            start = dt.datetime.combine(day, self.office_hours[0], tzinfo=zone)
            length = dt.datetime.combine(day, self.office_hours[1], tzinfo=zone) - start
        # round to the microsecond so that the round trip with workdays_between is exact enough
        return start + dt.timedelta(microseconds=round(frac * length / dt.timedelta(microseconds=1)))

    # ---- the clock
    def workdays_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working days elapsed from ``start`` to ``end`` (fractional; negative if end is before start)."""
        s, e = self.local(start), self.local(end)
        if e < s:
            return -self.workdays_between(end, start)
        ds, de = s.date(), e.date()
        if ds == de:
            return (self._fraction(e) - self._fraction(s)) if self.is_workday(ds) else 0.0
        first = (1.0 - self._fraction(s)) if self.is_workday(ds) else 0.0
        last = self._fraction(e) if self.is_workday(de) else 0.0
        return first + self.count_workdays(ds + dt.timedelta(days=1), de) + last

    def add_workdays(self, start: dt.datetime, n: float) -> dt.datetime:
        """The time ``n`` working days after ``start`` (in the calendar's zone); ``n`` >= 0, may be fractional."""
        if n < 0:
            raise ValueError(f"add_workdays: n must be >= 0, got {n!r}")
        s = self.local(start)
        if n == 0:
            return s
        remaining = float(n)
        day = s.date()
        if self.is_workday(day):
            done = self._fraction(s)
            if remaining <= 1.0 - done:
                return self._at_fraction(day, done + remaining)
            remaining -= 1.0 - done
        for _ in range(_MAX_DAYS):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                if remaining <= 1.0:
                    return self._at_fraction(day, remaining)
                remaining -= 1.0
        raise CalendarError(f"add_workdays: no end within {_MAX_DAYS} days of {start} (is every day a holiday?)")

    def next_workday_start(self, when: dt.datetime) -> dt.datetime:
        """``when`` if it is inside working time, else the start of the next working time."""
        s = self.local(when)
        if self.is_workday(s.date()) and self._fraction(s) < 1.0:
            return s if self._fraction(s) > 0.0 else self._at_fraction(s.date(), 0.0)
        day = s.date() + dt.timedelta(days=1)
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return self._at_fraction(day, 0.0)


@lru_cache(maxsize=1)
def default_calendar() -> WorkdayCalendar:
    """The packaged calendar (loaded once)."""
    return WorkdayCalendar.load()


def is_workday(day: dt.date | dt.datetime, calendar: WorkdayCalendar | None = None) -> bool:
    return (calendar or default_calendar()).is_workday(day)


def add_workdays(start: dt.datetime, n: float, calendar: WorkdayCalendar | None = None) -> dt.datetime:
    return (calendar or default_calendar()).add_workdays(start, n)


def workdays_between(start: dt.datetime, end: dt.datetime, calendar: WorkdayCalendar | None = None) -> float:
    return (calendar or default_calendar()).workdays_between(start, end)
