"""Application-form rules the audit found missing or wrong (issue 14, "Missing that customers need"), in
webapp/services/booking/apply_forms.py: 000's desired admission date, the limits the seeds do not set (flagged for the desk,
not refused), 003's planned discharge and passengers, and the departments each seed excludes.

Fixed clock: Monday 2026-06-01 10:00 China time, as in tests/test_apply_forms.py; every boundary is tested on the
second or the day on each side.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from webapp.services.booking import apply_forms
from webapp.services.booking.apply_forms import (
    ADMISSION_SLIP_MAX_AGE_DAYS,
    BOOKING_HORIZON_DAYS,
    STAY_SLIP_MAX_AGE_DAYS,
    WARN_BEFORE_PROMISE,
    WARN_FAR_AHEAD,
    WARN_SLIP_AGE,
    check,
    earliest_admission_date,
    excluded_department,
    fields_for,
)
from webapp.services.clock import CHINA
from webapp.services.products.catalog import default_catalog

CATALOG = default_catalog()
CIGC = CATALOG.product("cigc_classic")  # seed 000
HRS = CATALOG.product("haorensheng_gc")  # seed 001
ZHONGAN = CATALOG.product("zhongan_vip")  # seed 003

TODAY = date(2026, 6, 1)  # a Monday
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=CHINA)
SLIP = "2026-05-28"
# 000 （二）2.7 line 178 "自客户申请服务并开具住院单之日起，7个工作日内安排": from Monday 1 June (later than the slip) the
# 7th working day is Wednesday 10 June (the Dragon Boat holiday is on 19 June).
PROMISED = date(2026, 6, 10)
ADMISSION_000 = {"diagnosis_stage": "confirmed", "city": "北京", "hospital": "北京协和医院", "department": "胸外科",
                 "admission_slip_date": SLIP, "admission_date": PROMISED.isoformat()}
CAR_003 = {"direction": "hospital_to_home", "pickup_at": "2026-06-02T09:30", "hospital": "瑞金医院",
           "address": "上海市徐汇区某路1号", "distance_km": "35", "admission_slip_date": "2026-05-20", "passengers": "2"}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def run(product, code, raw, *, today=TODAY, now=NOW, **kw):
    return check(product, product.service(code), raw, today=today, now=now, units_left=None, **kw)


# ---------------------------------------------------------------------------------------------- 000 admission date

def test_000_asks_the_admission_date_it_lists_as_required():
    """000 （二）1.1(2) line 122: "就医需求信息：预约住院时间、预约医院、预约科室" — told like the hospital, so required.
    The other products' admission forms do not ask it (their seeds do not list it)."""
    fields = {f.name: f for f in fields_for(CIGC, CIGC.service("inpatient_surgery"))}
    assert fields["admission_date"].kind == "date" and fields["admission_date"].required
    missing = run(CIGC, "inpatient_surgery", {k: v for k, v in ADMISSION_000.items() if k != "admission_date"})
    assert missing.errors == {"admission_date": ("Please enter a date.", {})}
    for product in (HRS, CATALOG.product("xingtao_gc"), ZHONGAN, CATALOG.product("starr_jiuyibao")):
        for service in product.services:
            if service.bookable and service.form.value in ("inpatient", "surgery"):
                assert "admission_date" not in {f.name for f in fields_for(product, service)}, service.code


def test_000_admission_date_on_the_promised_day_is_plain():
    result = run(CIGC, "inpatient_surgery", ADMISSION_000)
    assert result.ok and result.warnings == {}
    assert result.data["admission_date"] == "2026-06-10" and "desk_checks" not in result.data
    assert earliest_admission_date(CIGC, CIGC.service("inpatient_surgery"), NOW, date(2026, 5, 28)) == \
        (date(2026, 6, 2), PROMISED)


def test_000_admission_date_before_the_promise_is_a_wish_the_desk_sees():
    """（二）2.7 line 178 promises the admission within 7 working days; an earlier day may be arranged, so it is asked
    for, not refused, and the customer is told it is not promised (Q&A line 348: "均不支持紧急预约")."""
    early = run(CIGC, "inpatient_surgery", {**ADMISSION_000, "admission_date": "2026-06-09"})
    assert early.ok
    assert early.warnings == {"admission_date": (WARN_BEFORE_PROMISE, {"date": "2026-06-10"})}
    assert early.data["desk_checks"] == [["admission_date", WARN_BEFORE_PROMISE, {"date": "2026-06-10"}]]


