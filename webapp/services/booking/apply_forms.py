"""Booking forms: the fields each service's application asks for, and their check on the server.

One form per `catalog.BookingForm`; what a form shows depends on the service's catalog entry (`choose`,
`excluded_departments`, coverage cities, `max_distance_km`, `discharge_within_days`, `requires_admission_slip`)
and on the seed it cites. Plain Python: no Flask, no clock — the caller passes `today` and `now` (China time).

Every label, hint and error is an English msgid marked with `N_` (Babel: `pybabel extract -k N_`); errors
come back as (msgid, params) for the view to translate and fill. Posted values are strings (as in
`request.form`); a list is read as its first item. Preferred dates arrive as separate keys
`preferred_date_1` … `preferred_date_3` (see `date_keys`), and a date with a time as `pickup_at_date` and
`pickup_at_time` (or one `pickup_at`), so a plain HTML form works without script (`posted_keys`).
Posted keys that are not fields of the form are ignored and never stored. A field the customer is not asked
(`Field.asked` false: the service desk establishes it) is still checked when posted.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import date, datetime, timedelta
from typing import Mapping

from ..clock import CHINA, require_aware, to_china
from ..deadlines import EVENTS, desk_receives, promise, promise_if_applied, slip_moment
from ..eligibility import PolicyFacts, Usage, quota_period
from ..products.catalog import BookingForm, Document, Product, QuotaPeriod, QuotaUnit, Service, Text
from ..products.phones import notes_to_tell
from ..workdays import add_workdays


def N_(msgid: str) -> str:
    """Mark a msgid for extraction (`-k N_`); the view translates it."""
    return msgid


TEXT_MAX = 200
TEXTAREA_MAX = 1000
MAX_PREFERRED_DATES = 3
# Limits the project chose where the seeds are silent do not refuse: a value past one is accepted and flagged for
# the service desk (`Checked.warnings`, stored with the application as `desk_checks`), who asks the customer.
#
# Dates ahead (preferred dates, admission, pickup, meeting, aide start): no seed limits them; 000 Q&A line 348
# ("均不支持紧急预约") bounds them from below only. More than 60 days ahead is flagged (a mistyped year, or a hospital
# that will not book so far ahead).
BOOKING_HORIZON_DAYS = 60
# Admission slip: 000 （二）2.4(4) line 162 and 2.7 line 178, 002 二 2(3) and 004 一 3 ask for the slip and count the
# promise from its date, but give it no validity. Older than 30 days is flagged: the desk checks it is still valid.
ADMISSION_SLIP_MAX_AGE_DAYS = 30
# A slip that only proves a stay (car pickup, 003 同城专车接送 2(2) line 516) may be from a long stay: a year is flagged.
STAY_SLIP_MAX_AGE_DAYS = 365
# Examination order: 003 重疾绿通PLUS 特别说明(7) line 937 only says "需持有检查单". Older than 90 days is flagged.
EXAM_ORDER_MAX_AGE_DAYS = 90
# Passengers (the insured and family riding along, Q&A(4) line 654 "承担客户及随车家属接送专车安排"): 注(2) line 562
# "同车人数不得超过核载人数……以实际情况可载人数为准" and 注(3) line 566 "一般安排五至七座商务车" — the largest car the seed
# names is a seven-seater, six besides the driver, and more is refused. A luxury saloon (注(4) line 570) carries four, and
# a lying-down bed takes 2-3 seats (注(2)), so more than four is flagged for the desk to confirm the car.
MAX_PASSENGERS = 6
SALOON_PASSENGERS = 4
# 003 重疾绿通PLUS 4 表3: "CT类检查、B超类（包含彩超）及核磁类检查".
EXAM_TYPES = (("ct", N_("CT scan")), ("ultrasound", N_("Ultrasound (including colour Doppler)")), ("mri", N_("MRI scan")))
# 004 海外第二诊疗意见 一 3: "美国、德国、日本、新加坡、英国"; 003 二次诊疗意见 表2: "国外指定美国" (one country: no field).
OVERSEAS_COUNTRIES = {
    "004_33f0be092a29cea5.txt": (
        ("us", N_("United States")), ("de", N_("Germany")), ("jp", N_("Japan")),
        ("sg", N_("Singapore")), ("gb", N_("United Kingdom")),
    ),
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | textarea | select | date | datetime | dates | int | bool
    label: str
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()
    help: str | None = None
    min: int | None = None  # int: smallest value; dates: fewest dates
    max: int | None = None  # int: largest value; dates: most dates
    asked: bool = True  # False: not on the customer's form; the service desk establishes it (a posted value is checked)


@dataclass(frozen=True)
class Checked:
    data: dict
    errors: dict[str, tuple[str, dict]]
    units: int
    admission_slip_date: date | None
    documents: tuple[str, ...]
    # Accepted, but past a limit the seed does not set: (msgid, params) per field, for the customer and the desk.
    warnings: dict[str, tuple[str, dict]] = _field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def date_keys(field: Field) -> tuple[str, ...]:
    """The posted keys of a "dates" field: preferred_dates -> preferred_date_1 … preferred_date_3."""
    stem = field.name.removesuffix("s")
    return tuple(f"{stem}_{i}" for i in range(1, (field.max or 1) + 1))


def time_keys(field: Field) -> tuple[str, str]:
    """The date and the time of a "datetime" field, posted from two controls: pickup_at_date, pickup_at_time."""
    return f"{field.name}_date", f"{field.name}_time"


def incomplete(field: Field, raw: Mapping) -> bool:
    """A date and time half filled in (one control of two): a live check waits for the other before it speaks."""
    if field.kind != "datetime" or _first(raw, field.name).strip():
        return False
    return len({bool(_first(raw, key).strip()) for key in time_keys(field)}) == 2


def posted_keys(field: Field) -> tuple[str, ...]:
    """The field's name and every key it may be posted under (a live check names one of them)."""
    if field.kind == "dates":
        return (field.name, *date_keys(field))
    if field.kind == "datetime":
        return (field.name, *time_keys(field))
    return (field.name,)


