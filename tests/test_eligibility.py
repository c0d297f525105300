"""Eligibility: allowed, or every reason not, with the day each stops applying (DOMAIN.md, shared rules)."""
from datetime import date, timedelta

import pytest

from webapp.services.products.catalog import default_catalog
from webapp.services.eligibility import SELF, Actor, DiagnosisFacts, PolicyFacts, Usage, check

from .conftest import at

CATALOG = default_catalog()
CIGC = CATALOG.product("cigc_classic")  # seed 000
XINGTAO = CATALOG.product("xingtao_gc")  # seed 002
ZHONGAN = CATALOG.product("zhongan_vip")  # seed 003


def policy(effective=date(2026, 1, 1), years=1, **kw):
    kw.setdefault("cooling_off_days", 15)
    kw.setdefault("waiting_days", 90)
    return PolicyFacts(effective_date=effective, expiry_date=effective.replace(year=effective.year + years), **kw)


CONFIRMED = (DiagnosisFacts("confirmed", date(2026, 5, 1), "3A"),)
FREE = Usage(quota=1, held=0, used=0)


def keys(result):
    return result.keys()


def test_allowed_after_waiting_period():
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE)
    assert result.allowed and result.reasons == ()


def test_waiting_period_ends_on_the_91st_day_at_midnight_china_time():
    # 002 一、2(1): "等待期90天（含）后" — 2026-01-01 + 90 -> first usable day 2026-04-01.
    svc = CIGC.service("expert_outpatient")
    before = check(CIGC, svc, policy(), SELF, at(2026, 3, 31, 23, 59, 59), usage=FREE)
    assert keys(before) == ["policy.waiting_period"]
    assert before.reasons[0].until == date(2026, 4, 1)
    assert check(CIGC, svc, policy(), SELF, at(2026, 4, 1, 0, 0, 0), usage=FREE).allowed


def test_cooling_off_and_waiting_both_listed_with_their_end_dates():
    # 000 2.5(2): refused "未过本保险产品的犹豫期"
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, at(2026, 1, 5, 10, 0), usage=FREE)
    assert [(r.key, r.until) for r in result.reasons] == [
        ("policy.cooling_off", date(2026, 1, 16)), ("policy.waiting_period", date(2026, 4, 1)),
    ]


def test_renewal_has_no_waiting_period():
    # 003: "续期服务则无等待期限定"
    renewal = policy(is_renewal=True, cooling_off_days=0)
    assert check(CIGC, CIGC.service("expert_outpatient"), renewal, SELF, at(2026, 1, 2, 10, 0), usage=FREE).allowed


def test_surrendered_in_cooling_off_voids_every_service():
    # 000 2.8: "若在犹豫期内退保，本服务自动失效"
    surrendered = policy(status="surrendered_cooling_off", status_changed_on=date(2026, 1, 5))
    result = check(CIGC, CIGC.service("expert_outpatient"), surrendered, SELF, at(2026, 6, 1, 10, 0), usage=FREE)
    assert keys(result) == ["policy.surrendered_cooling_off"]


def test_not_yet_effective_and_expired():
    svc = CIGC.service("expert_outpatient")
    early = check(CIGC, svc, policy(), SELF, at(2025, 12, 31, 23, 0), usage=FREE)
    assert keys(early) == ["policy.not_yet_effective"] and early.reasons[0].until == date(2026, 1, 1)
    assert keys(check(CIGC, svc, policy(), SELF, at(2027, 1, 1, 0, 0), usage=FREE)) == ["policy.expired"]


def test_service_window_of_002_ends_at_the_third_anniversary():
    # 002 一、2(1): "至第3个保单生效日零时止"; a 5-year policy still loses the service then.
    five_years = policy(years=5)
    svc = XINGTAO.service("expert_outpatient")
    assert check(XINGTAO, svc, five_years, SELF, at(2028, 12, 31, 23, 59, 59), usage=FREE, diagnoses=CONFIRMED).allowed
    result = check(XINGTAO, svc, five_years, SELF, at(2029, 1, 1, 0, 0), usage=FREE, diagnoses=CONFIRMED)
    assert keys(result) == ["service.window_closed"]


def test_used_up_until_the_next_policy_year():
    # 002 一、2(1): "1次/保单年度（当前保单年度内未使用的服务次数，不可延期或累积至次年使用）"
    result = check(XINGTAO, XINGTAO.service("expert_outpatient"), policy(years=3), SELF, at(2026, 6, 1, 10, 0),
                   usage=Usage(1, 0, 1), diagnoses=CONFIRMED)
    assert [(r.key, r.until) for r in result.reasons] == [("quota.used_up", date(2027, 1, 1))]


def test_used_up_in_the_last_period_has_no_reset_date():
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, at(2026, 6, 1, 10, 0), usage=Usage(1, 0, 1))
    assert [(r.key, r.until) for r in result.reasons] == [("quota.used_up", None)]


def test_held_by_an_open_application():
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, at(2026, 6, 1, 10, 0), usage=Usage(1, 1, 0))
    assert keys(result) == ["quota.in_progress"]


def test_nursing_aide_days_left():
    # 003 重疾住院护工 一.5: "累计住院护工服务天数以30日为限"
    svc = ZHONGAN.service("nursing_aide")
    ok = check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=Usage(30, 0, 25), units=5, diagnoses=CONFIRMED)
    assert ok.allowed
    short = check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=Usage(30, 0, 25), units=6, diagnoses=CONFIRMED)
    assert keys(short) == ["quota.not_enough"] and short.reasons[0].params == {"remaining": 5}


