"""Report months: "YYYY-MM" in local time (Asia/Shanghai) and their bounds as UTC instants."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from runze.ops.errors import InvalidInput

LOCAL = ZoneInfo("Asia/Shanghai")
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> tuple[int, int]:
    found = MONTH_RE.match(month or "")
    if not found or not 2000 <= int(found.group(1)) <= 2100:
        raise InvalidInput(f"month {month!r} is not YYYY-MM (2000-2100)", message_zh="月份格式应为 YYYY-MM",
                           details={"field": "month"})
    return int(found.group(1)), int(found.group(2))


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a local month as UTC datetimes."""
    year, mon = parse_month(month)
    start = datetime(year, mon, 1, tzinfo=LOCAL)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_of(when: datetime) -> str:
    return when.astimezone(LOCAL).strftime("%Y-%m")


def days_in(month: str) -> int:
    start, end = month_bounds(month)
    return round((end - start).total_seconds() / 86400)
