"""What the coordinator enters to arrange a booking, by the kind of service, and its check on the server.

A car pickup is a driver, a plate and two addresses; an aide is a person at a bed for some days; a written
opinion is an expert and a due date. Each catalog `BookingForm` maps to one kind, each kind to its fields, and
`parse` turns the posted form into (Appointment, {}) or (None, {field: error key}); the error keys are worded in
views/staff_wording.FIELD_ERRORS. The stored details carry their kind, so the customer's page shows each kind's
own details; details stored before kinds existed (no "kind") are a visit's fields and still display.

Plain Python: no Flask, no clock — the caller passes `now`. Labels are English msgids marked with `N_`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping

from ..accounts.identity import normalise_mobile
from ..clock import china_datetime, require_aware, to_china
from ..products.catalog import BookingForm, Product, Service


def N_(msgid: str) -> str:
    """Mark a msgid for extraction (`-k N_`); the view translates it."""
    return msgid


VISIT, ADMISSION, CAR, AIDE, ESCORT, OPINION = "visit", "admission", "car", "aide", "escort", "opinion"
KINDS = (VISIT, ADMISSION, CAR, AIDE, ESCORT, OPINION)

KIND_OF_FORM = {
    BookingForm.EXPERT_OUTPATIENT: VISIT,
    # An exam is a time at a hospital department, with a staff member at the person's side in first-tier and
    # provincial-capital partner hospitals (003 重疾绿通PLUS 表3, lines 787-791): a visit with no doctor to name.
    BookingForm.EXAM_FASTPASS: VISIT,
    # The panel meets the person at the designated hospital ("仅限客户前往指定医院", 003 重疾多学科会诊 服务说明(5),
    # line 2672) and not coming counts as used (服务说明(4), line 2666): a visit; the report follows within 5
    # working days (六(3), line 2700). The doctors cannot be named (服务说明(1), line 2658), so none is asked.
    BookingForm.MDT: VISIT,
    BookingForm.INPATIENT: ADMISSION,
    # Surgery is done during a stay "在符合医院手术的条件下" (003 重疾绿通PLUS 表5, line 836); its day is the surgeon's
    # (catalog note on 000 （二）2.7). What is arranged, and what the person must know, is the admission.
    BookingForm.SURGERY: ADMISSION,
    BookingForm.CAR_PICKUP: CAR,
    BookingForm.ESCORT_OUTPATIENT: ESCORT,
    BookingForm.ESCORT_INPATIENT: ESCORT,
    BookingForm.SECOND_OPINION: OPINION,
    BookingForm.REMOTE_CONSULTATION: OPINION,
    BookingForm.NURSING_AIDE: AIDE,
}

DOCTOR_LEVELS = ("chief", "associate_chief", "attending")  # 主任医师 / 副主任医师 / 主治医师, highest first
_RANK = {level: len(DOCTOR_LEVELS) - i for i, level in enumerate(DOCTOR_LEVELS)}

# The lowest doctor level a product promises for its expert visit, with the seed line that promises it. The
# catalog has no field for it, so it is kept here by product and service code. 004 (starr_jiuyibao) names only
# "顶尖三甲医院" (一 4, line 51), no level: nothing is checked there. 000's admission promises the same level
# (（二）2.9(1), line 186), but an admission is arranged by its slip's department and asks no doctor.
PROMISED_LEVELS = {
    ("cigc_classic", "expert_outpatient"): "associate_chief",  # 000 （一）2.9(1) line 74: "副主任及以上级别专家"
    ("haorensheng_gc", "expert_outpatient"): "associate_chief",  # 001 一【注意事项】6 line 55: "保证是副主任以上医生"
    ("xingtao_gc", "expert_outpatient"): "associate_chief",  # 002 一 2(4)2) lines 52-54: "指定副主任或以上级别"
    # 003 重疾绿通PLUS 1 line 670: "可协助预约主任级别专家门诊"; 表2 lines 776-778: "专家：指主任级别医生".
    ("zhongan_vip", "expert_outpatient"): "chief",
}

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# A mainland plate: province, issuing-office letter, then 5 characters (6 for a new-energy car); I and O are
# never used (GA 36-2018).
_PLATE = re.compile(r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}$")
HORIZON_DAYS = 366  # an arrangement more than a year ahead is a typo


@dataclass(frozen=True)
class Field:
    name: str
    input: str  # text | tel | date | time | number | select
    label: str
    required: bool = True
    max_length: int = 128
    hint: str | None = None


@dataclass(frozen=True)
class Spec:
    """What arranging one booking asks: its kind, its fields, and the promise the entries are checked against."""

    kind: str
    fields: tuple[Field, ...]
    promised_level: str | None = None  # visits: the lowest doctor level the product promises
    doctor_may_be_named: bool = False  # the customer chose the doctor (000 （一）2.9(1): "可以…指定专家")
    booked_days: int | None = None  # aide: the days the customer booked (Booking.units)
    delivery: str | None = None  # opinion: "call" or "report"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class Appointment:
    starts_at: datetime
    details: dict


def _when(date_label: str, time_label: str) -> tuple[Field, Field]:
    return Field("date", "date", date_label, max_length=10), Field("time", "time", time_label, max_length=5)


def _hospital() -> Field:
    return Field("hospital", "text", N_("Hospital"))


def _visit(service: Service, promised: str | None) -> list[Field]:
    fields = [_hospital(), Field("department", "text", N_("Department"), max_length=64)]
    if service.form is BookingForm.EXPERT_OUTPATIENT:
        fields.append(Field("doctor", "text", N_("Doctor (name)"), required=False, max_length=64))
        # Where the vendor chooses the doctor, the level shows the promise is kept (see _check_level).
        level_required = promised is not None and not service.choose.doctor
        hint = {"associate_chief": N_("Promised: an associate chief physician or above."),
                "chief": N_("Promised: a chief physician.")}.get(promised)
        fields.append(Field("doctor_level", "select", N_("Doctor's level") if level_required else N_("Or the doctor's level"),
                            required=level_required, max_length=32, hint=hint))
    fields += _when(N_("Date"), N_("Time"))
    # A guide often comes (000 （一）2.9(5) line 90 "陪同的医疗服务专员"; 001 line 37 "客服专员会全程陪同"), but 003 sends
    # one only in first-tier and provincial-capital partner hospitals (表2 line 756): where to meet and whom is optional.
    fields += [Field("meeting_point", "text", N_("Meeting point"), required=False),
               Field("escort_name", "text", N_("Escort's name"), required=False, max_length=32),
               Field("escort_mobile", "tel", N_("Escort's mobile"), required=False, max_length=20)]
    return fields


def _admission(service: Service) -> list[Field]:
    return [_hospital(), Field("department", "text", N_("Department"), max_length=64),
            Field("ward", "text", N_("Ward"), required=False, max_length=64, hint=N_("If the hospital has said which.")),
            *_when(N_("Admission date"), N_("Report to admissions at"))]


def _car(service: Service) -> list[Field]:
    # 003 同城专车接送 4 表1 lines 546-550: home ↔ hospital within 100 km; Q&A(3) lines 640-644: never another hospital.
    return [Field("driver_name", "text", N_("Driver's name"), max_length=32),
            Field("driver_mobile", "tel", N_("Driver's mobile"), max_length=20),
            Field("plate", "text", N_("Number plate"), max_length=10, hint=N_("For example 沪A12345.")),
            Field("pickup_address", "text", N_("Pickup address")),
            *_when(N_("Pickup date"), N_("Pickup time")),
            Field("destination", "text", N_("Destination"),
                  hint=N_("Home or the hospital of the stay, never another hospital."))]


def _aide(service: Service) -> list[Field]:
    # 003 重疾住院护工 服务内容 3 line 2357: an aide for the stay, "全保单年度累计不超过30天"; 注意事项 3) line 2397:
    # changes "提前12小时" — so the start needs a time, not only a day.
    return [Field("aide_name", "text", N_("Aide's name"), max_length=32),
            Field("aide_mobile", "tel", N_("Aide's mobile"), max_length=20),
            _hospital(),
            Field("ward_bed", "text", N_("Ward and bed"), max_length=64),
            *_when(N_("First day"), N_("Starts at")),
            Field("days", "number", N_("Days of care"), max_length=4)]


def _escort(service: Service) -> list[Field]:
    # 003 门诊陪诊 / 住院陪诊: "4小时内（以约定的见面时间开始算起）" — the meeting time and place, and who.
    return [_hospital(), Field("department", "text", N_("Department"), required=False, max_length=64),
            *_when(N_("Date"), N_("Meeting time")),
            Field("meeting_point", "text", N_("Meeting point")),
            Field("escort_name", "text", N_("Escort's name"), max_length=32),
            Field("escort_mobile", "tel", N_("Escort's mobile"), max_length=20)]


def _opinion(delivery: str) -> list[Field]:
    # 003 二次诊疗意见 表1-2 lines 2544, 2561: a written opinion "出具二次诊疗意见" in 5 / 15 working days;
    # 重疾绿通PLUS 表1 line 721: the remote consultation is a phone call ("发起电话"). No meeting point.
    when = _when(N_("Call on"), N_("Call at")) if delivery == "call" else _when(N_("Report expected on"), N_("Report by"))
    return [Field("expert", "text", N_("Expert or institution")), *when]


def spec_for(product: Product, service: Service, *, units: int = 1) -> Spec:
    """The arrangement `service` of `product` asks for; `units` is the booking's (an aide's booked days)."""
    if service.form is None:
        raise ValueError(f"{service.code} is not bookable")
    kind = KIND_OF_FORM[service.form]
    if kind == VISIT:
        promised = PROMISED_LEVELS.get((product.code, service.code))
        return Spec(VISIT, tuple(_visit(service, promised)), promised_level=promised,
                    doctor_may_be_named=service.choose.doctor)
    if kind == OPINION:
        delivery = "call" if service.form is BookingForm.REMOTE_CONSULTATION else "report"
        return Spec(OPINION, tuple(_opinion(delivery)), delivery=delivery)
    if kind == AIDE:
        return Spec(AIDE, tuple(_aide(service)), booked_days=units)
    builders = {ADMISSION: _admission, CAR: _car, ESCORT: _escort}
    return Spec(kind, tuple(builders[kind](service)))


# ---------------------------------------------------------------------------------------------- the check

def _clean(value) -> str:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return unicodedata.normalize("NFC", str(value or "")).replace("\n", " ").strip()


def _folded(value: str) -> str:
    # Full-width digits from a Chinese input method ("２０２６－１１－２５", "９：３０") are still a date and a time.
    return unicodedata.normalize("NFKC", value).replace("：", ":").strip()


def normalise_plate(raw: str) -> str | None:
    """沪A·12345 / 沪a 12345 / 沪A-D12345 → 沪A12345 / 沪AD12345, or None when it is not a mainland plate."""
    plate = re.sub(r"[\s·•.\-]", "", unicodedata.normalize("NFKC", raw or "")).upper()
    return plate if _PLATE.match(plate) else None


def _starts_at(values: dict, errors: dict, now: datetime) -> datetime | None:
    try:
        day = date.fromisoformat(_folded(values["date"]))
    except ValueError:
        errors["date"] = "arrange.date"
        return None
    match = _TIME.match(_folded(values["time"]))
    if match is None:
        errors["time"] = "arrange.time"
        return None
    starts_at = china_datetime(day, time(int(match.group(1)), int(match.group(2))))
    if starts_at <= now:
        errors["date"] = "arrange.past"
    elif (starts_at - now).days > HORIZON_DAYS:
        errors["date"] = "arrange.too_far"
    return starts_at


def _check_level(spec: Spec, level: str, doctor: str) -> str | None:
    """The error key for the doctor's level, if any. A level below the product's promise is refused. Without a
    level the promise is unchecked, so a level is needed — except for a doctor the customer named themselves
    (000 （一）2.9(1) line 74: "可以…指定专家"), whose rank was their choice."""
    if not level:
        if spec.promised_level and not (spec.doctor_may_be_named and doctor):
            return "arrange.level_needed"
        return None
    if level not in DOCTOR_LEVELS:
        return "arrange.choice"
    if spec.promised_level and _RANK[level] < _RANK[spec.promised_level]:
        return f"arrange.level_below_{spec.promised_level}"
    return None


def parse(spec: Spec, form: Mapping, *, now: datetime) -> tuple[Appointment | None, dict[str, str]]:
    """The arrangement as the coordinator typed it → (Appointment, {}) or (None, {field: error key})."""
    require_aware(now, "now")
    values = {f.name: _clean(form.get(f.name)) for f in spec.fields}
    errors: dict[str, str] = {}
    details: dict = {"kind": spec.kind}
    for f in spec.fields:
        value = values[f.name]
        if f.name in ("date", "time"):
            continue
        if f.name == "doctor_level":
            error = _check_level(spec, value, values.get("doctor", ""))
            if error:
                errors[f.name] = error
            elif value:
                details[f.name] = value
            continue
        if not value:
            if f.required:
                errors[f.name] = "arrange.required"
            continue
        if len(value) > f.max_length:
            errors[f.name] = "arrange.too_long"
        elif f.input == "tel":
            details[f.name] = normalise_mobile(value)
            if details[f.name] is None:
                errors[f.name] = "arrange.mobile"
        elif f.name == "plate":
            details[f.name] = normalise_plate(value)
            if details[f.name] is None:
                errors[f.name] = "arrange.plate"
        elif f.name == "days":
            digits = _folded(value)
            if not digits.isdigit() or int(digits) < 1:
                errors[f.name] = "arrange.days"
            elif spec.booked_days is not None and int(digits) > spec.booked_days:
                # 003 重疾住院护工: the days come out of the 30-day quota when booked; the aide cannot serve more.
                errors[f.name] = "arrange.days_over_booked"
            else:
                details[f.name] = int(digits)
        else:
            details[f.name] = value
    if "escort_mobile" in values and values.get("escort_name") and not values["escort_mobile"]:
        errors.setdefault("escort_mobile", "arrange.required")  # a name the customer cannot call is no help
    starts_at = _starts_at(values, errors, now)
    if errors:
        return None, errors
    if spec.delivery:
        details["delivery"] = spec.delivery
    return Appointment(starts_at, details), {}


# ---------------------------------------------------------------------------------------------- reading back

def kind_of(details: Mapping | None) -> str:
    """The kind stored with the details; details stored before kinds existed are a visit's."""
    kind = (details or {}).get("kind")
    return kind if kind in KINDS else VISIT


