"""A completion record per second-opinion case, for the insurer (issue 14, "Missing that customers need").

004 海外第二诊疗意见 二 服务流程 (lines 280-296) has two promises an insurer checks case by case: the answer whether
the service starts "2个工作日内" of the papers (catalog `decision_working_days`), and the report "以资料收集齐全后的
20个工作日内完成服务" (line 250; catalog `arrangement`). 004 二次诊疗意见 (line 156, 10 working days) and 003's
二次诊疗意见 (表2 line 2561, 15 working days) are recorded the same way. One record per case closed in the week:
when the papers were complete, when the desk answered and by when it had to, when the report was delivered and
by when it was promised.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Booking, BookingTransition, Product, Service
from ..booking.booking_states import CLOSED, State
from ..clock import china_date, china_datetime, to_china
from ..products.catalog import BookingForm, default_catalog
from .insurer_report import week_of
from .staff_queue import review_due

FORMS = (BookingForm.SECOND_OPINION,)


@dataclass(frozen=True)
class CaseRecord:
    reference: str
    policy: str
    product: str
    service: str
    applied: datetime
    papers_complete: datetime | None
    answered: datetime | None  # approved or refused
    answer_due: date | None
    delivered: datetime | None  # the report delivered (completed)
    promised_by: date | None
    outcome: str  # the closing state

    @property
    def answered_in_time(self) -> bool | None:
        if self.answered is None or self.answer_due is None:
            return None
        return china_date(self.answered) <= self.answer_due

    @property
    def delivered_in_time(self) -> bool | None:
        if self.delivered is None or self.promised_by is None:
            return None
        return china_date(self.delivered) <= self.promised_by


def opinion_services() -> dict[str, set[str]]:
    """product code -> the codes of its second-opinion services."""
    found: dict[str, set[str]] = {}
    for product in default_catalog().products:
        for service in product.services:
            if service.form in FORMS:
                found.setdefault(product.code, set()).add(service.code)
    return found


def closed_in_week(session: Session, *, week_start: date, product_code: str | None = None) -> list[CaseRecord]:
    """Every second-opinion case closed in the week holding `week_start` (China time), oldest first."""
    monday, next_monday = week_of(week_start)
    start, end = china_datetime(monday), china_datetime(next_monday)
    wanted = {p: codes for p, codes in opinion_services().items() if product_code in (None, p)}
    if not wanted:
        return []
    pairs = [(p, s) for p, codes in wanted.items() for s in codes]
    ids = {sid: (p, s) for p, s, sid in session.execute(
        select(Product.code, Service.code, Service.id).join(Service.product)
        .where(Product.code.in_(list(wanted)))) if (p, s) in pairs}
    bookings = session.scalars(
        select(Booking).where(Booking.service_id.in_(list(ids)), Booking.closed_at >= start, Booking.closed_at < end,
                              Booking.state.in_([s.value for s in CLOSED]))
        .options(selectinload(Booking.transitions), selectinload(Booking.policy)).order_by(Booking.closed_at))
    catalog = default_catalog()
    records = []
    for b in bookings:
        product_code_, service_code = ids[b.service_id]
        product = catalog.product(product_code_)
        service = product.service(service_code)
        answered = _first(b.transitions, {State.APPROVED.value, State.REJECTED.value})
        answer_due = (review_due(product.hours_for(service), b.papers_complete_at, service.decision_working_days)
                      if b.papers_complete_at else None)
        delivered = _first(b.transitions, {State.COMPLETED.value})
        records.append(CaseRecord(b.reference, b.policy.number, product_code_, service_code, b.applied_at,
                                  b.papers_complete_at, answered, answer_due, delivered, b.arrange_by, b.state))
    return records


def _first(transitions: list[BookingTransition], states: set[str]) -> datetime | None:
    return min((t.at for t in transitions if t.to_state in states), default=None)


COLUMNS = ("reference", "policy", "product", "service", "applied", "papers_complete", "answered", "answer_due",
           "answered_in_time", "delivered", "promised_by", "delivered_in_time", "outcome")


def to_csv(records: list[CaseRecord]) -> bytes:
    """One line per case; times in China time, yes/no/blank for the promises (blank: not applicable)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow([r.reference, r.policy, r.product, r.service, _when(r.applied), _when(r.papers_complete),
                         _when(r.answered), _day(r.answer_due), _yes(r.answered_in_time), _when(r.delivered),
                         _day(r.promised_by), _yes(r.delivered_in_time), r.outcome])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # a BOM so spreadsheet software reads the Chinese


def _when(moment: datetime | None) -> str:
    return to_china(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def _yes(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")