# ---------------------------------------------------------------------------------------------- the fields

def _city(product: Product, service: Service, locale: str) -> Field:
    cities = product.cities_for(service)  # 002 一 4 and 004 一 4.1) print lists; empty: anywhere
    if cities:
        return Field("city", "select", N_("City"), choices=tuple((c.zh, c.get(locale)) for c in cities))
    return Field("city", "text", N_("City"))


def _department(service: Service, label: str) -> Field:
    hint = N_("Some departments are not covered by this service.") if service.excluded_departments else None
    if service.form is BookingForm.ESCORT_OUTPATIENT and service.excluded_departments:
        hint = N_("A companion does not go with you for childbirth; every other visit is covered.")  # 003 门诊陪诊 一
    return Field("department", "text", label, help=hint)


def _expert_outpatient(product, service, locale, units_left) -> list[Field]:
    # 000 （一）1.1(2): "预约门诊时间、预约医院、预约科室"; （一）2.9(1): hospital, department and doctor may be named.
    # 002 3 步骤2: "确认就诊城市、医院、就诊日期"; what each product lets the person choose is `service.choose`.
    fields = []
    if service.choose.city:
        fields.append(_city(product, service, locale))
    if service.choose.hospital:
        fields.append(Field("hospital", "text", N_("Hospital")))
    if service.choose.department:
        fields.append(_department(service, N_("Department")))
    else:
        # 004 一 5: the vendor triages, so the person describes the illness instead (catalog note).
        fields.append(Field("symptoms", "textarea", N_("Describe the illness and what you need from the visit")))
    if service.choose.doctor:
        fields.append(Field("doctor", "text", N_("Doctor you would like to see"), required=False,
                            help=N_("If this doctor cannot be booked we suggest others of the same rank.")))
    fields.append(Field("preferred_dates", "dates", N_("Preferred dates"), min=1, max=MAX_PREFERRED_DATES,
                        help=N_("Give up to three dates; we book one of them.")))
    return fields


def _admission(product, service, locale, units_left) -> list[Field]:
    # 000 （二）2.4(4): "已开具申请服务的医院科室的住院单"; 002 二 2(4)2): the hospital that issued the slip;
    # 003 重疾绿通PLUS 特别说明(6): "需具备指定医院科室开具的住院单". 001 二 lets a person apply without a slip
    # (requires_admission_slip false): the vendor first books an expert visit that issues one.
    with_slip = service.requires_admission_slip
    fields = [_city(product, service, locale)] if service.choose.city else []
    fields += [
        Field("hospital", "text", N_("Hospital that issued the admission slip") if with_slip else N_("Hospital")),
        _department(service, N_("Department that issued the admission slip") if with_slip else N_("Department")),
        Field("admission_slip_date", "date", N_("Date on the admission slip"), required=with_slip,
              help=None if with_slip else N_("Leave empty if you have no admission slip yet.")),
    ]
    if service.choose.admission_date:
        # 000 （二）1.1(2) line 122: the customer tells "预约住院时间、预约医院、预约科室" — the date is asked like the others.
        fields.append(Field("admission_date", "date", N_("Date you would like to be admitted"),
                            help=N_("No urgent admissions; the hospital confirms the day.")))
    return fields


def _exam_fastpass(product, service, locale, units_left) -> list[Field]:
    # 003 重疾绿通PLUS 4 表3 and 特别说明(7): the exam is sped up against the order the person holds.
    fields = [_city(product, service, locale)] if service.choose.city else []
    fields += [
        Field("hospital", "text", N_("Hospital that issued the examination order")),
        Field("exam_type", "select", N_("Examination"), choices=EXAM_TYPES),
        Field("exam_order_date", "date", N_("Date on the examination order")),
    ]
    return fields


def _car_pickup(product, service, locale, units_left) -> list[Field]:
    # 003 同城专车接送 1, 2(2), 4 表1, 注(2)(3), Q&A(3)(4).
    return [
        Field("direction", "select", N_("Trip"), choices=(
            ("home_to_hospital", N_("From home to the hospital (admission)")),
            ("hospital_to_home", N_("From the hospital home (discharge)")),
        ), help=N_("We drive only between your home and the hospital, never to another hospital.")),
        Field("pickup_at", "datetime", N_("Pickup date and time")),
        Field("hospital", "text", N_("Hospital")),
        Field("address", "text", N_("Your home address"),
              help=N_("The service desk works out the distance to the hospital from this address.")),
        # 4 表1 line 550: "单程距离（以最短实际交通行驶路线为准）在100公里以内（含）" — the desk measures it (not asked; a
        # posted value is still checked against the limit, and without one the desk is asked to check it).
        Field("distance_km", "int", N_("Distance from home to the hospital (km)"), min=1, max=service.max_distance_km,
              help=N_("One way, by the shortest driving route."), asked=False),
        Field("admission_slip_date", "date", N_("Date on the admission slip"), required=False),
        Field("discharge_date", "date", N_("Discharge date"), required=False,
              help=N_("Give the admission slip date, or the discharge date: the planned one, or the day you left.")),
        Field("passengers", "int", N_("People travelling, including you"), min=1, max=MAX_PASSENGERS,
              help=N_("Family members may ride along. A saloon takes four; for more we confirm a larger car.")),
        Field("lying_down", "bool", N_("I must travel lying down"), required=False,
              help=N_("A lying-down bed takes two or three seats.")),
        Field("doctor_certificate", "bool", N_("I have a doctor's certificate that I must travel lying down"),
              required=False),
    ]


