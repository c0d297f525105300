"""The weekly service progress report to each insurer (seed 004, 服务流程 line 15: "英仕每周服务进度报告 至史带").

Per insurer, then product, then every bookable service of the product in catalog order (zeros included), for
one report week: Monday 00:00 to the next Monday 00:00, China time. Every instant below is compared with those
two instants; a moment exactly at the next Monday 00:00 belongs to the next week.

- received: bookings applied in the week (whatever became of them).
- arranged: bookings whose *first* move to "scheduled" is in the week (a re-arrangement after a free change
  is not counted again); within promise when the China date of that move is on or before `arrange_by` (or no
  promise could be computed), late otherwise.
- overdue: a snapshot at the end of the week: applied before it ended, with no move to "scheduled" before it
  ended, not closed before it ended, and a promised day that had passed by then (`arrange_by` on or before the
  week's Sunday: the promise was to arrange by the end of that day). A booking stays overdue week after week
  until it is arranged or closed.
- counted: units of the "spend" steps in the week (uses, or days for a days quota); reversed: units of the
  "refund" steps in the week (an admin gave a counted use back on appeal); net counted = counted - reversed.
- open at week end: applied before the week ended and not closed before it ended.

`arrange_by` is the booking's current promised day (it is set at application or approval and again when the
papers are complete). Insurers are grouped by their catalog name: 001 and 002 name none ("保险公司（手册未写明）"),
so they share one group until the catalog names them.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import xlsxwriter
from sqlalchemy import and_, case, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from ...models import Booking, BookingTransition, Product, Service
from ..booking.booking_states import Effect, State
from ..clock import china_date, china_datetime
from ..products.catalog import Catalog, default_catalog
from .report_chart import chart_svg  # noqa: F401  (part of this module's interface)

EARLIEST_WEEK = date(2000, 1, 3)  # a Monday; nothing older is asked for (and datetimes stay in range)

COLUMNS = ("received", "arranged", "arranged_in_time", "arranged_late", "overdue", "counted", "reversed",
           "net_counted", "open_at_end")
DEFAULT_LABELS = {
    "week": "Week", "insurer": "Insurer", "product": "Product", "service": "Service", "total": "Total",
    "received": "Received", "arranged": "Arranged", "arranged_in_time": "Arranged within the promise",
    "arranged_late": "Arranged late", "overdue": "Overdue at week end", "counted": "Uses counted",
    "reversed": "Given back on appeal", "net_counted": "Net uses counted", "open_at_end": "Open at week end",
}


@dataclass
class Row:
    """One service's figures for the week (or a product's total)."""

    code: str
    name_zh: str
    name_en: str
    received: int = 0
    arranged_in_time: int = 0
    arranged_late: int = 0
    overdue: int = 0
    counted: int = 0
    reversed: int = 0
    open_at_end: int = 0

    @property
    def arranged(self) -> int:
        return self.arranged_in_time + self.arranged_late

    @property
    def net_counted(self) -> int:
        return self.counted - self.reversed

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh

    def add(self, other: "Row") -> None:
        for key in ("received", "arranged_in_time", "arranged_late", "overdue", "counted", "reversed", "open_at_end"):
            setattr(self, key, getattr(self, key) + getattr(other, key))


@dataclass
class ProductReport:
    code: str
    name_zh: str
    name_en: str
    rows: list[Row]

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh

    @property
    def total(self) -> Row:
        total = Row("total", "合计", "Total")
        for row in self.rows:
            total.add(row)
        return total


@dataclass
class InsurerReport:
    name_zh: str
    name_en: str
    products: list[ProductReport] = field(default_factory=list)

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


@dataclass
class Report:
    week_start: date  # Monday
    week_end: date  # the next Monday (exclusive)
    insurers: list[InsurerReport]

    @property
    def last_day(self) -> date:
        return self.week_end - timedelta(days=1)

    @property
    def products(self) -> list[ProductReport]:
        return [p for insurer in self.insurers for p in insurer.products]


# --- weeks ------------------------------------------------------------------------------------------------

def week_of(day: date) -> tuple[date, date]:
    """The report week holding `day`: (its Monday, the next Monday)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def last_complete_week(today: date) -> tuple[date, date]:
    """The latest week that has ended by `today` (China date): the week before the one holding today."""
    return week_of(today - timedelta(days=7))


# --- the report -------------------------------------------------------------------------------------------

