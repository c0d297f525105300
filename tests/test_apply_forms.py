"""Booking forms: the fields each service asks for and their server-side check (webapp/services/booking/apply_forms.py).

Fixed clock: "today" is Monday 2026-06-01, 10:00 China time; no test reads the real clock.
"""
from __future__ import annotations

import io
import json
import unicodedata
from datetime import date, datetime, timedelta, timezone

import pytest
from babel.messages.extract import extract
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.services.booking import apply_forms
from webapp.services.booking.apply_forms import (
    BOOKING_HORIZON_DAYS,
    MAX_PASSENGERS,
    TEXT_MAX,
    TEXTAREA_MAX,
    Checked,
    check,
    clean_text,
    consequence,
    date_keys,
    earliest_visit_date,
    excluded_department,
    fields_for,
)
from webapp.services.clock import CHINA
from webapp.services.products.catalog import BookingForm, Text, default_catalog

CATALOG = default_catalog()
CIGC = CATALOG.product("cigc_classic")  # seed 000
HRS = CATALOG.product("haorensheng_gc")  # seed 001
XINGTAO = CATALOG.product("xingtao_gc")  # seed 002
ZHONGAN = CATALOG.product("zhongan_vip")  # seed 003
STARR = CATALOG.product("starr_jiuyibao")  # seed 004

TODAY = date(2026, 6, 1)  # a Monday
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=CHINA)
EARLIEST = date(2026, 6, 8)  # 5 working days after Monday 2026-06-01 (000 （一）2.7)

BOOKABLE = [(p, s) for p in CATALOG.products for s in p.services if s.bookable]
BOOKABLE_IDS = [f"{p.code}.{s.code}" for p, s in BOOKABLE]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA)


def run(product, code, raw, *, units_left=None, field=None, today=TODAY, now=NOW, **kw) -> Checked:
    return check(product, product.service(code), raw, today=today, now=now, units_left=units_left, field=field, **kw)


def msgid(result: Checked, name: str) -> str:
    return result.errors[name][0]


def names(product, code, **kw) -> list[str]:
    return [f.name for f in fields_for(product, product.service(code), **kw)]


def field(product, code, name, **kw):
    return {f.name: f for f in fields_for(product, product.service(code), **kw)}[name]


# Valid posts, one per form, used as the base that each refusal test changes one thing in.
EXPERT_000 = {"diagnosis_stage": "suspected", "city": "北京", "hospital": "北京协和医院", "department": "心内科", "doctor": "张医生",
              "preferred_date_1": "2026-06-10", "preferred_date_2": "2026-06-12"}
EXPERT_001 = {"city": "上海", "department": "肿瘤科", "preferred_date_1": "2026-06-10"}
INPATIENT_002 = {"city": "北京", "hospital": "北京大学肿瘤医院", "department": "胸外科", "admission_slip_date": "2026-05-28"}
EXAM_003 = {"city": "杭州", "hospital": "浙江大学医学院附属第一医院", "exam_type": "mri", "exam_order_date": "2026-05-20"}
CAR_003 = {"direction": "hospital_to_home", "pickup_at": "2026-06-02T09:30", "hospital": "瑞金医院",
           "address": "上海市徐汇区某路1号", "distance_km": "35", "admission_slip_date": "2026-05-20", "passengers": "2"}
ESCORT_OUT_003 = {"city": "上海", "hospital": "华山医院", "department": "神经内科", "meeting_at": "2026-06-05T08:00",
                  "meeting_point": "门诊楼一楼大厅"}
ESCORT_IN_003 = {"visit_type": "admission", "city": "上海", "hospital": "华山医院", "visit_date": "2026-06-05",
                 "meeting_point": "住院部入口"}
OPINION = {"current_diagnosis": "肺腺癌 IIIA 期", "questions": "是否需要先做新辅助化疗？", "treating_hospital": "上海市胸科医院"}
NURSING_003 = {"hospital": "上海市第六人民医院", "ward_bed": "12病区 23床", "start_date": "2026-06-04", "days": "10"}


# ---------------------------------------------------------------------------------------------- fields

@pytest.mark.parametrize(("product", "code", "expected"), [
    # 000 （一）1.1(2) "预约门诊时间、预约医院、预约科室"; （一）2.9(1) hospital, department and doctor may be named.
    # （一）1.2 lines 24-26: suspected or confirmed decides the papers, so it is asked first.
    (CIGC, "expert_outpatient", ["diagnosis_stage", "city", "hospital", "department", "doctor?", "preferred_dates"]),
    # 000 （二）2.4(4) the department's admission slip; （二）2.9(1) "不可指定专家"; （二）1.1(2) line 122 the customer
    # tells "预约住院时间、预约医院、预约科室", so the admission date is asked (and required) like the hospital.
    (CIGC, "inpatient_surgery", ["diagnosis_stage", "city", "hospital", "department", "admission_slip_date",
                                 "admission_date"]),
    # 001 一【注意事项】6 "不可指定专家"; 【服务条款】the vendor chooses the hospital (catalog note).
    (HRS, "expert_outpatient", ["city", "department", "preferred_dates"]),
    # 001 二【服务流程】3-9: a slip is optional; without one the vendor first books an expert visit.
    (HRS, "inpatient", ["city", "hospital", "department", "admission_slip_date?"]),
    # 002 一 2(4)2) hospital and department, not the doctor.
    (XINGTAO, "expert_outpatient", ["city", "hospital", "department", "preferred_dates"]),
    (XINGTAO, "surgery", ["city", "hospital", "department", "admission_slip_date"]),
    # 003 重疾绿通PLUS 表1 "不可指定医院、科室和医生".
    (ZHONGAN, "remote_consultation", ["current_diagnosis", "questions", "treating_hospital"]),
    # 003 重疾绿通PLUS 表3 and 特别说明(7).
    (ZHONGAN, "exam_fastpass", ["city", "hospital", "exam_type", "exam_order_date"]),
    (ZHONGAN, "vip_ward", ["city", "hospital", "department", "admission_slip_date"]),
    # 003 同城专车接送 1, 2(2), 4 表1, 注(2)(3).
    (ZHONGAN, "car_pickup", ["direction", "pickup_at", "hospital", "address", "distance_km", "admission_slip_date?",
                             "discharge_date?", "passengers", "lying_down?", "doctor_certificate?"]),
    # 003 门诊陪诊 一 "分娩时不进行陪同" (a department is asked so it can be checked), "4小时内（以约定的见面时间开始算起）".
    (ZHONGAN, "escort_outpatient", ["city", "hospital", "department", "meeting_at", "meeting_point"]),
    # 003 住院陪诊 二(2) "仅限在办理住院或出院时可申请".
    (ZHONGAN, "escort_inpatient", ["visit_type", "city", "hospital", "visit_date", "meeting_point"]),
    # 003 二次诊疗意见 表1 "可指定医院不可指定专家"; 表2 overseas is the USA only (no country choice).
    (ZHONGAN, "second_opinion", ["current_diagnosis", "questions", "treating_hospital", "opinion_hospital?"]),
    (ZHONGAN, "second_opinion_overseas", ["current_diagnosis", "questions", "treating_hospital"]),
    # 003 重疾多学科会诊 服务说明(1) "客户不可指定医生".
    (ZHONGAN, "mdt", ["current_diagnosis", "questions", "treating_hospital"]),
    # 003 重疾住院护工 一 5, 二 表.
    (ZHONGAN, "nursing_aide", ["hospital", "ward_bed", "start_date", "days"]),
    # 004 就医绿色通道 一 5: city and hospital; no department, so the illness is described instead.
    (STARR, "expert_outpatient", ["city", "hospital", "symptoms", "preferred_dates"]),
    (STARR, "inpatient", ["city", "hospital", "department", "admission_slip_date"]),
    # 004 国内就医陪诊 二 "所需就诊陪同的城市、医院".
    (STARR, "escort_outpatient", ["city", "hospital", "meeting_at", "meeting_point"]),
    # 004 海外第二诊疗意见 一 3: five countries to choose from.
    (STARR, "second_opinion_overseas", ["current_diagnosis", "questions", "treating_hospital", "preferred_country?"]),
])
def test_fields_per_form(product, code, expected):
    got = [f.name + ("" if f.required else "?") for f in fields_for(product, product.service(code))]
    assert got == expected


