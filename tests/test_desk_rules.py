"""The desk's decisions (issue 6): review (page verdicts, approval, rejection), arranging, a failed booking of a
named expert, closing a visit, and an admin giving a counted use back. Every refusal path, and that a refused
action changes nothing: not the booking's state, not its history, not the quota held or used. Fixed clocks.

Rules, with their seed lines:
- approval only on complete papers, decided within 1 working day: 003 "收到完整材料后的一个工作日内审核" (line 949);
- arrangement 000 （一）2.7 line 66 "自客户服务资格审核通过时5个工作日内完成服务安排", counted from when the desk
  (000 （一）2.3 line 38, Mon–Fri 09:00–18:00 except holidays) can act; zhongan_vip counts from complete papers
  (catalog note on 003 表2: "自收齐完整病历资料起");
- a named expert who cannot be booked, alternatives declined: "不计算客户已使用服务" (000 Q&A, line 262);
- a no-show or a late arrival of 30 minutes or more counts as used: 000 （一）2.9(5) line 90
  "无故迟到30分钟（含）以上…视为客户放弃本次服务";
- a cancellation after 12:00 the day before counts: 000 （一）2.9(6) line 94;
- quotas: 000 （一）2.2 line 36 "客户在服务有效期内只能使用一次"; 003 重疾住院护工 30 days a year.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Account, Booking, BookingTransition, DocumentPage, Entitlement
from webapp.services import workdays
from webapp.services.booking import bookings
from webapp.services.booking.booking_states import IllegalMove
from webapp.services.desk import arrangements, review
from webapp.services.papers import documents, photos
from webapp.services.papers.storage import LocalStorage
from webapp.services.products.catalog import default_catalog
from webapp.services.products.catalog_sync import rules_for

from .conftest import World, at
from .photo_corpus import document_photo

NOW = at(2026, 11, 16, 10, 0)  # Monday; the policies (effective 2026-01-01) are past their waiting period
VISIT = at(2026, 11, 25, 9, 0)  # Wednesday


@pytest.fixture(autouse=True)
def calendar():
    """The working-day calendar is process-wide: every test starts and ends without overrides."""
    workdays.set_overrides({}, set())
    yield
    workdays.set_overrides({}, set())


@functools.lru_cache(maxsize=None)
def photo(seed: int) -> photos.Photo:
    return photos.process(document_photo(1600, 1200, text_seed=seed))


class Desk:
    """张三's cigc_classic policy (seed 000) and a desk with every staff role."""

    def __init__(self, session, store, product="cigc_classic"):
        self.session, self.store = session, store
        self.world = World(session, product, effective=date(2026, 1, 1))
        self.customer, self.stranger, self.policy = self.world.account, self.world.stranger, self.world.policy
        self.coordinator = self.world.staff
        self.reviewer = self.staff("13900000010", "reviewer")
        self.admin = self.staff("13900000011", "admin")

    def staff(self, mobile: str, role: str) -> Account:
        account = Account(mobile=mobile, staff_role=role, created_at=at(2024, 1, 1))
        self.session.add(account)
        self.session.commit()
        return account

    def apply(self, key="k1", now=NOW, service="expert_outpatient", **kw) -> Booking:
        outcome = bookings.apply(self.session, account=self.customer, policy_id=self.policy.id, service_code=service,
                                 request_key=key, now=now, details={"city": "上海"}, **kw)
        assert outcome.ok, outcome.reasons
        return outcome.booking

    def send(self, booking, now=NOW, seed=1, kinds=None) -> list[DocumentPage]:
        """One page of each paper the application needs (or of `kinds`), sent at `now`."""
        _, service = rules_for(booking.service)
        pages = [documents.add_page(self.session, self.store, booking_id=booking.id, kind=kind, photo=photo(seed + k),
                                    account=self.customer, now=now)
                 for k, kind in enumerate(kinds or documents.required_kinds(service, booking))]
        documents.submit(self.session, booking_id=booking.id, account=self.customer, now=now)
        return pages

    def decide(self, booking, pages, now=NOW, decision=documents.ACCEPTED):
        for page in pages:
            review.decide_page(self.session, booking, public_id=page.public_id, staff=self.reviewer, now=now,
                               decision=decision, reason=None, note=None)

    def approved(self, key="k1", applied=NOW, papers_at=NOW, approved_at=NOW + timedelta(hours=1), **kw) -> Booking:
        booking = self.apply(key, applied, **kw)
        self.decide(booking, self.send(booking, papers_at), papers_at)
        return review.approve(self.session, booking, staff=self.reviewer, now=approved_at)

    def scheduled(self, starts_at=VISIT, key="k1", **kw) -> Booking:
        booking = self.approved(key, **kw)
        return bookings.schedule(self.session, booking.id, staff=self.coordinator, now=NOW + timedelta(hours=2),
                                 starts_at=starts_at, appointment={"hospital": "瑞金医院"})

    def snapshot(self, booking_id: int) -> tuple:
        """Everything a refused action must leave as it was."""
        self.session.rollback()
        booking = self.session.get(Booking, booking_id)
        ent = self.session.get(Entitlement, booking.entitlement_id)
        steps = self.session.scalar(select(func.count(BookingTransition.id))
                                    .where(BookingTransition.booking_id == booking_id))
        return (booking.state, ent.held, ent.used, steps, booking.arrange_by, booking.approved_at,
                booking.papers_complete_at, booking.starts_at, booking.closed_at, booking.use_reversed_at,
                booking.updated_at)

    def usage(self, booking_id: int) -> tuple[int, int]:
        self.session.rollback()
        ent = self.session.get(Entitlement, self.session.get(Booking, booking_id).entitlement_id)
        return ent.held, ent.used