def weekly_report(session: Session, *, week_start: date, product_code: str | None = None,
                  catalog: Catalog | None = None) -> Report:
    """The figures of the week holding `week_start` (normalised to its Monday) for every product, or one.

    Three queries whatever the number of bookings, the last two aggregates the database sums per service over
    the week's rows only (never the whole history): the service rows, the bookings alive in the week (each
    with the moment it was first scheduled), and the quota steps of the week.
    """
    catalog = catalog or default_catalog()
    monday, next_monday = week_of(week_start)
    if monday < EARLIEST_WEEK:
        raise ValueError(f"no report before {EARLIEST_WEEK}")
    products = [p for p in catalog.products if product_code in (None, p.code)]
    if not products:
        raise ValueError(f"unknown product {product_code!r}")
    start, end = china_datetime(monday), china_datetime(next_monday)

    ids = _service_ids(session, [p.code for p in products])
    rows: dict[tuple[str, str], Row] = {}
    insurers: dict[str, InsurerReport] = {}
    for product in products:
        service_rows = [Row(s.code, s.name.zh, s.name.en) for s in product.services if s.bookable]
        rows.update({(product.code, r.code): r for r in service_rows})
        insurer = insurers.setdefault(product.insurer.zh, InsurerReport(product.insurer.zh, product.insurer.en))
        insurer.products.append(ProductReport(product.code, product.name.zh, product.name.en, service_rows))
    by_id = {sid: rows[key] for key, sid in ids.items() if key in rows}
    if by_id:
        _count_bookings(session, by_id, start, end, next_monday - timedelta(days=1))
        _count_uses(session, by_id, start, end)
    return Report(monday, next_monday, list(insurers.values()))


def _service_ids(session: Session, product_codes: list[str]) -> dict[tuple[str, str], int]:
    found = session.execute(select(Product.code, Service.code, Service.id).join(Service.product)
                            .where(Product.code.in_(product_codes)))
    return {(pcode, scode): sid for pcode, scode, sid in found}


def _count_bookings(session: Session, by_id: dict[int, Row], start: datetime, end: datetime, last_day: date) -> None:
    """Received, arranged (in time or late), open at the week's end and overdue then, summed per service by the
    database in one query of three parts, each read through an index (migrations 0015, 0016), never the history:

    - the bookings alive in the week (applied before it ended, not closed before it began): received and open at
      the end. The open ones are read from a partial index alone (no table pages), the closed ones by closed_at;
    - the week's moves to "scheduled" (a partial index by moment) that were their booking's first: arranged, in
      time or late by the China date of that move against arrange_by;
    - overdue at the end: alive, still open then, arrange_by on or before the week's Sunday, and no move to
      "scheduled" before the end (looked up for those candidates only)."""
    services = sorted(by_id)
    one = literal(1)
    open_now = Booking.closed_at.is_(None)
    alive = union_all(  # two index ranges, so that the open ones come from the index alone
        select(Booking.service_id.label("service_id"), Booking.applied_at.label("applied_at"),
               literal(True).label("open_at_end"))
        .where(Booking.service_id.in_(services), Booking.applied_at < end, open_now),
        select(Booking.service_id, Booking.applied_at, Booking.closed_at >= end)
        .where(Booking.service_id.in_(services), Booking.applied_at < end, Booking.closed_at >= start),
    ).subquery()
    in_week = aliased(BookingTransition)
    earlier = aliased(BookingTransition)
    first = (select(in_week.booking_id.label("booking_id"), func.min(in_week.at).label("at"))
             .where(in_week.to_state == State.SCHEDULED.value, in_week.at >= start, in_week.at < end)
             .group_by(in_week.booking_id).subquery())
    never_before = or_(  # its first move to "scheduled": none before the week (looked up only if applied before it)
        Booking.applied_at >= start,
        ~exists().where(earlier.booking_id == Booking.id, earlier.to_state == State.SCHEDULED.value, earlier.at < start))
    monday = china_date(start)
    scheduled_on = case(  # the China date of the first move to "scheduled", in the week
        *[(first.c.at < china_datetime(monday + timedelta(days=k)), monday + timedelta(days=k - 1))
          for k in range(1, 7)], else_=monday + timedelta(days=6))
    in_time = or_(Booking.arrange_by.is_(None), Booking.arrange_by >= scheduled_on)
    arranged = (select(Booking.service_id.label("service_id"), case((in_time, 1), else_=0).label("on_time"))
                .join(first, first.c.booking_id == Booking.id)
                .where(Booking.service_id.in_(services), Booking.applied_at < end,
                       or_(open_now, Booking.closed_at >= start), never_before).subquery())
    scheduled_before_end = exists().where(earlier.booking_id == Booking.id, earlier.to_state == State.SCHEDULED.value,
                                          earlier.at < end)
    overdue = union_all(*(  # still open at the end: open now (from the partial index), or closed after the week
        select(Booking.service_id.label("service_id"))
        .where(Booking.service_id.in_(services), Booking.applied_at < end, Booking.arrange_by <= last_day, still_open,
               ~scheduled_before_end)
        for still_open in (open_now, Booking.closed_at >= end))).subquery()
    zero = literal(0)
    parts = union_all(
        select(alive.c.service_id.label("service_id"), case((alive.c.applied_at >= start, 1), else_=0).label("received"),
               case((alive.c.open_at_end, 1), else_=0).label("open_at_end"), zero.label("on_time"),
               zero.label("late"), zero.label("overdue")),
        select(arranged.c.service_id, zero, zero, arranged.c.on_time, one - arranged.c.on_time, zero),
        select(overdue.c.service_id, zero, zero, zero, zero, one),
    ).subquery()
    for service_id, received, on_time, late, open_at_end, overdue_at_end in session.execute(
            select(parts.c.service_id, func.sum(parts.c.received), func.sum(parts.c.on_time), func.sum(parts.c.late),
                   func.sum(parts.c.open_at_end), func.sum(parts.c.overdue)).group_by(parts.c.service_id)):
        row = by_id[service_id]
        row.received += int(received or 0)
        row.arranged_in_time += int(on_time or 0)
        row.arranged_late += int(late or 0)
        row.open_at_end += int(open_at_end or 0)
        row.overdue += int(overdue_at_end or 0)


