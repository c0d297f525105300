"""Free change / cancel deadlines, at the second, in China time whatever the server's zone."""
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.clock import CHINA
from webapp.services.cutoffs import change_deadline, may_change_free


def cn(*args):
    return datetime(*args, tzinfo=CHINA)


# 000 （一）2.9(6): cancel "需在预约就诊日前一天12:00之前" — strictly before noon the day before.
def test_noon_day_before_boundary_at_the_second():
    visit = cn(2026, 11, 25, 9, 30)
    assert change_deadline("noon_day_before", visit) == cn(2026, 11, 24, 12, 0)
    assert may_change_free("noon_day_before", visit, cn(2026, 11, 24, 11, 59, 59))
    assert not may_change_free("noon_day_before", visit, cn(2026, 11, 24, 12, 0, 0))
    assert not may_change_free("noon_day_before", visit, cn(2026, 11, 24, 12, 0, 1))


@pytest.mark.parametrize("visit, deadline", [
    (cn(2026, 11, 23, 8, 0), cn(2026, 11, 22, 12, 0)),  # Monday visit -> Sunday noon, whatever the weekday
    (cn(2026, 12, 1, 14, 0), cn(2026, 11, 30, 12, 0)),  # across a month
    (cn(2027, 1, 1, 10, 0), cn(2026, 12, 31, 12, 0)),  # across a year
    (cn(2026, 11, 25, 0, 30), cn(2026, 11, 24, 12, 0)),  # just after midnight
])
def test_noon_day_before_is_the_calendar_day_before(visit, deadline):
    assert change_deadline("noon_day_before", visit) == deadline


def test_noon_rule_uses_the_china_calendar_day_of_an_instant_given_in_utc():
    # 2026-11-24 17:30 UTC is 2026-11-25 01:30 in Shanghai: the visit day is the 25th.
    visit = datetime(2026, 11, 24, 17, 30, tzinfo=timezone.utc)
    assert change_deadline("noon_day_before", visit) == cn(2026, 11, 24, 12, 0)
    assert change_deadline("noon_day_before", visit).tzinfo == CHINA


# 003 同城专车接送 特别说明(5): "未能提前4小时取消或变更…视为服务已使用" — exactly 4 hours ahead is still free.
def test_hours_before_is_inclusive_at_the_second():
    pickup = cn(2026, 11, 21, 18, 0)
    assert change_deadline("hours_before:4", pickup) == cn(2026, 11, 21, 14, 0)
    assert may_change_free("hours_before:4", pickup, cn(2026, 11, 21, 14, 0, 0))
    assert not may_change_free("hours_before:4", pickup, cn(2026, 11, 21, 14, 0, 1))
    assert may_change_free("hours_before:4", pickup, cn(2026, 11, 21, 13, 59, 59))


def test_nursing_aide_twelve_hours():
    # 003 重疾住院护工 五.3: "需提前12小时通知服务人员"
    start = cn(2026, 11, 22, 8, 0)
    assert change_deadline("hours_before:12", start) == cn(2026, 11, 21, 20, 0)


# 000 （二）2.9(11): "预约成功后，不可取消。若取消，仍计为有效服务一次"
def test_never():
    assert change_deadline("never", cn(2026, 11, 30, 9, 0)) is None
    assert not may_change_free("never", cn(2026, 11, 30, 9, 0), cn(2026, 11, 1, 9, 0))


@pytest.mark.parametrize("rule", ["", "noon", "hours_before:", "hours_before:0", "hours_before:-4",
                                  "hours_before:x", "HOURS_BEFORE:4", "never ", None, 4])
def test_unknown_rules_raise_value_error(rule):
    with pytest.raises(ValueError):
        change_deadline(rule, cn(2026, 11, 30, 9, 0))


def test_naive_datetimes_raise_value_error():
    with pytest.raises(ValueError):
        change_deadline("noon_day_before", datetime(2026, 11, 30, 9, 0))
    with pytest.raises(ValueError):
        may_change_free("hours_before:4", cn(2026, 11, 30, 9, 0), datetime(2026, 11, 30, 1, 0))


@pytest.mark.parametrize("server_zone", ["UTC", "America/New_York", "Pacific/Kiritimati"])
def test_results_do_not_depend_on_the_server_zone(server_zone, monkeypatch):
    monkeypatch.setenv("TZ", server_zone)
    time.tzset()
    try:
        visit = datetime(2026, 11, 25, 1, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Shanghai
        assert change_deadline("noon_day_before", visit) == cn(2026, 11, 24, 12, 0)
        assert may_change_free("noon_day_before", visit, cn(2026, 11, 24, 11, 59, 59))
        assert change_deadline("hours_before:4", visit) == cn(2026, 11, 25, 5, 30)
    finally:
        monkeypatch.undo()
        time.tzset()


instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(CHINA))
rules = st.sampled_from(["noon_day_before", "hours_before:1", "hours_before:4", "hours_before:12", "hours_before:24"])


@given(rule=rules, start=instants)
def test_a_deadline_is_never_after_the_start(rule, start):
    deadline = change_deadline(rule, start)
    assert deadline <= start
    assert deadline.utcoffset() == timedelta(hours=8)


@given(rule=rules, start=instants, delta=st.integers(min_value=-10**7, max_value=10**7))
def test_free_exactly_until_the_deadline(rule, start, delta):
    now = start + timedelta(seconds=delta)
    deadline = change_deadline(rule, start)
    free = may_change_free(rule, start, now)
    assert free == (now <= deadline if rule.startswith("hours") else now < deadline)
    if free:
        assert now < start