# What the booking's time is, per kind, for the customer's page and the messages.
WHEN_LABELS = {
    VISIT: N_("When"), ESCORT: N_("Meeting time"), ADMISSION: N_("Admission"), CAR: N_("Pickup time"),
    AIDE: N_("The aide starts"), "call": N_("The expert calls"), "report": N_("Report expected"),
}


def when_key(details: Mapping | None) -> str:
    """"visit", "car", … or for an opinion "call" / "report": which WHEN_LABELS entry names the booking's time."""
    kind = kind_of(details)
    if kind == OPINION:
        return "call" if (details or {}).get("delivery") == "call" else "report"
    return kind


def aide_last_day(starts_at: datetime, days: int) -> date:
    """The last day of an aide's care: the first day counts as day 1."""
    return to_china(starts_at).date() + timedelta(days=max(days, 1) - 1)


def prefill(spec: Spec, asked: Mapping | None, *, units: int = 1) -> dict[str, str]:
    """The form's first values from what the customer asked for (apply_forms' fields), for the coordinator to
    confirm or correct; only the fields of `spec`."""
    asked = asked or {}
    out: dict[str, str] = {}
    for key in ("hospital", "department", "meeting_point", "ward_bed"):
        if asked.get(key):
            out[key] = str(asked[key])
    moment = asked.get("pickup_at") or asked.get("meeting_at")
    if moment:
        try:
            parsed = to_china(datetime.fromisoformat(str(moment)))
        except ValueError:
            pass
        else:
            out["date"], out["time"] = parsed.date().isoformat(), parsed.strftime("%H:%M")
    day = asked.get("start_date") or asked.get("visit_date") or asked.get("admission_date")  # 000 （二）1.1(2) line 122
    if day:
        out["date"] = str(day)
    if spec.kind == CAR:
        home, hospital = asked.get("address"), asked.get("hospital")
        there_and_back = (home, hospital) if asked.get("direction") != "hospital_to_home" else (hospital, home)
        out.update({k: str(v) for k, v in zip(("pickup_address", "destination"), there_and_back) if v})
    if spec.kind == AIDE:
        out["days"] = str(asked.get("days") or units)
    if spec.kind == OPINION and asked.get("opinion_hospital"):
        out["expert"] = str(asked["opinion_hospital"])
    return {k: v for k, v in out.items() if k in spec.names}