@pytest.fixture()
def desk(session, tmp_path) -> Desk:
    return Desk(session, LocalStorage(tmp_path / "uploads"))


def instants(detail: dict) -> dict:
    """A step's detail with its ISO times read back: the same instant may be written in UTC or in China time."""
    return {k: datetime.fromisoformat(v) if k.endswith("_at") and v else v for k, v in detail.items()}


def page_status(session, page) -> str:
    session.rollback()
    return session.get(DocumentPage, page.id).status


# ============================================================================================================
# Review: a verdict on each page
# ============================================================================================================

@pytest.mark.parametrize("who", ["coordinator", "customer", "stranger"])
def test_only_reviewers_and_admins_decide_pages(desk, who):
    b = desk.apply()
    pages = desk.send(b)
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.decide_page(desk.session, b, public_id=pages[0].public_id, staff=getattr(desk, who), now=NOW,
                           decision=documents.ACCEPTED, reason=None, note=None)
    assert refused.value.reason == "desk.role"
    assert desk.snapshot(b.id) == before and page_status(desk.session, pages[0]) == documents.RECEIVED


def test_an_admin_decides_pages_too_and_the_first_verdict_starts_the_review(desk):
    b = desk.apply()
    pages = desk.send(b)
    review.decide_page(desk.session, b, public_id=pages[0].public_id, staff=desk.admin, now=NOW,
                       decision=documents.ACCEPTED, reason=None, note=None)
    assert desk.snapshot(b.id)[0] == "under_review" and page_status(desk.session, pages[0]) == documents.ACCEPTED


def test_a_page_of_another_application_or_none_at_all_is_refused(desk):
    mine = desk.apply("mine")
    other = desk.apply("other", service="inpatient_surgery", admission_slip_date=date(2026, 11, 13))
    other_pages = desk.send(other, seed=10)
    desk.send(mine)
    before = desk.snapshot(mine.id), desk.snapshot(other.id)
    for public_id in (other_pages[0].public_id, "no-such-page", "../../etc", ""):
        with pytest.raises(review.Refused) as refused:
            review.decide_page(desk.session, mine, public_id=public_id, staff=desk.reviewer, now=NOW,
                               decision=documents.ACCEPTED, reason=None, note=None)
        assert refused.value.reason == "document.not_entitled"
    assert (desk.snapshot(mine.id), desk.snapshot(other.id)) == before
    assert page_status(desk.session, other_pages[0]) == documents.RECEIVED


@pytest.mark.parametrize("end", ["approved", "rejected", "withdrawn"])
def test_pages_of_an_application_out_of_review_are_not_decided(desk, end):
    b = desk.apply()
    pages = desk.send(b)
    if end == "approved":
        desk.decide(b, pages)
        review.approve(desk.session, b, staff=desk.reviewer, now=NOW)
    elif end == "rejected":
        review.reject(desk.session, b, staff=desk.reviewer, now=NOW, reason="waiting_period", note="")
    else:
        bookings.withdraw(desk.session, b.id, actor=desk.customer, now=NOW)
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.decide_page(desk.session, b, public_id=pages[0].public_id, staff=desk.reviewer, now=NOW,
                           decision=documents.UNREADABLE, reason=None, note="模糊")
    assert refused.value.reason == "review.not_in_review"
    assert desk.snapshot(b.id) == before


