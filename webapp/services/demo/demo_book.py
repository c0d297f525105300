"""A large, believable book of insured people for benchmarks (issue 16 item 1): `flask demo-book --insured N`.

On top of the demo world (services/demo/demo.py: its sign-ins and staff), N insured people, each with an account bound
to them (or, for a child, a guardian's verified grant), a policy of one of the five products (a tenth hold a second
one), a verified diagnosis, ~10 applications over their policy years in every state (about 1 % open), each
application's timeline, the status messages it sent and its papers' rows. The rules come from the catalog and the
same helpers the services use (quota periods and amounts, promises, change deadlines, what an ending spends, which
papers a form asks for), and every quota row holds exactly what its applications hold and spent, so every page,
cron job and rule reads the book as it reads real data. Page rows have no files (papers-sweep would remove them).

Rows are written in bulk: COPY on PostgreSQL, executemany elsewhere, a committed chunk of people at a time.
Insured person number k is drawn from its own seeded random stream, so a smaller book is the start of a larger
one: person k is the same in a book of 1 000 and one of 100 000 (bench/scale_bench.py compares them).
Nothing here imports Flask.
"""
from __future__ import annotations

import hashlib
import json
import random
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ...models import (
    Account, Booking, BookingTransition, Diagnosis, Document, DocumentPage, Entitlement, Notification, Person, Policy, Product,
    ProxyGrant, Service,
)
from .. import deadlines
from ..accounts import id_vault
from . import demo
from ..desk import arrangements, staff_queue
from ..booking.apply_forms import documents_for
from ..booking.booking_states import State
from ..products.catalog import default_catalog
from ..clock import china_date, china_datetime, require_aware, to_china
from ..cutoffs import change_deadline
from ..eligibility import PolicyFacts, quota_amount, quota_period
from ..family.family import adulthood
from ..accounts.identity import demo_resident_id
from ..outcomes import late_cancel_counts
from ..outcomes import spent as units_spent
from ..policy_years import anniversary

# The products' shares of the book: an assumption (the seeds give no sales figures), weighted towards the
# products with the most services, as a green-channel desk sees them.
PRODUCT_MIX = {"zhongan_vip": 0.40, "starr_jiuyibao": 0.20, "xingtao_gc": 0.15, "cigc_classic": 0.15, "haorensheng_gc": 0.10}
# How an application ended (or stands), before the quota has its say: a counted ending the quota cannot take
# becomes a withdrawal, as the real desk would have refused it.
CLOSED_MIX = {State.COMPLETED: 0.50, State.WITHDRAWN: 0.16, State.CANCELLED_FREE: 0.14, State.REJECTED: 0.10,
              State.NO_SHOW: 0.04, State.CANCELLED_COUNTED: 0.06}
OPEN_STATES = (State.APPLIED, State.UNDER_REVIEW, State.APPROVED, State.SCHEDULED)
OPEN_SHARE = 0.10  # people with one application open now: ~1 % of all applications
MINOR_SHARE = 0.03  # insured children, with a guardian who acts for them
SECOND_POLICY_SHARE = 0.10
WAITING_SHARE, SURRENDERED_SHARE = 0.06, 0.03
MEAN_APPLICATIONS = 10
RETENTION = timedelta(days=180)  # papers of applications closed longer ago were purged (documents.DEFAULT_RETENTION)
MOBILE_PREFIX, GUARDIAN_PREFIX = "150", "151"
_REGIONS = ("110105", "120101", "320102", "330106", "340104", "350102", "370102", "420106", "430104", "440106",
            "440305", "500103", "510107", "610113", "210102", "220104", "230103", "360102", "410105", "450103")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红梅鹏飞建国志强海燕晓东春梅丹宇浩然子涵欣怡佳怡"
