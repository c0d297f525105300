"""The demo world: believable people, policies and bookings built relative to `now`, so it never goes stale.

Every booking is made through the real services (apply, approve, schedule, …) with past clocks, so the demo's
quotas, deadlines and timelines obey the same rules as real ones. Rebuilding wipes every table first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ...models import Account, Base, Diagnosis, Notification, Person, Policy, Product, ProxyGrant
from ..accounts.identity import demo_resident_id
from ..booking import bookings
from ..clock import china_date, china_datetime, require_aware, to_china
from ..desk import arrangements
from ..family.family import adulthood
from ..papers.storage import Storage
from ..policy_years import anniversary
from ..products.catalog_sync import rules_for, sync_catalog
from . import demo_papers
from .demo_desk import DESK

ADULT, PARENT, OTHER, REVIEWER, COORDINATOR = "13800000001", "13800000002", "13800000003", "13800000009", "13800000008"
FATHER, AGENT, ADMIN = "13800000004", "13800000005", "13800000007"


@dataclass(frozen=True)
class DemoSignIn:
    mobile: str
    who: str


SIGN_INS = (
    DemoSignIn(ADULT, "张伟 — insured adult: policies waiting, active, used up, surrendered"),
    DemoSignIn(PARENT, "李娜 — parent, verified guardian of 李小明 (9)"),
    DemoSignIn(OTHER, "王芳 — another insured, unrelated; her daughter 周婷 is her agent"),
    DemoSignIn(FATHER, "李强 — 李小明's father, new here: asks for guardianship with a proof photo"),
    DemoSignIn(AGENT, "周婷 — agent of her mother 王芳 (view and apply, for 90 days)"),
    DemoSignIn(REVIEWER, "审核员 — staff reviewer"),
    DemoSignIn(COORDINATOR, "协调员 — staff coordinator"),
    DemoSignIn(ADMIN, "管理员 — staff admin"),
)


def wipe(session: Session) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))


def build(session: Session, now: datetime, storage: Storage | None = None) -> None:
    """(Re)build the demo world as of `now`. Commits. With a photo store, the bookings get papers too
    (demo_papers.py); the store is not emptied, the sweeper removes what the old world left there."""
    require_aware(now, "now")
    today = china_date(now)
    wipe(session)
    sync_catalog(session)
    session.flush()
    products = {p.code: p for p in session.scalars(select(Product))}

    def person(name, birth, seq, mobile=None):
        p = Person(name=name, id_number=demo_resident_id("310104", birth, seq), birth_date=birth, mobile=mobile,
                   created_at=now)
        session.add(p)
        return p

    def account(mobile, who=None, role=None, display=None):
        a = Account(mobile=mobile, person=who, staff_role=role, display_name=display or (who.name if who else None),
                    created_at=now)
        session.add(a)
        return a

    def policy(number, product, insured, holder, effective, **kw):
        p = Policy(number=number, product=products[product], insured=insured, holder=holder,
                   effective_date=effective, expiry_date=anniversary(effective, kw.pop("years", 1)),
                   created_at=now, **kw)
        session.add(p)
        return p

    zhang = person("张伟", date(1978, 5, 12), 123, ADULT)
    li_na = person("李娜", date(1986, 3, 8), 224, PARENT)
    child_birth = date(today.year - 9, 6, 1)
    xiaoming = person("李小明", child_birth, 311)
    wang = person("王芳", date(1969, 11, 23), 442, OTHER)
    zhou = person("周婷", date(1994, 2, 17), 528, AGENT)
    adult, parent, other = account(ADULT, zhang), account(PARENT, li_na), account(OTHER, wang)
    daughter = account(AGENT, zhou)
    reviewer = account(REVIEWER, role="reviewer", display="审核员 陈静")
    coordinator = account(COORDINATOR, role="coordinator", display="协调员 刘洋")
    account(ADMIN, role="admin", display="管理员 孙磊")

    policy("P000-DEMO-0001", "cigc_classic", zhang, zhang, today - timedelta(days=40))
    active = policy("P003-DEMO-0002", "zhongan_vip", zhang, zhang, today - timedelta(days=200))
    second_year = policy("P002-DEMO-0003", "xingtao_gc", zhang, zhang, today - timedelta(days=400), years=3)
    policy("P004-DEMO-0004", "starr_jiuyibao", zhang, zhang, today - timedelta(days=12),
           status="surrendered_cooling_off", status_changed_on=today - timedelta(days=5))
    child_policy = policy("P003-DEMO-0005", "zhongan_vip", xiaoming, li_na, today - timedelta(days=300))
    wang_policy = policy("P001-DEMO-0006", "haorensheng_gc", wang, wang, today - timedelta(days=150))
    session.flush()
    session.add_all([
        # After the 000 policy's 15-day cooling-off (it started 40 days ago): 000 Q&A line 232 covers only an illness
        # diagnosed "犹豫期后", so an earlier date would refuse 张伟's classic policy for good.
        Diagnosis(person_id=zhang.id, certainty="confirmed", diagnosed_on=today - timedelta(days=20),
                  hospital="复旦大学附属肿瘤医院", hospital_grade="3A", verified_at=now - timedelta(days=15),
                  verified_by_id=reviewer.id),
        Diagnosis(person_id=xiaoming.id, certainty="confirmed", diagnosed_on=today - timedelta(days=60),
                  hospital="上海儿童医学中心", hospital_grade="3A", verified_at=now - timedelta(days=55),
                  verified_by_id=reviewer.id),
        ProxyGrant(public_id="demo-guardian-li", grantee_account_id=parent.id, insured_person_id=xiaoming.id,
                   kind="guardian_minor", relationship_label="儿子", status="verified", valid_until=adulthood(child_birth),
                   verified_by_id=reviewer.id, verified_at=now - timedelta(days=50), created_at=now - timedelta(days=51),
                   submitted_at=now - timedelta(days=51), decided_at=now - timedelta(days=50)),
        # 王芳 approved her daughter in her own account: view and apply (not the papers), for 90 days.
        ProxyGrant(public_id="demo-agent-zhou", grantee_account_id=daughter.id, insured_person_id=wang.id,
                   kind="power_of_attorney", method="insured_approval", relationship_label="母亲", scopes="view,apply",
                   status="verified", valid_until=today + timedelta(days=90), verified_by_id=other.id,
                   verified_at=now - timedelta(days=3), created_at=now - timedelta(days=3, hours=2),
                   submitted_at=now - timedelta(days=3, hours=2), decided_at=now - timedelta(days=3)),
    ])
    session.commit()
    _bookings(session, now, adult=adult, parent=parent, other=other, staff=coordinator, reviewer=reviewer,
              active=active, second_year=second_year, child_policy=child_policy, wang_policy=wang_policy)
    _desk(session, now, person=person, account=account, policy=policy, staff=coordinator, reviewer=reviewer)
    if storage is not None:
        demo_papers.attach(session, storage, now)


def _bookings(session, now, *, adult, parent, other, staff, reviewer, active, second_year, child_policy, wang_policy):
    def flow(account, policy, code, days_ago, *, to, starts_at=None, units=1, details=None, slip=None):
        at = now - timedelta(days=days_ago)
        outcome = bookings.apply(session, account=account, policy_id=policy.id, service_code=code,
                                 request_key=f"demo-{policy.number}-{code}-{days_ago}", now=at,
                                 details=details or {}, units=units, admission_slip_date=slip)
        if not outcome.ok:
            raise RuntimeError(f"demo booking {code} on {policy.number} refused: {[r.key for r in outcome.reasons]}")
        b = outcome.booking
        if to == "applied":
            return b
        bookings.start_review(session, b.id, staff=reviewer, now=at + timedelta(hours=1))
        if to == "under_review":
            return b
        bookings.approve(session, b.id, staff=reviewer, now=at + timedelta(hours=3))
        if to == "approved":
            return b
        _arrange(session, b, staff=staff, now=at + timedelta(hours=20), starts_at=starts_at)
        if to == "completed":
            bookings.complete(session, b.id, staff=staff, now=starts_at + timedelta(hours=3))
        return b

    # Active policy (003): a completed escort (one use spent), a car pickup in 3 hours (inside the 4-hour
    # cutoff), a nursing aide starting in 15 hours (free change for 3 more hours), a second opinion in review.
    flow(adult, active, "escort_outpatient", 20, to="completed",
         starts_at=china_datetime(china_date(now) - timedelta(days=16), time(9, 0)), details={"city": "上海"})
    flow(adult, active, "car_pickup", 2, to="scheduled", starts_at=now + timedelta(hours=3),
         details={"direction": "home_to_hospital", "address": "上海市徐汇区示例路1号", "hospital": "复旦大学附属中山医院",
                  "distance_km": 18, "passengers": 2}, slip=china_date(now) - timedelta(days=3))
    flow(adult, active, "nursing_aide", 3, to="scheduled", starts_at=now + timedelta(hours=15), units=7,
         details={"hospital": "复旦大学附属中山医院", "ward_bed": "12病区 8床", "days": 7})
    flow(adult, active, "second_opinion", 1, to="under_review", details={"questions": "是否需要手术"})
    # A hospital admission arranged for next week: once booked it cannot be cancelled (003 特别说明(5)).
    flow(adult, active, "inpatient", 4, to="scheduled", starts_at=china_datetime(china_date(now) + timedelta(days=6), time(9, 0)),
         details={"city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科"}, slip=china_date(now) - timedelta(days=4))
    # Second policy year of a 002 policy: the one expert visit of this year already spent.
    flow(adult, second_year, "expert_outpatient", 10, to="completed",
         starts_at=china_datetime(china_date(now) - timedelta(days=6), time(8, 30)), details={"city": "北京"})
    # The child, through the guardian: an expert outpatient visit approved and being arranged.
    flow(parent, child_policy, "expert_outpatient", 1, to="approved", details={"city": "上海", "department": "小儿血液科"})
    flow(other, wang_policy, "expert_outpatient", 0, to="applied", details={"city": "广州"})
    # Messages older than a day have been read; the recent ones wait in the inbox.
    session.execute(update(Notification).where(Notification.created_at < now - timedelta(days=1)).values(read_at=now))
    session.commit()


# What the demo's coordinator types, per kind of arrangement; what the customer asked for comes first
# (arrangements.prefill), as in the console.
_HOSPITAL = "复旦大学附属中山医院"
_TYPED = {
    arrangements.VISIT: {"hospital": _HOSPITAL, "department": "肿瘤内科", "doctor_level": "chief",
                         "meeting_point": "门诊楼一楼大厅服务台", "escort_name": "服务专员 周敏", "escort_mobile": "13900000000"},
    arrangements.ESCORT: {"hospital": _HOSPITAL, "department": "肿瘤内科", "meeting_point": "门诊楼一楼大厅服务台",
                          "escort_name": "服务专员 周敏", "escort_mobile": "13900000000"},
    arrangements.ADMISSION: {"hospital": _HOSPITAL, "department": "肿瘤内科", "ward": "12病区"},
    arrangements.CAR: {"driver_name": "王建军", "driver_mobile": "13900000031", "plate": "沪AD12345",
                       "pickup_address": "上海市徐汇区示例路1号", "destination": _HOSPITAL},
    arrangements.AIDE: {"aide_name": "李秀梅", "aide_mobile": "13900000032", "hospital": _HOSPITAL, "ward_bed": "12病区 8床"},
    arrangements.OPINION: {"expert": "复旦大学附属肿瘤医院 专家组"},
}


def _arrange(session, booking, *, staff, now, starts_at):
    """Schedule with details of the booking's kind, checked as the console checks them (services/desk/arrangements.py).
    The time is kept to the second: the demo's "in 3 hours" is exact."""
    product, service = rules_for(booking.service)
    spec = arrangements.spec_for(product, service, units=booking.units)
    local = to_china(starts_at)
    typed = {**_TYPED[spec.kind], **arrangements.prefill(spec, booking.details, units=booking.units),
             "date": local.date().isoformat(), "time": f"{local:%H:%M}"}
    appointment, errors = arrangements.parse(spec, typed, now=now)
    if errors:
        raise RuntimeError(f"demo arrangement of {service.code} refused: {errors}")
    return bookings.schedule(session, booking.id, staff=staff, now=now, starts_at=starts_at, appointment=appointment.details)