def test_a_rejected_page_needs_a_listed_reason_and_an_unsent_page_cannot_be_decided(desk):
    b = desk.apply()
    sent = desk.send(b, kinds=["diagnosis"])
    draft = documents.add_page(desk.session, desk.store, booking_id=b.id, kind="pathology_report", photo=photo(7),
                               account=desk.customer, now=NOW)
    before = desk.snapshot(b.id)
    for reason in (None, "", "blurry", "diagnosis_not_covered"):  # the last is an eligibility reason, not a page's
        with pytest.raises(review.Refused) as refused:
            review.decide_page(desk.session, b, public_id=sent[0].public_id, staff=desk.reviewer, now=NOW,
                               decision=documents.REJECTED, reason=reason, note="看不清")
        assert refused.value.reason == "document.reason_needed"
    with pytest.raises(review.Refused) as refused:
        review.decide_page(desk.session, b, public_id=draft.public_id, staff=desk.reviewer, now=NOW,
                           decision=documents.ACCEPTED, reason=None, note=None)
    assert refused.value.reason == "document.not_sent"
    with pytest.raises(ValueError):  # not a verdict at all (the view refuses it before: form.decision)
        review.decide_page(desk.session, b, public_id=sent[0].public_id, staff=desk.reviewer, now=NOW,
                           decision="maybe", reason=None, note=None)
    assert desk.snapshot(b.id) == before  # still "applied": a refused verdict starts no review
    assert (page_status(desk.session, sent[0]), page_status(desk.session, draft)) == (documents.RECEIVED, documents.DRAFT)


def test_a_rejected_page_keeps_the_reason_and_the_reviewers_words(desk):
    b = desk.apply()
    pages = desk.send(b)
    review.decide_page(desk.session, b, public_id=pages[0].public_id, staff=desk.reviewer, now=NOW,
                       decision=documents.REJECTED, reason="not_hospital_grade", note="  需二甲及以上医院  ")
    desk.session.rollback()
    page = desk.session.get(DocumentPage, pages[0].id)
    assert (page.status, page.status_reason, page.decided_at) == ("rejected", "not_hospital_grade: 需二甲及以上医院", NOW)


# ============================================================================================================
# Review: approval
# ============================================================================================================

@pytest.mark.parametrize("who", ["coordinator", "customer", "stranger"])
def test_only_reviewers_and_admins_approve(desk, who):
    b = desk.apply()
    desk.decide(b, desk.send(b))
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.approve(desk.session, b, staff=getattr(desk, who), now=NOW)
    assert refused.value.reason == "desk.role"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("papers", ["none", "one_of_two", "sent_not_decided", "one_unreadable", "one_rejected",
                                    "retake_not_sent"])
def test_approval_is_refused_until_every_required_paper_is_accepted(desk, papers):
    """003 line 949: the decision is made on complete papers; 000 （一）1.2(1)(2): diagnosis and pathology report."""
    b = desk.apply()
    if papers == "one_of_two":
        desk.decide(b, desk.send(b, kinds=["diagnosis"]))
    elif papers != "none":
        pages = desk.send(b)
        if papers in ("one_unreadable", "one_rejected", "retake_not_sent"):
            desk.decide(b, pages[:1])
            review.decide_page(desk.session, b, public_id=pages[1].public_id, staff=desk.reviewer, now=NOW,
                               decision=documents.UNREADABLE if papers != "one_rejected" else documents.REJECTED,
                               reason="incomplete" if papers == "one_rejected" else None, note="缺页")
        if papers == "retake_not_sent":
            documents.add_page(desk.session, desk.store, booking_id=b.id, kind="pathology_report", photo=photo(9),
                               account=desk.customer, now=NOW, replaces=pages[1].public_id)
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.approve(desk.session, b, staff=desk.reviewer, now=NOW + timedelta(hours=1))
    assert refused.value.reason == "review.papers_not_accepted"
    assert desk.snapshot(b.id) == before
    assert before[:3] == (("applied" if papers in ("none", "sent_not_decided") else "under_review"), 1, 0)


@pytest.mark.parametrize("end", ["approved", "rejected", "withdrawn"])
def test_approval_of_an_application_out_of_review_is_refused(desk, end):
    b = desk.apply()
    desk.decide(b, desk.send(b))
    if end == "approved":
        review.approve(desk.session, b, staff=desk.reviewer, now=NOW)
    elif end == "rejected":
        review.reject(desk.session, b, staff=desk.reviewer, now=NOW, reason="hospital_grade", note="")
    else:
        bookings.withdraw(desk.session, b.id, actor=desk.customer, now=NOW)
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.approve(desk.session, b, staff=desk.admin, now=NOW + timedelta(hours=2))
    assert refused.value.reason == "review.not_in_review"
    assert desk.snapshot(b.id) == before


