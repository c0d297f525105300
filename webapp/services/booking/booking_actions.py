"""What a booking's pages offer next (issue 15, items 4, 6 and 7): whether papers are still wanted, photos added
but not sent, what to bring on the day, whom to call on the day, and what a cancellation leaves of the quota.

Papers are wanted while the application is being checked. Once they are complete (staff marked them so, or every
paper is accepted), the appointment is arranged, or the application is closed, nothing more is asked for — unless
staff sent a page back, or photos wait to be sent. Where the seed tells the customer that hospitals may need the
originals, the page says to bring them on the day (ORIGINALS). Nothing here imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...models import Booking
from ..eligibility import quota_amount, usage_from
from ..papers.documents import ACCEPTED, NEEDS_RETAKE, Item, drafts_of
from ..products.catalog import DeadlineEvent, QuotaPeriod, QuotaUnit, Service
from ..products.phones import tel_href
from .booking_states import OPEN, State
from .bookings import cancel_spends
from .people import policy_facts

# (product, service) → where the seed says the hospital may ask for the originals on the day.
ORIGINALS = {
    ("cigc_classic", "expert_outpatient"):
        "000 Q&A lines 286-288: 部分地区的部分医院在协调预约就诊时，需要客户提供相关证件原件; "
        "（一）2.9(4) line 84: 医保卡、身份证、就医资料原件",
    ("cigc_classic", "inpatient_surgery"):
        "000 （二）2.9(9) line 212: 如因特殊原因，客户需提前将医保卡、身份证、就医资料原件等……寄送至医疗服务专员处",
    ("haorensheng_gc", "expert_outpatient"):
        "001 一【注意事项】5 line 51: 部分地区的部分医院在协调预约就诊时可能需要客户提供相关证件原件",
}


def bring_originals(product_code: str, service_code: str) -> bool:
    """Whether the seed tells this service's customers to have the originals of their papers with them."""
    return (product_code, service_code) in ORIGINALS


@dataclass(frozen=True)
class PapersStep:
    """Where a booking's papers stand, for the booking page and the checklist."""

    unsent: int  # photos added but not sent: staff cannot see them yet
    retake: bool  # a page staff sent back
    done: bool  # nothing more to add: complete, arranged or closed (and nothing sent back or waiting)
    closed: bool
    originals: bool  # bring the originals on the day (an appointment still to come)

    @property
    def add(self) -> bool:
        """Whether the page offers adding photos."""
        return not self.done and not self.closed


def papers_step(booking: Booking, items: list[Item], product_code: str, service: Service) -> PapersStep:
    unsent = drafts_of(items)
    retake = any(item.status in NEEDS_RETAKE for item in items)
    closed = State(booking.state) not in OPEN
    complete = booking.papers_complete_at is not None or (bool(items) and all(i.status == ACCEPTED for i in items))
    settled = closed or booking.state == State.SCHEDULED.value or complete
    done = settled and not retake and not unsent
    return PapersStep(unsent=unsent, retake=retake, done=done, closed=closed,
                      originals=done and not closed and bring_originals(product_code, service.code))


def promise_waits_for_papers(booking: Booking, service: Service) -> bool:
    """Whether the promised date counts from complete papers that are not complete yet (deadlines.py): then the
    page says the promise starts once the papers are sent."""
    arrangement = service.arrangement
    if arrangement is None or booking.papers_complete_at is not None:
        return False
    steps = [arrangement, *([arrangement.without_slip] if arrangement.without_slip else [])]
    return any(DeadlineEvent.COMPLETE_PAPERS in step.counted_from for step in steps)


@dataclass(frozen=True)
class Contact:
    role: str  # driver | aide | escort
    name: str
    number: str

    @property
    def href(self) -> str:
        return tel_href(self.number)


# The person the customer meets on the day, per kind of arrangement (services/desk/arrangements.py fields).
_CONTACTS = (("driver", "driver_name", "driver_mobile"), ("aide", "aide_name", "aide_mobile"),
             ("escort", "escort_name", "escort_mobile"))


def day_contact(appointment: dict | None) -> Contact | None:
    """The driver, aide or escort the arrangement names with a number; None when it names none."""
    details = appointment or {}
    for role, name, number in _CONTACTS:
        if details.get(number):
            return Contact(role, str(details.get(name) or ""), str(details[number]))
    return None


@dataclass(frozen=True)
class AfterCancel:
    spends: int  # units a cancellation now spends
    left: int  # uses (or days) of the period left after it
    days: bool  # the quota counts days (nursing aide), not uses
    whole_term: bool  # the quota is for the whole service term, not per policy year


def after_cancel(booking: Booking, service: Service, now: datetime) -> AfterCancel | None:
    """What a cancellation at `now` leaves of the booking's quota period; None for an unlimited service or a
    booking that holds nothing any more (closed)."""
    if service.quota is None or service.quota.unit is QuotaUnit.UNLIMITED or State(booking.state) not in OPEN:
        return None
    usage = usage_from(booking.entitlement, quota_amount(service, policy_facts(booking.policy)))
    if usage.quota is None:
        return None
    spends = cancel_spends(booking, now)
    left = max(usage.quota - usage.used - usage.held + booking.units - spends, 0)
    return AfterCancel(spends, left, service.quota.unit is QuotaUnit.DAYS,
                       service.quota.period is QuotaPeriod.SERVICE_TERM)