@pytest.mark.parametrize(("product", "service"), BOOKABLE, ids=BOOKABLE_IDS)
def test_every_bookable_service_has_a_form_with_known_kinds(product, service):
    fields = fields_for(product, service)
    assert fields
    assert len({f.name for f in fields}) == len(fields)
    assert {f.kind for f in fields} <= {"text", "textarea", "select", "date", "datetime", "dates", "int", "bool"}
    for f in fields:
        assert f.kind != "select" or f.choices


def test_information_services_have_no_form():
    with pytest.raises(ValueError):
        fields_for(ZHONGAN, ZHONGAN.service("video_consultation"))


def test_city_choices_come_from_the_coverage_list_with_zh_values():
    """002 一 4、绿通覆盖城市列表: 40 cities; the value is the zh name, the label the locale's."""
    city = field(XINGTAO, "expert_outpatient", "city")
    assert city.kind == "select" and len(city.choices) == 40
    assert city.choices[0] == ("北京", "北京")
    en = field(XINGTAO, "expert_outpatient", "city", locale="en")
    assert en.choices[0] == ("北京", "Beijing")


def test_escort_uses_its_own_city_list():
    """004 国内就医陪诊 一 4.1): 31 cities, not the 59 of the green channel."""
    assert len(field(STARR, "escort_outpatient", "city").choices) == 31
    assert len(field(STARR, "expert_outpatient", "city").choices) == 59


def test_city_is_free_text_without_a_coverage_list():
    """000 gives no city list (coverage_cities: [])."""
    city = field(CIGC, "expert_outpatient", "city")
    assert city.kind == "text" and city.choices == ()


def test_int_field_bounds():
    """003 同城专车接送 4 表1 "100公里以内（含）"; 注(3) line 566 "一般安排五至七座商务车": a seven-seater is the largest
    car, six besides the driver (was 4, the saloon's, which refused what a seven-seater carries); 重疾住院护工 一 5
    "以30日为限"."""
    assert (field(ZHONGAN, "car_pickup", "distance_km").min, field(ZHONGAN, "car_pickup", "distance_km").max) == (1, 100)
    assert field(ZHONGAN, "car_pickup", "passengers").max == MAX_PASSENGERS == 6
    assert field(ZHONGAN, "nursing_aide", "days").max == 30
    assert field(ZHONGAN, "nursing_aide", "days", units_left=7).max == 7


def test_preferred_dates_are_posted_as_three_numbered_keys():
    dates = field(CIGC, "expert_outpatient", "preferred_dates")
    assert (dates.kind, dates.min, dates.max) == ("dates", 1, 3)
    assert date_keys(dates) == ("preferred_date_1", "preferred_date_2", "preferred_date_3")


def test_exam_types_are_ct_ultrasound_and_mri():
    """003 重疾绿通PLUS 4 表3: "CT类检查、B超类（包含彩超）及核磁类检查"."""
    assert [v for v, _ in field(ZHONGAN, "exam_fastpass", "exam_type").choices] == ["ct", "ultrasound", "mri"]


def test_car_trip_is_only_between_home_and_hospital():
    """003 同城专车接送 特别说明(4), Q&A(3): never to another hospital."""
    assert [v for v, _ in field(ZHONGAN, "car_pickup", "direction").choices] == ["home_to_hospital", "hospital_to_home"]


def _extracted() -> set[str]:
    with open(apply_forms.__file__, "rb") as source:
        return {msg for _, msg, _, _ in extract("python", io.BytesIO(source.read()), keywords={"N_": None})}


def test_every_label_help_and_choice_is_an_extractable_literal():
    """Babel runs with `-k N_`: every English string the view translates must be found by it."""
    found = _extracted()
    for product, service in BOOKABLE:
        for f in fields_for(product, service):
            assert f.label in found
            assert f.help is None or f.help in found
            if f.name != "city":  # city labels are catalog text, already in the locale
                assert all(label in found for _, label in f.choices)


# ---------------------------------------------------------------------------------------------- required fields

@pytest.mark.parametrize(("product", "service"), BOOKABLE, ids=BOOKABLE_IDS)
def test_an_empty_post_names_every_required_field(product, service):
    result = check(product, service, {}, today=TODAY, now=NOW, units_left=None)
    required = {f.name for f in fields_for(product, service) if f.required}
    missing = set(result.errors)
    if service.form is BookingForm.CAR_PICKUP:
        required.add("admission_slip_date")  # the slip or a discharge date (003 同城专车接送 2(2))
    assert missing == required
    assert not result.ok
    assert all(params == {} for _, params in result.errors.values())
    assert {text for text, _ in result.errors.values()} <= {
        "Please fill in this field.", "Please choose one.", "Please enter a date.", "Please enter a date and time.",
        "Please choose at least one date.", "Please enter a number.",
        "Please give the admission slip date or the discharge date.",
    }