def test_approval_records_the_moment_the_papers_were_complete(desk):
    """papers_complete_at is when the last page of the accepted set was sent — here a retake sent in the evening —
    not when the reviewer decided; the first verdict started the review."""
    b = desk.apply(now=at(2026, 11, 16, 9, 0))
    pages = desk.send(b, now=at(2026, 11, 16, 9, 30))
    desk.decide(b, pages[:1], now=at(2026, 11, 16, 10, 0))
    review.decide_page(desk.session, b, public_id=pages[1].public_id, staff=desk.reviewer, now=at(2026, 11, 16, 10, 1),
                       decision=documents.UNREADABLE, reason=None, note="反光")
    retake = documents.add_page(desk.session, desk.store, booking_id=b.id, kind="pathology_report", photo=photo(5),
                                account=desk.customer, now=at(2026, 11, 17, 20, 0), replaces=pages[1].public_id)
    documents.submit(desk.session, booking_id=b.id, account=desk.customer, now=at(2026, 11, 17, 20, 5))
    desk.decide(b, [retake], now=at(2026, 11, 18, 9, 0))
    done = review.approve(desk.session, b, staff=desk.reviewer, now=at(2026, 11, 18, 9, 30))
    assert done.state == "approved"
    assert done.papers_complete_at == at(2026, 11, 17, 20, 5)  # the retake's sending, not the approval
    assert done.approved_at == at(2026, 11, 18, 9, 30)
    assert done.arrange_by == date(2026, 11, 25)  # 000 （一）2.7: 5 working days after Wed 18th
    assert [(t.from_state, t.to_state) for t in done.transitions] == [
        (None, "applied"), ("applied", "under_review"), ("under_review", "approved")]
    assert done.transitions[-1].detail == {"arrange_by": "2026-11-25"}
    assert desk.usage(b.id) == (1, 0)  # approval holds the use; it does not spend it


def test_an_application_that_needs_no_paper_is_approved_straight_from_applied(session, tmp_path):
    """zhongan_vip escort_outpatient asks for no paper (catalog documents []): approval moves it through review,
    and without pages the papers count as complete at the approval."""
    desk = Desk(session, LocalStorage(tmp_path / "uploads"), product="zhongan_vip")
    b = desk.apply(service="escort_outpatient")
    done = review.approve(session, b, staff=desk.admin, now=at(2026, 11, 20, 22, 0))  # Friday, after 21:00
    assert [(t.from_state, t.to_state) for t in done.transitions] == [
        (None, "applied"), ("applied", "under_review"), ("under_review", "approved")]
    assert done.papers_complete_at == at(2026, 11, 20, 22, 0)
    # 003 门诊陪诊 line 1526: 3 working days; the daily desk looks on Sat 21st → Mon 23, Tue 24, Wed 25.
    assert done.arrange_by == date(2026, 11, 25)


def test_approval_over_national_day_arranges_within_five_working_days(desk):
    """000 （一）2.7 + 2.3: approved Tue 29 Sep 2026 10:00 → 30 Sep, 8, 9, 10 (Sat, 调休), 12 Oct."""
    done = desk.approved(applied=at(2026, 9, 28, 10, 0), papers_at=at(2026, 9, 28, 11, 0),
                         approved_at=at(2026, 9, 29, 10, 0))
    assert done.arrange_by == date(2026, 10, 12)


def test_an_evening_approval_on_the_eve_of_national_day_counts_from_the_desk_reopening(desk):
    # 000 （一）2.3: the desk closes at 18:00 and over 1–7 Oct: counted from Thu 8 Oct → 9, 10, 12, 13, 14.
    done = desk.approved(applied=at(2026, 9, 28, 10, 0), papers_at=at(2026, 9, 28, 11, 0),
                         approved_at=at(2026, 9, 30, 18, 30))
    assert done.arrange_by == date(2026, 10, 14)


def test_zhongan_counts_from_the_papers_not_from_the_approval(session, tmp_path):
    """003 (catalog: expert_outpatient counted from complete papers): last page Wed 30 Sep 2026 15:00; approved
    after the holiday, on Thu 8 Oct; arranged within 30 Sep + 5 working days = Tue 13 Oct."""
    desk = Desk(session, LocalStorage(tmp_path / "uploads"), product="zhongan_vip")
    done = desk.approved(applied=at(2026, 9, 30, 14, 0), papers_at=at(2026, 9, 30, 15, 0),
                         approved_at=at(2026, 10, 8, 10, 0))
    assert (done.papers_complete_at, done.arrange_by) == (at(2026, 9, 30, 15, 0), date(2026, 10, 13))


# ============================================================================================================
# Review: rejection
# ============================================================================================================

@pytest.mark.parametrize("who", ["coordinator", "customer"])
def test_only_reviewers_and_admins_reject(desk, who):
    b = desk.apply()
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.reject(desk.session, b, staff=getattr(desk, who), now=NOW, reason="hospital_grade", note="")
    assert refused.value.reason == "desk.role"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("reason, note, key", [
    ("", "", "review.reason_needed"),
    (None, "说明", "review.reason_needed"),
    ("bogus", "说明", "review.reason_needed"),
    ("wrong_document", "说明", "review.reason_needed"),  # a page's reason, not an eligibility reason
    ("other", "", "review.note_needed"),
    ("other", "   ", "review.note_needed"),
    ("other", None, "review.note_needed"),
])
def test_a_rejection_needs_a_listed_reason_and_other_needs_words(desk, reason, note, key):
    b = desk.apply()
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.reject(desk.session, b, staff=desk.reviewer, now=NOW, reason=reason, note=note)
    assert refused.value.reason == key
    assert desk.snapshot(b.id) == before


