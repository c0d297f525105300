"""Next year's statutory holiday schedule as staff enter it, and the working-day calendar as staff see it.

Deadlines count statutory working days (seed 003, every service table: "以上工作日均以国家公布的法定工作日为准";
DOMAIN.md, 工作日). The `chinesecalendar` package knows only the years already announced; each November or
December the State Council publishes the next one, and until someone enters it that year runs on the
conservative fallback of services/workdays.py. Here staff paste the notice as lines (`parse_schedule`), which
are written all or nothing (`import_schedule`), correct one day (`set_day` / `clear_day`), say a year is
complete (`publish_year`), and read any year day by day (`year_view`).
"""
from __future__ import annotations

import calendar as _calendar
import re
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping, NamedTuple

import chinese_calendar
from lunardate import LunarDate
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import HolidayOverride, PublishedYear
from .. import audit, workdays
from ..refusals import Refused as Refusal
from . import workdays_store

MAX_LINES = 400  # a year has 365 days; more lines than this is not a schedule
MAX_RANGE_DAYS = 31  # the longest holiday is 春节's 8 or 9 days; a longer range is a typing mistake
MAX_NAME = 64  # HolidayOverride.name
PACKAGE_YEARS = range(min(chinese_calendar.constants.holidays).year,
                      max(d.year for d in chinese_calendar.constants.holidays) + 1)

# The words an operator may use for a day's type (lower-cased).
TYPES = {"rest": False, "off": False, "holiday": False, "休": False, "放假": False,
         "workday": True, "work": True, "班": True, "上班": True}
# chinesecalendar's English names → the names in the State Council notice.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节", "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

WORKDAY, WEEKEND, HOLIDAY, ADJUSTED_WORKDAY = "workday", "weekend", "holiday", "adjusted_workday"
OVERRIDE, PUBLISHED, FALLBACK = "override", "published", "fallback"  # where a day's answer comes from


class Entry(NamedTuple):
    day: date
    is_workday: bool
    name: str | None


class Problem(NamedTuple):
    """A line that cannot be used: its number (1-based), a translation key, and the text it is about."""
    line: int
    key: str
    text: str


class Day(NamedTuple):
    date: date
    is_workday: bool
    kind: str  # workday | weekend | holiday | adjusted_workday (a working weekend, 调休)
    source: str  # override | published (the package) | fallback
    name: str | None


class Month(NamedTuple):
    month: int
    days: list[Day]
    weeks: list[list[Day | None]]  # Monday first; None pads the first and last week


class YearStatus(NamedTuple):
    year: int
    source: str  # "package" | "staff" (entered in full by staff) | "fallback"
    entered_at: datetime | None
    entered_by_id: int | None


class Refused(Refusal):
    """A calendar change not made (calendar.*)."""


# --- parsing what an operator pastes -------------------------------------------------------------------------

_DATE = r"\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日"
_SPAN = re.compile(rf"(?P<start>{_DATE})(?:\s*(?:~|～|至|到|–|—|-)\s*(?P<end>{_DATE}))?(?=$|[\s,，\t])")
_REST = re.compile(r"[\s,，\t]*(?P<type>[^\s,，\t]*)[\s,，\t]*(?P<name>.*)$")
_HEADER = re.compile(r"(date|日期)\s*[,，\t]", re.IGNORECASE)


def first_day(year: int) -> date:
    """The earliest day a schedule for `year` may set: 元旦 can start in the last days of the year before
    (the 2023 notice: 2022年12月31日至2023年1月2日放假)."""
    return date(year - 1, 12, 25)


def parse_schedule(text: str, year: int) -> tuple[list[Entry], list[Problem]]:
    """Read a pasted schedule: `2027-02-06,rest,春节`, `2027-02-05~2027-02-13 rest 春节`, `2027-02-14 班 春节`;
    blank lines, `#` comments and a `date,type,name` header are skipped. Entries are sorted by day; every bad line
    is a Problem, and one day given as both rest and working day is a conflict."""
    entries: dict[date, tuple[Entry, int]] = {}
    problems: list[Problem] = []
    content = 0
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        content += 1
        if content == 1 and _HEADER.match(line):
            continue
        if content > MAX_LINES:
            problems.append(Problem(number, "calendar.too_long", line[:80]))
            break
        parsed = _parse_line(line, year)
        if isinstance(parsed, str):
            problems.append(Problem(number, parsed, line[:80]))
            continue
        for entry in parsed:
            known = entries.get(entry.day)
            if known is not None and known[0].is_workday != entry.is_workday:
                problems.append(Problem(number, "calendar.conflict", entry.day.isoformat()))
                break
            if known is None or (entry.name and not known[0].name):
                entries[entry.day] = (entry, number)
    return sorted(e for e, _line in entries.values()), problems