_CITIES = ("上海", "北京", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆")
_HOSPITAL = "复旦大学附属中山医院"
# What each form asked, as the demo's applications give it (services/demo/demo.py); the desk's own fields come later.
_DETAILS = {
    "car_pickup": {"direction": "home_to_hospital", "address": "上海市徐汇区示例路1号", "hospital": _HOSPITAL,
                   "distance_km": 18, "passengers": 2},
    "nursing_aide": {"hospital": _HOSPITAL, "ward_bed": "12病区 8床", "days": 7},
    "second_opinion": {"questions": "是否需要手术"},
    "remote_consultation": {"questions": "后续治疗方案"},
    "mdt": {"questions": "综合治疗方案"},
    "inpatient": {"hospital": _HOSPITAL, "department": "肿瘤内科"},
    "surgery": {"hospital": _HOSPITAL, "department": "肿瘤外科"},
}
_SLIP_FORMS = {"inpatient", "surgery", "car_pickup", "escort_inpatient", "nursing_aide"}
_REJECT_REASON = "diagnosis_not_covered"


@dataclass
class BookReport:
    insured: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n


def mobile_of(k: int) -> str:
    """The sign-in number of insured person k (a child's: its guardian's, GUARDIAN_PREFIX)."""
    return f"{MOBILE_PREFIX}{k:08d}"


def build(session: Session, now: datetime, insured: int, *, seed: int = 16, chunk: int = 2000, fresh: bool = True,
          progress: Callable[[str], None] | None = None) -> BookReport:
    """(Re)build the demo world, then add `insured` people with their history as of `now`. Commits per chunk."""
    require_aware(now, "now")
    started = clock.monotonic()
    if fresh:
        demo.build(session, now)
    gen = _Generator(session, now, seed)
    writer = _Writer(session)
    report = BookReport(insured=insured)
    for first in range(0, insured, chunk):
        rows = gen.people(range(first, min(insured, first + chunk)))
        writer.begin()
        for model in _ORDER:
            batch = rows.get(model.__tablename__)
            if batch:
                writer.write(model, batch)
                report.add(model.__tablename__, len(batch))
        session.commit()
        if progress:
            progress(f"{min(insured, first + chunk)} insured, {report.counts.get('bookings', 0)} applications, "
                     f"{clock.monotonic() - started:.0f} s")
    writer.finish()
    staff_queue.remember_all(session)  # the rows were written in bulk: place the waiting ones as the queue reads them
    session.commit()
    report.seconds = clock.monotonic() - started
    return report


_ORDER = (Person, Account, Policy, Diagnosis, ProxyGrant, Entitlement, Booking, BookingTransition, Notification,
          Document, DocumentPage)


class _Writer:
    """Bulk rows into tables: COPY on PostgreSQL, executemany elsewhere. Rows are dicts of Python values."""

    def __init__(self, session: Session):
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.trusted = self.pg

    def begin(self) -> None:
        """Start a chunk's transaction. On PostgreSQL the rows are valid by construction (the SQLite test checks
        every foreign key), so this transaction skips the per-row foreign-key triggers (SET LOCAL: it ends with
        the transaction). Needs a superuser; otherwise every key is checked as usual."""
        if not self.trusted:
            return
        try:
            with self.session.begin_nested():
                self.session.execute(text("SET LOCAL session_replication_role = replica"))
        except DBAPIError:
            self.trusted = False

    def write(self, model, rows: list[dict]) -> None:
        table = model.__table__
        if not self.pg:
            kinds = {name: _kind(table.c[name].type) for name in rows[0]}
            self.session.execute(table.insert(), [{name: _typed(kinds[name], value) for name, value in row.items()}
                                                  for row in rows])
            return
        columns = list(rows[0])
        raw = self.session.connection().connection.driver_connection
        names = ", ".join(columns)
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # table and column names of the models
                for row in rows:
                    copy.write_row(tuple(row.values()))  # every row of a table is built by one dict literal

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids given here."""
        if not self.pg:
            return
        for model in _ORDER:
            name = model.__tablename__
            last = f"COALESCE((SELECT MAX(id) FROM {name}), 1)"  # nosec B608 (a model's table name)
            self.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {last})"))
        self.session.execute(text("ANALYZE"))


# Rows hold what PostgreSQL stores (naive UTC instants, JSON text), so COPY takes them as they are; executemany
# goes through the models' column types, which want aware instants and Python objects back.
def _u(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment is not None else None


def _json(value) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value is not None else None


def _kind(column_type) -> str:
    return {"UTCDateTime": "instant", "JSON": "json"}.get(type(column_type).__name__, "plain")


def _typed(kind: str, value):
    if value is None or kind == "plain":
        return value
    return value.replace(tzinfo=timezone.utc) if kind == "instant" else json.loads(value)


class _Generator:
    def __init__(self, session: Session, now: datetime, seed: int):
        self.session, self.now, self.seed = session, now, seed
        self.today = china_date(now)
        self.catalog = default_catalog()
        self.products = {p.code: p for p in session.scalars(select(Product))}
        self.services = {(s.product_id, s.code): s for s in session.scalars(select(Service))}
        staff = {a.staff_role: a.id for a in session.scalars(select(Account).where(Account.staff_role.is_not(None)))}
        self.reviewer, self.coordinator = staff.get("reviewer"), staff.get("coordinator")
        self.next_id = {m.__tablename__: (session.scalar(select(func.max(m.id))) or 0) + 1 for m in _ORDER}
        self.numbers: set[str] = set()
        self.opened = 0
        self.promises: dict[tuple, date | None] = {}
        self.appointments: dict[tuple, dict] = {}

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _id_number(self, rng: random.Random, birth: date) -> str:
        while True:
            number = demo_resident_id(rng.choice(_REGIONS), birth, rng.randrange(1000))
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def _person(self, rows, rng: random.Random, birth: date, mobile: str | None) -> int:
        number = self._id_number(rng, birth)
        ciphertext, key_id = id_vault.encrypt(number)
        pid = self._id("persons")
        rows["persons"].append({"id": pid, "name": rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2)))),
                                "id_type": "resident_id", "id_number_ct": ciphertext, "id_number_key": key_id,
                                "id_number_index": id_vault.blind_index(number), "birth_date": birth, "mobile": mobile,
                                "created_at": _u(self.now - timedelta(days=rng.randrange(30, 1500)))})
        return pid

    def _account(self, rows, person_id: int, mobile: str, since: datetime) -> int:
        aid = self._id("accounts")
        rows["accounts"].append({"id": aid, "mobile": mobile, "person_id": person_id, "staff_role": None,
                                 "display_name": rows["persons"][-1]["name"] if rows["persons"][-1]["id"] == person_id else None,
                                 "locale": "zh_CN", "created_at": _u(since), "disabled_at": None, "claimed_person_id": None,
                                 "claimed_at": None, "identity_method": "policy_mobile", "identity_verified_at": _u(since),
                                 "identity_verified_by_id": None})
        return aid

    def people(self, ks: Iterable[int]) -> dict[str, list[dict]]:
        rows: dict[str, list[dict]] = {m.__tablename__: [] for m in _ORDER}
        for k in ks:
            self._one(rows, k)
        return rows

    def _one(self, rows, k: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + k)
        minor = rng.random() < MINOR_SHARE
        age_days = rng.randrange(3 * 365, 17 * 365) if minor else rng.randrange(25 * 365, 78 * 365)
        birth = self.today - timedelta(days=age_days)
        mobile = None if minor else mobile_of(k)
        joined = self.now - timedelta(days=rng.randrange(20, 1200))
        insured = self._person(rows, rng, birth, mobile)
        if minor:
            parent_birth = birth - timedelta(days=rng.randrange(24 * 365, 40 * 365))
            parent_mobile = f"{GUARDIAN_PREFIX}{k:08d}"
            parent = self._person(rows, rng, parent_birth, parent_mobile)
            reader = self._account(rows, parent, parent_mobile, joined)
            rows["proxy_grants"].append({
                "id": self._id("proxy_grants"), "public_id": hashlib.sha256(f"grant{k}".encode()).hexdigest()[:16],
                "grantee_account_id": reader, "insured_person_id": insured, "kind": "guardian_minor", "method": "papers",
                "relationship_label": rng.choice(("儿子", "女儿")), "scopes": "view,apply,documents", "status": "verified",
                "valid_from": None, "valid_until": adulthood(birth), "verified_by_id": self.reviewer,
                "verified_at": _u(joined + timedelta(days=1)), "rejection_reason": None, "created_at": _u(joined),
                "submitted_at": _u(joined), "decided_at": _u(joined + timedelta(days=1)), "revoked_at": None, "revoked_by_id": None,
                "ended_notice_at": None})
            acting_as = "guardian"
        else:
            reader = self._account(rows, insured, mobile, joined)
            acting_as = "self"
        codes = list(PRODUCT_MIX)
        product = rng.choices(codes, weights=list(PRODUCT_MIX.values()))[0]
        chosen = [product]
        if rng.random() < SECOND_POLICY_SHARE:
            chosen.append(rng.choice([c for c in codes if c != product]))
        stage = rng.random()
        stage = "waiting" if stage < WAITING_SHARE else "surrendered" if stage < WAITING_SHARE + SURRENDERED_SHARE else "active"
        open_one = stage == "active" and k % round(1 / OPEN_SHARE) == 3
        diagnosed = None
        for n, code in enumerate(chosen):
            policy, history = self._policy(rows, rng, k, n, code, insured, stage if n == 0 else "active")
            if diagnosed is None and stage != "waiting":
                diagnosed = self._diagnosis(rows, rng, insured, policy)
            if not history or diagnosed is None:
                continue
            share = MEAN_APPLICATIONS / len(chosen)
            count = max(1, int(rng.gauss(share, share / 3)))
            self._history(rows, rng, k, policy, self.catalog.product(code), reader, acting_as, count, open_one and n == 0, diagnosed)

    def _policy(self, rows, rng, k, n, code, insured, stage) -> tuple[dict, bool]:
        """A policy row, and whether it has a history of applications (not in its waiting period or cooling-off)."""
        product = self.catalog.product(code)
        window = product.service_window.years
        if stage == "waiting":
            effective = self.today - timedelta(days=rng.randrange(1, 85))
        elif stage == "surrendered" and k % 2:
            effective = self.today - timedelta(days=rng.randrange(5, 14))  # in cooling-off: no history
        else:
            span = (window or 4) * 365 - 30
            effective = self.today - timedelta(days=rng.randrange(100, max(101, span)))
        years = window or (self.today.year - effective.year + 1)
        row = {"id": self._id("policies"), "number": f"PB{n}-{k:09d}", "product_id": self.products[code].id,
               "holder_id": insured, "insured_id": insured, "effective_date": effective,
               "expiry_date": anniversary(effective, years), "cooling_off_days": 15, "waiting_days": 90,
               "is_renewal": False, "add_ons": "", "status": "in_force", "status_changed_on": None,
               "created_at": _u(china_datetime(effective - timedelta(days=3), time(10, 0)))}
        if stage == "surrendered" and k % 2:
            row.update(status="surrendered_cooling_off",
                       status_changed_on=min(self.today, effective + timedelta(days=rng.randrange(1, 5))))
        elif stage == "surrendered":
            row.update(status="surrendered", status_changed_on=self.today - timedelta(days=rng.randrange(1, 12)))
        rows["policies"].append(row)
        return row, stage != "waiting" and row["status"] != "surrendered_cooling_off"

    def _diagnosis(self, rows, rng, insured, policy) -> date:
        start = policy["effective_date"] + timedelta(days=policy["waiting_days"])
        span = max(1, (self.today - start).days - 30)
        diagnosed = start + timedelta(days=rng.randrange(min(span, 60)))
        rows["diagnoses"].append({"id": self._id("diagnoses"), "person_id": insured, "certainty": "confirmed",
                                  "diagnosed_on": diagnosed, "hospital": _HOSPITAL, "hospital_grade": "3A",
                                  "public_hospital": True, "verified_at": _u(china_datetime(diagnosed + timedelta(days=2), time(11))),
                                  "verified_by_id": self.reviewer})
        return diagnosed

    def _history(self, rows, rng, k, policy, product, reader, acting_as, count, open_one, diagnosed) -> None:
        facts = PolicyFacts(effective_date=policy["effective_date"], expiry_date=policy["expiry_date"], cooling_off_days=15,
                            waiting_days=90, is_renewal=False, status="in_force", status_changed_on=None, add_ons=())
        bookable = [s for s in product.services if s.bookable]
        first = max(diagnosed, policy["effective_date"] + timedelta(days=91))
        last = min(self.today - timedelta(days=25), policy["expiry_date"] - timedelta(days=1))
        days = sorted(first + timedelta(days=rng.randrange(max(1, (last - first).days))) for _ in range(count)) if last > first else []
        plans = [(day, None) for day in days]
        if open_one:
            plans.append((self.today - timedelta(days=rng.randrange(3, 12)), OPEN_STATES[0]))
        ledger: dict[tuple, dict] = {}
        for day, open_state in plans:
            service = rng.choice(bookable)
            self._booking(rows, rng, policy, product, service, facts, ledger, reader, acting_as, day, open_state)
        for (pool, start), ent in ledger.items():
            rows["entitlements"].append(ent)

    def _booking(self, rows, rng, policy, product, service, facts, ledger, reader, acting_as, day, open_state) -> None:
        now = self.now
        form = service.form.value
        units = 7 if form == "nursing_aide" else 1
        start, end = quota_period(product, service, facts, day)
        quota = quota_amount(service, facts)
        ent = ledger.get((service.pool, start))
        if ent is None:
            ent = ledger[(service.pool, start)] = {"id": self._id("entitlements"), "policy_id": policy["id"], "pool": service.pool,
                                                  "period_start": start, "period_end": end, "quota": quota, "held": 0, "used": 0}
        room = quota is None or ent["held"] + ent["used"] + units <= quota
        if open_state is not None:
            if not room:
                return  # the desk would refuse it: no application
            open_state = OPEN_STATES[self.opened % len(OPEN_STATES)]  # each in turn: a small book has them all
            self.opened += 1
        state = open_state or rng.choices(list(CLOSED_MIX), weights=list(CLOSED_MIX.values()))[0]
        if not room:
            state = State.WITHDRAWN if rng.random() < 0.6 else State.REJECTED
        if state is State.CANCELLED_COUNTED and not late_cancel_counts(service):
            state = State.CANCELLED_FREE
        applied = china_datetime(day, time(9 + rng.randrange(8), rng.randrange(60)))
        if applied > now:
            applied = now - timedelta(minutes=rng.randrange(5, 120))
        details = {"city": rng.choice(_CITIES), **_DETAILS.get(form, {"department": "肿瘤科"})}
        slip = day - timedelta(days=rng.randrange(1, 4)) if form in _SLIP_FORMS else None
        bid = self._id("bookings")
        reference = "LT" + _code(bid)
        path = _path(state)
        at = {State.APPLIED: applied, State.UNDER_REVIEW: applied + timedelta(hours=1),
              State.APPROVED: applied + timedelta(days=1, hours=2)}
        if open_state is None:
            starts = china_datetime(day + timedelta(days=rng.randrange(4, 12)), time(8 + rng.randrange(9), 30))
        else:
            starts = china_datetime(self.today + timedelta(days=rng.randrange(1, 9)), time(8 + rng.randrange(9), 30))
        at[State.SCHEDULED] = min(applied + timedelta(days=2, hours=3), now - timedelta(minutes=5))
        at[path[-1]] = at.get(path[-1]) or _ending_at(state, applied, starts)
        approved = at[State.APPROVED] if State.APPROVED in path else None
        arrange_by = self._promise(product, service, applied, approved, slip)
        scheduled = State.SCHEDULED in path
        appointment = self._appointment(product, service, units, details) if scheduled else None
        booking = {
            "id": bid, "reference": reference, "policy_id": policy["id"], "service_id": self.services[(policy["product_id"], service.code)].id,
            "entitlement_id": ent["id"], "applicant_account_id": reader, "acting_as": acting_as, "request_key": f"book-{bid}",
            "state": state.value, "units": units, "change_rule": service.change_rule, "details": _json(details),
            "admission_slip_date": slip, "applied_at": _u(applied), "papers_complete_at": _u(approved),
            "approved_at": _u(approved), "arrange_by": arrange_by, "starts_at": _u(starts) if scheduled else None,
            "appointment": _json(appointment), "closed_at": None if open_state else _u(at[path[-1]]), "use_reversed_at": None,
            "updated_at": _u(at[path[-1]]),
        }
        rows["bookings"].append(booking)
        spend = 0
        if state is State.COMPLETED or state is State.CANCELLED_COUNTED:
            spend = units
        elif state is State.NO_SHOW:
            spend = units_spent(service, "no_show", starts_at=starts, at=at[state], booked_units=units, served_units=0)
        if open_state is not None:
            ent["held"] += units
        ent["used"] += spend
        previous = None
        customer = "customer" if acting_as == "self" else "proxy"
        for step in path:
            effect, actor, role, rule, reason, detail, step_units = "none", self.reviewer, "staff", None, None, {}, None
            if step is State.APPLIED:
                effect, actor, role = "hold", reader, customer
            elif step is State.APPROVED:
                detail = {"arrange_by": arrange_by.isoformat() if arrange_by else None}
            elif step is State.SCHEDULED:
                actor = self.coordinator
                deadline = change_deadline(service.change_rule, starts)
                detail = {"starts_at": starts.isoformat(), "free_change_until": deadline.isoformat() if deadline else None}
            elif step is State.COMPLETED:
                effect, actor, rule, step_units = "spend", self.coordinator, "delivered", units
                detail = {"starts_at": starts.isoformat(), "recorded_at": at[step].isoformat(), "units": units}
            elif step is State.NO_SHOW:
                effect, actor = ("spend", self.coordinator) if spend else ("release", self.coordinator)
                rule, step_units = ("no_show", spend) if spend else ("no_show_uncounted", None)
                detail = {"starts_at": starts.isoformat(), "recorded_at": at[step].isoformat(), "units": spend}
            elif step in (State.CANCELLED_FREE, State.CANCELLED_COUNTED):
                effect = "spend" if step is State.CANCELLED_COUNTED else "release"
                actor, role, rule = reader, customer, service.change_rule
                if service.change_rule == "never":  # not online: the desk recorded the customer's call
                    actor, role = self.coordinator, "staff"
                step_units = units if step is State.CANCELLED_COUNTED else None
                deadline = change_deadline(service.change_rule, starts)
                detail = {"at": at[step].isoformat(), "starts_at": starts.isoformat(),
                          "free_until": deadline.isoformat() if deadline else None}
            elif step is State.WITHDRAWN:
                effect, actor, role = "release", reader, customer
            elif step is State.REJECTED:
                effect, reason = "release", _REJECT_REASON
            tid = self._id("booking_transitions")
            rows["booking_transitions"].append({
                "id": tid, "booking_id": bid, "from_state": previous.value if previous else None, "to_state": step.value,
                "actor_account_id": actor, "actor_role": role, "at": _u(at[step]), "quota_effect": effect,
                "units": step_units, "rule": rule, "reason": reason, "detail": _json(detail)})
            moment = at[step]
            payload = {"reference": reference, "service_code": service.code, "state": step.value,
                       "from_state": previous.value if previous else None, "rule": rule,
                       "starts_at": None, "free_until": None, "reason": reason}
            if step is State.SCHEDULED or _after(path, step):  # the booking had its appointment by then
                payload.update(starts_at=_iso(starts), free_until=_iso(change_deadline(service.change_rule, starts)))
            if step is State.SCHEDULED:
                payload["arrangement"] = arrangements.when_key(appointment)
            rows["notifications"].append({
                "id": self._id("notifications"), "account_id": reader, "subject_person_id": policy["insured_id"],
                "booking_id": bid, "kind": "status", "dedupe_key": f"transition:{tid}", "payload": _json(payload),
                "created_at": _u(moment), "read_at": _u(moment + timedelta(hours=2)) if moment < now - timedelta(days=1) else None,
                "sent_at": None})
            previous = step
        self._papers(rows, rng, booking, details, service, reader, policy["insured_id"],
                     None if open_state else at[path[-1]], applied)

    def _papers(self, rows, rng, booking, details, service, reader, insured, closed, applied) -> None:
        kinds = documents_for(service, details)
        if booking["acting_as"] == "guardian":
            kinds = (*kinds, "applicant_id", "guardianship_proof")
        if not kinds:
            return
        purged = closed is not None and closed < self.now - RETENTION
        state = booking["state"]
        for position, kind in enumerate(kinds):
            status = "purged" if purged else _paper_status(state, rng, position)
            did = self._id("documents")
            rows["documents"].append({
                "id": did, "booking_id": booking["id"], "proxy_grant_id": None, "person_id": insured, "kind": kind, "status": status,
                "status_reason": "retention" if purged else None, "created_at": booking["applied_at"],
                "updated_at": booking["updated_at"]})
            if status in ("purged", "missing"):
                continue
            pid = self._id("document_pages")
            sent = applied + timedelta(minutes=20)
            decided = status in ("accepted", "unreadable", "rejected")
            rows["document_pages"].append({
                "id": pid, "public_id": f"bk{pid:012d}", "document_id": did, "position": 0,
                "storage_key": f"book{pid:012d}", "thumbnail_key": f"book{pid:012d}.t",
                "sha256": hashlib.sha256(b"%d" % pid).hexdigest(), "width": 1536, "height": 2048,
                "byte_size": 280_000 + pid % 150_000, "source_format": "JPEG", "display_name": None,
                "status": status, "status_reason": "blurred" if status == "unreadable" else None, "replaces_id": None,
                "uploaded_by_id": reader, "created_at": _u(applied + timedelta(minutes=10)),
                "submitted_at": None if status == "draft" else _u(sent),
                "decided_at": _u(sent + timedelta(hours=1)) if decided else None,
                "decided_by_id": self.reviewer if decided else None})

    def _promise(self, product, service, applied, approved, slip) -> date | None:
        """The real promise (services/deadlines.py), kept per product, service, day and hour: every generated
        application is made and approved between 09:00 and 17:59, inside every desk's hours, so only the day counts."""
        key = (product.code, service.code, applied.date(), approved and approved.date(), slip)
        if key not in self.promises:
            events = {"applied": applied, "approved": approved, "papers_complete": approved,
                      "admission_slip": deadlines.slip_moment(slip)}
            self.promises[key] = deadlines.promise(service.arrangement, product.hours_for(service), events).by
        return self.promises[key]

    def _appointment(self, product, service, units, details) -> dict:
        """What the coordinator typed, checked as the console checks it (the demo's own values)."""
        key = (product.code, service.code, units)
        if key not in self.appointments:
            spec = arrangements.spec_for(product, service, units=units)
            local = to_china(self.now + timedelta(days=3))
            typed = {**demo._TYPED[spec.kind], **arrangements.prefill(spec, details, units=units),
                     "date": local.date().isoformat(), "time": f"{local:%H:%M}"}
            appointment, errors = arrangements.parse(spec, typed, now=self.now)
            if errors:
                raise RuntimeError(f"book arrangement of {service.code} refused: {errors}")
            self.appointments[key] = appointment.details
        return self.appointments[key]


def _path(state: State) -> tuple[State, ...]:
    through = {State.APPLIED: (), State.UNDER_REVIEW: (State.UNDER_REVIEW,),
               State.APPROVED: (State.UNDER_REVIEW, State.APPROVED),
               State.SCHEDULED: (State.UNDER_REVIEW, State.APPROVED, State.SCHEDULED),
               State.REJECTED: (State.UNDER_REVIEW, State.REJECTED), State.WITHDRAWN: (State.WITHDRAWN,)}
    steps = through.get(state, (State.UNDER_REVIEW, State.APPROVED, State.SCHEDULED, state))
    return (State.APPLIED, *steps)


def _after(path: tuple[State, ...], step: State) -> bool:
    """Whether `step` comes after the booking was scheduled (its messages carry the appointment)."""
    return State.SCHEDULED in path and path.index(step) > path.index(State.SCHEDULED)


def _ending_at(state: State, applied: datetime, starts: datetime) -> datetime:
    if state in (State.COMPLETED, State.NO_SHOW):
        return starts + timedelta(hours=3)
    if state in (State.CANCELLED_FREE, State.CANCELLED_COUNTED):
        return starts - timedelta(days=1) if state is State.CANCELLED_FREE else starts - timedelta(hours=1)
    return applied + timedelta(days=1, hours=5)  # withdrawn, rejected


def _paper_status(state: str, rng: random.Random, position: int) -> str:
    if state == State.APPLIED.value:
        return ("draft", "received", "missing")[rng.randrange(3)] if position else "received"
    if state == State.UNDER_REVIEW.value:
        return "unreadable" if position == 1 and rng.random() < 0.2 else "received"
    if state == State.REJECTED.value:
        return "rejected" if position == 0 else "accepted"
    if state == State.WITHDRAWN.value:
        return "received"
    return "accepted"


def _iso(moment: datetime | None) -> str | None:
    return to_china(moment).isoformat() if moment is not None else None


_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _code(n: int) -> str:
    """Eight reference characters from an id, scrambled (an odd multiplier mod 32^8 is a bijection: no clash)."""
    value = (n * 0x5DEECE66D + 0xB) % (32 ** 8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(chars)