def _desk(session, now, *, person, account, policy, staff, reviewer):
    today = china_date(now)
    for name, birth, seq, product, code, days_ago, stage, details in DESK:
        insured = person(name, birth, seq)
        cover = policy(f"P{product[:3].upper()}-DESK-{seq}", product, insured, insured, today - timedelta(days=220))
        session.flush()
        session.add(Diagnosis(person_id=insured.id, certainty="confirmed", diagnosed_on=today - timedelta(days=days_ago + 20),
                              hospital="复旦大学附属中山医院", hospital_grade="3A", verified_at=now - timedelta(days=days_ago + 15),
                              verified_by_id=reviewer.id))
        applicant = account(f"1390000{seq:04d}", insured)
        session.commit()
        at = now - timedelta(days=days_ago, hours=2)
        b = bookings.apply(session, account=applicant, policy_id=cover.id, service_code=code, request_key=f"desk-{seq}",
                           now=at, details=details).booking
        if stage == "under_review":
            continue
        bookings.start_review(session, b.id, staff=reviewer, now=at + timedelta(hours=1))
        bookings.approve(session, b.id, staff=reviewer, now=at + timedelta(hours=2))
        if stage == "failed":
            bookings.record_failed_booking(session, b.id, staff=staff, now=at + timedelta(days=1), asked_for="王建国主任（心内科）",
                                           alternatives="同科室李明主任，周四上午；或浙江省人民医院心内科张华主任，周五下午")
        elif stage in ("due_to_close", "no_show"):
            starts_at = china_datetime(today - timedelta(days=1 if stage == "due_to_close" else 4), time(9, 30))
            _arrange(session, b, staff=staff, now=at + timedelta(days=1), starts_at=starts_at)
            if stage == "no_show":
                bookings.mark_no_show(session, b.id, staff=staff, now=starts_at + timedelta(hours=2))