def test_a_rejection_out_of_review_is_refused(desk):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.reject(desk.session, b, staff=desk.reviewer, now=NOW, reason="hospital_grade", note="二级医院")
    assert refused.value.reason == "review.not_in_review"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("reason, note, stored", [
    ("hospital_grade", "  诊断医院为二级医院  ", "hospital_grade: 诊断医院为二级医院"),
    ("waiting_period", "", "waiting_period"),
    ("waiting_period", None, "waiting_period"),
    ("other", "请补充出院小结", "other: 请补充出院小结"),
    ("other", "长" * 250, "other: " + "长" * 200),  # the reviewer's words are cut at 200 characters
])
def test_a_rejection_stores_reason_and_note_and_gives_the_use_back(desk, reason, note, stored):
    b = desk.apply()
    done = review.reject(desk.session, b, staff=desk.reviewer, now=NOW, reason=reason, note=note)
    assert done.state == "rejected" and done.closed_at == NOW
    last = done.transitions[-1]
    assert (last.reason, last.quota_effect, last.actor_account_id) == (stored, "release", desk.reviewer.id)
    assert desk.usage(b.id) == (0, 0)


def test_every_listed_rejection_reason_is_accepted(desk):
    for k, reason in enumerate(review.REJECT_REASONS):
        b = desk.apply(f"r{k}")
        assert review.reject(desk.session, b, staff=desk.admin, now=NOW, reason=reason, note="说明").state == "rejected"


# ============================================================================================================
# Arranging: the appointment as the coordinator types it
# ============================================================================================================

# How each field is checked is in tests/test_arrangements.py; here, what arranging does to the booking.
FORM = {"hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "doctor": "王医生", "doctor_level": "chief",
        "date": "2026-11-25", "time": "9:30", "meeting_point": "门诊大楼一楼大厅", "escort_name": "陈专员",
        "escort_mobile": "+86 139 0000 0001"}


def appointment():
    product = default_catalog().product("cigc_classic")
    found, errors = arrangements.parse(arrangements.spec_for(product, product.service("expert_outpatient")), FORM, now=NOW)
    assert errors == {}
    return found


@pytest.mark.parametrize("who", ["reviewer", "customer"])
def test_only_coordinators_and_admins_arrange(desk, who):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.arrange(desk.session, b, appointment(), staff=getattr(desk, who), now=NOW + timedelta(hours=3))
    assert refused.value.reason == "desk.role"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("stage", ["applied", "under_review", "scheduled", "rejected"])
def test_only_an_approved_application_is_arranged(desk, stage):
    if stage == "scheduled":
        b = desk.scheduled()
    else:
        b = desk.apply()
        if stage == "under_review":
            bookings.start_review(desk.session, b.id, staff=desk.reviewer, now=NOW)
        if stage == "rejected":
            review.reject(desk.session, b, staff=desk.reviewer, now=NOW, reason="waiting_period", note="")
    before = desk.snapshot(b.id)
    with pytest.raises(review.Refused) as refused:
        review.arrange(desk.session, b, appointment(), staff=desk.coordinator, now=NOW + timedelta(hours=3))
    assert refused.value.reason == "arrange.not_approved"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_arranging_schedules_the_appointment(desk, who):
    b = desk.approved()
    done = review.arrange(desk.session, b, appointment(), staff=getattr(desk, who), now=NOW + timedelta(hours=3))
    assert (done.state, done.starts_at, done.appointment["escort_mobile"]) == ("scheduled", at(2026, 11, 25, 9, 30),
                                                                              "13900000001")
    # 000 （一）2.9(6): free change until 12:00 the calendar day before
    assert done.transitions[-1].detail["free_change_until"] == "2026-11-24T12:00:00+08:00"
    assert desk.usage(b.id) == (1, 0)


# ============================================================================================================
# A named expert who could not be booked (000 Q&A line 262: "若客户不同意，本次服务中止，不计算客户已使用服务")
# ============================================================================================================

def fail(desk, b, now=NOW + timedelta(hours=3)):
    return bookings.record_failed_booking(desk.session, b.id, staff=desk.coordinator, now=now, asked_for="王主任（肿瘤科）",
                                          alternatives="李主任、张主任（同科室）")


def test_a_customer_cannot_record_a_failed_booking(desk):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(IllegalMove):
        bookings.record_failed_booking(desk.session, b.id, staff=desk.customer, now=NOW, asked_for="x", alternatives="y")
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("stage", ["applied", "scheduled", "completed"])
def test_a_failed_booking_is_recorded_only_while_arranging(desk, stage):
    b = desk.apply() if stage == "applied" else desk.scheduled()
    if stage == "completed":
        bookings.complete(desk.session, b.id, staff=desk.coordinator, now=VISIT)
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        fail(desk, b)
    assert refused.value.key == "arrange.not_approved"
    assert desk.snapshot(b.id) == before