def _count_uses(session: Session, by_id: dict[int, Row], start: datetime, end: datetime) -> None:
    """The week's spend and refund steps (by the (quota_effect, at) index), each booking's service looked up by its
    key: a hash join with every booking ever made cost more than the week's steps themselves."""
    service = select(Booking.service_id).where(Booking.id == BookingTransition.booking_id).scalar_subquery()
    week = (select(service.label("service_id"), BookingTransition.quota_effect.label("effect"),
                   BookingTransition.units.label("units"))
            .where(BookingTransition.quota_effect.in_((Effect.SPEND.value, Effect.REFUND.value)),
                   and_(BookingTransition.at >= start, BookingTransition.at < end))
            .subquery())
    steps = session.execute(
        select(week.c.service_id, week.c.effect, func.sum(week.c.units))
        .where(week.c.service_id.in_(sorted(by_id))).group_by(week.c.service_id, week.c.effect)
    )
    for service_id, effect, units in steps:
        row = by_id[service_id]
        if effect == Effect.SPEND.value:
            row.counted += int(units or 0)
        else:
            row.reversed += int(units or 0)


# --- downloads --------------------------------------------------------------------------------------------

HEAD = ("week", "insurer", "product", "service")


def table(report: Report, labels: dict, locale: str = "zh") -> list[tuple[list, bool]]:
    """The report as lines of cells, each with whether it is a product's total: a header, then per product one
    line per service and its total."""
    words = {**DEFAULT_LABELS, **labels}
    out: list[tuple[list, bool]] = [([words[key] for key in (*HEAD, *COLUMNS)], False)]
    for insurer in report.insurers:
        for product in insurer.products:
            for row, is_total in (*((r, False) for r in product.rows), (product.total, True)):
                service = words["total"] if is_total else row.name(locale)
                out.append(([report.week_start.isoformat(), insurer.name(locale), product.name(locale), service,
                             *(getattr(row, key) for key in COLUMNS)], is_total))
    return out


def _cell(value):
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(report: Report, labels: dict, locale: str = "zh") -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese names as Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line, _total in table(report, labels, locale):
        writer.writerow([_cell(value) for value in line])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(report: Report, labels: dict, locale: str = "zh") -> bytes:
    """One sheet, one line per service with its product, a bold header frozen at the top, totals in bold."""
    lines = table(report, labels, locale)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(report.week_start.isoformat())
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    widths = [12, 28, 36, 24] + [12] * len(COLUMNS)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    header, _ = lines[0]
    for col, title in enumerate(header):
        sheet.write_string(0, col, title, head)
    for r, (line, is_total) in enumerate(lines[1:], start=1):
        style = bold if is_total else None
        for col, value in enumerate(line):
            if isinstance(value, int):
                sheet.write_number(r, col, value, style)
            else:
                sheet.write_string(r, col, value, style)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(lines) - 1, len(header) - 1)
    book.close()
    return buffer.getvalue()