def _escort(product, service, locale, units_left) -> list[Field]:
    # 003 门诊陪诊 二(2) outpatient visits only, 住院陪诊 二(2) admission or discharge; both "4小时内（以约定的见面时间
    # 开始算起）" — so the meeting time and place. 004 国内就医陪诊 二: "所需就诊陪同的城市、医院".
    inpatient = service.form is BookingForm.ESCORT_INPATIENT
    fields = []
    if inpatient:
        # 住院陪诊 三 表 line 1618: "2次/年（入院为1次，出院为1次）" — each visit is one application and one use.
        fields.append(Field("visit_type", "select", N_("What the companion helps with"), choices=(
            ("admission", N_("Admission to hospital")), ("discharge", N_("Discharge from hospital"))),
            help=N_("Admission and discharge are one use each: a stay's admission and discharge use two.")))
    if service.choose.city:
        fields.append(_city(product, service, locale))
    fields.append(Field("hospital", "text", N_("Hospital")))
    if service.choose.department or service.excluded_departments:
        # 003 门诊陪诊 一: "分娩时不进行陪同" — asked so the exclusion can be checked.
        fields.append(_department(service, N_("Department")))
    if inpatient:
        fields.append(Field("visit_date", "date", N_("Date")))
    else:
        fields.append(Field("meeting_at", "datetime", N_("Meeting date and time")))
    fields.append(Field("meeting_point", "text", N_("Where the companion should meet you")))
    return fields


def _opinion(product, service, locale, units_left) -> list[Field]:
    # 003 二次诊疗意见 1 "根据当前的病情诊断"; 重疾多学科会诊 六(1) "确诊医生的诊疗意见及相关检查报告";
    # 重疾绿通PLUS 表1 remote consultation "以帮助客户获得正确诊断".
    fields = [
        Field("current_diagnosis", "text", N_("Current diagnosis")),
        Field("questions", "textarea", N_("Your questions for the experts")),
        Field("treating_hospital", "text", N_("Hospital treating you now")),
    ]
    if service.form is BookingForm.SECOND_OPINION and service.choose.hospital:
        # 003 二次诊疗意见 表1: "可指定医院不可指定专家".
        fields.append(Field("opinion_hospital", "text", N_("Hospital you would like the opinion from"), required=False))
    countries = OVERSEAS_COUNTRIES.get(service.seed.file, ()) if service.code.endswith("overseas") else ()
    if len(countries) > 1:
        fields.append(Field("preferred_country", "select", N_("Preferred country"), required=False, choices=countries))
    return fields


def _nursing_aide(product, service, locale, units_left) -> list[Field]:
    # 003 重疾住院护工 一 5 "累计住院护工服务天数以30日为限"; 八 Q4 "建议……提前72小时申请" (advice, not a rule).
    most = units_left if units_left is not None else service.quota.amount
    return [
        Field("hospital", "text", N_("Hospital")),
        Field("ward_bed", "text", N_("Ward and bed number")),
        Field("start_date", "date", N_("First day you need the aide"),
              help=N_("Apply at least 72 hours ahead if you can; sooner is not guaranteed.")),
        Field("days", "int", N_("Days of care"), min=1, max=max(most, 0)),
    ]


_BUILDERS = {
    BookingForm.EXPERT_OUTPATIENT: _expert_outpatient,
    BookingForm.INPATIENT: _admission,
    BookingForm.SURGERY: _admission,
    BookingForm.EXAM_FASTPASS: _exam_fastpass,
    BookingForm.CAR_PICKUP: _car_pickup,
    BookingForm.ESCORT_OUTPATIENT: _escort,
    BookingForm.ESCORT_INPATIENT: _escort,
    BookingForm.SECOND_OPINION: _opinion,
    BookingForm.MDT: _opinion,
    BookingForm.REMOTE_CONSULTATION: _opinion,
    BookingForm.NURSING_AIDE: _nursing_aide,
}


DIAGNOSIS_STAGE = Field("diagnosis_stage", "select", N_("Your diagnosis"), choices=(
    ("suspected", N_("Suspected: a doctor suspects the illness (we need the medical record)")),
    ("confirmed", N_("Confirmed: the illness is diagnosed (we need the pathology report)")),
), help=N_("If you are not sure, choose suspected; the reviewer can change it."))


def asks_diagnosis_stage(service: Service) -> bool:
    """000 （一）1.2 lines 24-26: suspected patients send the medical record, confirmed ones the pathology report."""
    return Document.PATHOLOGY_REPORT in service.documents and Document.DIAGNOSIS in service.documents


def fields_for(product: Product, service: Service, *, locale: str = "zh_CN", units_left: int | None = None) -> tuple[Field, ...]:
    """The fields of `service`'s application form, in display order."""
    if service.form is None:
        raise ValueError(f"{service.code} is not bookable")
    first = [DIAGNOSIS_STAGE] if asks_diagnosis_stage(service) else []
    return tuple(first + _BUILDERS[service.form](product, service, locale, units_left))