def test_a_failed_booking_needs_an_aware_clock(desk):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(ValueError):
        fail(desk, b, now=datetime(2026, 11, 16, 13, 0))
    assert desk.snapshot(b.id) == before


def test_a_failed_booking_is_a_step_without_a_move(desk):
    b = desk.approved()
    done = fail(desk, b)
    desk.session.rollback()
    assert done.state == "approved" and desk.usage(b.id) == (1, 0)
    offered = bookings.alternatives_offered(desk.session.get(Booking, b.id))
    assert (offered.from_state, offered.to_state, offered.quota_effect, offered.rule) == (
        "approved", "approved", "none", bookings.FAILED_BOOKING)
    assert offered.detail == {"asked_for": "王主任（肿瘤科）", "alternatives": "李主任、张主任（同科室）"}


def test_nothing_to_release_before_a_failed_booking(desk):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.release_failed_booking(desk.session, b.id, staff=desk.coordinator, now=NOW, reason="declined")
    assert refused.value.key == "arrange.no_failed_booking"
    assert desk.snapshot(b.id) == before


def test_nothing_to_release_once_an_alternative_was_arranged(desk):
    """The customer accepted an alternative: arranged, then changed freely back to arranging — the old failure is
    no longer open, so declining now is a withdrawal, not a release."""
    b = desk.approved()
    fail(desk, b)
    bookings.schedule(desk.session, b.id, staff=desk.coordinator, now=NOW + timedelta(hours=4), starts_at=VISIT,
                      appointment={"doctor": "李主任"})
    bookings.request_change(desk.session, b.id, actor=desk.customer, now=NOW + timedelta(hours=5), wishes={})
    before = desk.snapshot(b.id)
    assert before[0] == "approved"
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.release_failed_booking(desk.session, b.id, staff=desk.coordinator, now=NOW + timedelta(hours=6),
                                        reason="declined")
    assert refused.value.key == "arrange.no_failed_booking"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("who, error", [("customer", IllegalMove), ("stranger", IllegalMove)])
def test_only_staff_release_a_failed_booking(desk, who, error):
    """Staff record the customer's refusal; the customer declines online through decline_alternatives."""
    b = desk.approved()
    fail(desk, b)
    before = desk.snapshot(b.id)
    with pytest.raises(error):
        bookings.release_failed_booking(desk.session, b.id, staff=getattr(desk, who), now=NOW + timedelta(hours=4),
                                        reason="declined")
    assert desk.snapshot(b.id) == before


def test_the_customer_declines_online_only_while_alternatives_are_offered(desk):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused):
        bookings.decline_alternatives(desk.session, b.id, actor=desk.customer, now=NOW + timedelta(hours=4))
    with pytest.raises(bookings.NotEntitled):
        bookings.decline_alternatives(desk.session, b.id, actor=desk.stranger, now=NOW + timedelta(hours=4))
    assert desk.snapshot(b.id) == before
    fail(desk, b)
    with pytest.raises(bookings.NotEntitled):
        bookings.decline_alternatives(desk.session, b.id, actor=desk.stranger, now=NOW + timedelta(hours=4))
    done = bookings.decline_alternatives(desk.session, b.id, actor=desk.customer, now=NOW + timedelta(hours=4))
    assert done.state == "cancelled_free" and done.transitions[-1].rule == "booking_failed_declined"
    assert (done.entitlement.held, done.entitlement.used) == (0, 0)


def test_a_declined_failed_booking_is_not_counted(desk):
    b = desk.approved()
    fail(desk, b)
    done = bookings.release_failed_booking(desk.session, b.id, staff=desk.coordinator, now=NOW + timedelta(hours=4),
                                           reason="客户不接受推荐专家")
    assert (done.state, done.closed_at) == ("cancelled_free", NOW + timedelta(hours=4))
    last = done.transitions[-1]
    assert (last.rule, last.quota_effect, last.reason) == ("booking_failed_declined", "release", "客户不接受推荐专家")
    assert instants(last.detail) == {"failed_at": NOW + timedelta(hours=3), "asked_for": "王主任（肿瘤科）",
                                     "alternatives": "李主任、张主任（同科室）"}
    assert desk.usage(b.id) == (0, 0)  # nothing held, nothing used
    # 000 （一）2.2: once in the service term — and that once is still there.
    assert desk.apply("again", now=NOW + timedelta(days=1)).state == "applied"
    with pytest.raises((IllegalMove, bookings.ChangeRefused)):  # released once only
        bookings.release_failed_booking(desk.session, b.id, staff=desk.coordinator, now=NOW + timedelta(hours=5),
                                        reason="again")
    assert desk.snapshot(b.id)[1:3] == (1, 0)  # the new application's hold only


# ============================================================================================================
# Closing a visit: delivered, or not attended
# ============================================================================================================