@pytest.mark.parametrize(("product", "code", "raw"), [
    (CIGC, "expert_outpatient", EXPERT_000),
    (HRS, "expert_outpatient", EXPERT_001),
    (XINGTAO, "inpatient", INPATIENT_002),
    (XINGTAO, "surgery", INPATIENT_002),
    (ZHONGAN, "exam_fastpass", EXAM_003),
    (ZHONGAN, "car_pickup", CAR_003),
    (ZHONGAN, "escort_outpatient", ESCORT_OUT_003),
    (ZHONGAN, "escort_inpatient", ESCORT_IN_003),
    (ZHONGAN, "second_opinion", OPINION),
    (ZHONGAN, "second_opinion_overseas", OPINION),
    (ZHONGAN, "mdt", OPINION),
    (ZHONGAN, "remote_consultation", OPINION),
    (ZHONGAN, "nursing_aide", NURSING_003),
    (STARR, "expert_outpatient", {"city": "北京", "hospital": "北京协和医院", "symptoms": "确诊乳腺癌，想请专家确定手术方案",
                                  "preferred_date_1": "2026-06-15"}),
])
def test_a_complete_post_is_accepted_and_serialisable(product, code, raw):
    result = run(product, code, raw, units_left=30)
    assert result.ok, result.errors
    json.dumps(result.data)
    assert set(result.data) - {"visit_type", "doctor_certificate_needed"} <= set(names(product, code))


def test_expert_outpatient_cleaned_data():
    result = run(CIGC, "expert_outpatient", EXPERT_000)
    assert result.data == {"diagnosis_stage": "suspected", "city": "北京", "hospital": "北京协和医院",
                           "department": "心内科", "doctor": "张医生", "preferred_dates": ["2026-06-10", "2026-06-12"]}
    assert result.units == 1 and result.admission_slip_date is None
    assert result.documents == ("diagnosis",)  # 000 （一）1.2(1) line 24: a suspected patient sends the medical record


# ---------------------------------------------------------------------------------------------- expert outpatient

def test_earliest_visit_is_the_arrangement_deadline():
    """000 （一）2.7 "审核通过时5个工作日内"; Q&A "均不支持紧急预约": Monday 10:00 -> the Monday after."""
    assert earliest_visit_date(CIGC, CIGC.service("expert_outpatient"), NOW) == EARLIEST
    # 000 （一）2.3: after 18:00 the desk sees it the next working day, so one day later.
    assert earliest_visit_date(CIGC, CIGC.service("expert_outpatient"), at(2026, 6, 1, 20, 0)) == date(2026, 6, 9)


def test_earliest_visit_honours_advance_working_days():
    """001 一【服务流程】1: "客户提前5个工作日…预约" outweighs the 2-day confirmation of 【服务流程】3."""
    assert earliest_visit_date(HRS, HRS.service("expert_outpatient"), NOW) == EARLIEST


def test_preferred_date_before_the_earliest_is_refused():
    """000 Q&A (紧急预约): no urgent bookings."""
    result = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_2": "2026-06-05"})
    assert result.errors == {"preferred_dates": ("Please choose a date on or after %(date)s.", {"date": "2026-06-08"})}
    assert "preferred_dates" not in result.data


def test_preferred_date_in_the_past_is_refused():
    result = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_1": "2026-05-31"})
    assert msgid(result, "preferred_dates") == "Please choose a date on or after %(date)s."


def test_preferred_dates_past_60_days_are_accepted_and_flagged():
    """The seeds set no upper limit (000 Q&A line 348 bounds dates from below only), so the project's 60 days no
    longer refuses (it did): today + 60 is plain, + 61 is accepted with a warning the desk checks with the customer."""
    last = TODAY + timedelta(days=BOOKING_HORIZON_DAYS)
    plain = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_3": last.isoformat()})
    assert plain.ok and plain.warnings == {} and "desk_checks" not in plain.data
    late = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_3": (last + timedelta(days=1)).isoformat()})
    assert late.ok and late.data["preferred_dates"][-1] == "2026-08-01"
    assert late.warnings == {"preferred_dates": (apply_forms.WARN_FAR_AHEAD, {"days": 60})}
    assert late.data["desk_checks"] == [["preferred_dates", apply_forms.WARN_FAR_AHEAD, {"days": 60}]]


def test_earliest_date_can_be_given_by_the_caller():
    result = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_1": "2026-06-03"}, earliest_date=date(2026, 6, 3))
    assert result.ok


def test_preferred_dates_deduplicated_and_only_three_read():
    raw = {**EXPERT_000, "preferred_date_1": "2026-06-10", "preferred_date_2": "2026-06-10",
           "preferred_date_3": "2026-06-11", "preferred_date_4": "2026-06-12", "preferred_dates": ["2026-06-13"]}
    assert run(CIGC, "expert_outpatient", raw).data["preferred_dates"] == ["2026-06-10", "2026-06-11"]


def test_preferred_dates_may_skip_a_slot():
    raw = {k: v for k, v in EXPERT_000.items() if not k.startswith("preferred")} | {"preferred_date_3": "2026-06-20"}
    assert run(CIGC, "expert_outpatient", raw).data["preferred_dates"] == ["2026-06-20"]


def test_malformed_date_is_refused():
    for bad in ("2026-02-30", "10/06/2026", "tomorrow", "2026-6-10"):
        result = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_1": bad})
        assert msgid(result, "preferred_dates") == "Please enter a date as YYYY-MM-DD.", bad


def test_full_width_digits_from_a_chinese_keyboard_are_a_date():
    result = run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_1": "２０２６－０６－１５"})
    assert result.ok and result.data["preferred_dates"][0] == "2026-06-15"


def test_doctor_is_stored_where_the_product_allows_naming_one():
    """000 （一）2.9(1): "可以指定医院、指定科室、指定专家"."""
    assert run(CIGC, "expert_outpatient", EXPERT_000).data["doctor"] == "张医生"
    assert "doctor" not in run(CIGC, "expert_outpatient", {**EXPERT_000, "doctor": ""}).data  # optional


@pytest.mark.parametrize(("product", "raw"), [
    (ZHONGAN, {**EXPERT_001, "hospital": "华山医院"}),  # 003 重疾绿通PLUS 表2 "不可指定医生"
    (XINGTAO, {**INPATIENT_002, "preferred_date_1": "2026-06-10"}),  # 002 一 2(4)2)
    (HRS, EXPERT_001),  # 001 一【注意事项】6 "不可指定专家"
])
def test_doctor_posted_where_not_allowed_is_ignored(product, raw):
    result = run(product, "expert_outpatient", {**raw, "doctor": "张医生"})
    assert result.ok, result.errors
    assert "doctor" not in result.data


def test_hospital_posted_where_the_vendor_chooses_it_is_ignored():
    """001 一【服务流程】3: the vendor proposes the hospital and confirms by phone."""
    result = run(HRS, "expert_outpatient", {**EXPERT_001, "hospital": "瑞金医院"})
    assert result.ok and "hospital" not in result.data


def test_city_must_be_from_the_coverage_list():
    """002 一 4: 东莞 is not a covered city; the English label (en locale) maps to the zh value."""
    base = {**INPATIENT_002}
    assert msgid(run(XINGTAO, "expert_outpatient", {**base, "city": "东莞", "preferred_date_1": "2026-06-10"}),
                 "city") == "Please choose one of the options."
    ok = run(XINGTAO, "expert_outpatient", {**base, "city": "beijing", "preferred_date_1": "2026-06-10"}, locale="en")
    assert ok.data["city"] == "北京"