def earliest_visit_date(product: Product, service: Service, now: datetime) -> date:
    """The first visit day to offer: the day the arrangement is promised by (000 Q&A: "均不支持紧急预约"), and no
    sooner than `advance_working_days` after the desk sees the application (001 一 1: "提前5个工作日")."""
    hours = product.hours_for(service)
    earliest = promise_if_applied(service.arrangement, hours, now)
    if service.advance_working_days:
        earliest = max(earliest, add_workdays(desk_receives(hours, now).date(), service.advance_working_days))
    return earliest


# ---------------------------------------------------------------------------------------------- parsing

_REQUIRED = {
    "select": N_("Please choose one."),
    "date": N_("Please enter a date."),
    "datetime": N_("Please enter a date and time."),
    "dates": N_("Please choose at least one date."),
    "int": N_("Please enter a number."),
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?")
_NUMBER = re.compile(r"[0-9]{1,9}")
_TRUE = {"1", "true", "on", "yes", "y"}
_FALSE = {"", "0", "false", "off", "no", "n"}


class _Invalid(Exception):
    def __init__(self, msgid: str, **params):
        super().__init__(msgid)
        self.msgid, self.params = msgid, params


def _first(raw: Mapping, key: str) -> str:
    value = raw.get(key)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC, control and format characters removed (bidi overrides, zero-width), surrounding space stripped.
    A textarea keeps its line breaks; a one-line field turns them into spaces."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
    out = []
    for ch in value:
        if ch in "\n\r\u2028\u2029":
            out.append("\n" if multiline else " ")
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs"):
            out.append(ch)
    return "".join(out).strip()


def _folded_digits(value: str) -> str:
    # Full-width digits and dashes from a Chinese input method ("２０２６－０６－０１") are still a date.
    return unicodedata.normalize("NFKC", value).strip()[:40]


def _parse_date(value: str) -> date:
    value = _folded_digits(value)
    if not _DATE.fullmatch(value):
        raise _Invalid(N_("Please enter a date as YYYY-MM-DD."))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Invalid(N_("Please enter a date as YYYY-MM-DD.")) from None


def _parse_datetime(value: str) -> datetime:
    value = _folded_digits(value)
    if not _DATETIME.fullmatch(value):
        raise _Invalid(N_("Please enter a date and time."))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(N_("Please enter a date and time.")) from None
    # A browser's datetime-local has no zone: it is the wall clock in China (DOMAIN.md, "Time").
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else to_china(moment)


_RANGE_MESSAGES = {
    # 003 同城专车接送 4 表1: "单程距离……在100公里以内（含）"; Q&A(4): over 100 km cannot be accepted.
    "distance_km": N_("We can only arrange a car for trips of up to %(max)s km one way."),
    "days": N_("You have %(max)s days of aide care left in this policy year."),
}


def _parse(field: Field, raw: Mapping) -> object:
    """The field's value, None when empty; raises _Invalid."""
    if field.kind == "dates":
        days, seen = [], set()
        for key in date_keys(field):
            text = _first(raw, key).strip()
            if text:
                day = _parse_date(text)
                if day not in seen:
                    seen.add(day)
                    days.append(day)
        if field.required and not days:
            raise _Invalid(_REQUIRED["dates"])
        return days or None
    text = _first(raw, field.name)
    if field.kind == "datetime" and not text.strip():
        day, time = (_first(raw, key).strip() for key in time_keys(field))
        if day and time:
            text = f"{day}T{time}"
        elif day or time:
            raise _Invalid(N_("Please enter a date and time."))
    if field.kind == "bool":
        folded = text.strip().casefold()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise _Invalid(N_("Please answer yes or no."))
    value = clean_text(text, multiline=field.kind == "textarea")
    if not value:
        if field.required:
            raise _Invalid(_REQUIRED.get(field.kind, N_("Please fill in this field.")))
        return None
    if field.kind in ("text", "textarea"):
        limit = TEXTAREA_MAX if field.kind == "textarea" else TEXT_MAX
        if len(value) > limit:
            raise _Invalid(N_("Please shorten this to at most %(max)s characters."), max=limit)
        return value
    if field.kind == "select":
        for choice, label in field.choices:
            if value == choice or value.casefold() in (choice.casefold(), label.casefold()):
                return choice
        raise _Invalid(N_("Please choose one of the options."))
    if field.kind == "date":
        return _parse_date(value)
    if field.kind == "datetime":
        return _parse_datetime(value)
    if field.kind == "int":
        digits = _folded_digits(value)
        if not _NUMBER.fullmatch(digits):
            raise _Invalid(N_("Please enter a whole number."))
        number = int(digits)
        if field.max is not None and number > field.max:
            message = _RANGE_MESSAGES.get(field.name, N_("Please enter a number from %(min)s to %(max)s."))
            raise _Invalid(message, min=field.min, max=field.max)
        if field.min is not None and number < field.min:
            raise _Invalid(N_("Please enter a number from %(min)s to %(max)s."), min=field.min, max=field.max)
        return number
    raise ValueError(f"unknown field kind {field.kind!r}")  # a programming error, not user input


# ---------------------------------------------------------------------------------------------- the rules

def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


_SUFFIXES = ("门诊", "科室", "科", " department", " dept", " clinic", " outpatient")


def _stem(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)].strip(), True
    return text


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def excluded_department(service: Service, department: str) -> Text | None:
    """The excluded department (001 一【注意事项】4; 003 门诊陪诊 一) that `department` names, if any.

    Case-insensitive against both languages: the person's text containing an excluded name ("口腔科门诊"
    contains "口腔"; "急诊内科" contains "急诊"), its parenthetical qualifier dropped ("产科（分娩）" -> "产科"), or
    without its trailing 科 ("超声诊断科" -> "超声诊断"); or a shorter name of one ("超声科" within "超声诊断科",
    "ultrasound" a word of "Ultrasound diagnostics"). "妇产科" is refused too: it contains 产科 (obstetrics).
    """
    wanted = _fold(department)
    if not wanted:
        return None
    stem = _stem(wanted)
    for excluded in service.excluded_departments:
        for name in (_fold(excluded.zh), _fold(excluded.en)):
            bare = re.sub(r"\s*[（(].*?[)）]\s*", "", name).strip()
            terms = {name, bare, _stem(bare) if len(_stem(bare)) >= 2 else bare}
            if any(term and term in wanted for term in terms):
                return excluded
            if _is_cjk(stem) and len(stem) >= 2 and stem in name:
                return excluded
            if not _is_cjk(stem) and len(stem) >= 5 and re.search(rf"\b{re.escape(stem)}\b", name):
                return excluded
    return None


