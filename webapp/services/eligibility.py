"""May this person use this service on this policy now? Allowed, or every reason not, each with the day it
stops applying where there is one. Plain facts in, translation keys out; no database, no Flask.

Seeds: a service is only for the insured (000 2.4(1), 2.5(1); a guardian or an agent may apply for them:
003 医疗垫付 材料 8, 重疾住院护工 服务声明 2); the policy must be in force and past cooling-off (000 2.5(2),
2.8) and the waiting period (002 一、2(1): "等待期90天（含）后"); the illness first diagnosed after the policy
started (000 Q&A) — after the cooling-off period for 000 ("犹豫期后…确诊或疑似罹患"), after the waiting period
for 002/004 ("等待期后…初次罹患") — by a public hospital of the product's grade (000 2.4(3): 二甲; 001 注意事项1 and
003: 二级); quotas per policy year or service term.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Mapping, Sequence

from .clock import china_date
from .policy_years import anniversary, cooling_off_ends, policy_year_bounds, waiting_period_ends
from .products.catalog import Diagnosis as DiagnosisNeed
from .products.catalog import HospitalGrade, Product, Proxy, QuotaPeriod, Service

GRADE_RANK = {HospitalGrade.LEVEL_2.value: 1, HospitalGrade.LEVEL_2A.value: 2, HospitalGrade.LEVEL_3A.value: 3}
INFORCE = "in_force"


@dataclass(frozen=True)
class PolicyFacts:
    effective_date: date
    expiry_date: date  # exclusive
    cooling_off_days: int
    waiting_days: int
    is_renewal: bool = False
    status: str = INFORCE  # in_force | surrendered_cooling_off | surrendered | lapsed
    status_changed_on: date | None = None
    add_ons: tuple[str, ...] = ()  # catalog add-on codes bought with the policy (Policy.add_ons)


@dataclass(frozen=True)
class DiagnosisFacts:
    certainty: str  # suspected | confirmed
    diagnosed_on: date
    hospital_grade: str
    public_hospital: bool = True


@dataclass(frozen=True)
class Actor:
    """How the acting person relates to the insured: self, guardian, power_of_attorney, or none."""

    relation: str
    verified: bool = True


SELF = Actor("self")


@dataclass(frozen=True)
class Usage:
    quota: int | None
    held: int
    used: int

    @property
    def left(self) -> int | None:
        """Uses (or days) still free to apply for: neither spent nor held by an application in progress."""
        return None if self.quota is None else max(self.quota - self.used - self.held, 0)


def usage_from(row, quota: int | None) -> Usage:
    """The usage a period's entitlement row (or None: nothing held or spent yet) records, with the quota the policy
    has now: a row made before an add-on was recorded counts the add-on's larger quota (it is raised, never lowered)."""
    if row is None:
        return Usage(quota, 0, 0)
    if row.quota is not None and quota is not None:
        return Usage(max(row.quota, quota), row.held, row.used)
    return Usage(row.quota, row.held, row.used)


@dataclass(frozen=True)
class Reason:
    key: str
    until: date | None = None
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Eligibility:
    reasons: tuple[Reason, ...]

    @property
    def allowed(self) -> bool:
        return not self.reasons

    def keys(self) -> list[str]:
        return [r.key for r in self.reasons]


def service_window_end(product: Product, policy: PolicyFacts) -> date:
    """The day (exclusive) after which the product's services can no longer be used on this policy."""
    end = policy.expiry_date
    if product.service_window.years is not None:
        end = min(end, anniversary(policy.effective_date, product.service_window.years))
    return end


def quota_amount(service: Service, policy: PolicyFacts) -> int | None:
    """The quota of `service` on this policy: the catalog's amount, or its add-on's where the policy has the add-on
    (003 门诊陪诊 三 表 lines 1526-1530: "若您同时加购了门急诊加油包/补充责任的，5次/年")."""
    return service.quota.amount_for(policy.add_ons) if service.quota is not None else None


def quota_period(product: Product, service: Service, policy: PolicyFacts, on: date) -> tuple[date, date]:
    """The period (start inclusive, end exclusive) whose quota a use on `on` spends."""
    if service.quota is not None and service.quota.period is QuotaPeriod.SERVICE_TERM:
        return policy.effective_date, service_window_end(product, policy)
    return policy_year_bounds(policy.effective_date, max(on, policy.effective_date))


def check(
    product: Product,
    service: Service,
    policy: PolicyFacts,
    actor: Actor,
    now: datetime,
    *,
    diagnoses: Sequence[DiagnosisFacts] = (),
    usage: Usage | None = None,
    units: int = 1,
) -> Eligibility:
    """Every reason `actor` may not apply for `service` on `policy` at `now` (China date), in display order."""
    today = china_date(now)
    reasons: list[Reason] = []
    if not service.bookable:
        reasons.append(Reason("service.information_only"))
    reasons += _actor_reasons(service, actor)
    reasons += _policy_reasons(product, policy, today)
    if service.diagnosis is not DiagnosisNeed.NONE:
        reasons += _diagnosis_reasons(product, service, policy, diagnoses)
        if service.within_policy_year_of_diagnosis:
            reasons += _first_illness_year_reasons(policy, diagnoses, today)
    if usage is not None and service.bookable:
        reasons += _quota_reasons(product, service, policy, usage, units, today)
    return Eligibility(tuple(reasons))