# ---------------------------------------------------------------------------------------------- departments

@pytest.mark.parametrize(("department", "excluded_zh"), [
    ("产科", "产科"),
    # "及医技科室,如超声诊断科，影像科等" (line 49): every medical-technology department, not only the two examples.
    ("检验科", "检验科"),
    ("医学检验中心", "检验科"),
    ("病理科", "病理科"),
    ("核医学科", "核医学科"),
    ("放射科", "放射诊断科"),
    ("心电图室", "心电图"),
    ("输血科", "输血科"),
    ("药剂科", "药剂科"),
    ("医技科", "医技科室"),
    ("Clinical laboratory", "检验科"),
    ("pathology", "病理科"),
    ("Radiology", "放射诊断科"),
    ("产科门诊", "产科"),
    ("妇产科", "产科"),  # contains 产科 (obstetrics): refused, the person can say 妇科
    ("急诊科", "急诊科"),
    ("急诊内科", "急诊科"),
    ("超声诊断科", "超声诊断科"),
    ("超声科", "超声诊断科"),  # a shorter name of the same department
    ("影像科门诊", "影像科"),
    ("EMERGENCY", "急诊科"),
    ("Obstetrics clinic", "产科"),
    ("ultrasound", "超声诊断科"),
    ("Medical Imaging Department", "影像科"),
])
def test_excluded_departments_are_refused_with_the_reason(department, excluded_zh):
    """001 一【注意事项】4: "不适用于产科、急诊科及医技科室,如超声诊断科，影像科等"."""
    result = run(HRS, "expert_outpatient", {**EXPERT_001, "department": department})
    assert result.errors == {"department": ("This service does not cover the department %(department)s.",
                                            {"department": excluded_zh})}
    assert "department" not in result.data


def test_excluded_department_reason_in_english():
    result = run(HRS, "expert_outpatient", {**EXPERT_001, "department": "急诊"}, locale="en")
    assert result.errors["department"][1] == {"department": "Emergency"}


@pytest.mark.parametrize("department", ["心内科", "肿瘤科", "胸外科", "妇科", "Oncology", "内科", "诊",
                                        # treatment departments, not 医技: radiotherapy, interventional radiology, blood
                                        "放射治疗科", "放疗科", "介入放射科", "血液科", "Radiation oncology"])
def test_other_departments_pass(department):
    assert run(HRS, "expert_outpatient", {**EXPERT_001, "department": department}).ok


def test_department_substring_match():
    """The product issue's example: "口腔科门诊" contains "口腔"."""
    service = HRS.service("expert_outpatient").model_copy(
        update={"excluded_departments": (Text(zh="口腔", en="Stomatology"),)})
    assert excluded_department(service, "口腔科门诊").zh == "口腔"
    assert excluded_department(service, "stomatology CLINIC").zh == "口腔"
    assert excluded_department(service, "眼科") is None


CHILDBIRTH = ("A companion does not go with you for childbirth. Other visits, gynaecology and pregnancy check-ups "
              "included, are covered.")


@pytest.mark.parametrize("department", ["分娩", "产科（分娩）", "产房", "待产室", "Childbirth", "Labour and delivery"])
def test_escort_refuses_childbirth(department):
    """003 门诊陪诊 一 line 1478: "分娩时不进行陪同" — the birth is refused."""
    result = run(ZHONGAN, "escort_outpatient", {**ESCORT_OUT_003, "department": department})
    assert result.errors["department"] == (CHILDBIRTH, {})


@pytest.mark.parametrize("department", ["妇产科", "产科", "产科门诊", "妇科", "Obstetrics", "Gynaecology"])
def test_escort_takes_other_obstetric_and_gynaecology_visits(department):
    """Line 1478 excludes childbirth only; a pregnancy check-up or a gynaecology visit is an outpatient visit like any
    other (二(2) line 1486 "仅限在医院门诊看诊时可申请"). Before, every 妇产科/产科 visit was refused."""
    assert run(ZHONGAN, "escort_outpatient", {**ESCORT_OUT_003, "department": department}).ok


def test_products_without_exclusions_take_any_department():
    assert run(CIGC, "expert_outpatient", {**EXPERT_000, "department": "急诊科"}).ok  # 000 names none


# ---------------------------------------------------------------------------------------------- admission / surgery

@pytest.mark.parametrize("code", ["inpatient", "surgery"])
def test_admission_slip_date_is_returned_as_a_date(code):
    """002 二 2(3): "住院条开具之日起10个工作日内" — the slip's date drives the deadline."""
    result = run(XINGTAO, code, INPATIENT_002)
    assert result.admission_slip_date == date(2026, 5, 28)
    assert result.data["admission_slip_date"] == "2026-05-28"
    assert result.documents == ("diagnosis", "medical_records", "admission_slip")


def test_admission_slip_in_the_future_is_refused():
    result = run(XINGTAO, "inpatient", {**INPATIENT_002, "admission_slip_date": "2026-06-02"})
    assert result.errors == {"admission_slip_date": ("This date cannot be in the future.", {})}
    assert result.admission_slip_date is None


def test_admission_slip_today_is_accepted():
    assert run(XINGTAO, "inpatient", {**INPATIENT_002, "admission_slip_date": "2026-06-01"}).ok


def test_admission_slip_older_than_30_days_is_accepted_and_flagged():
    """Seeds 000 （二）2.7 line 178, 002 二 2(3), 004 一 3 give the slip no validity, so a slip over 30 days old is no
    longer refused (the seed allows it): it is accepted and the desk checks it is still valid."""
    fresh_enough = run(XINGTAO, "inpatient", {**INPATIENT_002, "admission_slip_date": "2026-05-02"})  # 30 days
    assert fresh_enough.ok and fresh_enough.warnings == {}
    stale = run(XINGTAO, "inpatient", {**INPATIENT_002, "admission_slip_date": "2026-05-01"})  # 31 days
    assert stale.ok and stale.admission_slip_date == date(2026, 5, 1)
    assert stale.warnings == {"admission_slip_date": (apply_forms.WARN_SLIP_AGE, {"days": 30})}


def test_admission_slip_is_optional_where_the_vendor_arranges_one():
    """001 二【服务流程】3-9: without a slip the vendor books an expert visit first; no slip document then."""
    raw = {k: v for k, v in INPATIENT_002.items() if k != "admission_slip_date"}
    result = run(HRS, "inpatient", raw)
    assert result.ok and result.admission_slip_date is None
    assert result.documents == ("diagnosis",)
    assert run(HRS, "inpatient", INPATIENT_002).documents == ("diagnosis", "admission_slip")


