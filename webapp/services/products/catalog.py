"""The service catalog: one YAML file per product under webapp/catalog/, validated on load.

The files are the five seed manuals (shared/seeds/) restated as data. Every service names the seed file and
section it comes from. A file that does not validate stops the loader with a message naming the file and
the field, so a typo can never reach a customer as a wrong promise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"
SEEDS = {
    "000_3e625f6bdab9afbc.txt",
    "001_baf1831c86c5aecd.txt",
    "002_ee5a6d29ccbb58a1.txt",
    "003_31b5f5788050423d.txt",
    "004_33f0be092a29cea5.txt",
}
CHANGE_RULE = re.compile(r"^(noon_day_before|never|hours_before:[1-9][0-9]{0,2})$")


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A user-visible string in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.zh


class SeedRef(_Strict):
    file: str
    section: str = Field(min_length=1)

    @field_validator("file")
    @classmethod
    def _known_seed(cls, value: str) -> str:
        if value not in SEEDS:
            raise ValueError(f"unknown seed file {value!r}; expected one of {sorted(SEEDS)}")
        return value


class QuotaUnit(str, Enum):
    COUNT = "count"  # uses per period ("1 次/保单年度")
    DAYS = "days"  # days per period (nursing aide: "累计不超过30日")
    UNLIMITED = "unlimited"


class QuotaPeriod(str, Enum):
    POLICY_YEAR = "policy_year"  # resets on each anniversary; unused uses expire (002)
    SERVICE_TERM = "service_term"  # once within the product's whole service window (000 2.2, 001)


class AddOn(_Strict):
    """A larger quota for policies bought with an add-on (003 门诊陪诊 三 表 lines 1526-1530: "若您同时加购了门急诊
    加油包/补充责任的，5次/年"). `code` is what the insurer's import writes into `Policy.add_ons`."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{2,40}$")
    amount: int = Field(ge=1)


class Quota(_Strict):
    unit: QuotaUnit
    amount: int | None = None
    period: QuotaPeriod = QuotaPeriod.POLICY_YEAR
    # Services naming the same pool spend one shared quota (001: "保单有效期内…申请一次").
    pool: str | None = None
    add_on: AddOn | None = None

    @model_validator(mode="after")
    def _amount_matches_unit(self) -> "Quota":
        if self.unit is QuotaUnit.UNLIMITED and self.amount is not None:
            raise ValueError("an unlimited quota takes no amount")
        if self.unit is not QuotaUnit.UNLIMITED and (self.amount is None or self.amount < 1):
            raise ValueError("a count or days quota needs an amount of at least 1")
        if self.add_on is not None and (self.amount is None or self.add_on.amount <= self.amount):
            raise ValueError("an add-on must raise a limited quota")
        return self

    def amount_for(self, add_ons: Iterable[str] = ()) -> int | None:
        """The amount for a policy bought with `add_ons` (codes)."""
        if self.add_on is not None and self.add_on.code in set(add_ons):
            return self.add_on.amount
        return self.amount


class DeadlineEvent(str, Enum):
    APPLICATION = "application"  # 004: "门诊在客户预约申请后5个工作日内"
    APPROVAL = "approval"  # 000 2.7: "自客户服务资格审核通过时5个工作日内"
    COMPLETE_PAPERS = "complete_papers"  # 003: "自收齐完整病历资料起3个工作日内"
    ADMISSION_SLIP_DATE = "admission_slip_date"  # 000 2.7, 002, 004: "住院单开具之日起"


class Arrangement(_Strict):
    """Arranged within `working_days` of the latest of the application and every event in `counted_from`.

    Several events when the seed names several (002 二 2(3) line 181: "在服务商收到被保险人服务申请、审核通过
    被保险人服务资格、被保险人提供服务商要求的相关资料且住院条开具之日起10个工作日内安排"). `without_slip` is
    the first step when a service counted from the admission slip is applied for without one (001 二【服务流程】
    lines 95-109: an expert visit within 3 working days; the admission then counts from the slip it yields).
    """

    working_days: int = Field(ge=1, le=60)
    counted_from: tuple[DeadlineEvent, ...] = Field(min_length=1)
    without_slip: Arrangement | None = None

    @field_validator("counted_from", mode="before")
    @classmethod
    def _one_or_several(cls, value):
        return (value,) if isinstance(value, (str, DeadlineEvent)) else value

    @model_validator(mode="after")
    def _first_step_needs_a_slip(self) -> "Arrangement":
        if self.without_slip is not None:
            if DeadlineEvent.ADMISSION_SLIP_DATE not in self.counted_from:
                raise ValueError("without_slip applies only to an arrangement counted from the admission slip")
            if DeadlineEvent.ADMISSION_SLIP_DATE in self.without_slip.counted_from:
                raise ValueError("without_slip cannot itself wait for the admission slip")
        return self

    @property
    def from_slip(self) -> bool:
        return DeadlineEvent.ADMISSION_SLIP_DATE in self.counted_from


class Hours(_Strict):
    """When a person at the service desk looks at applications."""

    # workdays: statutory working days, adjusted working weekends (调休) included (DOMAIN.md, 工作日).
    # weekdays: Monday to Friday only, and not on a public holiday or a weekday given off for one; an adjusted
    # working Saturday or Sunday stays closed (000 （一）2.3 line 38: "受理时间为周一至周五：09：00-18：00（国家法定节假日
    # 除外）" names the weekdays, not the working days).
    days: Literal["workdays", "weekdays", "daily"]
    opens: time
    closes: time
    closed_for_spring_festival: bool = False  # 001: "春节法定假期不提供服务"

    @model_validator(mode="after")
    def _opens_before_closes(self) -> "Hours":
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


class Choice(_Strict):
    city: bool = False
    hospital: bool = False
    department: bool = False
    doctor: bool = False
    admission_date: bool = False  # 000 （二）1.1(2) line 122: "预约住院时间、预约医院、预约科室"


class UsageEvent(str, Enum):
    """What spends a use besides the service being delivered (all cite their seed in the YAML)."""

    NO_SHOW = "no_show"
    LATE_ARRIVAL = "late_arrival"
    CANCEL_AFTER_CUTOFF = "cancel_after_cutoff"
    # A change after the deadline is still taken, and spends the use (003 同城专车接送 Q&A(2) lines 634-638).
    CHANGE_AFTER_CUTOFF = "change_after_cutoff"
    CANCEL_ANY_TIME = "cancel_any_time"
    CHANGED_HOSPITAL = "changed_hospital"
    NO_MEDICAL_INDICATION = "no_medical_indication"
    DISCHARGED_BEFORE_SURGERY = "discharged_before_surgery"


class Document(str, Enum):
    DIAGNOSIS = "diagnosis"  # 病历 / 诊断报告 (suspected or confirmed)
    PATHOLOGY_REPORT = "pathology_report"  # 病理诊断报告, when confirmed
    MEDICAL_RECORDS = "medical_records"  # 门诊病历、出院小结、检查报告…
    ADMISSION_SLIP = "admission_slip"
    DISCHARGE_PROOF = "discharge_proof"
    EXAM_ORDER = "exam_order"
    DOCTOR_CERTIFICATE = "doctor_certificate"  # lying-down transport (003 同城专车接送 (3))
    ID_CARD = "id_card"
    APPLICANT_ID = "applicant_id"  # 申请人身份证明: someone applying for the insured (003 医疗垫付 材料 g, line 331)
    GUARDIANSHIP_PROOF = "guardianship_proof"  # birth certificate / household register page, or a court's designation
    INCAPACITY_PROOF = "incapacity_proof"  # 无民事行为能力证明: a court judgment or a medical assessment (003 护工 服务声明 2)
    POWER_OF_ATTORNEY = "power_of_attorney"


class Proxy(str, Enum):
    GUARDIAN = "guardian"  # of a minor or incapacitated insured
    POWER_OF_ATTORNEY = "power_of_attorney"


class HospitalGrade(str, Enum):
    LEVEL_2 = "2"  # 二级
    LEVEL_2A = "2A"  # 二甲
    LEVEL_3A = "3A"  # 三甲


class Diagnosis(str, Enum):
    NONE = "none"
    SUSPECTED = "suspected"  # a suspected diagnosis is enough; it is checked with the application
    CONFIRMED = "confirmed"  # a confirmed diagnosis must be on file before applying


class BookingForm(str, Enum):
    EXPERT_OUTPATIENT = "expert_outpatient"
    INPATIENT = "inpatient"
    SURGERY = "surgery"
    EXAM_FASTPASS = "exam_fastpass"
    CAR_PICKUP = "car_pickup"
    ESCORT_OUTPATIENT = "escort_outpatient"
    ESCORT_INPATIENT = "escort_inpatient"
    SECOND_OPINION = "second_opinion"
    MDT = "mdt"
    NURSING_AIDE = "nursing_aide"
    REMOTE_CONSULTATION = "remote_consultation"


NotePage = Literal["card", "apply", "booking", "cancel"]


class Note(_Strict):
    """A seed contradiction or an interpretation we had to make, recorded where it applies.

    A note whose seed text promises the customer something (a line open 7×24, an exception, an exclusion) carries
    `tell`: the seed's own words in Chinese and their English, shown on the pages in `show` ("cancel" is the
    cancel and change confirmations)."""

    seed: SeedRef
    text: str
    decision: str
    tell: Text | None = None
    show: tuple[NotePage, ...] = ("card", "apply", "booking")


PURPOSES = ("apply", "change_cancel", "urgent", "complaints")


class PhoneLine(_Strict):
    """One number a customer calls, with its hours as the seed gives them."""

    number: str = Field(pattern=r"^\+?[0-9][0-9 -]{2,22}[0-9]$")
    hours: Text
    seed: SeedRef
    abroad: str | None = Field(default=None, pattern=r"^\+[0-9][0-9 -]{5,22}[0-9]$")  # to dial from outside mainland China


class Phones(_Strict):
    """The lines by purpose: applying, changing or cancelling, urgent questions, complaints. A product names all
    four; a service names only those that differ from its product's (services/products/phones.py resolves them)."""

    apply: PhoneLine | None = None
    change_cancel: PhoneLine | None = None
    urgent: PhoneLine | None = None
    complaints: PhoneLine | None = None


class Service(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{2,40}$")
    kind: Literal["bookable", "information"]
    name: Text
    summary: Text
    seed: SeedRef
    # bookable services
    form: BookingForm | None = None
    quota: Quota | None = None
    diagnosis: Diagnosis = Diagnosis.SUSPECTED
    documents: tuple[Document, ...] = ()
    arrangement: Arrangement | None = None
    change_rule: str | None = None
    counts_as_used: tuple[UsageEvent, ...] = ()
    late_arrival_minutes: int | None = None  # 000 2.9(5): "无故迟到30分钟（含）以上"
    choose: Choice = Choice()
    excluded_departments: tuple[Text, ...] = ()
    coverage_cities: tuple[Text, ...] | None = None  # None: the product's list, or anywhere
    acceptance_hours: Hours | None = None  # None: the product's
    advance_working_days: int | None = None  # 001: "客户提前5个工作日…预约"
    # The desk says whether the service starts within this many working days of complete papers: 003 "收到完整
    # 材料后的一个工作日内审核材料决定是否启动" (line 949); 004 海外第二诊疗意见 line 287 "2个工作日内，回复被保险人
    # 是否启动海外第二诊疗意见".
    decision_working_days: int = Field(default=1, ge=1, le=10)
    max_distance_km: int | None = None  # 003 同城专车接送: "100公里以内（含）"
    # The vendor's medical service specialist contacts the customer within about this many hours of the application
    # (000 （一）1.2 line 18, （二）1.2 line 124: "客户申请服务后约2小时即可收到我司指定医疗服务专员的联络信息").
    specialist_contact_hours: int | None = Field(default=None, ge=1, le=72)
    # Usable only in the policy year in which the first critical illness was diagnosed (003 重疾绿通PLUS 特别说明(1)
    # line 745, 预留高端病房 特别说明(1) line 468: "限客户首发重大疾病后一个保单年度内使用一次").
    within_policy_year_of_diagnosis: bool = False
    discharge_within_days: int | None = None  # 003 同城专车接送: "出院日期5日内"
    requires_admission_slip: bool = False
    proxies: tuple[Proxy, ...] = (Proxy.GUARDIAN, Proxy.POWER_OF_ATTORNEY)
    # information services
    hotline: str | None = None
    hours: Text | None = None
    phones: Phones = Phones()  # only the purposes whose line differs from the product's
    # 000 （一）2.9(7) line 104: "客户指定同一专家预约成功后，如因客户自身原因取消服务超过3次，我司有权拒绝客户预约该专家看诊"
    expert_cancellation_limit: int | None = Field(default=None, ge=1)
    notes: tuple[Note, ...] = ()

    @field_validator("change_rule")
    @classmethod
    def _known_change_rule(cls, value: str | None) -> str | None:
        if value is not None and not CHANGE_RULE.match(value):
            raise ValueError("expected noon_day_before, hours_before:N or never")
        return value

    @model_validator(mode="after")
    def _complete_for_kind(self) -> "Service":
        if self.kind == "bookable":
            missing = [f for f in ("form", "quota", "arrangement", "change_rule") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"a bookable service needs {', '.join(missing)}")
            if UsageEvent.LATE_ARRIVAL in self.counts_as_used and self.late_arrival_minutes is None:
                raise ValueError("late_arrival counts as used but late_arrival_minutes is missing")
            if self.expert_cancellation_limit is not None and not self.choose.doctor:
                raise ValueError("expert_cancellation_limit needs a service where the customer names the doctor")
            if self.within_policy_year_of_diagnosis and self.diagnosis is Diagnosis.NONE:
                raise ValueError("within_policy_year_of_diagnosis needs a service that asks for a diagnosis")
        elif self.hotline is None or self.hours is None:
            raise ValueError("an information service needs hotline and hours")
        return self

    @property
    def bookable(self) -> bool:
        return self.kind == "bookable"

    @property
    def pool(self) -> str:
        """The quota this service spends: its own, or a pool shared with others."""
        return (self.quota.pool if self.quota and self.quota.pool else None) or self.code


class ServiceWindow(_Strict):
    """How long after the effective date the services may be used at all."""

    # 000 2.8: "本服务有效期为一年为保单生效之日起一年内有效" -> years: 1
    # 002: "至第3个保单生效日零时止" -> years: 3; None: as long as the policy is in force.
    years: int | None = Field(default=None, ge=1, le=50)


class Product(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{2,40}$")
    name: Text
    insurer: Text
    vendor: Text
    seed: SeedRef
    hotline: str
    phones: Phones
    acceptance_hours: Hours
    service_window: ServiceWindow = ServiceWindow()
    # The illness must be first diagnosed on or after this day: 002/004 "等待期后，被保险人初次罹患" -> waiting_period_end;
    # 000 Q&A line 232 "在本保险产品犹豫期后不幸确诊或疑似罹患" -> cooling_off_end; otherwise not before the policy.
    diagnosis_after: Literal["effective_date", "cooling_off_end", "waiting_period_end"] = "effective_date"
    min_hospital_grade: HospitalGrade = HospitalGrade.LEVEL_2A
    coverage_cities: tuple[Text, ...] = ()  # empty: all of mainland China
    services: tuple[Service, ...] = Field(min_length=1)
    notes: tuple[Note, ...] = ()

    @model_validator(mode="after")
    def _phones_complete(self) -> "Product":
        missing = [p for p in PURPOSES if getattr(self.phones, p) is None]
        if missing:
            raise ValueError(f"phones needs every purpose; missing {', '.join(missing)}")
        if self.phones.apply.number != self.hotline:
            raise ValueError(f"phones.apply ({self.phones.apply.number}) is not the hotline ({self.hotline})")
        for service in self.services:
            applies_on = (service.phones.apply or self.phones.apply).number
            if service.hotline is not None and service.hotline != applies_on:
                raise ValueError(f"service {service.code}: hotline {service.hotline} but phones.apply is {applies_on}")
        return self

    @model_validator(mode="after")
    def _unique_codes(self) -> "Product":
        codes = [s.code for s in self.services]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"duplicate service codes: {', '.join(duplicates)}")
        pools: dict[str, Quota] = {}
        for service in self.services:
            if service.quota and service.quota.pool:
                first = pools.setdefault(service.quota.pool, service.quota)
                if first != service.quota:
                    raise ValueError(f"services sharing pool {service.quota.pool!r} must declare the same quota")
        return self

    def service(self, code: str) -> Service:
        for service in self.services:
            if service.code == code:
                return service
        raise KeyError(code)

    def hours_for(self, service: Service) -> Hours:
        return service.acceptance_hours or self.acceptance_hours

    def cities_for(self, service: Service) -> tuple[Text, ...]:
        return service.coverage_cities if service.coverage_cities is not None else self.coverage_cities


@dataclass(frozen=True)
class Catalog:
    products: tuple[Product, ...]

    def product(self, code: str) -> Product:
        for product in self.products:
            if product.code == code:
                return product
        raise KeyError(code)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def load_product(path: Path) -> Product:
    """Read and validate one product file; raise CatalogError naming the file and field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: cannot be read as YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(f"{path.name}: (top level): expected a mapping")
    try:
        return Product.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{path.name}: {_describe(exc)}") from exc


def load_catalog(directory: Path = CATALOG_DIR) -> Catalog:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CatalogError(f"{directory}: no product files (*.yaml)")
    products = tuple(load_product(p) for p in files)
    codes = [p.code for p in products]
    if len(set(codes)) != len(codes):
        raise CatalogError(f"{directory}: two files declare the same product code")
    _one_line_one_set_of_hours(directory, products)
    return Catalog(products)


def _one_line_one_set_of_hours(directory: Path, products: tuple[Product, ...]) -> None:
    """A number answers at the same hours wherever it is listed, and products applied for on the same line have one
    desk (002 and 004 are both 英仕健康's 400-606-5033)."""
    hours: dict[str, Text] = {}
    desks: dict[str, tuple[str, Hours]] = {}
    for product in products:
        lines = [getattr(product.phones, p) for p in PURPOSES]
        lines += [getattr(s.phones, p) for s in product.services for p in PURPOSES]
        for line in filter(None, lines):
            if hours.setdefault(line.number, line.hours) != line.hours:
                raise CatalogError(f"{directory}: {line.number} is listed with two different hours")
        first, desk = desks.setdefault(product.phones.apply.number, (product.code, product.acceptance_hours))
        if desk != product.acceptance_hours:
            raise CatalogError(f"{directory}: {product.code} and {first} are applied for on {product.phones.apply.number} "
                               "but declare different acceptance_hours")


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return load_catalog()