def _actor_reasons(service: Service, actor: Actor) -> list[Reason]:
    if actor.relation == "self":
        return []
    if actor.relation not in {p.value for p in Proxy}:
        return [Reason("actor.not_entitled")]
    if not actor.verified:
        return [Reason("actor.proxy_pending")]
    if Proxy(actor.relation) not in service.proxies:
        return [Reason("actor.proxy_not_accepted")]
    return []


def _policy_reasons(product: Product, policy: PolicyFacts, today: date) -> list[Reason]:
    if policy.status == "surrendered_cooling_off":
        # 000 2.8: "若在犹豫期内退保，本服务自动失效"
        return [Reason("policy.surrendered_cooling_off")]
    if policy.status in ("surrendered", "lapsed"):
        return [Reason(f"policy.{policy.status}")]
    if today < policy.effective_date:
        return [Reason("policy.not_yet_effective", until=policy.effective_date)]
    if today >= policy.expiry_date:
        return [Reason("policy.expired")]
    if today >= service_window_end(product, policy):
        return [Reason("service.window_closed")]
    reasons = []
    cooling_end = cooling_off_ends(policy.effective_date, policy.cooling_off_days)
    if today < cooling_end:
        reasons.append(Reason("policy.cooling_off", until=cooling_end))
    if not policy.is_renewal:
        waiting_end = waiting_period_ends(policy.effective_date, policy.waiting_days)
        if today < waiting_end:
            reasons.append(Reason("policy.waiting_period", until=waiting_end))
    return reasons


def first_diagnosis_reason(product: Product, policy: PolicyFacts, first: date) -> Reason | None:
    """Why an illness first diagnosed on `first` is not covered, or None: before the policy (000 Q&A: "投保前已经
    罹患…不能"), inside the cooling-off period where the seed says "犹豫期后不幸确诊或疑似罹患" (000 Q&A line 232),
    or inside the waiting period where the seed says "等待期后…初次罹患" (002 一 2(1); 004 一 1 line 37)."""
    if first < policy.effective_date:
        return Reason("diagnosis.before_policy")
    if product.diagnosis_after == "cooling_off_end":
        if first < cooling_off_ends(policy.effective_date, policy.cooling_off_days):
            return Reason("diagnosis.in_cooling_off")
    if product.diagnosis_after == "waiting_period_end" and not policy.is_renewal:
        if first < waiting_period_ends(policy.effective_date, policy.waiting_days):
            return Reason("diagnosis.in_waiting_period")
    return None


def _diagnosis_reasons(
    product: Product, service: Service, policy: PolicyFacts, diagnoses: Sequence[DiagnosisFacts]
) -> list[Reason]:
    if diagnoses:
        too_early = first_diagnosis_reason(product, policy, min(d.diagnosed_on for d in diagnoses))
        if too_early:
            return [too_early]
    if service.diagnosis is DiagnosisNeed.SUSPECTED:
        return []  # the papers come with the application and are reviewed there
    need = GRADE_RANK[product.min_hospital_grade.value]
    qualifying = [
        d for d in diagnoses
        if d.certainty == "confirmed" and d.public_hospital and GRADE_RANK.get(d.hospital_grade, 0) >= need
    ]
    return [] if qualifying else [Reason("diagnosis.missing")]


def first_illness_year(policy: PolicyFacts, diagnoses: Sequence[DiagnosisFacts]) -> tuple[date, date] | None:
    """The policy year (start inclusive, end exclusive) in which the first critical illness on file was diagnosed:
    the earliest verified diagnosis, suspected or confirmed (the illness's onset, as `first_diagnosis_reason` takes it).
    None without a diagnosis on file, or one before the policy (refused as such)."""
    if not diagnoses:
        return None
    first = min(d.diagnosed_on for d in diagnoses)
    if first < policy.effective_date:
        return None
    return policy_year_bounds(policy.effective_date, first)


def _first_illness_year_reasons(policy: PolicyFacts, diagnoses: Sequence[DiagnosisFacts], today: date) -> list[Reason]:
    """003 重疾绿通PLUS 特别说明(1) line 745, 预留高端病房 特别说明(1) line 468: "限客户首发重大疾病后一个保单年度内使用一次"
    — usable only in the policy year in which the first critical illness was diagnosed. Without a diagnosis on file the
    papers sent with the application show it and the desk checks; nothing is refused here."""
    year = first_illness_year(policy, diagnoses)
    if year is None or today < year[1]:
        return []
    first = min(d.diagnosed_on for d in diagnoses)
    last_day = year[1] - timedelta(days=1)
    return [Reason("diagnosis.first_year_over", params={"diagnosed": first.isoformat(), "last_day": last_day.isoformat()})]


def _quota_reasons(
    product: Product, service: Service, policy: PolicyFacts, usage: Usage, units: int, today: date
) -> list[Reason]:
    if usage.quota is None:
        return []
    start, end = quota_period(product, service, policy, today)
    resets = end if end < service_window_end(product, policy) else None
    if usage.used >= usage.quota:
        return [Reason("quota.used_up", until=resets)]
    if usage.left == 0:
        return [Reason("quota.in_progress")]
    if units > usage.left:
        return [Reason("quota.not_enough", params={"remaining": usage.left})]
    return []
