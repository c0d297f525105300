"""The service catalog: webapp/catalog/*.yaml restate the five seed manuals (shared/seeds/) as data.

These tests pin seed facts (each spot check cites the seed line it comes from) and check that a malformed
file stops the loader with a message naming the file and the field.
"""
from __future__ import annotations

import copy
from datetime import time
from pathlib import Path

import pytest
import yaml

from webapp.services.products.catalog import (
    CATALOG_DIR,
    CHANGE_RULE,
    Catalog,
    CatalogError,
    Product,
    Service,
    load_catalog,
    load_product,
)

# product code -> (catalog file, seed file)
PRODUCTS = {
    "cigc_classic": ("000_cigc_classic.yaml", "000_3e625f6bdab9afbc.txt"),
    "haorensheng_gc": ("001_haorensheng_gc.yaml", "001_baf1831c86c5aecd.txt"),
    "xingtao_gc": ("002_xingtao_gc.yaml", "002_ee5a6d29ccbb58a1.txt"),
    "zhongan_vip": ("003_zhongan_vip.yaml", "003_31b5f5788050423d.txt"),
    "starr_jiuyibao": ("004_starr_jiuyibao.yaml", "004_33f0be092a29cea5.txt"),
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def all_services(catalog: Catalog) -> list[tuple[Product, Service]]:
    return [(p, s) for p in catalog.products for s in p.services]


# ----------------------------------------------------------------------------------------------- loading


def test_catalog_has_the_five_products(catalog: Catalog) -> None:
    assert sorted(p.code for p in catalog.products) == sorted(PRODUCTS)
    assert sorted(p.name for p in CATALOG_DIR.glob("*.yaml")) == sorted(f for f, _ in PRODUCTS.values())


@pytest.mark.parametrize("code", sorted(PRODUCTS))
def test_each_file_loads_and_restates_its_own_seed(code: str) -> None:
    file_name, seed_file = PRODUCTS[code]
    product = load_product(CATALOG_DIR / file_name)
    assert product.code == code
    assert product.seed.file == seed_file
    for service in product.services:
        assert service.seed.file == seed_file, service.code
        for note in service.notes:
            assert note.seed.file == seed_file, (service.code, note.text)
    for note in product.notes:
        assert note.seed.file == seed_file, note.text


def test_every_service_cites_a_seed_section(catalog: Catalog) -> None:
    for product, service in all_services(catalog):
        assert service.seed.file, (product.code, service.code)
        assert service.seed.section.strip(), (product.code, service.code)


def test_every_bookable_service_is_complete(catalog: Catalog) -> None:
    for product, service in all_services(catalog):
        if not service.bookable:
            continue
        where = (product.code, service.code)
        assert service.quota is not None, where
        assert service.arrangement is not None, where
        assert service.change_rule is not None and CHANGE_RULE.match(service.change_rule), where
        assert service.form is not None, where


# The services each manual describes that the portal does not book: 003's manual covers its whole benefit list (概览
# lines 1-120: video and text consultation, early screening, 安惠检, the bill advance, rescue, direct billing, advanced
# therapy, the case manager, home nursing, counselling, gene testing and three drug services); 004 its overseas care.
INFORMATION_SERVICES = {"cigc_classic": 0, "haorensheng_gc": 0, "xingtao_gc": 0, "zhongan_vip": 16, "starr_jiuyibao": 1}


def test_information_services_have_a_hotline_and_hours(catalog: Catalog) -> None:
    for product in catalog.products:
        info = [s for s in product.services if not s.bookable]
        assert len(info) == INFORMATION_SERVICES[product.code], product.code
        for service in info:
            assert service.hotline and service.hours, (product.code, service.code)


def test_every_note_records_seed_words_and_a_decision(catalog: Catalog) -> None:
    for product in catalog.products:
        notes = list(product.notes) + [n for s in product.services for n in s.notes]
        for note in notes:
            assert note.text.strip() and note.decision.strip(), product.code


def test_seed_silence_on_change_is_recorded(catalog: Catalog) -> None:
    # The lead's decision: where a seed says nothing about change/cancel, a note says what the portal applies.
    silent = {
        ("haorensheng_gc", "expert_outpatient"),
        ("haorensheng_gc", "inpatient"),
        ("zhongan_vip", "remote_consultation"),
        ("zhongan_vip", "expert_outpatient"),
        ("zhongan_vip", "exam_fastpass"),
        ("zhongan_vip", "escort_outpatient"),
        ("zhongan_vip", "escort_inpatient"),
        ("starr_jiuyibao", "expert_outpatient"),
        ("starr_jiuyibao", "inpatient"),
        ("starr_jiuyibao", "escort_outpatient"),
        ("starr_jiuyibao", "second_opinion"),
    }
    for product_code, service_code in sorted(silent):
        service = catalog.product(product_code).service(service_code)
        assert any("seed is silent on change/cancel" in n.decision for n in service.notes), service_code


# ------------------------------------------------------------------------------------ seed spot checks


def resolve(catalog: Catalog, product_code: str, service_code: str | None, path: str) -> object:
    target: object = catalog.product(product_code)
    if service_code is not None:
        target = catalog.product(product_code).service(service_code)
    for part in path.split("."):
        target = getattr(target, part)
    return getattr(target, "value", target)  # enums compare by their YAML value


SPOT_CHECKS = [
    # 000 （一）2.9(6) line 94: "需在预约就诊日前一天12:00之前……若在该时间之后取消服务，仍计为有效服务一次"
    pytest.param("cigc_classic", "expert_outpatient", "change_rule", "noon_day_before", id="000-expert-change"),
    # 000 （一）2.7 line 66: "自客户服务资格审核通过时5个工作日内完成服务安排"
    pytest.param("cigc_classic", "expert_outpatient", "arrangement.working_days", 5, id="000-expert-5wd"),
    pytest.param("cigc_classic", "expert_outpatient", "arrangement.counted_from", ("approval",), id="000-expert-from"),
    # 000 （一）2.9(1) line 74: "可以指定医院、指定科室、指定专家"
    pytest.param("cigc_classic", "expert_outpatient", "choose.doctor", True, id="000-expert-doctor"),
    # 000 （一）2.9(5) line 88: "无故迟到30分钟（含）以上……视为客户放弃本次服务"
    pytest.param("cigc_classic", "expert_outpatient", "late_arrival_minutes", 30, id="000-expert-late"),
    # 000 Q&A line 232: "若被保险人在本保险产品犹豫期后不幸确诊或疑似罹患"
    pytest.param("cigc_classic", None, "diagnosis_after", "cooling_off_end", id="000-after-cooling-off"),
    # 000 （一）2.2 line 36: "客户在服务有效期内只能使用一次"
    pytest.param("cigc_classic", "expert_outpatient", "quota.period", "service_term", id="000-expert-term"),
    # 000 （二）2.9(11) line 222: "本项服务预约成功后，不可取消。若取消，仍计为有效服务一次。"
    pytest.param("cigc_classic", "inpatient_surgery", "change_rule", "never", id="000-inpatient-never"),
    # 000 （二）2.7 line 178: "自客户申请服务并开具住院单之日起，7个工作日内安排"
    pytest.param("cigc_classic", "inpatient_surgery", "arrangement.working_days", 7, id="000-inpatient-7wd"),
    pytest.param(
        "cigc_classic", "inpatient_surgery", "arrangement.counted_from", ("admission_slip_date",), id="000-inpatient-from"
    ),
    # 000 （二）2.9(1) line 186: "可以指定医院、指定科室，不可指定专家"
    pytest.param("cigc_classic", "inpatient_surgery", "choose.doctor", False, id="000-inpatient-doctor"),
    # 000 （二）2.4(4) line 162: "客户已开具申请服务的医院科室的住院单"
    pytest.param("cigc_classic", "inpatient_surgery", "requires_admission_slip", True, id="000-inpatient-slip"),
    # 000 （一）2.8 line 68: "本服务有效期为一年为保单生效之日起一年内有效"
    pytest.param("cigc_classic", None, "service_window.years", 1, id="000-window"),
    # 000 （一）2.3 line 38: "周一至周五：09：00-18：00（国家法定节假日除外）": Mon–Fri, not an adjusted working weekend
    pytest.param("cigc_classic", None, "acceptance_hours.days", "weekdays", id="000-hours-days"),
    pytest.param("cigc_classic", None, "acceptance_hours.opens", time(9, 0), id="000-hours-opens"),
    pytest.param("cigc_classic", None, "acceptance_hours.closes", time(18, 0), id="000-hours-closes"),
    # 001 一【注意事项】6 line 55: "该服务不可指定专家"
    pytest.param("haorensheng_gc", "expert_outpatient", "choose.doctor", False, id="001-expert-doctor"),
    # 001 二【注意事项】5 line 127: "该服务不可指定专家"
    pytest.param("haorensheng_gc", "inpatient", "choose.doctor", False, id="001-inpatient-doctor"),
    # 001 一【服务流程】1 line 25: "客户提前5个工作日拨打……进行预约"
    pytest.param("haorensheng_gc", "expert_outpatient", "advance_working_days", 5, id="001-expert-advance"),
    # 001 二【服务流程】3 line 87: "8-10个工作日内，好人生为客户协调安排住院" (upper bound)
    pytest.param("haorensheng_gc", "inpatient", "arrangement.working_days", 10, id="001-inpatient-10wd"),
    # 001 一【服务流程】1 line 27: "服务时间08：00-20：00，春节法定假期不提供服务"
    pytest.param("haorensheng_gc", None, "acceptance_hours.closed_for_spring_festival", True, id="001-spring"),
    pytest.param("haorensheng_gc", None, "acceptance_hours.opens", time(8, 0), id="001-opens"),
    # 001 一【注意事项】1 line 41: "二级及以上公立医院"
    pytest.param("haorensheng_gc", None, "min_hospital_grade", "2", id="001-grade"),
    # 002 一 2(1) line 19: "至第3个保单生效日零时止"
    pytest.param("xingtao_gc", None, "service_window.years", 3, id="002-window"),
    # 002 一 2(1) line 19: "等待期90天（含）后……被保险人初次罹患"
    pytest.param("xingtao_gc", None, "diagnosis_after", "waiting_period_end", id="002-after-waiting"),
    # 002 一 2(1) line 23: "专家二诊1次/保单年度（当前保单年度内未使用的服务次数，不可延期或累积至次年使用）"
    pytest.param("xingtao_gc", "expert_outpatient", "quota.period", "policy_year", id="002-expert-year"),
    pytest.param("xingtao_gc", "expert_outpatient", "quota.amount", 1, id="002-expert-amount"),
    # 002 一 2(4)5) line 68: "本项服务申请成功后不允许改期、取消"
    pytest.param("xingtao_gc", "expert_outpatient", "change_rule", "never", id="002-expert-never"),
    # 002 二 2(4)5) line 215: "本项服务申请成功后不允许改期、取消"
    pytest.param("xingtao_gc", "inpatient", "change_rule", "never", id="002-inpatient-never"),
    pytest.param("xingtao_gc", "surgery", "change_rule", "never", id="002-surgery-never"),
    # 002 二 2(1) line 169: "住院安排、手术安排服务各一次/保单年度"
    pytest.param("xingtao_gc", "surgery", "quota.period", "policy_year", id="002-surgery-year"),
    # 002 二 3 步骤3 line 236: "住院条开具之日起10个工作日内完成安排"
    pytest.param("xingtao_gc", "inpatient", "arrangement.working_days", 10, id="002-inpatient-10wd"),
    pytest.param(
        "xingtao_gc", "inpatient", "arrangement.counted_from", ("approval", "complete_papers", "admission_slip_date"),
        id="002-inpatient-from"
    ),
    # 003 同城专车接送 特别说明(5) line 586: "客户因主观原因未能提前4小时取消或变更已预约的服务，视为服务已使用"
    pytest.param("zhongan_vip", "car_pickup", "change_rule", "hours_before:4", id="003-car-4h"),
    # 003 同城专车接送 4 表1 line 550: "单程距离……在100公里以内（含），1个工作日内"
    pytest.param("zhongan_vip", "car_pickup", "max_distance_km", 100, id="003-car-100km"),
    pytest.param("zhongan_vip", "car_pickup", "arrangement.working_days", 1, id="003-car-1wd"),
    # 003 同城专车接送 4 表1 line 554: "一年限2次，出、入院分别视为1次服务"
    pytest.param("zhongan_vip", "car_pickup", "quota.amount", 2, id="003-car-2"),
    pytest.param("zhongan_vip", "car_pickup", "quota.period", "policy_year", id="003-car-year"),
    # 003 同城专车接送 2(2) line 516: "凭住院单或者出院日期5日内使用申请服务"
    pytest.param("zhongan_vip", "car_pickup", "discharge_within_days", 5, id="003-car-5days"),
    # 003 重疾住院护工 一 5 line 2301: "累计住院护工服务天数以30日为限"
    pytest.param("zhongan_vip", "nursing_aide", "quota.unit", "days", id="003-aide-days"),
    pytest.param("zhongan_vip", "nursing_aide", "quota.amount", 30, id="003-aide-30"),
    # 003 重疾住院护工 五 3) line 2397: "被保险人需提前12小时通知服务人员"
    pytest.param("zhongan_vip", "nursing_aide", "change_rule", "hours_before:12", id="003-aide-12h"),
    # 003 重疾住院护工 二 表 line 2327: "自收齐完整病历资料并确认符合申请条件后的3个工作日内"
    pytest.param("zhongan_vip", "nursing_aide", "arrangement.working_days", 3, id="003-aide-3wd"),
    # 003 门诊陪诊 三 表 line 1524: "2次/年"
    pytest.param("zhongan_vip", "escort_outpatient", "quota.amount", 2, id="003-escort-2"),
    # 003 住院陪诊 三 表 line 1616: "2次/年（入院为1次，出院为1次）"
    pytest.param("zhongan_vip", "escort_inpatient", "quota.amount", 2, id="003-escort-inpatient-2"),
    # 003 重疾多学科会诊 二(2) line 2617: "确诊罹患保险条款中约定的重大疾病"
    pytest.param("zhongan_vip", "mdt", "diagnosis", "confirmed", id="003-mdt-confirmed"),
    # 003 重疾多学科会诊 六(3) line 2700: "此服务预约成功后无法取消"
    pytest.param("zhongan_vip", "mdt", "change_rule", "never", id="003-mdt-never"),
    # 003 二次诊疗意见 2(3) line 2521: "确诊或诊断疑似"; 特别说明(4) line 2581: "就无法取消服务"
    pytest.param("zhongan_vip", "second_opinion", "diagnosis", "suspected", id="003-2nd-suspected"),
    pytest.param("zhongan_vip", "second_opinion", "change_rule", "never", id="003-2nd-never"),
    # 003 重疾绿通PLUS 特别说明(5) line 929: "住院及手术安排服务，客户预约服务后不能取消服务"
    pytest.param("zhongan_vip", "inpatient", "change_rule", "never", id="003-inpatient-never"),
    # 003 预留高端病房 特别说明(4) line 476: "客户预约服务后不能取消服务"
    pytest.param("zhongan_vip", "vip_ward", "change_rule", "never", id="003-vipward-never"),
    # 003 重疾绿通PLUS 5(1) line 943: "电话接听时间：每天9：00-21:00"
    pytest.param("zhongan_vip", None, "acceptance_hours.days", "daily", id="003-hours-daily"),
    pytest.param("zhongan_vip", None, "acceptance_hours.closes", time(21, 0), id="003-hours-closes"),
    # 004 国内第二诊疗意见 二 lines 154-156: "资料收集完整，启动……10个工作日内专家出具第二诊疗意见报告"
    pytest.param("starr_jiuyibao", "second_opinion", "arrangement.working_days", 10, id="004-2nd-10wd"),
    pytest.param(
        "starr_jiuyibao", "second_opinion", "arrangement.counted_from", ("complete_papers",), id="004-2nd-from"
    ),
    # 004 海外第二诊疗意见 一 4 line 250: "以资料收集齐全后的20个工作日内完成服务"
    pytest.param("starr_jiuyibao", "second_opinion_overseas", "arrangement.working_days", 20, id="004-overseas-20wd"),
    # 004 就医绿色通道 二 line 103: "门诊在客户预约申请后5个工作日内"
    pytest.param("starr_jiuyibao", "expert_outpatient", "arrangement.counted_from", ("application",), id="004-op-from"),
    # 004 就医绿色通道 二 line 105: "住院在客户申请且住院条开具之日起10个工作日内完成安排"
    pytest.param("starr_jiuyibao", "inpatient", "arrangement.working_days", 10, id="004-inpatient-10wd"),
    # 004 国内就医陪诊 一 1 line 163: "可免费获得两次本项服务"
    pytest.param("starr_jiuyibao", "escort_outpatient", "quota.amount", 2, id="004-escort-2"),
    # 004 就医绿色通道 一 1 line 37: "保单年度内且等待期后，被保险人初次罹患"
    pytest.param("starr_jiuyibao", None, "diagnosis_after", "waiting_period_end", id="004-after-waiting"),
]


@pytest.mark.parametrize(("product", "service", "path", "expected"), SPOT_CHECKS)
def test_seed_fact(catalog: Catalog, product: str, service: str | None, path: str, expected: object) -> None:
    assert resolve(catalog, product, service, path) == expected


def test_000_usage_events(catalog: Catalog) -> None:
    product = catalog.product("cigc_classic")
    # （一）2.9(5)(6): late ≥30 min, no-show, cancelling after 12:00 the day before
    assert {e.value for e in product.service("expert_outpatient").counts_as_used} == {
        "cancel_after_cutoff",
        "no_show",
        "late_arrival",
    }
    # （二）2.9(5)(10)(11); Q&A lines 304-306 ("取消服务、不入住或要求更换其他医院"), 328-334 ("一旦出院")
    assert {e.value for e in product.service("inpatient_surgery").counts_as_used} == {
        "cancel_any_time",
        "no_show",
        "changed_hospital",
        "no_medical_indication",
        "discharged_before_surgery",
        "late_arrival",
    }


def test_001_excluded_departments_and_shared_pool(catalog: Catalog) -> None:
    product = catalog.product("haorensheng_gc")
    expert = product.service("expert_outpatient")
    inpatient = product.service("inpatient")
    # 一【注意事项】4 line 49: "该服务不适用于产科、急诊科及医技科室,如超声诊断科，影像科等"
    excluded = {d.zh for d in expert.excluded_departments}
    assert {"产科", "急诊科", "超声诊断科", "影像科"} <= excluded
    # line 7: "保单有效期内，您可以提出服务使用申请一次" -> one pool for both services
    assert expert.pool == inpatient.pool == "green_channel"
    assert expert.quota == inpatient.quota
    assert expert.quota is not None and expert.quota.amount == 1
    assert expert.quota.period.value == "service_term"
    # 注意事项11 line 149 ("当年使用次数") contradicts line 7; the contradiction is recorded
    assert any("当年使用次数" in n.text for n in inpatient.notes)


def test_003_escort_once_contradiction_is_recorded(catalog: Catalog) -> None:
    for code in ("escort_outpatient", "escort_inpatient"):
        service = catalog.product("zhongan_vip").service(code)
        # 门诊陪诊 特别说明(1) line 1542 / 住院陪诊 特别说明(1) line 1636: "限客户一个保单年度内使用一次"
        assert any("限客户一个保单年度内使用一次" in n.text for n in service.notes), code
        assert service.quota is not None and service.quota.amount == 2


def test_003_car_pickup_documents(catalog: Catalog) -> None:
    car = catalog.product("zhongan_vip").service("car_pickup")
    # 2(2) line 516: admission slip OR a discharge within 5 days; 注(3) line 568: doctor's proof for lying down
    assert {d.value for d in car.documents} == {"admission_slip", "discharge_proof", "doctor_certificate"}
    assert car.requires_admission_slip is False
    # 特别说明(5) line 586; Q&A(2) lines 634-638: a change inside the 4 hours is taken and counts
    assert {e.value for e in car.counts_as_used} == {"cancel_after_cutoff", "change_after_cutoff", "no_show"}


def test_coverage_city_lists(catalog: Catalog) -> None:
    # 002 一 4、绿通覆盖城市列表 lines 94-152: 31 provinces, 40 cities
    xingtao = catalog.product("xingtao_gc")
    assert len(xingtao.coverage_cities) == 40
    assert {"Urumqi", "Hohhot", "Lhasa", "Shijiazhuang", "Lanzhou", "Taiyuan"} <= {c.en for c in xingtao.coverage_cities}
    # 004 就医绿色通道 一 4.1) lines 55-65: 59 cities
    starr = catalog.product("starr_jiuyibao")
    assert len(starr.coverage_cities) == 59
    # 004 国内就医陪诊 一 4.1) lines 179-183: the escort has its own 31-city list
    escort = starr.service("escort_outpatient")
    assert len(starr.cities_for(escort)) == 31
    assert starr.cities_for(starr.service("expert_outpatient")) == starr.coverage_cities
    for product in (xingtao, starr):
        names = [c.zh for c in product.coverage_cities]
        assert len(names) == len(set(names)), product.code


# --------------------------------------------------------------------------------------- loader errors


def minimal_product() -> dict:
    """A small valid product, mutated below into each kind of broken file."""
    return {
        "code": "broken_product",
        "name": {"zh": "测试产品", "en": "Test product"},
        "insurer": {"zh": "测试保险", "en": "Test insurer"},
        "vendor": {"zh": "测试服务商", "en": "Test vendor"},
        "seed": {"file": "000_3e625f6bdab9afbc.txt", "section": "（一）"},
        "hotline": "400-000-0000",
        "phones": {purpose: {"number": "400-000-0000", "hours": {"zh": "工作日", "en": "Working days"},
                             "seed": {"file": "000_3e625f6bdab9afbc.txt", "section": "（一）1.1"}}
                   for purpose in ("apply", "change_cancel", "urgent", "complaints")},
        "acceptance_hours": {"days": "workdays", "opens": "09:00", "closes": "18:00"},
        "services": [
            {
                "code": "expert_outpatient",
                "kind": "bookable",
                "name": {"zh": "专家门诊", "en": "Expert outpatient"},
                "summary": {"zh": "预约专家门诊。", "en": "Book an expert."},
                "seed": {"file": "000_3e625f6bdab9afbc.txt", "section": "（一）2.7"},
                "form": "expert_outpatient",
                "quota": {"unit": "count", "amount": 1},
                "arrangement": {"working_days": 5, "counted_from": "approval"},
                "change_rule": "noon_day_before",
            }
        ],
    }


def write(directory: Path, name: str, data: dict | str) -> Path:
    path = directory / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_product_is_valid(tmp_path: Path) -> None:
    write(tmp_path, "900_ok.yaml", minimal_product())
    assert [p.code for p in load_catalog(tmp_path).products] == ["broken_product"]


def _missing_hotline(d: dict) -> None:
    del d["hotline"]


def _bad_change_rule(d: dict) -> None:
    d["services"][0]["change_rule"] = "hours_before:abc"


def _unknown_seed(d: dict) -> None:
    d["seed"]["file"] = "999_not_a_seed.txt"


def _unknown_service_seed(d: dict) -> None:
    d["services"][0]["seed"]["file"] = "999_not_a_seed.txt"


def _unlimited_with_amount(d: dict) -> None:
    d["services"][0]["quota"] = {"unit": "unlimited", "amount": 3}


def _extra_key(d: dict) -> None:
    d["services"][0]["hotlines"] = "400-000-0000"


def _bookable_without_quota(d: dict) -> None:
    del d["services"][0]["quota"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        pytest.param(_missing_hotline, "hotline", id="missing-hotline"),
        pytest.param(_bad_change_rule, "services.0.change_rule", id="bad-change-rule"),
        pytest.param(_unknown_seed, "seed.file", id="unknown-seed"),
        pytest.param(_unknown_service_seed, "services.0.seed.file", id="unknown-service-seed"),
        pytest.param(_unlimited_with_amount, "services.0.quota", id="unlimited-with-amount"),
        pytest.param(_extra_key, "services.0.hotlines", id="extra-key"),
        pytest.param(_bookable_without_quota, "services.0", id="bookable-without-quota"),
    ],
)
def test_invalid_file_names_file_and_field(tmp_path: Path, mutate, field: str) -> None:
    data = minimal_product()
    mutate(data)
    write(tmp_path, "901_broken.yaml", data)
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(tmp_path)
    message = str(excinfo.value)
    assert "901_broken.yaml" in message
    assert field in message


def test_duplicate_service_codes(tmp_path: Path) -> None:
    data = minimal_product()
    data["services"].append(copy.deepcopy(data["services"][0]))
    write(tmp_path, "902_duplicate.yaml", data)
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(tmp_path)
    message = str(excinfo.value)
    assert "902_duplicate.yaml" in message
    # A product-level check: pydantic reports it at the top level, so the message names the codes instead
    # of a "services.N" path.
    assert "duplicate service codes: expert_outpatient" in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    write(tmp_path, "903_syntax.yaml", "code: broken_product\nservices: [\n  - code: x\n")
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(tmp_path)
    message = str(excinfo.value)
    assert "903_syntax.yaml" in message
    assert "cannot be read as YAML" in message
    assert "line" in message  # PyYAML's position of the error


def test_not_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "904_list.yaml", "- just\n- a list\n")
    with pytest.raises(CatalogError, match=r"904_list\.yaml: \(top level\)"):
        load_catalog(tmp_path)


def test_two_files_with_the_same_product_code(tmp_path: Path) -> None:
    write(tmp_path, "905_a.yaml", minimal_product())
    write(tmp_path, "906_b.yaml", minimal_product())
    with pytest.raises(CatalogError, match="same product code"):
        load_catalog(tmp_path)
