"""Which number each service gives for what, the promises customers are told, and when the desk looks (issue 14 item 6)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from webapp.services.products.catalog import PURPOSES, CatalogError, Hours, default_catalog, load_catalog
from webapp.services.deadlines import desk_receives
from webapp.services.calendar.desk_hours import desk_hours
from webapp.services.products.phones import line_groups, notes_to_tell, phone_lines, tel_href

from .conftest import at
from .test_catalog import minimal_product, write

CATALOG = default_catalog()
EVERY_SERVICE = [pytest.param(p, s, id=f"{p.code}-{s.code}") for p in CATALOG.products for s in p.services]


def lines(product: str, service: str) -> dict[str, str]:
    p = CATALOG.product(product)
    return {purpose: line.number for purpose, line in phone_lines(p, p.service(service)).items()}


# ------------------------------------------------------------------------------------------------ every service

@pytest.mark.parametrize("product, service", EVERY_SERVICE)
def test_every_service_resolves_every_purpose_to_a_dialable_line(product, service):
    resolved = phone_lines(product, service)
    assert tuple(resolved) == PURPOSES
    for line in resolved.values():
        assert re.fullmatch(r"tel:\+?\d{5,15}", line.href), line.href
        assert line.href.removeprefix("tel:").lstrip("+") == re.sub(r"\D", "", line.number)
        assert line.hours.zh and line.hours.en and line.seed.section
    if service.hotline is not None:  # an information service's own number is the one it is applied for on
        assert resolved["apply"].number == service.hotline


def test_tel_links_are_digits_only():
    assert tel_href("400-678-8500") == "tel:4006788500"
    assert tel_href("952299") == "tel:952299"
    assert tel_href(" 1010-9955 ") == "tel:10109955"
    assert tel_href("+86-10-64105433") == "tel:+861064105433"  # a global number keeps its + (RFC 3966)
    with pytest.raises(ValueError):
        tel_href("--")


# ------------------------------------------------------------------------------------------------ the seeds' numbers

@pytest.mark.parametrize("service", ["expert_outpatient", "inpatient_surgery"])
def test_000_changes_and_cancellations_go_to_the_vendor_not_the_insurer(service):
    # （一）2.9(6) lines 94-98: "我司客服热线/客户服务中心柜面不接受服务预约取消申请"; Q&A lines 266-268: "4006788500";
    # （一）2.3 lines 40-42: urgent questions on 400-678-8500, 7*24; （一）2.6 lines 62-64: complaints on 400-678-8500.
    assert lines("cigc_classic", service) == {"apply": "400-609-6868", "change_cancel": "400-678-8500",
                                              "urgent": "400-678-8500", "complaints": "400-678-8500"}
    product = CATALOG.product("cigc_classic")
    assert phone_lines(product, product.service(service))["change_cancel"].hours.zh == "7×24小时"


def test_000_shows_two_rows_insurer_and_vendor():
    product = CATALOG.product("cigc_classic")
    groups = line_groups(product, product.service("expert_outpatient"))
    assert [(g.purposes, g.line.number) for g in groups] == [
        (("apply",), "400-609-6868"), (("change_cancel", "urgent", "complaints"), "400-678-8500")]


@pytest.mark.parametrize("service", ["escort_outpatient", "escort_inpatient", "second_opinion", "second_opinion_overseas",
                                     "mdt", "nursing_aide", "video_consultation", "text_consultation", "medical_advance"])
def test_003_escorts_aide_opinions_mdt_and_video_run_on_10109955(service):
    # lines 1560, 1654, 2587, 2678, 2373, 1004: "拨打10109955申请", "众安客服热线1010-9955"
    assert set(lines("zhongan_vip", service).values()) == {"10109955"}


@pytest.mark.parametrize("service", ["remote_consultation", "expert_outpatient", "exam_fastpass", "inpatient", "surgery",
                                     "vip_ward", "car_pickup"])
def test_003_plus_ward_and_car_run_on_952299(service):
    # 重疾绿通PLUS 5(1) line 943, 预留高端病房 line 486, 同城专车接送 line 612: "拨打952299申请"
    assert set(lines("zhongan_vip", service).values()) == {"952299"}


@pytest.mark.parametrize("service, applies_on, elsewhere", [
    ("advanced_therapy", "952299", {}),  # 先进医疗就医协助 7 line 1454
    ("case_manager", "952299", {}),  # 重疾直通车 五 line 1979
    ("gene_testing", "952299", {}),  # 基因检测 3 line 3017
    ("cancer_drugs", "952299", {}),  # 肿瘤特药 5.2 1) line 3122
    ("home_nursing", "10109955", {}),  # 术后家庭护理 4 line 2816
    ("rare_disease_drugs", "10109955", {}),  # 罕见病特药 5(1) line 3196
    ("boao_drugs", "10109955", {}),  # 海南博鳌国际特药 5 (1) line 3318
    ("online_drug_bills", "10109955", {}),  # 在线问诊&药费直赔 服务说明(6) line 3814
    # 直付医疗 五 3) line 287: booking, changes and accidents on 400-114-9606; complaints to ZhongAn
    ("direct_billing", "400-114-9606", {"complaints": "952299"}),
    # 术后心理倾诉 lines 2868, 2912: problems with a call go to 壹点灵; the section names no application line
    ("counselling", "952299", {"change_cancel": "400-626-0852", "urgent": "400-626-0852"}),
    # 癌症早筛优选 五 lines 3608, 3620: rebooking after the booked time has passed, on the supplier's line
    ("early_screening", "952299", {"change_cancel": "400-6762-960"}),
])
def test_003_information_services_give_their_seeds_numbers(service, applies_on, elsewhere):
    got = lines("zhongan_vip", service)
    assert got["apply"] == applies_on
    assert {p: n for p, n in got.items() if p != "apply" and n != applies_on} == elsewhere


def test_003_rescue_line_has_its_number_from_abroad():
    # 紧急救援服务手册 三 lines 1887-1889
    product = CATALOG.product("zhongan_vip")
    urgent = phone_lines(product, product.service("emergency_rescue"))["urgent"]
    assert (urgent.number, urgent.abroad, urgent.abroad_href) == ("400-891-0152", "+86-10-64105433", "tel:+861064105433")
    assert urgent.hours.zh == "24小时"


def test_003_health_check_changes_go_to_the_check_up_line():
    # 安惠检服务说明 四 3(2) line 3680: "电话改约/取消：拨打体检机构专属热线:400-887-1278"
    assert lines("zhongan_vip", "health_check")["change_cancel"] == "400-887-1278"


def test_001_one_line_closed_over_the_spring_festival():
    # 一【服务流程】1 lines 25-27: "400-620-1800进行预约，服务时间08：00-20：00，春节法定假期不提供服务"
    product = CATALOG.product("haorensheng_gc")
    for service in product.services:
        resolved = phone_lines(product, service)
        assert {line.number for line in resolved.values()} == {"400-620-1800"}
        assert "春节" in resolved["apply"].hours.zh


def test_002_and_004_share_one_line_and_one_set_of_hours():
    xingtao, starr = CATALOG.product("xingtao_gc"), CATALOG.product("starr_jiuyibao")
    for purpose in PURPOSES:  # neither seed gives hours: one assumption for the one 英仕健康 line (002 product note)
        assert getattr(xingtao.phones, purpose).hours == getattr(starr.phones, purpose).hours
    assert xingtao.phones.apply.number == starr.phones.apply.number == "400-606-5033"
    assert xingtao.acceptance_hours == starr.acceptance_hours
    assert all(s.acceptance_hours is None for s in (*xingtao.services, *starr.services))


# ------------------------------------------------------------------------------------------------ the loader's checks

def _with_phone(data: dict, **changes) -> dict:
    for line in data["phones"].values():
        line.update(changes)
    return data


def test_a_product_must_name_every_purpose(tmp_path: Path):
    data = minimal_product()
    del data["phones"]["complaints"]
    write(tmp_path, "900_x.yaml", data)
    with pytest.raises(CatalogError, match="missing complaints"):
        load_catalog(tmp_path)


def test_the_apply_line_is_the_hotline(tmp_path: Path):
    write(tmp_path, "900_x.yaml", _with_phone(minimal_product(), number="400-111-1111"))
    with pytest.raises(CatalogError, match="not the hotline"):
        load_catalog(tmp_path)


def test_one_line_has_one_set_of_desk_hours(tmp_path: Path):
    write(tmp_path, "900_a.yaml", minimal_product())
    other = minimal_product()
    other["code"] = "other_product"
    other["acceptance_hours"] = {"days": "daily", "opens": "09:00", "closes": "21:00"}
    write(tmp_path, "901_b.yaml", other)
    with pytest.raises(CatalogError, match="different acceptance_hours"):
        load_catalog(tmp_path)


def test_one_number_is_listed_with_one_set_of_hours(tmp_path: Path):
    data = minimal_product()
    data["phones"]["urgent"] = {**data["phones"]["urgent"], "hours": {"zh": "24小时", "en": "24 hours"}}
    write(tmp_path, "900_x.yaml", data)
    with pytest.raises(CatalogError, match="two different hours"):
        load_catalog(tmp_path)


# ------------------------------------------------------------------------------------------------ promises to tell

def told(product: str, service: str, page: str) -> list[str]:
    p = CATALOG.product(product)
    return [n.tell.zh for n in notes_to_tell(p, p.service(service), page)]


def test_000_expert_promises_on_the_card_and_the_cancel_page():
    card = " ".join(told("cigc_classic", "expert_outpatient", "card"))
    assert "知名专家" in card and "超过3次" in card  # Q&A lines 268-274; （一）2.9(7) line 104
    cancel = " ".join(told("cigc_classic", "expert_outpatient", "cancel"))
    assert "知名专家" in cancel and "超过3次" in cancel and "不接受服务预约取消申请" in cancel  # （一）2.9(6)
    apply = " ".join(told("cigc_classic", "expert_outpatient", "apply"))
    assert "7*24小时" in apply and "不作为今后任何理赔依据" in apply  # （一）2.3, 2.1


def test_000_inpatient_is_told_the_claims_sentence_too():
    # （二）2.1 lines 140-142
    assert any("不作为今后任何理赔依据" in t for t in told("cigc_classic", "inpatient_surgery", "booking"))


@pytest.mark.parametrize("service", ["remote_consultation", "expert_outpatient", "exam_fastpass", "inpatient", "surgery",
                                     "vip_ward", "car_pickup", "escort_outpatient", "escort_inpatient", "second_opinion",
                                     "second_opinion_overseas"])
def test_003_says_its_review_is_not_a_claims_decision_where_the_seed_does(service):
    # lines 939, 482, 582, 1556, 1650, 2583: "…审核结论不代表理赔审核结论"
    assert any("审核结论不代表理赔审核结论" in t for t in told("zhongan_vip", service, "apply"))


def test_003_rescue_card_warns_of_the_pre_existing_condition_exclusion():
    assert any("既往病症" in t for t in told("zhongan_vip", "emergency_rescue", "card"))  # 一（四）A(1) line 1754


@pytest.mark.parametrize("service, promise", [
    ("case_manager", "1个小时内"),  # 重疾直通车 三 表 line 1927: "自客户申请审核通过后1个小时内主动电话联系客户"
    ("advanced_therapy", "5个工作日内"),  # 先进医疗就医协助 5 表 lines 1122, 1144: visit in 5, admission in 20
    ("advanced_therapy", "20个工作日内"),
    ("home_nursing", "3个工作日内"),  # 术后家庭护理 3 表 line 2754
    ("gene_testing", "3-10个工作日内"),  # 基因检测 2 表 line 2981
    ("boao_drugs", "15个工作日"),  # 海南博鳌国际特药 2(3) line 3230
    ("direct_billing", "2个工作日"),  # 直付医疗 六 4) line 353
    ("online_drug_bills", "门急诊加油包"),  # 在线问诊&药费直赔 line 3744: "仅适用于门急诊加油包/补充责任"
])
def test_003_information_cards_state_their_seeds_promises(service, promise):
    assert any(promise in t for t in told("zhongan_vip", service, "card"))


def test_004_overseas_care_card_states_its_3_and_40_working_days():
    card = " ".join(told("starr_jiuyibao", "overseas_care", "card"))  # 海外就医综合服务 一 4, 二 lines 320-367
    assert "3个工作日内" in card and "40工作日内" in card


def test_every_promise_has_both_languages():
    for product in CATALOG.products:
        for note in (*product.notes, *(n for s in product.services for n in s.notes)):
            if note.tell is not None:
                assert note.tell.zh.strip() and note.tell.en.strip() and note.show


# ------------------------------------------------------------------------------------------------ desk hours

WEEKDAYS_000 = CATALOG.product("cigc_classic").acceptance_hours
DAILY_003 = CATALOG.product("zhongan_vip").acceptance_hours
WORKDAYS_004 = CATALOG.product("starr_jiuyibao").acceptance_hours


@pytest.mark.parametrize("hours, now, open_now, starts_at", [
    # 000 （一）2.3 line 38: Mon–Fri 09:00–18:00 except public holidays
    (WEEKDAYS_000, at(2026, 11, 23, 10, 0), True, at(2026, 11, 23, 10, 0)),  # Monday morning: open
    (WEEKDAYS_000, at(2026, 11, 23, 18, 0), False, at(2026, 11, 24, 9, 0)),  # 18:00 is closed
    (WEEKDAYS_000, at(2026, 11, 21, 10, 0), False, at(2026, 11, 23, 9, 0)),  # Saturday → Monday 09:00
    (WEEKDAYS_000, at(2026, 10, 3, 11, 0), False, at(2026, 10, 8, 9, 0)),  # National Day (1–7 Oct off) → Thu 8th
    (WEEKDAYS_000, at(2026, 10, 10, 10, 0), False, at(2026, 10, 12, 9, 0)),  # 调休 Saturday: not Mon–Fri → Monday
    (WEEKDAYS_000, at(2026, 9, 20, 10, 0), False, at(2026, 9, 21, 9, 0)),  # 调休 Sunday 20 Sep → Monday
    # 004 (and 002): statutory working days — the adjusted Saturday is one
    (WORKDAYS_004, at(2026, 10, 10, 10, 0), True, at(2026, 10, 10, 10, 0)),
    (WORKDAYS_004, at(2026, 10, 3, 11, 0), False, at(2026, 10, 8, 9, 0)),
    # 003: daily 09:00–21:00 (line 943), holidays included
    (DAILY_003, at(2026, 10, 3, 11, 0), True, at(2026, 10, 3, 11, 0)),
    (DAILY_003, at(2026, 11, 21, 22, 0), False, at(2026, 11, 22, 9, 0)),
])
def test_when_a_person_looks(hours: Hours, now, open_now, starts_at):
    desk = desk_hours(hours, now)
    assert (desk.open_now, desk.starts_at) == (open_now, starts_at)
    assert desk.starts_at == desk_receives(hours, now)


def test_001_desk_is_closed_over_the_spring_festival():
    hours = CATALOG.product("haorensheng_gc").acceptance_hours
    desk = desk_hours(hours, at(2026, 2, 16, 10, 0))  # 2026 春节 holiday: 15–23 Feb
    assert (desk.open_now, desk.starts_at, desk.closed_for_spring_festival) == (False, at(2026, 2, 24, 8, 0), True)


def test_desk_hours_need_an_aware_time():
    from datetime import datetime

    with pytest.raises(ValueError):
        desk_hours(WEEKDAYS_000, datetime(2026, 11, 23, 10, 0))