def test_admission_needs_hospital_and_department_even_when_not_chosen():
    """004 一 5 lets the person name no department, but the slip comes from one (二 "是否已开具住院条")."""
    raw = {"city": "北京", "admission_slip_date": "2026-05-28"}
    assert set(run(STARR, "inpatient", raw).errors) == {"hospital", "department"}


# ---------------------------------------------------------------------------------------------- exam fast pass

def test_exam_type_must_be_one_of_three():
    """003 重疾绿通PLUS 4 表3."""
    assert msgid(run(ZHONGAN, "exam_fastpass", {**EXAM_003, "exam_type": "pet_ct"}), "exam_type") == \
        "Please choose one of the options."
    assert run(ZHONGAN, "exam_fastpass", {**EXAM_003, "exam_type": "CT"}).data["exam_type"] == "ct"


def test_exam_order_date_bounds():
    """003 重疾绿通PLUS 特别说明(7) line 937 "需持有检查单"; the seed gives no validity, so an order over 90 days old is
    accepted and flagged for the desk (it was refused)."""
    assert run(ZHONGAN, "exam_fastpass", {**EXAM_003, "exam_order_date": "2026-03-03"}).warnings == {}  # 90 days
    old = run(ZHONGAN, "exam_fastpass", {**EXAM_003, "exam_order_date": "2026-03-02"})
    assert old.ok and old.warnings["exam_order_date"] == (apply_forms.WARN_EXAM_ORDER_AGE, {"days": 90})
    future = run(ZHONGAN, "exam_fastpass", {**EXAM_003, "exam_order_date": "2026-06-02"})
    assert msgid(future, "exam_order_date") == "This date cannot be in the future."
    assert run(ZHONGAN, "exam_fastpass", EXAM_003).documents == ("diagnosis", "exam_order")


# ---------------------------------------------------------------------------------------------- car pickup

def test_car_cleaned_data_and_documents():
    """003 同城专车接送 2(2): with the admission slip, no discharge proof is needed."""
    result = run(ZHONGAN, "car_pickup", CAR_003)
    assert result.ok
    assert result.data == {"direction": "hospital_to_home", "pickup_at": "2026-06-02T09:30+08:00", "hospital": "瑞金医院",
                           "address": "上海市徐汇区某路1号", "distance_km": 35, "admission_slip_date": "2026-05-20",
                           "passengers": 2, "lying_down": False, "doctor_certificate": False,
                           "doctor_certificate_needed": False}
    assert result.documents == ("admission_slip",)
    assert result.admission_slip_date == date(2026, 5, 20)
    assert result.units == 1


def test_distance_101_km_is_refused():
    """003 同城专车接送 4 表1 "100公里以内（含）"; Q&A(4): beyond it the request cannot be accepted."""
    assert run(ZHONGAN, "car_pickup", {**CAR_003, "distance_km": "100"}).ok
    far = run(ZHONGAN, "car_pickup", {**CAR_003, "distance_km": "101"})
    assert far.errors == {"distance_km": ("We can only arrange a car for trips of up to %(max)s km one way.",
                                          {"min": 1, "max": 100})}


@pytest.mark.parametrize("bad", ["0", "-5", "12.5", "十", "1e2", "35 km"])
def test_distance_must_be_a_whole_number_from_1(bad):
    assert "distance_km" in run(ZHONGAN, "car_pickup", {**CAR_003, "distance_km": bad}).errors


def test_discharge_within_five_days():
    """003 同城专车接送 2(2): "出院日期5日内使用申请服务" — 5 days ago accepted, 6 refused."""
    base = {k: v for k, v in CAR_003.items() if k != "admission_slip_date"}
    ok = run(ZHONGAN, "car_pickup", {**base, "discharge_date": "2026-05-27", "pickup_at": "2026-06-01T15:00"})
    assert ok.ok and ok.documents == ("discharge_proof",)
    late = run(ZHONGAN, "car_pickup", {**base, "discharge_date": "2026-05-26", "pickup_at": "2026-06-01T15:00"})
    assert late.errors == {"discharge_date": ("The discharge must be within the last %(days)s days.", {"days": 5})}


def test_a_planned_discharge_is_a_discharge_date():
    """2(2) line 516 "凭住院单或者出院日期5日内使用申请服务": a planned discharge (the patient is still in hospital) is a
    discharge date, so the trip home is booked before leaving (it was refused as "in the future"). The pickup is then
    within 5 days of it: on the discharge day up to 5 days later, not before."""
    base = {k: v for k, v in CAR_003.items() if k != "admission_slip_date"} | {"discharge_date": "2026-06-03"}
    on_the_day = run(ZHONGAN, "car_pickup", {**base, "pickup_at": "2026-06-03T10:00"})
    assert on_the_day.ok and on_the_day.data["discharge_date"] == "2026-06-03"
    assert on_the_day.documents == ("discharge_proof",)
    assert run(ZHONGAN, "car_pickup", {**base, "pickup_at": "2026-06-08T23:59"}).ok  # the 5th day after
    late = run(ZHONGAN, "car_pickup", {**base, "pickup_at": "2026-06-09T00:00"})
    assert late.errors == {"pickup_at": ("Please choose a date no later than %(date)s.", {"date": "2026-06-08"})}
    early = run(ZHONGAN, "car_pickup", {**base, "pickup_at": "2026-06-02T23:59"})
    assert early.errors == {"pickup_at": ("Please choose a date on or after %(date)s.", {"date": "2026-06-03"})}


def test_trip_home_must_be_within_the_discharge_window():
    """"出院日期5日内使用": discharged 2026-05-28, a pickup on 2026-06-03 is 6 days later."""
    base = {k: v for k, v in CAR_003.items() if k != "admission_slip_date"} | {"discharge_date": "2026-05-28"}
    assert run(ZHONGAN, "car_pickup", {**base, "pickup_at": "2026-06-02T09:00"}).ok
    late = run(ZHONGAN, "car_pickup", {**base, "pickup_at": "2026-06-03T09:00"})
    assert late.errors == {"pickup_at": ("Please choose a date no later than %(date)s.", {"date": "2026-06-02"})}


def test_trip_to_hospital_needs_an_admission_slip():
    """003 同城专车接送 4 表1 "出入院的专车接送": going in is an admission."""
    base = {k: v for k, v in CAR_003.items() if k != "admission_slip_date"}
    result = run(ZHONGAN, "car_pickup", {**base, "direction": "home_to_hospital", "discharge_date": "2026-05-30"})
    assert result.errors == {"admission_slip_date": ("A trip to the hospital needs an admission slip.", {})}


def test_car_needs_a_slip_or_a_discharge():
    base = {k: v for k, v in CAR_003.items() if k != "admission_slip_date"}
    assert run(ZHONGAN, "car_pickup", base).errors == {
        "admission_slip_date": ("Please give the admission slip date or the discharge date.", {})}


