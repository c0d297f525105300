"""When a person at the service desk will look at an application: the desk's days and hours, and — when the desk
is closed at that moment — when work on it starts (deadlines.desk_receives). Online applications are accepted at
any hour (DOMAIN.md, acceptance hours); 000 （一）2.3 line 38: "受理时间为周一至周五：09：00-18：00（国家法定节假日除外）".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from ..clock import require_aware, to_china
from ..deadlines import desk_receives
from ..products.catalog import Hours


@dataclass(frozen=True)
class DeskHours:
    days: str  # workdays | weekdays | daily (catalog.Hours)
    opens: time
    closes: time
    closed_for_spring_festival: bool
    open_now: bool
    starts_at: datetime  # China time: when a person looks at something sent at `now` (`now` itself while open)


def desk_hours(hours: Hours, now: datetime) -> DeskHours:
    """The desk of `hours` as seen at `now`."""
    moment = to_china(require_aware(now, "now"))
    starts = desk_receives(hours, moment)
    return DeskHours(hours.days, hours.opens, hours.closes, hours.closed_for_spring_festival,
                     open_now=starts <= moment, starts_at=starts)