def _not_before(day: date, first: date) -> None:
    if day < first:
        raise _Invalid(N_("Please choose a date on or after %(date)s."), date=first.isoformat())


def _not_after(day: date, last: date) -> None:
    if day > last:
        raise _Invalid(N_("Please choose a date no later than %(date)s."), date=last.isoformat())


WARN_SLIP_AGE = N_("This admission slip is more than %(days)s days old. You can still apply; the service desk will "
                   "check with you that it is still valid.")
WARN_EXAM_ORDER_AGE = N_("This examination order is more than %(days)s days old. You can still apply; the service desk "
                         "will check with you that it is still valid.")
WARN_FAR_AHEAD = N_("This date is more than %(days)s days ahead. Please check it; the service desk will confirm it "
                    "with you.")
WARN_BEFORE_PROMISE = N_("Admission is promised by %(date)s; an earlier day is asked for but not promised (no urgent "
                         "admissions).")
WARN_LARGE_CAR = N_("More than %(seats)s people need a larger car than a saloon; the service desk will confirm the car "
                    "with you.")
WARN_DISTANCE = N_("The service desk checks that the hospital is at most %(km)s km from your home, one way by the "
                   "shortest driving route; a car is arranged only within that distance.")


@dataclass
class _Context:
    product: Product
    service: Service
    today: date
    now: datetime
    locale: str
    earliest: date | None
    values: dict
    errors: dict
    warnings: dict
    asked_only: bool = False

    def rule(self, name: str, check) -> None:
        """Run `check(value)` on a field that parsed to a value; its _Invalid becomes that field's error."""
        if name in self.errors or self.values.get(name) is None:
            return
        try:
            check(self.values[name])
        except _Invalid as problem:
            self.errors[name] = (problem.msgid, problem.params)
            self.values.pop(name, None)

    def flag(self, name: str, msgid: str, **params) -> None:
        """Accept the value, and tell the customer and the desk it is past a limit the seed does not set."""
        self.warnings.setdefault(name, (msgid, params))

    def ahead(self, name: str, day: date) -> None:
        if day > self.today + timedelta(days=BOOKING_HORIZON_DAYS):
            self.flag(name, WARN_FAR_AHEAD, days=BOOKING_HORIZON_DAYS)

    def issued(self, name: str, day: date, max_age: int, warning: str) -> None:
        """A paper's issue date: never in the future; older than `max_age` days is flagged (the seeds set no age)."""
        if day > self.today:
            raise _Invalid(N_("This date cannot be in the future."))
        if day < self.today - timedelta(days=max_age):
            self.flag(name, warning, days=max_age)


def _department_rule(ctx: _Context) -> None:
    def allowed(department: str) -> None:
        excluded = excluded_department(ctx.service, department)
        if excluded is None:
            return
        if ctx.service.form is BookingForm.ESCORT_OUTPATIENT:
            # 003 门诊陪诊 一 line 1478: "分娩时不进行陪同" — what is refused is the birth, not a department.
            raise _Invalid(N_("A companion does not go with you for childbirth. Other visits, gynaecology and "
                              "pregnancy check-ups included, are covered."))
        raise _Invalid(N_("This service does not cover the department %(department)s."),
                       department=excluded.get(ctx.locale))
    ctx.rule("department", allowed)


def _expert_outpatient_rules(ctx: _Context) -> None:
    _department_rule(ctx)
    first = ctx.earliest or earliest_visit_date(ctx.product, ctx.service, ctx.now)

    def in_window(days: list[date]) -> None:
        for day in days:
            _not_before(day, first)
            ctx.ahead("preferred_dates", day)
    ctx.rule("preferred_dates", in_window)


def earliest_admission_date(product: Product, service: Service, now: datetime, slip: date | None) -> tuple[date, date | None]:
    """(first day that may be asked for, day admission is promised by) for an admission date wish (000 （二）1.1(2)
    line 122). Never today or earlier: Q&A line 348 "均不支持紧急预约". The promise is （二）2.7 line 178 "自客户申请服务并
    开具住院单之日起，7个工作日内安排", counted from the slip's date and from now for every other event; None without a slip."""
    tomorrow = to_china(now).date() + timedelta(days=1)
    if slip is None:
        return tomorrow, None
    events = {name: now for name in EVENTS} | {"admission_slip": slip_moment(slip)}
    return tomorrow, promise(service.arrangement, product.hours_for(service), events).by