def test_car_slip_may_be_from_a_long_stay():
    """A slip only proves the stay; a 40-day-old slip is fine for the trip home, a future one is not."""
    assert run(ZHONGAN, "car_pickup", {**CAR_003, "admission_slip_date": "2026-04-22"}).ok
    assert "admission_slip_date" in run(ZHONGAN, "car_pickup", {**CAR_003, "admission_slip_date": "2026-06-02"}).errors


def test_lying_down_without_certificate_is_refused():
    """003 同城专车接送 注(3), 特别说明(2): "需平躺出院的……需要医生出具相关的证明材料"."""
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "lying_down": "on"})
    assert result.errors == {"doctor_certificate": (
        "Lying-down transport needs a doctor's certificate; please confirm you have one.", {})}


def test_lying_down_with_certificate_adds_the_document():
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "lying_down": "on", "doctor_certificate": "on"})
    assert result.ok
    assert result.data["doctor_certificate_needed"] is True
    assert result.documents == ("admission_slip", "doctor_certificate")


def test_sitting_passengers_need_no_certificate():
    assert "doctor_certificate" not in run(ZHONGAN, "car_pickup", CAR_003).documents


def test_passengers_limit():
    """003 同城专车接送 注(2) line 562 "同车人数不得超过核载人数……以实际情况可载人数为准", 注(3) line 566 "一般安排五至七座
    商务车": up to six besides the driver; a saloon (注(4) line 570) takes four, so five or six are accepted and flagged
    for the desk to confirm a larger car (five was refused); seven is refused."""
    four = run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": "4"})
    assert four.ok and four.warnings == {}
    for people in ("5", "6"):
        flagged = run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": people})
        assert flagged.ok and flagged.warnings == {"passengers": (apply_forms.WARN_LARGE_CAR, {"seats": 4})}, people
    assert run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": "7"}).errors["passengers"] == (
        "Please enter a number from %(min)s to %(max)s.", {"min": 1, "max": 6})
    assert "passengers" in run(ZHONGAN, "car_pickup", {**CAR_003, "passengers": "0"}).errors


def test_pickup_in_the_past_is_refused():
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "pickup_at": "2026-06-01T09:59"})
    assert result.errors == {"pickup_at": ("Please choose a time after %(time)s.", {"time": "2026-06-01T10:00+08:00"})}


def test_pickup_time_without_zone_is_china_time_and_a_zone_is_converted():
    """DOMAIN.md "Time": rules are in Asia/Shanghai; servers may run in UTC."""
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "pickup_at": "2026-06-02T01:30:00Z"})
    assert result.data["pickup_at"] == "2026-06-02T09:30+08:00"
    utc_now = NOW.astimezone(timezone.utc)
    assert run(ZHONGAN, "car_pickup", CAR_003, now=utc_now).ok


@pytest.mark.parametrize("bad", ["2026-06-02", "09:30", "2026-06-02T25:00", "明天上午"])
def test_malformed_pickup_time_is_refused(bad):
    assert msgid(run(ZHONGAN, "car_pickup", {**CAR_003, "pickup_at": bad}), "pickup_at") == "Please enter a date and time."


@pytest.mark.parametrize(("posted", "expected"), [("on", True), ("true", True), ("1", True), ("", False), ("off", False)])
def test_checkbox_values(posted, expected):
    result = run(ZHONGAN, "car_pickup", {**CAR_003, "lying_down": posted, "doctor_certificate": "on"})
    assert result.data["lying_down"] is expected


def test_checkbox_nonsense_is_refused():
    assert msgid(run(ZHONGAN, "car_pickup", {**CAR_003, "lying_down": "maybe"}), "lying_down") == "Please answer yes or no."


# ---------------------------------------------------------------------------------------------- escorts

def test_escort_outpatient_is_always_an_outpatient_visit():
    """003 门诊陪诊 二(2): "仅限在医院门诊看诊时可申请"."""
    result = run(ZHONGAN, "escort_outpatient", {**ESCORT_OUT_003, "visit_type": "discharge"})
    assert result.data["visit_type"] == "outpatient"
    assert result.data["meeting_at"] == "2026-06-05T08:00+08:00"


def test_escort_inpatient_is_admission_or_discharge():
    """003 住院陪诊 二(2): "仅限在办理住院或出院时可申请"; 特别说明(5): "需提供入院单"."""
    assert run(ZHONGAN, "escort_inpatient", {**ESCORT_IN_003, "visit_type": "discharge"}).ok
    assert "visit_type" in run(ZHONGAN, "escort_inpatient", {**ESCORT_IN_003, "visit_type": "outpatient"}).errors
    assert run(ZHONGAN, "escort_inpatient", ESCORT_IN_003).documents == ("admission_slip",)


def test_escort_dates_in_the_past_are_refused():
    assert run(ZHONGAN, "escort_inpatient", {**ESCORT_IN_003, "visit_date": "2026-05-31"}).errors["visit_date"] == (
        "Please choose a date on or after %(date)s.", {"date": "2026-06-01"})
    assert "meeting_at" in run(ZHONGAN, "escort_outpatient", {**ESCORT_OUT_003, "meeting_at": "2026-06-01T08:00"}).errors
    # More than 60 days ahead is accepted and flagged (the seeds set no upper limit; it was refused).
    far = run(ZHONGAN, "escort_inpatient", {**ESCORT_IN_003, "visit_date": "2026-08-01"})
    assert far.ok and set(far.warnings) == {"visit_date"}


def test_escort_city_list_of_004():
    """004 国内就医陪诊 一 4.1): 三亚 is covered for escorts."""
    raw = {"city": "三亚", "hospital": "三亚中心医院", "meeting_at": "2026-06-05T08:00", "meeting_point": "门诊大厅"}
    assert run(STARR, "escort_outpatient", raw).ok
    assert "city" in run(STARR, "escort_outpatient", {**raw, "city": "唐山"}).errors  # green channel only


# ---------------------------------------------------------------------------------------------- opinions

def test_second_opinion_may_name_the_hospital():
    """003 二次诊疗意见 表1 "可指定医院不可指定专家"."""
    result = run(ZHONGAN, "second_opinion", {**OPINION, "opinion_hospital": "复旦大学附属肿瘤医院", "doctor": "李主任"})
    assert result.data["opinion_hospital"] == "复旦大学附属肿瘤医院" and "doctor" not in result.data


def test_overseas_country_choice():
    """004 海外第二诊疗意见 一 3: USA, Germany, Japan, Singapore, UK."""
    assert run(STARR, "second_opinion_overseas", {**OPINION, "preferred_country": "jp"}).data["preferred_country"] == "jp"
    assert "preferred_country" in run(STARR, "second_opinion_overseas", {**OPINION, "preferred_country": "fr"}).errors
    assert "preferred_country" not in run(ZHONGAN, "second_opinion_overseas", {**OPINION, "preferred_country": "jp"}).data


