"""Messages to accounts: a booking's status changes (the inbox) and a reminder before a free change ends.

Who hears about a booking: every account of the insured person and every family member acting for them that
day (DOMAIN.md: the service is the insured's; a guardian or agent only applies for them). Everyone is told of
every move, the person who made it included: for a customer's own move the message is their receipt.

Payloads hold plain facts (state, rule, times as China-time ISO strings) so a view renders a sentence in the
reader's language later, without joins. Nothing here logs medical details or ID numbers (SECURITY.md, Logs).
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, Booking, BookingTransition, Notification
from ..desk.arrangements import when_key
from .booking_states import FAILED_BOOKING, State
from ..clock import require_aware, to_china
from ..products.catalog_sync import rules_for
from ..cutoffs import change_deadline
from ..desk import confirmations
from ..family.family import ACCESS_REQUEST, proxies_in_force
from ..outcomes import late_cancel_counts

log = logging.getLogger("lvtong.notify")

STATUS = "status"
REMINDER_FREE_CHANGE = "reminder_free_change"
REMINDER_DAY_BEFORE = "reminder_day_before"  # asks the customer to confirm tomorrow's appointment (issue 18)
PAPER_RETAKE = "paper_retake"
DEFAULT_LEAD = timedelta(hours=3)


class Channel(Protocol):
    """Where a message goes beyond the inbox (SMS, WeChat template message …)."""

    def send(self, account: Account, notification: Notification) -> None: ...


class LogChannel:
    """Writes one line per message: account, kind and booking reference — never the payload."""

    def send(self, account: Account, notification: Notification) -> None:
        log.info("notify account=%s kind=%s booking=%s", account.id, notification.kind,
                 (notification.payload or {}).get("reference"))


def channel_from_config(name: str | Channel) -> Channel:
    """"log", or a "package.module:Class" path whose class is built without arguments. A ready channel
    object (anything with `send`) is returned as it is, so tests can configure one directly."""
    if not isinstance(name, str):
        if callable(getattr(name, "send", None)):
            return name
        raise ValueError(f"not a notification channel: {name!r}")
    if name == "log":
        return LogChannel()
    module_name, _, attr = name.partition(":")
    if not module_name or not attr:
        raise ValueError(f"unknown notification channel {name!r}: use 'log' or 'package.module:Class'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load notification channel {name!r}: {exc}") from exc
    return factory()


def _iso(moment: datetime | None) -> str | None:
    return to_china(moment).isoformat() if moment is not None else None


def recipients(session: Session, booking: Booking, at: datetime | None = None) -> list[Account]:
    """Every account of the insured person and every family member acting for them on the day of `at` (China
    time), each once, in id order. A guardian or agent whose access ended or was revoked hears no more; the
    applicant is told as long as they still act for the insured (issue 5: notifications reach both)."""
    insured_id = booking.policy.insured_id
    proxies = proxies_in_force(session, insured_id, to_china(at).date()) if at is not None else [booking.applicant_account_id]
    accounts = session.scalars(
        select(Account).where((Account.person_id == insured_id) | Account.id.in_(proxies)).order_by(Account.id)
    ).all()
    return list(accounts)


def _free_until(booking: Booking) -> datetime | None:
    return change_deadline(booking.change_rule, booking.starts_at) if booking.starts_at else None


def record_transition(session: Session, booking: Booking, transition: BookingTransition) -> list[Notification]:
    """Add a status message per recipient for a transition just logged. Flushes; never commits."""
    # The caller's conditional UPDATE bypasses the identity map (synchronize_session=False): read the row as
    # it stands in this transaction, so starts_at is the new appointment (or None after a change request).
    session.flush()
    session.refresh(booking)
    key = f"transition:{transition.id}"
    already = set(session.scalars(select(Notification.account_id).where(Notification.dedupe_key == key)))
    payload = {
        "reference": booking.reference, "service_code": booking.service.code, "state": transition.to_state,
        "from_state": transition.from_state, "rule": transition.rule, "starts_at": _iso(booking.starts_at),
        "free_until": _iso(_free_until(booking)), "reason": transition.reason,
    }
    if transition.to_state == State.SCHEDULED.value and (booking.appointment or {}).get("kind"):
        payload["arrangement"] = when_key(booking.appointment)  # what the time is: a pickup, a report due, …
    added = []
    for account in recipients(session, booking, transition.at):
        if account.id in already:
            continue
        note = Notification(account_id=account.id, subject_person_id=booking.policy.insured_id, booking_id=booking.id,
                            kind=STATUS, dedupe_key=key, payload=dict(payload), created_at=transition.at)
        session.add(note)
        added.append(note)
    session.flush()
    return added


def record_retake(session: Session, booking: Booking, *, page_id: int, public_id: str, kind: str, page_number: int,
                  decision: str, reason: str | None, at: datetime) -> list[Notification]:
    """Tell the applicant and the insured that staff sent a page back (unreadable or rejected) and why, so
    they can retake it at once. One message per verdict. Flushes; never commits."""
    key = f"retake:{page_id}:{decision}:{at.isoformat()}"
    already = set(session.scalars(select(Notification.account_id).where(Notification.dedupe_key == key)))
    payload = {"reference": booking.reference, "service_code": booking.service.code, "page": public_id,
               "document": kind, "page_number": page_number, "decision": decision, "reason": reason}
    added = []
    for account in recipients(session, booking, at):
        if account.id not in already:
            note = Notification(account_id=account.id, subject_person_id=booking.policy.insured_id, booking_id=booking.id,
                                kind=PAPER_RETAKE, dedupe_key=key, payload=dict(payload), created_at=at)
            session.add(note)
            added.append(note)
    session.flush()
    return added


def due_reminders(session: Session, now: datetime, lead: timedelta = DEFAULT_LEAD) -> list[Booking]:
    """Scheduled bookings whose free-change deadline falls in (now, now + lead]. Rule `never` has none."""
    require_aware(now, "now")
    candidates = session.scalars(
        select(Booking).where(Booking.state == State.SCHEDULED.value, Booking.starts_at.is_not(None),
                              Booking.starts_at > now, Booking.change_rule != "never")
        .order_by(Booking.starts_at, Booking.id)
    )
    due = []
    for booking in candidates:
        deadline = _free_until(booking)
        if deadline is not None and now < deadline <= now + lead:
            due.append(booking)
    return due


def _once(session: Session, booking: Booking, account: Account, kind: str, key: str, payload: dict,
          now: datetime) -> Notification:
    """The message `key` for one recipient, written once: a row already there (or written by another run at the
    same time, which the unique dedupe key refuses to this one) is the one returned."""
    lookup = select(Notification).where(Notification.account_id == account.id, Notification.dedupe_key == key)
    found = session.scalar(lookup)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            found = Notification(account_id=account.id, subject_person_id=booking.policy.insured_id,
                                 booking_id=booking.id, kind=kind, dedupe_key=key, created_at=now, payload=payload)
            session.add(found)
    except IntegrityError:  # another run wrote it first
        found = session.scalar(lookup)
    return found


def _reminder(session: Session, booking: Booking, account: Account, deadline: datetime, now: datetime) -> Notification:
    """The reminder row for one recipient and one deadline, created once (a rescheduled booking gets a new one)."""
    return _once(session, booking, account, REMINDER_FREE_CHANGE, f"reminder:{booking.id}:{deadline.isoformat()}",
                 {"reference": booking.reference, "service_code": booking.service.code, "free_until": _iso(deadline),
                  "starts_at": _iso(booking.starts_at),
                  # what cancelling after the deadline does, as outcomes decides it (issue 14 item 1)
                  "late_cancel_counts": late_cancel_counts(rules_for(booking.service)[1])}, now)


def send_reminders(session: Session, now: datetime, channel: Channel, lead: timedelta = DEFAULT_LEAD) -> int:
    """Remind every recipient of every due booking once; return how many were handed to `channel` now.

    Rows are written and committed first, then each is claimed and sent in its own small transaction (_deliver),
    so no write lock is held while the channel talks to the outside. A row whose send failed keeps sent_at NULL
    and is retried by the next run; a row already sent, or claimed by a run at the same time, is skipped.
    """
    require_aware(now, "now")
    with write_transaction(session):
        pending = []
        for booking in due_reminders(session, now, lead):
            deadline = _free_until(booking)
            for account in recipients(session, booking, now):
                note = _reminder(session, booking, account, deadline, now)
                if note.sent_at is None:
                    pending.append((account, note))
    return _deliver(session, pending, channel, now)


def _deliver(session: Session, pending: list[tuple[Account, Notification]], channel: Channel, now: datetime) -> int:
    """Hand each written message to `channel`, claiming it first, each in its own small transaction.

    The claim is `UPDATE … SET sent_at = now WHERE id = … AND sent_at IS NULL`, committed before the send: of two
    runs that both found the row unsent (two servers' cron, issue 16 item 3) only the one whose UPDATE changed a row
    sends it. A send that fails gives the claim back (sent_at NULL again) so the next run retries it; a process
    killed between claim and send loses that one message rather than risk sending it twice.
    """
    sent = 0
    for account, note in pending:
        mine = (Notification.id == note.id)
        with write_transaction(session):
            claimed = session.execute(update(Notification).where(mine, Notification.sent_at.is_(None))
                                      .values(sent_at=now), execution_options={"synchronize_session": "fetch"}).rowcount
        if not claimed:  # another run sent it, or is sending it
            continue
        try:
            channel.send(account, note)
        except Exception:  # one failing message must not stop the others; the next run retries it
            log.exception("notify failed account=%s kind=%s booking=%s", account.id, note.kind,
                          note.payload.get("reference"))
            with write_transaction(session):
                session.execute(update(Notification).where(mine, Notification.sent_at == now).values(sent_at=None))
            continue
        sent += 1
    return sent


def due_day_before(session: Session, now: datetime) -> list[Booking]:
    """Scheduled bookings whose appointment is tomorrow (China date) and not yet confirmed: the day before, the
    customer is asked to confirm (seed 001 line 33: "就诊前1日，客服专员致电客户确认"; services/desk/confirmations.py)."""
    rows = confirmations.day_list(session, confirmations.tomorrow(now))
    return [row.booking for row in rows if row.state == confirmations.UNCONFIRMED]


def _day_before(session: Session, booking: Booking, account: Account, now: datetime) -> Notification:
    """The day-before row for one recipient and one appointment time, created once."""
    return _once(session, booking, account, REMINDER_DAY_BEFORE, f"day_before:{booking.id}:{_iso(booking.starts_at)}",
                 {"reference": booking.reference, "service_code": booking.service.code,
                  "starts_at": _iso(booking.starts_at), "arrangement": when_key(booking.appointment)}, now)


def send_day_before(session: Session, now: datetime, channel: Channel) -> int:
    """On the day before an appointment, ask every recipient once to confirm it (the message links to the booking,
    where "确认按时到达" is); return how many were handed to `channel` now. Same delivery as send_reminders."""
    require_aware(now, "now")
    with write_transaction(session):
        pending = []
        for booking in due_day_before(session, now):
            for account in recipients(session, booking, now):
                note = _day_before(session, booking, account, now)
                if note.sent_at is None:
                    pending.append((account, note))
    return _deliver(session, pending, channel, now)


def remember_locale(session: Session, account_id: int, locale: str) -> None:
    """The language the account chose, for the messages sent to it later (texts, reminders); its own transaction."""
    with write_transaction(session):
        session.execute(update(Account).where(Account.id == account_id).values(locale=locale))


def inbox(session: Session, account_id: int, limit: int = 50) -> list[Notification]:
    """The account's messages, newest first."""
    return list(session.scalars(
        select(Notification).where(Notification.account_id == account_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def unread_count(session: Session, account_id: int) -> int:
    return session.scalar(
        select(func.count(Notification.id)).where(Notification.account_id == account_id, Notification.read_at.is_(None))
    )


def mark_read(session: Session, account_id: int, now: datetime, ids: Iterable[int] | None = None) -> int:
    """Mark the account's unread messages read (only those in `ids`, when given). Commits; returns how many."""
    require_aware(now, "now")
    condition = [Notification.account_id == account_id, Notification.read_at.is_(None)]
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        condition.append(Notification.id.in_(ids))
    with write_transaction(session):
        done = session.execute(update(Notification).where(*condition).values(read_at=now))
        return done.rowcount


def mark_booking_read(session: Session, account_id: int, booking_id: int, now: datetime) -> int:
    """Reading a booking reads the account's own messages about it (issue 15 item 5). Only `account_id`'s: a family
    member or staff member looking never marks anyone else's. Idempotent; one UPDATE and a commit, and no write at
    all when nothing is unread. Returns how many were marked."""
    require_aware(now, "now")
    condition = [Notification.account_id == account_id, Notification.booking_id == booking_id,
                 Notification.read_at.is_(None)]
    if session.scalar(select(Notification.id).where(*condition).limit(1)) is None:
        return 0
    with write_transaction(session):
        return session.execute(update(Notification).where(*condition).values(read_at=now)).rowcount


def asks_action(note: Notification) -> bool:
    """Whether the message asks its reader to act: retake a page, choose among alternatives (000 Q&A: a named
    expert could not be booked), or answer a family member's request for access. Decided by its kind, and for a
    status message by its rule."""
    if note.kind in (PAPER_RETAKE, ACCESS_REQUEST):
        return True
    return note.kind == STATUS and (note.payload or {}).get("rule") == FAILED_BOOKING


@dataclass(frozen=True)
class MessageGroup:
    """The messages about one booking (booking_id None: those about family access, which have none)."""

    booking_id: int | None
    messages: list[Notification]

    @property
    def asks_action(self) -> bool:
        return any(asks_action(n) for n in self.messages)

    @property
    def reference(self) -> str | None:
        return next(((n.payload or {}).get("reference") for n in self.messages if (n.payload or {}).get("reference")), None)


def grouped(notes: list[Notification]) -> list[MessageGroup]:
    """`notes` by booking: groups with a message that asks for action first, then the others, each by its newest
    message; inside a group the messages asking for action first, then newest first."""
    def newest_first(n: Notification):
        return (-n.created_at.timestamp(), -n.id)

    by_booking: dict[int | None, list[Notification]] = {}
    for note in sorted(notes, key=newest_first):
        by_booking.setdefault(note.booking_id, []).append(note)
    groups = [MessageGroup(booking_id, sorted(items, key=lambda n: (not asks_action(n), *newest_first(n))))
              for booking_id, items in by_booking.items()]
    return sorted(groups, key=lambda g: (not g.asks_action, *newest_first(max(g.messages, key=lambda n: (n.created_at, n.id)))))


def record_grant_retake(session: Session, grant, *, page_id: int, public_id: str, kind: str, page_number: int,
                        decision: str, reason: str | None, at: datetime) -> list[Notification]:
    """Tell the family member who asked for access (only them: the request and its proofs are theirs) that
    staff sent a proof page back and why. One message per verdict. Flushes; never commits."""
    key = f"retake:{page_id}:{decision}:{at.isoformat()}"
    account_id = grant.grantee_account_id
    if session.scalar(select(Notification.id).where(Notification.account_id == account_id,
                                                    Notification.dedupe_key == key)):
        return []
    note = Notification(account_id=account_id, subject_person_id=grant.insured_person_id, booking_id=None,
                        kind=PAPER_RETAKE, dedupe_key=key, created_at=at,
                        payload={"grant": grant.public_id, "insured": grant.insured.name, "document": kind,
                                 "page": public_id, "page_number": page_number, "decision": decision, "reason": reason})
    session.add(note)
    session.flush()
    return [note]