def _parse_line(line: str, year: int) -> list[Entry] | str:
    """The entries of one line, or the key of what is wrong with it."""
    span = _SPAN.match(line)
    if span is None:
        return "calendar.bad_date"
    try:
        start = _to_date(span["start"])
        end = _to_date(span["end"]) if span["end"] else start
    except ValueError:
        return "calendar.bad_date"
    rest = _REST.match(line, span.end())
    kind = rest["type"].lower()
    if kind not in TYPES:
        return "calendar.bad_type"
    if not all(first_day(year) <= d <= date(year, 12, 31) for d in (start, end)):
        return "calendar.wrong_year"
    if end < start:
        return "calendar.range_order"
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        return "calendar.too_long"
    name = clean_name(rest["name"])
    if name is not None and len(name) > MAX_NAME:
        return "calendar.long_name"
    return [Entry(start + timedelta(days=k), TYPES[kind], name) for k in range((end - start).days + 1)]


def _to_date(text: str) -> date:
    year, month, day = (int(n) for n in re.findall(r"\d+", text))
    return date(year, month, day)


def clean_name(text: str | None) -> str | None:
    """A holiday's name as stored: spaces and line breaks folded, CSV quotes dropped; None when empty."""
    name = " ".join((text or "").split()).strip('"').strip()
    return name or None


# --- writing ---------------------------------------------------------------------------------------------------

def import_schedule(session: Session, entries: Iterable[Entry], *, year: int, now: datetime,
                    entered_by_id: int | None, publish: bool, ip: str | None = None) -> int:
    """Write every entry as an override (inserted or updated) and, with `publish`, mark `year` as entered in full
    (a year the package knows needs no marking) — one transaction, all or nothing, audited — then reload the
    calendar. Returns how many days were written."""
    entries = list(entries)
    if any(not first_day(year) <= e.day <= date(year, 12, 31) for e in entries):
        raise ValueError(f"an entry is outside the schedule of {year}")
    publish = publish and year not in PACKAGE_YEARS
    with write_transaction(session):
        for entry in entries:
            workdays_store.put_override(session, entry.day, entry.is_workday, now=now, name=entry.name,
                                        entered_by_id=entered_by_id)
        if publish:
            workdays_store.put_published(session, year, now=now, entered_by_id=entered_by_id)
        audit.record(session, "calendar.import", now=now, actor_id=entered_by_id, target=f"calendar:{year}", ip=ip,
                     detail={"year": year, "count": len(entries), "publish": publish})
    workdays_store.load_overrides(session)
    return len(entries)


def set_day(session: Session, day: date, is_workday: bool, *, name: str | None, now: datetime,
            entered_by_id: int | None, ip: str | None = None) -> None:
    """Staff set one day's answer (a correction, or a day of next year's schedule). Audited."""
    name = clean_name(name)
    if name is not None and len(name) > MAX_NAME:
        raise Refused("calendar.long_name", n=MAX_NAME)
    with write_transaction(session):
        workdays_store.put_override(session, day, is_workday, now=now, name=name, entered_by_id=entered_by_id)
        audit.record(session, "calendar.set", now=now, actor_id=entered_by_id, target=f"calendar:{day}", ip=ip,
                     detail={"day": day.isoformat(), "workday": is_workday, "name": name})
    workdays_store.load_overrides(session)


def clear_day(session: Session, day: date, *, now: datetime, entered_by_id: int | None, ip: str | None = None) -> None:
    """Staff forget their answer for one day: the package (or the fallback) answers again. Audited."""
    with write_transaction(session):
        if not workdays_store.delete_override(session, day):
            raise Refused("calendar.not_entered")
        audit.record(session, "calendar.clear", now=now, actor_id=entered_by_id, target=f"calendar:{day}", ip=ip,
                     detail={"day": day.isoformat()})
    workdays_store.load_overrides(session)