@pytest.mark.parametrize("code", ["second_opinion", "mdt", "remote_consultation"])
def test_opinion_forms_need_diagnosis_questions_and_hospital(code):
    assert set(run(ZHONGAN, code, {}).errors) == {"current_diagnosis", "questions", "treating_hospital"}


# ---------------------------------------------------------------------------------------------- nursing aide

def test_nursing_days_are_the_units():
    """003 重疾住院护工 一 5: days are counted cumulatively."""
    result = run(ZHONGAN, "nursing_aide", NURSING_003, units_left=30)
    assert result.units == 10 and result.data["days"] == 10


def test_nursing_days_beyond_days_left_are_refused():
    result = run(ZHONGAN, "nursing_aide", {**NURSING_003, "days": "8"}, units_left=7)
    assert result.errors == {"days": ("You have %(max)s days of aide care left in this policy year.", {"min": 1, "max": 7})}
    assert run(ZHONGAN, "nursing_aide", {**NURSING_003, "days": "7"}, units_left=7).ok


def test_nursing_days_beyond_the_quota_without_units_left():
    assert "days" in run(ZHONGAN, "nursing_aide", {**NURSING_003, "days": "31"}).errors


def test_nursing_with_no_days_left():
    result = run(ZHONGAN, "nursing_aide", NURSING_003, units_left=0)
    assert result.errors == {"days": ("You have no aide days left in this policy year.", {})}


def test_nursing_start_date_not_in_the_past_but_short_notice_allowed():
    """八 Q4 advises 72 hours ahead but promises to try sooner: today is accepted, yesterday is not."""
    assert run(ZHONGAN, "nursing_aide", {**NURSING_003, "start_date": "2026-06-01"}).ok
    assert "start_date" in run(ZHONGAN, "nursing_aide", {**NURSING_003, "start_date": "2026-05-31"}).errors


# ---------------------------------------------------------------------------------------------- text and raw input

def test_unknown_keys_are_ignored():
    raw = {**OPINION, "csrf_token": "x", "state": "completed", "units": "99", "__proto__": "y"}
    result = run(ZHONGAN, "mdt", raw)
    assert result.ok and set(result.data) == {"current_diagnosis", "questions", "treating_hospital"}


def test_text_is_stripped_and_control_characters_removed():
    result = run(ZHONGAN, "mdt", {**OPINION, "treating_hospital": "  上海\x00市胸科\u202e医院\u200b\t ",
                                  "questions": "第一\r\n第二\x07\n"})
    assert result.data["treating_hospital"] == "上海市胸科医院"
    assert result.data["questions"] == "第一\n第二"


def test_one_line_text_loses_its_line_breaks():
    assert run(ZHONGAN, "mdt", {**OPINION, "current_diagnosis": "肺癌\n转移"}).data["current_diagnosis"] == "肺癌 转移"


def test_only_control_characters_counts_as_empty():
    assert msgid(run(ZHONGAN, "mdt", {**OPINION, "treating_hospital": "\x00\x1b "}), "treating_hospital") == \
        "Please fill in this field."


def test_over_long_text_is_refused_not_truncated():
    ok = run(ZHONGAN, "mdt", {**OPINION, "treating_hospital": "院" * TEXT_MAX, "questions": "问" * TEXTAREA_MAX})
    assert ok.ok
    result = run(ZHONGAN, "mdt", {**OPINION, "treating_hospital": "院" * (TEXT_MAX + 1), "questions": "问" * (TEXTAREA_MAX + 1)})
    assert result.errors == {
        "treating_hospital": ("Please shorten this to at most %(max)s characters.", {"max": 200}),
        "questions": ("Please shorten this to at most %(max)s characters.", {"max": 1000}),
    }
    assert "treating_hospital" not in result.data


def test_control_characters_do_not_count_towards_the_limit():
    assert run(ZHONGAN, "mdt", {**OPINION, "treating_hospital": "院" * TEXT_MAX + "\x00" * 50}).ok


def test_list_values_are_read_as_their_first_item():
    """Like request.form.to_dict(flat=False)."""
    raw = {k: [v, "ignored"] for k, v in OPINION.items()}
    assert run(ZHONGAN, "mdt", raw).data == OPINION
    assert "questions" in run(ZHONGAN, "mdt", {**OPINION, "questions": []}).errors


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        check(ZHONGAN, ZHONGAN.service("mdt"), OPINION, today=TODAY, now=datetime(2026, 6, 1, 10), units_left=None)


# ---------------------------------------------------------------------------------------------- one field at a time

def test_field_only_reports_that_field():
    result = run(CIGC, "expert_outpatient", {"hospital": "x" * 201}, field="hospital")
    assert set(result.errors) == {"hospital"}
    assert result.data == {}
    clean = run(CIGC, "expert_outpatient", {"hospital": "协和"}, field="hospital")
    assert clean.ok and clean.data == {"hospital": "协和"}


def test_field_only_accepts_a_numbered_date_key():
    result = run(CIGC, "expert_outpatient", {"preferred_date_2": "2026-06-02"}, field="preferred_date_2")
    assert result.errors == {"preferred_dates": ("Please choose a date on or after %(date)s.", {"date": "2026-06-08"})}


def test_field_only_excluded_department():
    result = run(HRS, "expert_outpatient", {"department": "急诊科"}, field="department")
    assert set(result.errors) == {"department"}


def test_field_only_sees_cross_field_rules():
    result = run(ZHONGAN, "car_pickup", {"lying_down": "on"}, field="doctor_certificate")
    assert set(result.errors) == {"doctor_certificate"}
    assert run(ZHONGAN, "car_pickup", {"lying_down": "on"}, field="distance_km").errors == {
        "distance_km": ("Please enter a number.", {})}


def test_field_only_unknown_field_reports_nothing():
    result = run(CIGC, "expert_outpatient", {}, field="doctorx")
    assert result.ok and result.data == {}


# ---------------------------------------------------------------------------------------------- consequences

def test_consequence_once_in_the_service_term():
    """000 （一）2.2: "在服务有效期内只能使用一次"."""
    text, params = consequence(CIGC, CIGC.service("expert_outpatient"), units=1, period_start=date(2026, 1, 1),
                               period_end_inclusive=date(2026, 12, 31), quota_amount=1, used_after=1)
    assert text == "This uses your one %(service)s for the whole service period %(start)s – %(end)s."
    assert params["service"] == "重大疾病专家门诊预约服务"
    assert (params["start"], params["end"]) == ("2026-01-01", "2026-12-31")
    assert text % params


def test_consequence_once_per_policy_year_with_a_given_name():
    """003 重疾绿通PLUS 表2: "一年限一次"."""
    text, params = consequence(ZHONGAN, ZHONGAN.service("expert_outpatient"), units=1, period_start=date(2026, 3, 1),
                               period_end_inclusive=date(2027, 2, 28), quota_amount=1, used_after=1,
                               service_name="Expert outpatient")
    assert text == "This uses your one %(service)s for the policy year %(start)s – %(end)s."
    assert text % params == "This uses your one Expert outpatient for the policy year 2026-03-01 – 2027-02-28."