def _admission_rules(ctx: _Context) -> None:
    _department_rule(ctx)
    ctx.rule("admission_slip_date",
             lambda d: ctx.issued("admission_slip_date", d, ADMISSION_SLIP_MAX_AGE_DAYS, WARN_SLIP_AGE))
    slip = ctx.values.get("admission_slip_date") if "admission_slip_date" not in ctx.errors else None

    def wanted(day: date) -> None:
        first, promised = earliest_admission_date(ctx.product, ctx.service, ctx.now, slip)
        _not_before(day, first)
        if promised is not None and day < promised:
            # Earlier than the promise is a wish the vendor may meet, not a refusal: the seed only bars urgent bookings.
            ctx.flag("admission_date", WARN_BEFORE_PROMISE, date=promised.isoformat())
        ctx.ahead("admission_date", day)
    ctx.rule("admission_date", wanted)


def _exam_rules(ctx: _Context) -> None:
    ctx.rule("exam_order_date", lambda d: ctx.issued("exam_order_date", d, EXAM_ORDER_MAX_AGE_DAYS, WARN_EXAM_ORDER_AGE))


def _future_moment(ctx: _Context, name: str, moment: datetime) -> None:
    if moment <= ctx.now:
        raise _Invalid(N_("Please choose a time after %(time)s."), time=to_china(ctx.now).isoformat(timespec="minutes"))
    ctx.ahead(name, moment.date())


def _car_rules(ctx: _Context) -> None:
    service, values, today = ctx.service, ctx.values, ctx.today
    ctx.rule("pickup_at", lambda moment: _future_moment(ctx, "pickup_at", moment))
    ctx.rule("admission_slip_date",
             lambda d: ctx.issued("admission_slip_date", d, STAY_SLIP_MAX_AGE_DAYS, WARN_SLIP_AGE))
    window = service.discharge_within_days

    def recent_discharge(day: date) -> None:
        # 003 同城专车接送 2(2) line 516: "凭住院单或者出院日期5日内使用申请服务". A planned discharge is a discharge date
        # too (the trip home is then used within 5 days of it, below); a past one may be at most 5 days ago.
        if day < today - timedelta(days=window):
            raise _Invalid(N_("The discharge must be within the last %(days)s days."), days=window)
        ctx.ahead("discharge_date", day)
    ctx.rule("discharge_date", recent_discharge)

    slip, discharge = values.get("admission_slip_date"), values.get("discharge_date")
    if slip is None and discharge is None and not {"admission_slip_date", "discharge_date"} & ctx.errors.keys():
        ctx.errors["admission_slip_date"] = (N_("Please give the admission slip date or the discharge date."), {})
    if slip is None and discharge is not None:
        if values.get("direction") == "home_to_hospital":
            # 4 表1: "出入院的专车接送" — a trip to hospital is for an admission, which needs the slip.
            ctx.errors.setdefault("admission_slip_date", (N_("A trip to the hospital needs an admission slip."), {}))
        elif values.get("pickup_at") is not None:
            # "出院日期5日内使用": the trip home is used within the window after the discharge.
            last = discharge + timedelta(days=window)

            def near_discharge(moment: datetime) -> None:
                _not_before(moment.date(), discharge)
                _not_after(moment.date(), last)
            ctx.rule("pickup_at", near_discharge)

    def certified(has_certificate: bool) -> None:
        # 注(3) and 特别说明(2): lying-down transport "需要医生出具相关的证明材料".
        if values.get("lying_down") and not has_certificate:
            raise _Invalid(N_("Lying-down transport needs a doctor's certificate; please confirm you have one."))
    ctx.rule("doctor_certificate", certified)

    def seats(people: int) -> None:
        if people > SALOON_PASSENGERS:  # 注(2)(4) lines 562, 570; more than MAX_PASSENGERS is refused by the field
            ctx.flag("passengers", WARN_LARGE_CAR, seats=SALOON_PASSENGERS)
    ctx.rule("passengers", seats)

    if ctx.asked_only and values.get("distance_km") is None and "distance_km" not in ctx.errors:
        # 4 表1 line 550 "单程距离……在100公里以内（含）": the customer gives addresses, the desk checks the distance.
        ctx.flag("distance_km", WARN_DISTANCE, km=service.max_distance_km)


def _escort_rules(ctx: _Context) -> None:
    _department_rule(ctx)
    ctx.rule("meeting_at", lambda moment: _future_moment(ctx, "meeting_at", moment))

    def upcoming(day: date) -> None:
        _not_before(day, ctx.today)
        ctx.ahead("visit_date", day)
    ctx.rule("visit_date", upcoming)


def _nursing_rules(ctx: _Context) -> None:
    def upcoming(day: date) -> None:
        _not_before(day, ctx.today)
        ctx.ahead("start_date", day)
    ctx.rule("start_date", upcoming)


_RULES = {
    BookingForm.EXPERT_OUTPATIENT: _expert_outpatient_rules,
    BookingForm.INPATIENT: _admission_rules,
    BookingForm.SURGERY: _admission_rules,
    BookingForm.EXAM_FASTPASS: _exam_rules,
    BookingForm.CAR_PICKUP: _car_rules,
    BookingForm.ESCORT_OUTPATIENT: _escort_rules,
    BookingForm.ESCORT_INPATIENT: _escort_rules,
    BookingForm.NURSING_AIDE: _nursing_rules,
}


