"""Free change / cancel deadlines of a booked service, in China time.

Rules (the catalog's `change_rule`):
- `noon_day_before`: free strictly before 12:00 on the calendar day before the appointment, whatever weekday
  (000 （一）2.9(6): "需在预约就诊日前一天12:00之前…若在该时间之后取消服务，仍计为有效服务一次").
  At 12:00:00 exactly it is no longer free.
- `hours_before:N`: free while at least N hours remain (003 同城专车接送 特别说明(5): "未能提前4小时取消或变更
  …视为服务已使用"; 重疾住院护工 五.3: "需提前12小时通知"). Exactly N hours before is still free.
- `never`: not changeable once booked (000 （二）2.9(11): "预约成功后，不可取消。若取消，仍计为有效服务一次").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from .clock import CHINA, require_aware

_HOURS = re.compile(r"^hours_before:([1-9][0-9]{0,2})$")


@dataclass(frozen=True)
class ChangeRule:
    kind: str  # "noon_day_before" | "hours_before" | "never"
    hours: int | None = None

    @property
    def inclusive(self) -> bool:
        """Whether a change made exactly at the deadline is still free."""
        return self.kind == "hours_before"


def parse_rule(rule: str) -> ChangeRule:
    if not isinstance(rule, str):
        raise ValueError(f"unknown change rule {rule!r}")
    if rule in ("noon_day_before", "never"):
        return ChangeRule(rule)
    match = _HOURS.match(rule)
    if match:
        return ChangeRule("hours_before", int(match.group(1)))
    raise ValueError(f"unknown change rule {rule!r}")


def change_deadline(rule: str, starts_at: datetime) -> datetime | None:
    """The free change/cancel deadline as an aware datetime in Asia/Shanghai; None for `never`."""
    parsed = parse_rule(rule)
    start = require_aware(starts_at, "starts_at").astimezone(CHINA)
    if parsed.kind == "never":
        return None
    if parsed.kind == "noon_day_before":
        return datetime.combine(start.date() - timedelta(days=1), time(12, 0), tzinfo=CHINA)
    return (start - timedelta(hours=parsed.hours)).astimezone(CHINA)


def may_change_free(rule: str, starts_at: datetime, now: datetime) -> bool:
    """Whether a change or cancellation made at `now` is free under `rule`."""
    require_aware(now, "now")
    deadline = change_deadline(rule, starts_at)
    if deadline is None:
        return False
    return now <= deadline if parse_rule(rule).inclusive else now < deadline