def test_consequence_counts_car_trips():
    """003 同城专车接送 特别说明(1): "限客户一个保单年度内使用2次，入院或出院分别视为1次"."""
    text, params = consequence(ZHONGAN, ZHONGAN.service("car_pickup"), units=1, period_start=date(2026, 1, 1),
                               period_end_inclusive=date(2026, 12, 31), quota_amount=2, used_after=1, locale="en")
    assert text % params == ("This application is use 1 of the 2 allowed for Car to and from hospital in the policy year "
                             "2026-01-01 – 2026-12-31.")
    assert params["left"] == 1


def test_consequence_days_of_nursing():
    """003 重疾住院护工 一 5: "累计住院护工服务天数以30日为限"."""
    text, params = consequence(ZHONGAN, ZHONGAN.service("nursing_aide"), units=10, period_start=date(2026, 1, 1),
                               period_end_inclusive=date(2026, 12, 31), quota_amount=30, used_after=25, locale="en")
    assert text.startswith("This uses %(units)s of your %(amount)s days of %(service)s")
    assert (params["units"], params["amount"], params["left"]) == (10, 30, 5)
    assert "(5 left after this)" in text % params


def test_consequence_shared_pool():
    """001 line 7: "保单有效期内，您可以提出服务使用申请一次" — one application for both services."""
    text, _ = consequence(HRS, HRS.service("inpatient"), units=1, period_start=date(2026, 1, 1),
                          period_end_inclusive=date(2026, 12, 31), quota_amount=1, used_after=1)
    assert "one green-channel application" in text


def test_consequence_messages_are_extractable():
    found = _extracted()
    for product, code, amount in [(CIGC, "expert_outpatient", 1), (ZHONGAN, "expert_outpatient", 1),
                                  (ZHONGAN, "car_pickup", 2), (ZHONGAN, "nursing_aide", 30), (HRS, "inpatient", 1),
                                  (ZHONGAN, "car_pickup", None)]:
        text, params = consequence(product, product.service(code), units=1, period_start=TODAY,
                                   period_end_inclusive=TODAY, quota_amount=amount, used_after=1)
        assert text in found
        assert text % params


def test_error_messages_are_extractable():
    found = _extracted()
    samples = [
        run(CIGC, "expert_outpatient", {}),
        run(CIGC, "expert_outpatient", {**EXPERT_000, "preferred_date_1": "2026-06-02", "hospital": "x" * 300}),
        run(HRS, "expert_outpatient", {**EXPERT_001, "department": "产科"}),
        run(ZHONGAN, "car_pickup", {**CAR_003, "distance_km": "101", "lying_down": "on", "passengers": "9"}),
        run(ZHONGAN, "nursing_aide", NURSING_003, units_left=0),
        run(XINGTAO, "inpatient", {**INPATIENT_002, "admission_slip_date": "2020-01-01"}),
    ]
    for result in samples:
        for text, params in result.errors.values():
            assert text in found
            assert text % params


# ---------------------------------------------------------------------------------------------- properties

_ALL_KEYS = sorted({f.name for p, s in BOOKABLE for f in fields_for(p, s)}
                   | {"preferred_date_1", "preferred_date_2", "preferred_date_3"})
_VALUES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", "on", "0", "100", "101", "2026-06-10", "2026-06-02T09:00", "北京", "产科", "ct", "-1", "１０"]),
    st.lists(st.text(max_size=20), max_size=3),
)


def _no_control(value) -> bool:
    if isinstance(value, str):
        return all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") or ch == "\n" for ch in value)
    if isinstance(value, list):
        return all(_no_control(v) for v in value)
    return True


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BOOKABLE), st.dictionaries(st.sampled_from(_ALL_KEYS + ["junk"]), _VALUES, max_size=12),
       st.one_of(st.none(), st.integers(min_value=-1, max_value=40)))
def test_any_input_never_raises_and_data_is_clean(product_service, raw, units_left):
    product, service = product_service
    result = check(product, service, raw, today=TODAY, now=NOW, units_left=units_left)
    known = {f.name for f in fields_for(product, service, units_left=units_left)}
    assert set(result.errors) <= known
    assert set(result.data) - {"visit_type", "doctor_certificate_needed"} <= known
    assert not set(result.errors) & set(result.data)
    json.dumps(result.data)
    assert _no_control(list(result.data.values()))
    for name, value in result.data.items():
        if isinstance(value, str) and name not in ("visit_type",):
            assert len(value) <= TEXTAREA_MAX
    assert result.units >= 1
    assert set(result.documents) <= {d.value for d in service.documents} | {"doctor_certificate"}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(BOOKABLE), st.dictionaries(st.sampled_from(_ALL_KEYS), _VALUES, max_size=8),
       st.sampled_from(_ALL_KEYS))
def test_field_mode_reports_at_most_that_field(product_service, raw, key):
    product, service = product_service
    result = check(product, service, raw, today=TODAY, now=NOW, units_left=None, field=key)
    allowed = {"preferred_dates"} if key.startswith("preferred_date") else {key}
    assert set(result.errors) <= allowed
    assert set(result.data) <= allowed


@given(st.text(max_size=200), st.booleans())
def test_clean_text_is_idempotent_and_clean(text, multiline):
    cleaned = clean_text(text, multiline=multiline)
    assert clean_text(cleaned, multiline=multiline) == cleaned
    assert cleaned == cleaned.strip()
    assert _no_control(cleaned)
    assert multiline or "\n" not in cleaned


@given(st.text(max_size=60))
def test_department_matching_never_raises(text):
    for product in (HRS, ZHONGAN):
        for service in product.services:
            if service.bookable:
                excluded_department(service, text)


def test_consequence_of_takes_the_period_and_the_use_from_usage():
    """consequence_of: the policy year containing `today`, and the use this application will be (003 同城专车接送 (1))."""
    from webapp.services.booking.apply_forms import consequence_of
    from webapp.services.eligibility import PolicyFacts, Usage

    policy = PolicyFacts(effective_date=date(2026, 3, 1), expiry_date=date(2027, 3, 1), cooling_off_days=15, waiting_days=90)
    text, params = consequence_of(ZHONGAN, ZHONGAN.service("car_pickup"), policy, Usage(2, held=0, used=1), units=1,
                                  today=date(2026, 11, 23), locale="en")
    assert (params["start"], params["end"], params["used"], params["left"]) == ("2026-03-01", "2027-02-28", 2, 0)


def test_usage_left_never_goes_below_zero():
    from webapp.services.eligibility import Usage

    assert Usage(None, 0, 0).left is None
    assert Usage(2, held=1, used=0).left == 1
    assert Usage(1, held=1, used=1).left == 0