def documents_for(service: Service, values: dict) -> tuple[str, ...]:
    """The papers an application with these form values needs (catalog Document values, catalog order).
    `values` may be the parsed form or a booking's stored details: only presence and truth are read."""
    needed = [d for d in service.documents if d is not Document.DOCTOR_CERTIFICATE]
    if asks_diagnosis_stage(service):
        # 000 （一）1.2(1) line 24 "疑似患者提供……病历"; (2) line 26 "确诊患者提供……病理诊断报告". Without an answer
        # (applications made before the question was asked) both stay asked for.
        stage = values.get("diagnosis_stage")
        if stage == "suspected":
            needed.remove(Document.PATHOLOGY_REPORT)
        elif stage == "confirmed":
            needed.remove(Document.DIAGNOSIS)
    if service.form is BookingForm.CAR_PICKUP:
        # 003 同城专车接送 2(2): the slip for the trip in, or proof of a recent discharge for the trip home.
        if values.get("admission_slip_date") is not None:
            needed = [d for d in needed if d is not Document.DISCHARGE_PROOF]
        elif values.get("discharge_date") is not None:
            needed = [d for d in needed if d is not Document.ADMISSION_SLIP]
    elif service.form in (BookingForm.INPATIENT, BookingForm.SURGERY) and not service.requires_admission_slip:
        if values.get("admission_slip_date") is None:
            needed = [d for d in needed if d is not Document.ADMISSION_SLIP]  # 001 二: no slip yet
    if values.get("lying_down"):
        needed.append(Document.DOCTOR_CERTIFICATE)  # 003 同城专车接送 注(3)
    return tuple(d.value for d in needed)


def _json(value: object) -> object:
    if isinstance(value, datetime):
        return to_china(value).isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def check(
    product: Product,
    service: Service,
    raw: Mapping[str, str | list[str]],
    *,
    today: date,
    now: datetime,
    units_left: int | None,
    field: str | None = None,
    locale: str = "zh_CN",
    earliest_date: date | None = None,
    asked_only: bool = False,
    last_day: date | None = None,
) -> Checked:
    """Clean and check a posted application form. `field` limits errors and data to one field (live checks;
    `preferred_date_2` names the preferred_dates field). `earliest_date` overrides the first visit day offered
    (default `earliest_visit_date`). `locale` picks the language of names put into error params.
    `asked_only`: the customer's form — a field it does not ask (`Field.asked` false) may be left out, and is then
    flagged for the service desk. `last_day`: the last day the policy's services can be used
    (eligibility.service_window_end); a day to be booked after it is refused."""
    require_aware(now, "now")
    fields = fields_for(product, service, locale=locale, units_left=units_left)
    values: dict = {}
    errors: dict = {}
    for spec in fields:
        if asked_only and not spec.asked and not any(_first(raw, key).strip() for key in posted_keys(spec)):
            values[spec.name] = None
            continue
        try:
            values[spec.name] = _parse(spec, raw)
        except _Invalid as problem:
            errors[spec.name] = (problem.msgid, problem.params)
    if service.form is BookingForm.NURSING_AIDE and units_left is not None and units_left < 1:
        errors["days"] = (N_("You have no aide days left in this policy year."), {})
        values.pop("days", None)
    warnings: dict = {}
    ctx = _Context(product, service, today, to_china(now), locale, earliest_date, values, errors, warnings, asked_only)
    rules = _RULES.get(service.form)
    if rules is not None:
        rules(ctx)
    if last_day is not None:
        def within_policy(value: date | datetime | list[date]) -> None:
            for day in value if isinstance(value, list) else [value]:
                _not_after(_day_of(day), last_day)
        for name in BOOKED_DAYS:
            ctx.rule(name, within_policy)
    warnings = {name: w for name, w in warnings.items() if name not in errors}

    data = {name: _json(value) for name, value in values.items() if value is not None and name not in errors}
    if warnings:
        # What the desk checks with the customer (`desk_checks`): the field, the msgid and its parameters.
        data["desk_checks"] = [[name, msgid, params] for name, (msgid, params) in warnings.items()]
    if service.form is BookingForm.ESCORT_OUTPATIENT:
        data["visit_type"] = "outpatient"  # 003 门诊陪诊 二(2): "仅限在医院门诊看诊时可申请"
    if service.form is BookingForm.CAR_PICKUP:
        data["doctor_certificate_needed"] = bool(values.get("lying_down"))
    slip = values.get("admission_slip_date") if "admission_slip_date" not in errors else None
    units = (values.get("days") or 1) if service.form is BookingForm.NURSING_AIDE else 1
    documents = documents_for(service, values)

    if field is not None:
        name = _field_named(fields, field)
        errors = {k: v for k, v in errors.items() if k == name}
        warnings = {k: v for k, v in warnings.items() if k == name}
        data = {k: v for k, v in data.items() if k == name}
    return Checked(data=data, errors=errors, units=units, admission_slip_date=slip, documents=documents,
                   warnings=warnings)


def _field_named(fields: tuple[Field, ...], key: str) -> str | None:
    for spec in fields:
        if key in posted_keys(spec):
            return spec.name
    return None


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# ---------------------------------------------------------------------------------------------- date bounds

# The days a person books (a visit, an admission, a pickup, a meeting, an aide's first day), as opposed to the day a
# paper was issued or a discharge happened: the first is told before they pick, and none may be after `last_day`.
BOOKED_DAYS = ("preferred_dates", "admission_date", "visit_date", "start_date", "pickup_at", "meeting_at")


@dataclass(frozen=True)
class DateBounds:
    first: date | None
    last: date | None
    booked: bool  # a day to book (BOOKED_DAYS): its first day is told as the earliest one can choose