CLOSERS = {
    "complete": lambda desk, b, now, staff: bookings.complete(desk.session, b.id, staff=staff, now=now),
    "no_show": lambda desk, b, now, staff: bookings.mark_no_show(desk.session, b.id, staff=staff, now=now),
    "late": lambda desk, b, now, staff: bookings.mark_no_show(desk.session, b.id, staff=staff, now=now, minutes_late=45),
}


@pytest.mark.parametrize("close", list(CLOSERS))
def test_nothing_is_closed_before_the_appointment(desk, close):
    b = desk.scheduled()
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        CLOSERS[close](desk, b, VISIT - timedelta(seconds=1), desk.coordinator)
    assert refused.value.key == "close.before_appointment"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("close", list(CLOSERS))
def test_nothing_is_closed_before_it_is_scheduled(desk, close):
    b = desk.approved()
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        CLOSERS[close](desk, b, VISIT, desk.coordinator)
    assert refused.value.key == "close.not_scheduled"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("close", list(CLOSERS))
def test_customers_do_not_close_visits(desk, close):
    b = desk.scheduled()
    before = desk.snapshot(b.id)
    with pytest.raises(IllegalMove):
        CLOSERS[close](desk, b, VISIT + timedelta(hours=3), desk.customer)
    with pytest.raises(bookings.NotEntitled):
        CLOSERS[close](desk, b, VISIT + timedelta(hours=3), desk.stranger)
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("close", list(CLOSERS))
def test_a_closed_visit_is_not_closed_again(desk, close):
    b = desk.scheduled()
    bookings.complete(desk.session, b.id, staff=desk.coordinator, now=VISIT + timedelta(hours=3))
    before = desk.snapshot(b.id)
    with pytest.raises(IllegalMove):
        CLOSERS[close](desk, b, VISIT + timedelta(hours=4), desk.coordinator)
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("minutes", [0, 1, 29])
def test_a_late_arrival_under_30_minutes_does_not_count(desk, minutes):
    """000 （一）2.9(5) line 90: "迟到30分钟（含）以上" — 29 minutes late is not a no-show."""
    b = desk.scheduled()
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.mark_no_show(desk.session, b.id, staff=desk.coordinator, now=VISIT + timedelta(minutes=40),
                              minutes_late=minutes)
    assert refused.value.key == "close.late_not_counted"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("minutes", [30, 31, 120])
def test_a_late_arrival_of_30_minutes_or_more_counts(desk, minutes):
    b = desk.scheduled()
    done = bookings.mark_no_show(desk.session, b.id, staff=desk.coordinator, now=VISIT + timedelta(minutes=150),
                                 minutes_late=minutes)
    last = done.transitions[-1]
    assert (done.state, last.rule, last.quota_effect) == ("no_show", "late_arrival", "spend")
    assert instants(last.detail) == {"starts_at": VISIT, "recorded_at": VISIT + timedelta(minutes=150),
                                     "minutes_late": minutes, "limit": 30}
    assert desk.usage(b.id) == (0, 1)


def test_a_service_without_a_late_rule_never_counts_lateness(session, tmp_path):
    """zhongan_vip expert_outpatient counts only a no-show (003 特别说明(5) line 929; catalog: no late limit)."""
    desk = Desk(session, LocalStorage(tmp_path / "uploads"), product="zhongan_vip")
    b = desk.scheduled()
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.mark_no_show(session, b.id, staff=desk.coordinator, now=VISIT + timedelta(hours=3), minutes_late=120)
    assert refused.value.key == "close.late_not_counted"
    assert desk.snapshot(b.id) == before
    assert bookings.mark_no_show(session, b.id, staff=desk.coordinator, now=VISIT + timedelta(hours=3)).state == "no_show"


@pytest.mark.parametrize("close, state, rule", [("complete", "completed", "delivered"), ("no_show", "no_show", "no_show")])
def test_closing_at_the_appointment_time_records_both_moments(desk, close, state, rule):
    b = desk.scheduled()
    done = CLOSERS[close](desk, b, VISIT, desk.coordinator)  # at the appointment time itself: allowed
    last = done.transitions[-1]
    assert (done.state, done.closed_at, last.rule, last.quota_effect) == (state, VISIT, rule, "spend")
    assert instants(last.detail) == {"starts_at": VISIT, "recorded_at": VISIT}
    assert last.units == 1  # one use spent
    assert desk.usage(b.id) == (0, 1)


# ============================================================================================================
# An admin gives a counted use back (appeal upheld)
# ============================================================================================================

def counted(desk, how: str, key="k1") -> Booking:
    """A booking whose use was spent: delivered, not attended, or cancelled after 12:00 the day before."""
    b = desk.scheduled(key=key)
    if how == "completed":
        return bookings.complete(desk.session, b.id, staff=desk.coordinator, now=VISIT + timedelta(hours=2))
    if how == "no_show":
        return bookings.mark_no_show(desk.session, b.id, staff=desk.coordinator, now=VISIT + timedelta(hours=2))
    done = bookings.cancel(desk.session, b.id, actor=desk.customer, now=at(2026, 11, 24, 12, 0))  # 000 （一）2.9(6)
    assert done.state == "cancelled_counted"
    return done


