"""Working-day clock: Spring Festival, make-up Saturdays/Sundays, partial days, office hours, time zones."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from runze.ops.workdays import (
    CalendarError,
    WorkdayCalendar,
    add_workdays,
    default_calendar,
    is_workday,
    workdays_between,
)

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0, tz=SH):
    return dt.datetime(y, m, d, hh, mm, tzinfo=tz)


def test_packaged_calendar_is_flagged_unconfirmed_and_covers_2025_2026():
    cal = default_calendar()
    assert cal.years == {2025, 2026} and cal.confirmed is False
    assert "春节" in cal.names[dt.date(2026, 2, 17)]


def test_spring_festival_2026_and_make_up_saturdays():
    assert is_workday(dt.date(2026, 2, 13))  # Friday before the holiday
    assert is_workday(dt.date(2026, 2, 14))  # Saturday, make-up working day (调休)
    assert not any(is_workday(dt.date(2026, 2, d)) for d in range(15, 24))  # 15th (Sun) .. 23rd (Mon)
    assert is_workday(dt.date(2026, 2, 24))
    assert not is_workday(dt.date(2026, 2, 21))  # a Saturday inside the holiday
    assert is_workday(dt.date(2026, 2, 28))  # Saturday, make-up working day
    assert not is_workday(dt.date(2026, 3, 7))  # an ordinary Saturday
    # Friday 10:00 + 2 working days: rest of Fri (14/24) + Sat 14th (1) + 10/24 of the next working day,
    # which is Tue 24th after the nine-day holiday -> Tue 24th 10:00
    due = add_workdays(at(2026, 2, 13, 10), 2)
    assert due == at(2026, 2, 24, 10)
    assert workdays_between(at(2026, 2, 13, 10), due) == pytest.approx(2.0)


def test_spring_festival_2025_with_a_make_up_sunday_and_saturday():
    # 24 Jan (Fri) .. 9 Feb 2025: working days are 24, 26 (Sun, make-up), 27, 5, 6, 7, 8 (Sat, make-up) = 7;
    # a plain Monday-Friday count would give 11
    assert workdays_between(at(2025, 1, 24), at(2025, 2, 10)) == pytest.approx(7.0)
    assert default_calendar().count_workdays(dt.date(2025, 1, 24), dt.date(2025, 2, 10)) == 7
    assert is_workday(dt.date(2025, 1, 26)) and is_workday(dt.date(2025, 2, 8))
    assert not is_workday(dt.date(2025, 1, 28)) and not is_workday(dt.date(2025, 2, 4))


def test_partial_days_and_inverse():
    # Fri 16:00 -> Mon 10:00 (ordinary weekend, March 2026): 8/24 + 10/24 = 0.75
    assert workdays_between(at(2026, 3, 6, 16), at(2026, 3, 9, 10)) == pytest.approx(0.75)
    assert workdays_between(at(2026, 3, 9, 10), at(2026, 3, 6, 16)) == pytest.approx(-0.75)
    assert workdays_between(at(2026, 3, 7, 9), at(2026, 3, 7, 18)) == 0.0  # inside a Saturday
    # starting on a holiday: the clock starts with the next working day
    assert add_workdays(at(2026, 10, 3, 12), 1) == at(2026, 10, 9)  # 8 Oct ends at 9 Oct 00:00
    for start in (at(2026, 2, 13, 10), at(2026, 9, 30, 23, 30), at(2026, 5, 8, 7, 15)):
        for n in (0.25, 1, 2.5, 7):
            assert workdays_between(start, add_workdays(start, n)) == pytest.approx(n, abs=1e-9)


def test_other_time_zones_are_read_in_shanghai_time():
    # 2026-02-13 18:00 UTC is 14 Feb 02:00 in Shanghai: the make-up Saturday
    utc = dt.datetime(2026, 2, 13, 18, tzinfo=dt.UTC)
    assert is_workday(utc)
    assert add_workdays(utc, 0.5).tzinfo is not None
    assert add_workdays(utc, 0.5) == at(2026, 2, 14, 14)
    with pytest.raises(CalendarError, match="no time zone"):
        workdays_between(dt.datetime(2026, 1, 5), at(2026, 1, 6))


def test_office_hours_counting():
    cal = default_calendar().with_changes(office_hours=(dt.time(8, 30), dt.time(17, 30)))
    # Fri 16:00 -> Mon 10:00 counts 1.5 h + 1.5 h of a 9 h day = 1/3
    assert cal.workdays_between(at(2026, 3, 6, 16), at(2026, 3, 9, 10)) == pytest.approx(1 / 3)
    # an application at 20:00 on Monday, due in 1 working day -> Tuesday 17:30
    assert cal.add_workdays(at(2026, 3, 9, 20), 1) == at(2026, 3, 10, 17, 30)
    assert cal.next_workday_start(at(2026, 2, 13, 20)) == at(2026, 2, 14, 8, 30)


def test_configurable_calendar_and_strict_years(tmp_path):
    cal = default_calendar().with_changes(holidays=[dt.date(2026, 3, 9)])  # a local holiday
    assert not cal.is_workday(dt.date(2026, 3, 9))
    assert is_workday(dt.date(2027, 3, 9))  # outside the configured years: Monday-Friday
    strict = default_calendar().with_changes(strict=True)
    with pytest.raises(CalendarError, match="2027"):
        strict.is_workday(dt.date(2027, 3, 9))
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"confirmed": True, "years": {"2030": {
        "holidays": [{"name": "x", "start": "2030-01-01", "end": "2030-01-02"}],
        "workdays": [{"name": "y", "date": "2030-01-05"}]}}}), encoding="utf-8")
    own = WorkdayCalendar.load(path)
    assert own.confirmed and not own.is_workday(dt.date(2030, 1, 2)) and own.is_workday(dt.date(2030, 1, 5))
    assert workdays_between(at(2030, 1, 1), at(2030, 1, 8), own) == pytest.approx(4.0)  # 3,4,5(Sat),7
    path.write_text('{"years": {"2030": {"holidays": [{"start": "2030-13-01"}]}}}', encoding="utf-8")
    with pytest.raises(CalendarError, match="malformed"):
        WorkdayCalendar.load(path)