def date_bounds(product: Product, service: Service, *, now: datetime, last_day: date | None = None,
                earliest_date: date | None = None) -> dict[str, DateBounds]:
    """For each date field of `service`'s form, the first and last day `check` accepts at `now` (China time), for the
    date picker's min and max. The same functions as the rules: `earliest_visit_date` (the promise and the lead
    time, counted in the desk's working days), `earliest_admission_date` (never urgent, Q&A line 348), today for a
    meeting, pickup or aide (a later time today is accepted), the discharge window (003 同城专车接送 2(2) line 516),
    and never after today for a paper's issue date. `last_day` ends every booked day."""
    require_aware(now, "now")
    today = to_china(now).date()
    firsts = {
        "preferred_dates": lambda: earliest_date or earliest_visit_date(product, service, now),
        "admission_date": lambda: earliest_admission_date(product, service, now, None)[0],
        "visit_date": lambda: today,
        "start_date": lambda: today,
        "pickup_at": lambda: today,
        "meeting_at": lambda: today,
    }
    bounds = {}
    for spec in fields_for(product, service):
        if spec.name in firsts:
            bounds[spec.name] = DateBounds(firsts[spec.name](), last_day, booked=True)
        elif spec.name == "discharge_date":
            bounds[spec.name] = DateBounds(today - timedelta(days=service.discharge_within_days), last_day, booked=False)
        elif spec.kind == "date":
            bounds[spec.name] = DateBounds(None, today, booked=False)  # issued: "This date cannot be in the future."
    return bounds


# ---------------------------------------------------------------------------------------------- who pays

_PAYS = ("自行承担", "自付", "不包含")


def fee_rule(product: Product, service: Service) -> Text | None:
    """Who pays the medical fees, in the catalog's words for the application form: the fee note the form tells (the
    seed's words, issue 14: 000 line 208, 002 lines 62/211, 003 lines 1544/1638/2577), else the summary's clause
    saying the fees are the customer's ("费用自付", 003 line 923; 001 line 61). None where the catalog says nothing."""
    for note in notes_to_tell(product, service, "apply"):
        if "费" in note.tell.zh and any(word in note.tell.zh for word in _PAYS):
            return note.tell
    zh = next((c for c in re.split(r"[，；。]", service.summary.zh) if "自付" in c), None)
    en = re.search(r"\byou pay\b[^;,.]*", service.summary.en)
    if zh is None or en is None:
        return None
    return Text(zh=f"{zh}。", en=f"{en.group(0)[0].upper()}{en.group(0)[1:]}.")


# ---------------------------------------------------------------------------------------------- consequence

def consequence(
    product: Product,
    service: Service,
    *,
    units: int,
    period_start: date,
    period_end_inclusive: date,
    quota_amount: int | None,
    used_after: int,
    service_name: str | None = None,
    locale: str = "zh_CN",
) -> tuple[str, dict]:
    """What submitting spends, as (msgid, params): the use out of the quota and the period it belongs to.
    Dates are ISO strings for the view to format; `service` is the service's name unless `service_name` is given."""
    quota = service.quota
    params = {
        "service": service_name or service.name.get(locale),
        "units": units,
        "amount": quota_amount,
        "used": used_after,
        "left": max((quota_amount or 0) - used_after, 0),
        "start": period_start.isoformat(),
        "end": period_end_inclusive.isoformat(),
    }
    if quota is None or quota.unit is QuotaUnit.UNLIMITED or quota_amount is None:
        return N_("You may use %(service)s as often as you need; this application does not use up anything."), params
    term = quota.period is QuotaPeriod.SERVICE_TERM
    if quota.unit is QuotaUnit.DAYS:
        # 003 重疾住院护工 一 5: days are counted cumulatively over the policy year.
        return N_("This uses %(units)s of your %(amount)s days of %(service)s for the policy year %(start)s – %(end)s "
                  "(%(left)s left after this)."), params
    if quota.pool and term and quota_amount == 1:
        # 001 line 7: "保单有效期内，您可以提出服务使用申请一次" — one application for the whole green channel.
        return N_("This uses the one green-channel application your policy allows for %(start)s – %(end)s; "
                  "it covers %(service)s and the related services, which cannot be applied for again."), params
    if quota_amount == 1:
        if term:
            # 000 （一）2.2: "在服务有效期内只能使用一次".
            return N_("This uses your one %(service)s for the whole service period %(start)s – %(end)s."), params
        return N_("This uses your one %(service)s for the policy year %(start)s – %(end)s."), params
    if term:
        return N_("This application is use %(used)s of the %(amount)s allowed for %(service)s in the service period %(start)s – %(end)s."), params
    # 003 同城专车接送 特别说明(1): "入院或出院分别视为1次".
    return N_("This application is use %(used)s of the %(amount)s allowed for %(service)s in the policy year %(start)s – %(end)s."), params


def consequence_of(product: Product, service: Service, policy: PolicyFacts, usage: Usage, *, units: int, today: date,
                   locale: str = "zh_CN") -> tuple[str, dict]:
    """`consequence` for an application made `today` against `usage`: the quota period it falls in, and the
    use it will be once it holds `units` more."""
    start, end = quota_period(product, service, policy, max(today, policy.effective_date))
    used_after = usage.used + usage.held + units if usage.quota is not None else 0
    return consequence(product, service, units=units, period_start=start, period_end_inclusive=end - timedelta(days=1),
                       quota_amount=usage.quota, used_after=used_after, locale=locale)
