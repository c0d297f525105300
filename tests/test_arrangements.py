"""Arranging by the kind of service (issue 14 item 8): each catalog form maps to a kind, each kind asks its own
fields, and a typed form is checked field by field. Plain functions, a fixed clock, no database.

Rules, with their seed lines:
- the doctor level each expert visit promises: 000 （一）2.9(1) line 74 "副主任及以上级别专家"; 001 一【注意事项】6
  line 55 "保证是副主任以上医生"; 002 一 2(4)2) lines 52-54 "指定副主任或以上级别"; 003 重疾绿通PLUS line 670 and
  表2 lines 776-778 "专家：指主任级别医生"; 004 names no level (一 4 line 51);
- only 000 lets the customer name the doctor (（一）2.9(1) line 74 "可以…指定专家"); 001 line 55, 002 line 54 and 003
  line 776 do not — there the level is the only proof the promise is kept;
- an aide's days come out of "全保单年度累计不超过30天" (003 重疾住院护工 line 2359), booked in advance: the aide
  cannot be arranged for more days than were booked; changes need 12 hours (line 2397), so the start has a time;
- a car goes between home and the hospital, never to another hospital (003 同城专车接送 Q&A(3) lines 640-644);
- a written opinion is a report "出具二次诊疗意见" (003 二次诊疗意见 line 2544), the remote consultation a phone
  call "发起电话" (003 重疾绿通PLUS 表1 line 721): neither has a meeting point.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest

from webapp.services.desk import arrangements
from webapp.services.desk.arrangements import ADMISSION, AIDE, CAR, ESCORT, OPINION, VISIT, parse, spec_for
from webapp.services.products.catalog import BookingForm, default_catalog

from .conftest import at

NOW = at(2026, 11, 16, 10, 0)  # a Monday
WHEN = {"date": "2026-11-25", "time": "09:30"}
PRODUCTS = {"000": "cigc_classic", "001": "haorensheng_gc", "002": "xingtao_gc", "003": "zhongan_vip",
            "004": "starr_jiuyibao"}


def spec(seed: str, service: str, units: int = 1) -> arrangements.Spec:
    product = default_catalog().product(PRODUCTS[seed])
    return spec_for(product, product.service(service), units=units)


# One complete form per kind, on a service of that kind.
VISIT_FORM = {"hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "doctor": "王医生", "doctor_level": "chief",
              "meeting_point": "门诊大楼一楼大厅", "escort_name": "陈专员", "escort_mobile": "+86 139 0000 0001", **WHEN}
CASES = {
    VISIT: (("000", "expert_outpatient"), VISIT_FORM),
    ADMISSION: (("003", "inpatient"), {"hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "ward": "12病区",
                                       **WHEN}),
    CAR: (("003", "car_pickup"), {"driver_name": "王建军", "driver_mobile": "139 0000 0031", "plate": "沪a·d12345",
                                  "pickup_address": "上海市徐汇区示例路1号", "destination": "复旦大学附属中山医院", **WHEN}),
    AIDE: (("003", "nursing_aide"), {"aide_name": "李秀梅", "aide_mobile": "13900000032", "hospital": "复旦大学附属中山医院",
                                     "ward_bed": "12病区 8床", "days": "7", **WHEN}),
    ESCORT: (("003", "escort_outpatient"), {"hospital": "复旦大学附属中山医院", "meeting_point": "门诊楼一楼服务台",
                                            "escort_name": "周敏", "escort_mobile": "13900001234", **WHEN}),
    OPINION: (("003", "second_opinion"), {"expert": "复旦大学附属肿瘤医院 专家组", **WHEN}),
}
DETAILS = {
    VISIT: {"kind": "visit", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "doctor": "王医生",
            "doctor_level": "chief", "meeting_point": "门诊大楼一楼大厅", "escort_name": "陈专员",
            "escort_mobile": "13900000001"},
    ADMISSION: {"kind": "admission", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "ward": "12病区"},
    CAR: {"kind": "car", "driver_name": "王建军", "driver_mobile": "13900000031", "plate": "沪AD12345",
          "pickup_address": "上海市徐汇区示例路1号", "destination": "复旦大学附属中山医院"},
    AIDE: {"kind": "aide", "aide_name": "李秀梅", "aide_mobile": "13900000032", "hospital": "复旦大学附属中山医院",
           "ward_bed": "12病区 8床", "days": 7},
    ESCORT: {"kind": "escort", "hospital": "复旦大学附属中山医院", "meeting_point": "门诊楼一楼服务台", "escort_name": "周敏",
             "escort_mobile": "13900001234"},
    OPINION: {"kind": "opinion", "expert": "复旦大学附属肿瘤医院 专家组", "delivery": "report"},
}


def case(kind: str, units: int = 7):
    (seed, service), form = CASES[kind]
    return spec(seed, service, units), form


# --- which kind -----------------------------------------------------------------------------------------------

def test_every_booking_form_has_a_kind():
    assert set(arrangements.KIND_OF_FORM) == set(BookingForm)


def test_every_bookable_service_in_the_catalog_has_an_arrangement():
    expected = {"expert_outpatient": VISIT, "exam_fastpass": VISIT, "mdt": VISIT, "inpatient": ADMISSION,
                "inpatient_surgery": ADMISSION, "surgery": ADMISSION, "vip_ward": ADMISSION, "car_pickup": CAR,
                "nursing_aide": AIDE, "escort_outpatient": ESCORT, "escort_inpatient": ESCORT,
                "second_opinion": OPINION, "second_opinion_overseas": OPINION, "remote_consultation": OPINION}
    for product in default_catalog().products:
        for service in product.services:
            if service.bookable:
                assert spec_for(product, service).kind == expected[service.code], (product.code, service.code)


@pytest.mark.parametrize("kind, absent", [
    (CAR, {"doctor", "doctor_level", "meeting_point", "department"}),  # the issue: a car shows no doctor rank
    (AIDE, {"doctor", "doctor_level", "meeting_point"}),  # an aide shows no doctor level
    (OPINION, {"meeting_point", "escort_mobile", "hospital"}),  # no invented meeting point or escort phone
    (ADMISSION, {"doctor_level", "escort_mobile"}),
    (ESCORT, {"doctor", "doctor_level"}),
])
def test_a_kind_asks_nothing_of_another_kind(kind, absent):
    assert not absent & set(case(kind)[0].names)


def test_an_exam_and_a_panel_are_visits_without_a_doctor_to_name():
    # 003 表3 lines 787-791: an exam against an order; 重疾多学科会诊 服务说明(1) line 2658: "客户不可指定医生".
    for service in ("exam_fastpass", "mdt"):
        assert {"doctor", "doctor_level"}.isdisjoint(spec("003", service).names)
        assert {"hospital", "department", "date", "time"} <= set(spec("003", service).names)


# --- a complete form ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(CASES))
def test_a_complete_form_of_every_kind_is_parsed(kind):
    found, errors = parse(*case(kind), now=NOW)
    assert errors == {}
    assert found.starts_at == at(2026, 11, 25, 9, 30)
    assert found.details == DETAILS[kind]


def test_a_remote_consultation_is_a_call_and_a_second_opinion_a_report():
    call, _ = parse(spec("003", "remote_consultation"), CASES[OPINION][1], now=NOW)
    report, _ = parse(spec("004", "second_opinion"), CASES[OPINION][1], now=NOW)
    assert (call.details["delivery"], report.details["delivery"]) == ("call", "report")
    assert arrangements.when_key(call.details) == "call" and arrangements.when_key(report.details) == "report"


def test_fields_of_another_kind_are_not_stored():
    found, errors = parse(case(CAR)[0], {**CASES[CAR][1], "doctor_level": "chief", "meeting_point": "大厅"}, now=NOW)
    assert errors == {} and "doctor_level" not in found.details and "meeting_point" not in found.details


def test_optional_fields_of_a_visit_may_be_left_empty():
    found, errors = parse(spec("004", "expert_outpatient"),
                          {**VISIT_FORM, "doctor": "", "doctor_level": "", "meeting_point": " ", "escort_name": "",
                           "escort_mobile": ""}, now=NOW)
    assert errors == {}
    assert found.details == {"kind": "visit", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科"}


def test_full_width_digits_from_a_chinese_keyboard_are_read():
    found, errors = parse(case(AIDE)[0], {**CASES[AIDE][1], "date": "２０２６-１１-２５", "time": "９：３０", "days": "７"},
                          now=NOW)
    assert errors == {} and found.starts_at == at(2026, 11, 25, 9, 30) and found.details["days"] == 7


# --- each required field missing ------------------------------------------------------------------------------

REQUIRED = [(kind, f.name) for kind in CASES for f in case(kind)[0].fields if f.required and f.name not in ("date", "time")]


def test_every_kind_has_required_fields():
    assert {kind for kind, _ in REQUIRED} == set(CASES)


@pytest.mark.parametrize("kind, field", REQUIRED, ids=[f"{k}-{f}" for k, f in REQUIRED])
def test_each_required_field_missing_is_named(kind, field):
    spec_, form = case(kind)
    assert parse(spec_, {**form, field: "  "}, now=NOW) == (None, {field: "arrange.required"})


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("field, value, error", [
    ("date", "", "arrange.date"), ("date", "2026-02-30", "arrange.date"), ("date", "25/11/2026", "arrange.date"),
    ("date", "2026-11-15", "arrange.past"), ("time", "", "arrange.time"), ("time", "24:00", "arrange.time"),
    ("time", "9点半", "arrange.time"), ("time", "9:5", "arrange.time"),
])
def test_a_bad_date_or_time_is_refused_for_every_kind(kind, field, value, error):
    spec_, form = case(kind)
    assert parse(spec_, {**form, field: value}, now=NOW) == (None, {field: error})


def test_exactly_now_is_not_the_future_and_a_year_is_the_horizon():
    spec_, form = case(CAR)
    assert parse(spec_, {**form, "date": "2026-11-16", "time": "10:00"}, now=NOW)[1] == {"date": "arrange.past"}
    assert parse(spec_, {**form, "date": "2027-11-18", "time": "10:00"}, now=NOW)[1] == {"date": "arrange.too_far"}
    found, errors = parse(spec_, {**form, "date": "2027-11-17", "time": "10:00"}, now=NOW)
    assert errors == {} and found.starts_at == at(2027, 11, 17, 10, 0)


@pytest.mark.parametrize("kind", list(CASES))
def test_every_text_field_has_a_length_limit(kind):
    spec_, form = case(kind)
    for f in spec_.fields:
        if f.input == "text":
            assert parse(spec_, {**form, f.name: "长" * (f.max_length + 1)}, now=NOW) == (None, {f.name: "arrange.too_long"})


def test_parsing_needs_an_aware_clock():
    with pytest.raises(ValueError):
        parse(*case(VISIT), now=datetime(2026, 11, 16, 10, 0))


def test_all_errors_come_back_at_once():
    spec_, form = case(CAR)
    found, errors = parse(spec_, {**form, "driver_name": "", "driver_mobile": "12345", "plate": "ABC", "time": "x"},
                          now=NOW)
    assert found is None
    assert errors == {"driver_name": "arrange.required", "driver_mobile": "arrange.mobile", "plate": "arrange.plate",
                      "time": "arrange.time"}


# --- phones and plates --------------------------------------------------------------------------------------

PHONES = [(CAR, "driver_mobile"), (AIDE, "aide_mobile"), (ESCORT, "escort_mobile"), (VISIT, "escort_mobile")]


@pytest.mark.parametrize("kind, field", PHONES)
@pytest.mark.parametrize("bad", ["12345", "010-6512-3456", "+1 415 555 0100", "1390000123"])  # short, landline, US
def test_a_bad_phone_is_refused(kind, field, bad):
    spec_, form = case(kind)
    assert parse(spec_, {**form, field: bad}, now=NOW) == (None, {field: "arrange.mobile"})


@pytest.mark.parametrize("kind, field", PHONES)
def test_a_phone_is_stored_as_11_digits(kind, field):
    spec_, form = case(kind)
    found, _ = parse(spec_, {**form, field: "+86 139-0000-1234"}, now=NOW)
    assert found.details[field] == "13900001234"


def test_an_escort_named_without_a_mobile_is_refused():
    assert parse(case(VISIT)[0], {**VISIT_FORM, "escort_mobile": ""}, now=NOW) == (None, {
        "escort_mobile": "arrange.required"})


@pytest.mark.parametrize("typed, stored", [("沪A12345", "沪A12345"), ("沪a 12345", "沪A12345"), ("粤B·D12345", "粤BD12345"),
                                           ("京A-F1234", "京AF1234")])
def test_plates_are_normalised(typed, stored):
    assert arrangements.normalise_plate(typed) == stored


@pytest.mark.parametrize("typed", ["A12345", "沪12345", "沪A1234", "沪A1234567", "沪I12345", "XA12345", ""])
def test_a_bad_plate_is_refused(typed):
    spec_, form = case(CAR)
    expected = "arrange.required" if not typed else "arrange.plate"
    assert parse(spec_, {**form, "plate": typed}, now=NOW) == (None, {"plate": expected})


# --- the promised doctor level -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed, promised", [("000", "associate_chief"), ("001", "associate_chief"),
                                            ("002", "associate_chief"), ("003", "chief"), ("004", None)])
def test_each_product_promises_its_seeds_level(seed, promised):
    assert spec(seed, "expert_outpatient").promised_level == promised


@pytest.mark.parametrize("seed, level, error", [
    ("000", "attending", "arrange.level_below_associate_chief"),  # 000 line 74
    ("001", "attending", "arrange.level_below_associate_chief"),  # 001 line 55
    ("002", "attending", "arrange.level_below_associate_chief"),  # 002 lines 52-54
    ("003", "attending", "arrange.level_below_chief"),  # 003 lines 776-778
    ("003", "associate_chief", "arrange.level_below_chief"),  # PLUS promises 主任, not 副主任
])
def test_a_level_below_the_promise_is_refused(seed, level, error):
    assert parse(spec(seed, "expert_outpatient"), {**VISIT_FORM, "doctor_level": level}, now=NOW) == (
        None, {"doctor_level": error})


@pytest.mark.parametrize("seed, level", [("000", "associate_chief"), ("000", "chief"), ("001", "associate_chief"),
                                         ("002", "chief"), ("003", "chief"), ("004", "attending")])
def test_a_level_at_or_above_the_promise_is_accepted(seed, level):
    found, errors = parse(spec(seed, "expert_outpatient"), {**VISIT_FORM, "doctor_level": level}, now=NOW)
    assert errors == {} and found.details["doctor_level"] == level


def test_an_unknown_level_is_refused():
    assert parse(case(VISIT)[0], {**VISIT_FORM, "doctor_level": "professor"}, now=NOW) == (
        None, {"doctor_level": "arrange.choice"})


@pytest.mark.parametrize("seed", ["001", "002", "003"])
def test_where_the_vendor_chooses_the_doctor_the_level_is_needed_even_with_a_name(seed):
    assert parse(spec(seed, "expert_outpatient"), {**VISIT_FORM, "doctor_level": ""}, now=NOW) == (
        None, {"doctor_level": "arrange.level_needed"})
    assert next(f for f in spec(seed, "expert_outpatient").fields if f.name == "doctor_level").required


def test_a_doctor_the_customer_named_needs_no_level_but_neither_is_refused():
    # 000 （一）2.9(1) line 74: the customer may name the expert; that choice is theirs.
    found, errors = parse(spec("000", "expert_outpatient"), {**VISIT_FORM, "doctor_level": ""}, now=NOW)
    assert errors == {} and found.details["doctor"] == "王医生" and "doctor_level" not in found.details
    assert parse(spec("000", "expert_outpatient"), {**VISIT_FORM, "doctor": "", "doctor_level": ""}, now=NOW) == (
        None, {"doctor_level": "arrange.level_needed"})


def test_without_a_promise_neither_doctor_nor_level_is_needed():
    found, errors = parse(spec("004", "expert_outpatient"), {**VISIT_FORM, "doctor": "", "doctor_level": ""}, now=NOW)
    assert errors == {} and "doctor_level" not in found.details


# --- an aide's days ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("days, booked, error", [("8", 7, "arrange.days_over_booked"), ("31", 30, "arrange.days_over_booked"),
                                                 ("0", 7, "arrange.days"), ("-1", 7, "arrange.days"),
                                                 ("two", 7, "arrange.days"), ("1.5", 7, "arrange.days")])
def test_an_aide_for_more_days_than_booked_or_no_whole_days_is_refused(days, booked, error):
    spec_, form = case(AIDE, units=booked)
    assert parse(spec_, {**form, "days": days}, now=NOW) == (None, {"days": error})


@pytest.mark.parametrize("days", ["1", "7"])
def test_an_aide_for_up_to_the_days_booked_is_accepted(days):
    spec_, form = case(AIDE, units=7)
    found, errors = parse(spec_, {**form, "days": days}, now=NOW)
    assert errors == {} and found.details["days"] == int(days)


def test_the_aides_last_day_counts_the_first_day():
    assert arrangements.aide_last_day(at(2026, 11, 25, 9, 30), 7) == date(2026, 12, 1)
    assert arrangements.aide_last_day(at(2026, 11, 25, 23, 30), 1) == date(2026, 11, 25)


# --- reading back and filling in -------------------------------------------------------------------------------

def test_details_stored_before_kinds_read_as_a_visit():
    old = {"hospital": "复旦大学附属中山医院", "department": None, "doctor_level": "associate_chief",
           "meeting_point": "门诊楼一楼大厅服务台", "escort_name": "服务专员 周敏", "escort_mobile": "13900000000"}
    assert arrangements.kind_of(old) == VISIT and arrangements.when_key(old) == VISIT
    assert arrangements.kind_of(None) == VISIT and arrangements.kind_of({"kind": "spaceship"}) == VISIT
    assert set(arrangements.WHEN_LABELS) == {VISIT, ESCORT, ADMISSION, CAR, AIDE, "call", "report"}


@pytest.mark.parametrize("direction, pickup, destination", [
    ("home_to_hospital", "上海市徐汇区示例路1号", "复旦大学附属中山医院"),
    ("hospital_to_home", "复旦大学附属中山医院", "上海市徐汇区示例路1号"),
])
def test_a_car_is_prefilled_from_the_trip_asked_for(direction, pickup, destination):
    asked = {"direction": direction, "address": "上海市徐汇区示例路1号", "hospital": "复旦大学附属中山医院",
             "pickup_at": "2026-11-25T09:30+08:00", "distance_km": 18}
    assert arrangements.prefill(case(CAR)[0], asked) == {"pickup_address": pickup, "destination": destination,
                                                         "date": "2026-11-25", "time": "09:30"}


def test_an_aide_and_an_escort_are_prefilled_with_their_own_fields_only():
    asked = {"hospital": "复旦大学附属中山医院", "ward_bed": "12病区 8床", "start_date": "2026-11-25", "days": 7}
    assert arrangements.prefill(case(AIDE)[0], asked, units=7) == {
        "hospital": "复旦大学附属中山医院", "ward_bed": "12病区 8床", "date": "2026-11-25", "days": "7"}
    escort = {"hospital": "瑞金医院", "meeting_at": "2026-11-30T09:00+08:00", "meeting_point": "门诊楼一楼大厅",
              "ward_bed": "x"}
    assert arrangements.prefill(case(ESCORT)[0], escort) == {
        "hospital": "瑞金医院", "meeting_point": "门诊楼一楼大厅", "date": "2026-11-30", "time": "09:00"}
    assert arrangements.prefill(case(OPINION)[0], {"opinion_hospital": "华山医院", "questions": "?"}) == {"expert": "华山医院"}