@pytest.mark.parametrize("who", ["reviewer", "coordinator", "customer", "stranger"])
def test_only_an_admin_gives_a_use_back(desk, who):
    b = counted(desk, "completed")
    before = desk.snapshot(b.id)
    with pytest.raises(IllegalMove):
        bookings.reverse_counted_use(desk.session, b.id, admin=getattr(desk, who), now=VISIT + timedelta(days=1),
                                     reason="投诉成立")
    assert desk.snapshot(b.id) == before == ("completed", 0, 1, *before[3:])


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_giving_a_use_back_needs_a_reason(desk, reason):
    b = counted(desk, "no_show")
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.reverse_counted_use(desk.session, b.id, admin=desk.admin, now=VISIT + timedelta(days=1), reason=reason)
    assert refused.value.key == "reverse.reason_needed"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("stage", ["applied", "approved", "scheduled", "cancelled_free", "rejected", "withdrawn",
                                   "failed_declined"])
def test_only_a_counted_use_is_given_back(desk, stage):
    if stage == "applied":
        b = desk.apply()
    elif stage in ("approved", "failed_declined"):
        b = desk.approved()
        if stage == "failed_declined":
            fail(desk, b)
            b = bookings.release_failed_booking(desk.session, b.id, staff=desk.coordinator,
                                                now=NOW + timedelta(hours=4), reason="declined")
    elif stage == "rejected":
        b = review.reject(desk.session, desk.apply(), staff=desk.reviewer, now=NOW, reason="waiting_period", note="")
    elif stage == "withdrawn":
        b = bookings.withdraw(desk.session, desk.apply().id, actor=desk.customer, now=NOW)
    else:
        b = desk.scheduled()
        if stage == "cancelled_free":
            b = bookings.cancel(desk.session, b.id, actor=desk.customer, now=at(2026, 11, 24, 11, 59))
    assert b.state == stage.replace("failed_declined", "cancelled_free")
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:
        bookings.reverse_counted_use(desk.session, b.id, admin=desk.admin, now=VISIT + timedelta(days=1), reason="申诉")
    assert refused.value.key == "reverse.not_counted"
    assert desk.snapshot(b.id) == before


@pytest.mark.parametrize("how, rule", [("completed", "delivered"), ("no_show", "no_show"),
                                       ("cancelled_counted", "noon_day_before")])
def test_a_counted_use_is_given_back_once(desk, how, rule):
    b = counted(desk, how)
    assert desk.usage(b.id) == (0, 1)
    moment = VISIT + timedelta(days=2)
    done = bookings.reverse_counted_use(desk.session, b.id, admin=desk.admin, now=moment, reason="  投诉成立：专家临时停诊  ")
    assert (done.state, done.use_reversed_at, done.updated_at) == (how, moment, moment)  # what happened stays true
    last = done.transitions[-1]
    assert (last.from_state, last.to_state, last.quota_effect, last.rule, last.reason, last.actor_account_id) == (
        how, how, "refund", "appeal_upheld", "投诉成立：专家临时停诊", desk.admin.id)
    assert last.detail["counted_rule"] == rule
    assert desk.usage(b.id) == (0, 0)
    before = desk.snapshot(b.id)
    with pytest.raises(bookings.ChangeRefused) as refused:  # once only
        bookings.reverse_counted_use(desk.session, b.id, admin=desk.admin, now=moment + timedelta(hours=1), reason="再次")
    assert refused.value.key == "reverse.already"
    assert desk.snapshot(b.id) == before
    # The use is back: 000 （一）2.2's single use may be applied for again.
    assert desk.apply("again", now=VISIT + timedelta(days=3)).state == "applied"


def test_giving_back_returns_exactly_the_bookings_units(session, tmp_path):
    """003 重疾住院护工: a days quota (30 a year). Two stays, 5 and 3 days, both delivered: 8 used. Giving the
    5-day one back leaves 3 used; the 3-day one stays counted."""
    desk = Desk(session, LocalStorage(tmp_path / "uploads"), product="zhongan_vip")
    five = desk.scheduled(key="five", service="nursing_aide", units=5)
    three = desk.scheduled(key="three", service="nursing_aide", units=3, starts_at=VISIT + timedelta(days=7))
    bookings.complete(session, five.id, staff=desk.coordinator, now=VISIT + timedelta(days=5), served_units=5)
    bookings.complete(session, three.id, staff=desk.coordinator, now=VISIT + timedelta(days=10), served_units=3)
    assert desk.usage(five.id) == (0, 8)
    bookings.reverse_counted_use(session, five.id, admin=desk.admin, now=VISIT + timedelta(days=11), reason="护工未到岗")
    assert desk.usage(five.id) == (0, 3)
    assert desk.snapshot(three.id)[9] is None  # the other stay is untouched