@pytest.mark.parametrize(("now", "day", "ok"), [
    # Q&A line 348 "均不支持紧急预约": never today; tomorrow is the first day, on each side of midnight.
    (at(2026, 6, 1, 23, 59, 59), "2026-06-02", True),
    (at(2026, 6, 2, 0, 0, 0), "2026-06-02", False),
    (at(2026, 6, 1, 10, 0), "2026-06-01", False),
    (at(2026, 6, 1, 10, 0), "2026-05-31", False),
])
def test_000_admission_date_is_never_today_or_earlier(now, day, ok):
    result = run(CIGC, "inpatient_surgery", {**ADMISSION_000, "admission_date": day}, today=now.date(), now=now)
    assert result.ok is ok, result.errors
    if not ok:
        first = (now.date() + timedelta(days=1)).isoformat()
        assert result.errors == {"admission_date": ("Please choose a date on or after %(date)s.", {"date": first})}


def test_000_admission_date_promise_follows_the_desk_and_the_slip():
    """The promise counts from the later of the slip and the day the desk sees the application (（二）2.3 line 146:
    Mon–Fri 09:00–18:00): sent at 20:00 it is seen on Tuesday, so the 7th working day is Thursday 11 June."""
    late = run(CIGC, "inpatient_surgery", {**ADMISSION_000, "admission_date": "2026-06-10"}, now=at(2026, 6, 1, 20, 0))
    assert late.warnings == {"admission_date": (WARN_BEFORE_PROMISE, {"date": "2026-06-11"})}


def test_000_admission_date_without_a_valid_slip_checks_only_the_day():
    result = run(CIGC, "inpatient_surgery", {**ADMISSION_000, "admission_slip_date": "2026-06-05"})
    assert set(result.errors) == {"admission_slip_date"}  # a slip cannot be dated in the future
    assert "admission_date" not in result.warnings


@pytest.mark.parametrize(("offset", "flagged"), [(BOOKING_HORIZON_DAYS, False), (BOOKING_HORIZON_DAYS + 1, True)])
def test_000_admission_date_far_ahead_is_flagged_not_refused(offset, flagged):
    """No seed limits how far ahead: 60 days is the project's, so day 61 is accepted and flagged."""
    day = (TODAY + timedelta(days=offset)).isoformat()
    result = run(CIGC, "inpatient_surgery", {**ADMISSION_000, "admission_date": day})
    assert result.ok
    assert (result.warnings.get("admission_date") == (WARN_FAR_AHEAD, {"days": 60})) is flagged


def test_the_admission_date_wish_prefills_the_coordinators_form():
    from webapp.services.desk.arrangements import prefill, spec_for

    spec = spec_for(CIGC, CIGC.service("inpatient_surgery"))
    assert prefill(spec, {"admission_date": "2026-06-10", "hospital": "北京协和医院"}).get("date") == "2026-06-10"


# ---------------------------------------------------------------------------------------------- limits the seeds do not set

@pytest.mark.parametrize(("age", "flagged"), [(ADMISSION_SLIP_MAX_AGE_DAYS, False), (ADMISSION_SLIP_MAX_AGE_DAYS + 1, True)])
def test_000_old_admission_slip_is_accepted_and_flagged(age, flagged):
    """000 （二）2.4(4) line 162 asks for the slip and 2.7 line 178 counts from its date, giving it no validity."""
    slip = (TODAY - timedelta(days=age)).isoformat()
    result = run(CIGC, "inpatient_surgery", {**ADMISSION_000, "admission_slip_date": slip})
    assert result.ok and result.admission_slip_date == date.fromisoformat(slip)
    assert ("admission_slip_date" in result.warnings) is flagged


@pytest.mark.parametrize(("age", "flagged"), [(STAY_SLIP_MAX_AGE_DAYS, False), (STAY_SLIP_MAX_AGE_DAYS + 1, True)])
def test_003_car_slip_of_a_long_stay_is_accepted_and_flagged(age, flagged):
    """003 同城专车接送 2(2) line 516 "凭住院单": the slip proves the stay; a year is a sanity bound, not a refusal."""
    slip = (TODAY - timedelta(days=age)).isoformat()
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "admission_slip_date": slip})
    assert result.ok
    assert (result.warnings.get("admission_slip_date") == (WARN_SLIP_AGE, {"days": 365})) is flagged


