"""003's PLUS services and the reserved premium ward are used only in the policy year in which the first critical
illness was diagnosed: 重疾绿通PLUS 特别说明(1) line 745 and 预留高端病房 特别说明(1) line 468, "限客户首发重大疾病后
一个保单年度内使用一次" (eligibility._first_illness_year_reasons, catalog `within_policy_year_of_diagnosis`).

The first illness is the earliest verified diagnosis on file, suspected or confirmed. Fixed clocks; the policy year
boundary is tested on the second each side of midnight.
"""
from __future__ import annotations

from datetime import date

import pytest

from webapp.services.products.catalog import default_catalog
from webapp.services.eligibility import SELF, DiagnosisFacts, PolicyFacts, Usage, check, first_illness_year
from webapp.services.policy_years import anniversary

from .conftest import at

CATALOG = default_catalog()
ZHONGAN = CATALOG.product("zhongan_vip")  # seed 003
FREE = Usage(quota=1, held=0, used=0)
BOUND = ("remote_consultation", "expert_outpatient", "exam_fastpass", "inpatient", "surgery", "vip_ward")


def policy(effective=date(2026, 1, 1), years=3, **kw):
    return PolicyFacts(effective_date=effective, expiry_date=anniversary(effective, years),
                       cooling_off_days=15, waiting_days=90, **kw)


def diagnosed(*days, certainty="confirmed"):
    return tuple(DiagnosisFacts(certainty, d, "3A") for d in days)


def reasons(code, now, diagnoses, facts=None):
    return check(ZHONGAN, ZHONGAN.service(code), facts or policy(), SELF, now, diagnoses=diagnoses, usage=FREE).reasons


def test_exactly_the_plus_services_and_the_premium_ward_carry_the_rule():
    bound = {s.code for s in ZHONGAN.services if s.within_policy_year_of_diagnosis}
    assert bound == set(BOUND)
    others = [s for p in CATALOG.products for s in p.services if s.within_policy_year_of_diagnosis and p is not ZHONGAN]
    assert others == []


@pytest.mark.parametrize("code", BOUND)
def test_refused_from_the_first_second_of_the_next_policy_year(code):
    """Diagnosed 1 May 2026 in the policy year 1 Jan 2026 – 31 Dec 2026."""
    illness = diagnosed(date(2026, 5, 1))
    assert reasons(code, at(2026, 12, 31, 23, 59, 59), illness) == ()
    [reason] = reasons(code, at(2027, 1, 1, 0, 0, 0), illness)
    assert reason.key == "diagnosis.first_year_over"
    assert dict(reason.params) == {"diagnosed": "2026-05-01", "last_day": "2026-12-31"}


@pytest.mark.parametrize("code", ["car_pickup", "escort_outpatient", "second_opinion", "nursing_aide", "mdt"])
def test_other_003_services_are_not_bound_to_the_first_year(code):
    assert all(r.key != "diagnosis.first_year_over" for r in reasons(code, at(2027, 6, 1, 10, 0), diagnosed(date(2026, 5, 1))))


def test_the_earliest_diagnosis_is_the_first_illness_suspected_or_confirmed():
    """A suspicion in year 1 confirmed in year 2: the illness first arose in year 1, so year 2 is too late."""
    illness = diagnosed(date(2026, 11, 20), certainty="suspected") + diagnosed(date(2027, 2, 1))
    assert first_illness_year(policy(), illness) == (date(2026, 1, 1), date(2027, 1, 1))
    assert [r.key for r in reasons("expert_outpatient", at(2027, 2, 2, 10, 0), illness)] == ["diagnosis.first_year_over"]


def test_a_first_illness_in_the_second_year_opens_the_second_year():
    illness = diagnosed(date(2027, 3, 1))
    assert reasons("inpatient", at(2027, 3, 2, 10, 0), illness) == ()
    assert reasons("inpatient", at(2027, 12, 31, 23, 59, 59), illness) == ()
    assert [r.key for r in reasons("inpatient", at(2028, 1, 1, 0, 0, 0), illness)] == ["diagnosis.first_year_over"]


def test_without_a_diagnosis_on_file_the_desk_checks_the_papers():
    """A suspected diagnosis is reviewed with the application (catalog diagnosis: suspected); nothing refused here."""
    assert reasons("expert_outpatient", at(2028, 6, 1, 10, 0), ()) == ()


def test_an_illness_before_the_policy_is_refused_as_such_not_twice():
    """000 Q&A line 252 (the shared rule): before the policy is not covered at all."""
    keys = [r.key for r in reasons("vip_ward", at(2027, 6, 1, 10, 0), diagnosed(date(2025, 12, 31)))]
    assert keys == ["diagnosis.before_policy"]


def test_the_policy_year_ends_on_the_leap_day_anniversary():
    """DOMAIN.md (对应日): a policy from 29 Feb 2024 has its first anniversary on 28 Feb 2025."""
    leap = policy(effective=date(2024, 2, 29))
    illness = diagnosed(date(2024, 7, 1))
    assert reasons("exam_fastpass", at(2025, 2, 27, 23, 59, 59), illness, leap) == ()
    [reason] = reasons("exam_fastpass", at(2025, 2, 28, 0, 0, 0), illness, leap)
    assert dict(reason.params) == {"diagnosed": "2024-07-01", "last_day": "2025-02-27"}


def test_the_reason_is_worded_in_both_languages(app):
    from webapp.services.eligibility import Reason
    from webapp.views.refusal_text import say as reason_text

    reason = Reason("diagnosis.first_year_over", params={"diagnosed": "2026-05-01", "last_day": "2026-12-31"})
    from flask_babel import force_locale

    with app.test_request_context("/"):
        zh = reason_text(reason)  # Chinese first
        assert zh.startswith("本服务仅限在首次确诊重大疾病的保单年度内使用") and "%(" not in zh
    with app.test_request_context("/"), force_locale("en"):
        text = reason_text(reason)
        assert text.startswith("This service can only be used in the policy year in which the critical illness")
        assert "2026" in text and "%(" not in text
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert "%(" not in reason_text(reason)