def test_confirmed_diagnosis_needed_on_file():
    # 003 重疾多学科会诊 二(2): "确诊罹患保险条款中约定的重大疾病"
    svc = ZHONGAN.service("mdt")
    assert keys(check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE)) == ["diagnosis.missing"]
    suspected = (DiagnosisFacts("suspected", date(2026, 5, 1), "3A"),)
    assert keys(check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=suspected)) == ["diagnosis.missing"]
    assert check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=CONFIRMED).allowed


def test_diagnosis_below_the_products_hospital_grade_does_not_qualify():
    svc = ZHONGAN.service("mdt")  # 003: 二级 or above is enough
    level2 = (DiagnosisFacts("confirmed", date(2026, 5, 1), "2"),)
    assert check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=level2).allowed
    private = (DiagnosisFacts("confirmed", date(2026, 5, 1), "3A", public_hospital=False),)
    assert keys(check(ZHONGAN, svc, policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=private)) == ["diagnosis.missing"]


def test_illness_diagnosed_before_the_policy_is_refused():
    # 000 Q&A: "投保前已经罹患重大疾病的客户，还能申请重大疾病绿通服务吗？ A：不能。"
    before = (DiagnosisFacts("confirmed", date(2025, 12, 1), "3A"),)
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=before)
    assert keys(result) == ["diagnosis.before_policy"]


@pytest.mark.parametrize("first, expected", [
    (date(2026, 1, 1), ["diagnosis.in_cooling_off"]),  # the effective date: day 1 of 15
    (date(2026, 1, 15), ["diagnosis.in_cooling_off"]),  # day 15, the last of the cooling-off period
    (date(2026, 1, 16), []),  # the first day after it
])
def test_000_needs_the_illness_first_diagnosed_after_the_cooling_off_period(first, expected):
    # 000 Q&A line 232: "若被保险人在本保险产品犹豫期后不幸确诊或疑似罹患本保险产品保障的重大疾病需要就医时，即可致电";
    # a suspected diagnosis counts as the first one, and the refusal stays after the period is over.
    for certainty in ("suspected", "confirmed"):
        diagnoses = (DiagnosisFacts(certainty, first, "3A"),)
        for code in ("expert_outpatient", "inpatient_surgery"):
            result = check(CIGC, CIGC.service(code), policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=diagnoses)
            assert keys(result) == expected, (certainty, code)


def test_the_cooling_off_rule_is_000s_alone():
    # 003 names no cooling-off for the illness (重疾绿通PLUS 2(1) line 678: "保单等待期满后"); only before the policy is refused there.
    early = (DiagnosisFacts("confirmed", date(2026, 1, 10), "3A"),)
    assert check(ZHONGAN, ZHONGAN.service("mdt"), policy(), SELF, at(2026, 6, 1, 10, 0), usage=FREE, diagnoses=early).allowed


def test_002_needs_the_illness_first_diagnosed_after_the_waiting_period():
    # 002 一、2(1): "等待期90天（含）后…被保险人初次罹患"
    in_waiting = (DiagnosisFacts("confirmed", date(2026, 3, 1), "3A"),)
    result = check(XINGTAO, XINGTAO.service("expert_outpatient"), policy(years=3), SELF, at(2026, 6, 1, 10, 0),
                   usage=FREE, diagnoses=in_waiting)
    assert keys(result) == ["diagnosis.in_waiting_period"]


@pytest.mark.parametrize("actor, expected", [
    (Actor("guardian"), []),
    (Actor("power_of_attorney"), []),
    (Actor("guardian", verified=False), ["actor.proxy_pending"]),
    (Actor("none"), ["actor.not_entitled"]),
    (Actor("neighbour"), ["actor.not_entitled"]),
])
def test_only_the_insured_or_a_verified_proxy(actor, expected):
    # 000 2.4(1): "本项服务仅限被保险人本人使用"; 003 医疗垫付 材料 8 / 重疾住院护工 服务声明 2
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), actor, at(2026, 6, 1, 10, 0), usage=FREE)
    assert keys(result) == expected


def test_information_services_are_not_bookable():
    info = next(s for s in ZHONGAN.services if not s.bookable)
    assert "service.information_only" in keys(check(ZHONGAN, info, policy(), SELF, at(2026, 6, 1, 10, 0)))


def test_every_reason_at_once():
    result = check(CIGC, CIGC.service("expert_outpatient"), policy(), Actor("guardian", verified=False),
                   at(2026, 1, 3, 10, 0), usage=Usage(1, 1, 0))
    assert keys(result) == ["actor.proxy_pending", "policy.cooling_off", "policy.waiting_period", "quota.in_progress"]


def test_china_date_decides_not_the_utc_date():
    from datetime import datetime, timezone

    # 2026-03-31 16:00 UTC is 2026-04-01 00:00 in Shanghai: the waiting period is over.
    now = datetime(2026, 3, 31, 16, 0, tzinfo=timezone.utc)
    assert check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, now, usage=FREE).allowed
    assert not check(CIGC, CIGC.service("expert_outpatient"), policy(), SELF, now - timedelta(seconds=1), usage=FREE).allowed