@pytest.mark.parametrize(("pickup", "flagged"), [("2026-07-31T23:59", False), ("2026-08-01T00:00", True)])
def test_a_pickup_more_than_60_days_ahead_is_flagged(pickup, flagged):
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "pickup_at": pickup})
    assert result.ok and ("pickup_at" in result.warnings) is flagged


def test_a_nursing_aide_start_far_ahead_is_flagged():
    raw = {"hospital": "上海市第六人民医院", "ward_bed": "12病区 23床", "start_date": "2026-08-01", "days": "10"}
    result = run(ZHONGAN, "nursing_aide", raw)
    assert result.ok and set(result.warnings) == {"start_date"}


def test_warnings_are_serialisable_and_follow_a_live_check_of_their_field():
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": "5", "pickup_at": "2026-08-01T09:00"})
    assert set(result.warnings) == {"passengers", "pickup_at"}
    json.dumps(result.data)
    one = run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": "5"}, field="passengers")
    assert set(one.warnings) == {"passengers"} and "desk_checks" not in one.data


def test_a_value_with_an_error_carries_no_warning():
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": "7"})
    assert "passengers" in result.errors and result.warnings == {}


def test_every_warning_is_an_extractable_msgid():
    source = Path(apply_forms.__file__).read_text(encoding="utf-8")
    for name in ("WARN_SLIP_AGE", "WARN_EXAM_ORDER_AGE", "WARN_FAR_AHEAD", "WARN_BEFORE_PROMISE", "WARN_LARGE_CAR"):
        assert f'{name} = N_(' in source, name


# ---------------------------------------------------------------------------------------------- 003 car: planned discharge

@pytest.mark.parametrize(("discharge", "ok"), [
    # 2(2) line 516 "出院日期5日内": at most 5 days past (27 May from 1 June), or planned (any day ahead).
    ("2026-05-27", True), ("2026-05-26", False), ("2026-06-01", True), ("2026-06-02", True), ("2026-06-20", True),
])
def test_003_discharge_date_window(discharge, ok):
    base = {k: v for k, v in CAR_003.items() if k != "admission_slip_date"}
    pickup = max(date.fromisoformat(discharge), TODAY).isoformat() + "T15:00"  # after NOW, within 5 days of it
    result = run(ZHONGAN, "car_pickup", {**base, "discharge_date": discharge, "pickup_at": pickup})
    assert result.ok is ok, result.errors
    if not ok:
        assert result.errors == {"discharge_date": ("The discharge must be within the last %(days)s days.", {"days": 5})}


def test_003_a_planned_discharge_with_the_slip_needs_only_the_slip():
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "discharge_date": "2026-06-03", "pickup_at": "2026-06-03T10:00"})
    assert result.ok and result.documents == ("admission_slip",)


# ---------------------------------------------------------------------------------------------- escorts

def test_003_inpatient_escort_says_admission_and_discharge_are_one_use_each():
    """住院陪诊 三 表 line 1618: "2次/年（入院为1次，出院为1次）"."""
    visit_type = {f.name: f for f in fields_for(ZHONGAN, ZHONGAN.service("escort_inpatient"))}["visit_type"]
    assert visit_type.help == "Admission and discharge are one use each: a stay's admission and discharge use two."


@pytest.mark.parametrize(("department", "excluded"), [
    ("分娩", "分娩"), ("产科分娩", "分娩"), ("产房", "产房"), ("妇产科", None), ("产科", None), ("产前检查", None),
    ("妇科", None),
])
def test_003_escort_excludes_childbirth_only(department, excluded):
    """门诊陪诊 一 line 1478: "分娩时不进行陪同"."""
    found = excluded_department(ZHONGAN.service("escort_outpatient"), department)
    assert (found.zh if found else None) == excluded


def test_001_excludes_every_medical_technology_department_the_seed_names_by_kind():
    """001 一【注意事项】4 line 49: "不适用于产科、急诊科及医技科室,如超声诊断科，影像科等"."""
    names = {d.zh for d in HRS.service("expert_outpatient").excluded_departments}
    assert names == {"产科", "急诊科", "超声诊断科", "影像科", "医技科室", "放射诊断科", "核医学科", "检验科", "病理科",
                     "心电图", "输血科", "药剂科"}
    assert not HRS.service("inpatient").excluded_departments  # line 49 is in 一 (the expert visit) only