def publish_year(session: Session, year: int, *, now: datetime, entered_by_id: int | None,
                 ip: str | None = None) -> None:
    """Say that `year`'s whole schedule is entered, so it leaves the fallback. Refused for a year the package
    knows, a year already marked, and a year without a single day entered."""
    if year in PACKAGE_YEARS:
        raise Refused("calendar.package_year", year=year)
    if session.get(PublishedYear, year) is not None:
        raise Refused("calendar.already_published", year=year)
    if not entered_days(session, year):
        raise Refused("calendar.nothing_entered", year=year)
    with write_transaction(session):
        workdays_store.put_published(session, year, now=now, entered_by_id=entered_by_id)
        audit.record(session, "calendar.publish", now=now, actor_id=entered_by_id, target=f"calendar:{year}", ip=ip,
                     detail={"year": year})
    workdays_store.load_overrides(session)


# --- reading -----------------------------------------------------------------------------------------------------

def gaps(today: date) -> list[int]:
    """The years the console warns about: this one and the next while they run on the fallback."""
    return workdays.unpublished_years(today, ahead=1)


def entered_days(session: Session, year: int) -> dict[date, HolidayOverride]:
    """Staff's overrides within `year`, by day."""
    rows = session.scalars(select(HolidayOverride).where(HolidayOverride.day >= date(year, 1, 1),
                                                         HolidayOverride.day <= date(year, 12, 31))
                           .order_by(HolidayOverride.day))
    return {row.day: row for row in rows}


def year_status(session: Session, year: int) -> YearStatus:
    """Where a year's answers come from, besides single days staff entered."""
    if year in PACKAGE_YEARS:
        return YearStatus(year, "package", None, None)
    row = session.get(PublishedYear, year)
    if row is not None:
        return YearStatus(year, "staff", row.entered_at, row.entered_by_id)
    return YearStatus(year, "fallback", None, None)


def month_days(year: int, month: int, entered: Mapping[date, HolidayOverride] | None = None) -> list[Day]:
    """Every day of a month: the answer, what kind of day it is, where the answer comes from, and its name.
    `entered` holds staff's overrides (entered_days); without it, the package or fallback alone."""
    entered = entered or {}
    package = year in PACKAGE_YEARS
    names = _package_name if package else fallback_names(year).get
    rest = frozenset() if package else workdays.fallback_rest_days(year)
    out = []
    for number in range(1, _calendar.monthrange(year, month)[1] + 1):
        day = date(year, month, number)
        row = entered.get(day)
        if row is not None:
            is_workday, source, name = row.is_workday, OVERRIDE, row.name or names(day)
        elif package:
            is_workday, source, name = chinese_calendar.is_workday(day), PUBLISHED, names(day)
        else:
            is_workday, source, name = day.weekday() < 5 and day not in rest, FALLBACK, names(day)
        out.append(Day(day, is_workday, _kind(day, is_workday, name), source, name))
    return out


def year_view(year: int, entered: Mapping[date, HolidayOverride] | None = None) -> list[Month]:
    """The twelve months of a year, each as days and as Monday-first weeks for a grid."""
    months = []
    for month in range(1, 13):
        days = month_days(year, month, entered)
        cells: list[Day | None] = [None] * days[0].date.weekday() + days
        cells += [None] * (-len(cells) % 7)
        months.append(Month(month, days, [cells[i:i + 7] for i in range(0, len(cells), 7)]))
    return months


def _kind(day: date, is_workday: bool, name: str | None) -> str:
    weekend = day.weekday() >= 5
    if is_workday:
        return ADJUSTED_WORKDAY if weekend else WORKDAY
    return WEEKEND if weekend and not name else HOLIDAY


def _package_name(day: date) -> str | None:
    """The holiday a package day belongs to (a rest day of it, or one of its adjusted working days)."""
    _on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return HOLIDAY_NAMES.get(name, name) if name else None


def fallback_names(year: int) -> dict[date, str]:
    """Names for the fallback's rest days (workdays.fallback_rest_days); two festivals on one day share it."""
    names: dict[date, list[str]] = {}
    spring = LunarDate(year, 1, 1).to_solar_date() if 1901 <= year <= 2099 else None
    for day in sorted(workdays.fallback_rest_days(year)):
        found = []
        if (day.month, day.day) == (1, 1):
            found.append("元旦")
        if spring and spring - timedelta(days=1) <= day <= spring + timedelta(days=6):
            found.append("春节")
        if spring and day == LunarDate(year, 5, 5).to_solar_date():
            found.append("端午节")
        if spring and day == LunarDate(year, 8, 15).to_solar_date():
            found.append("中秋节")
        if day.month == 4 and not found:
            found.append("清明节")
        if day.month == 5 and day.day <= 2:
            found.append("劳动节")
        if day.month == 10 and day.day <= 7:
            found.append("国庆节")
        names[day] = found
    return {day: "、".join(found) for day, found in names.items() if found}
