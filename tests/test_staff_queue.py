"""The staff queue (issue 6): promised days counted in statutory working days, the stage each open application
waits at, the order and the counts of the list, and every filter. Every clock is fixed.

Rules under test, with their seed lines:
- the reviewer decides within 1 working day of complete papers: 003 "收到完整材料后的一个工作日内审核" (lines
  492, 618, 949, 1566), counted from when the desk receives them (DOMAIN.md, "acceptance hours");
- the desk looks at applications 000 （一）2.3 line 38 "受理时间为周一至周五：09：00-18：00（国家法定节假日除外）"
  (cigc_classic) and 003 line 943 "电话接听时间：每天9：00-21:00" (zhongan_vip);
- arrangement 000 （一）2.7 line 66 "自客户服务资格审核通过时5个工作日内完成服务安排";
- working days are statutory: 003 "以上工作日均以国家公布的法定工作日为准" (lines 427, 560, 739, 1368);
- DOMAIN.md, Definitions: "within N working days" is the N-th working day after the event's date (the event's
  own day never counts); DOMAIN.md, Time: the package knows only announced years; later years must still work.

The 2026 calendar used below was read from the package (chinesecalendar 1.11.0, `get_holiday_detail` and
`is_workday` for 2026-09-19 … 2026-10-12), not guessed: 中秋节 Fri 25 – Sun 27 Sep and 国庆节 Thu 1 – Wed 7 Oct
off; Sunday 20 Sep and Saturday 10 Oct are adjusted working days (调休); Sunday 11 Oct is off.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest
from lunardate import LunarDate
from sqlalchemy import select

from webapp.models import Account, Diagnosis, Person, Policy, Product
from webapp.services import workdays
from webapp.services.booking import bookings
from webapp.services.desk import review, staff_queue
from webapp.services.papers import documents, photos
from webapp.services.products.catalog import default_catalog
from webapp.services.products.catalog_sync import rules_for
from webapp.services.clock import china_datetime
from webapp.services.deadlines import desk_receives
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.policy_years import anniversary
from webapp.services.desk.staff_queue import Due, Filters, due, queue, review_due
from webapp.services.papers.storage import LocalStorage
from webapp.services.workdays import add_workdays, is_published, is_workday, workdays_between

from .conftest import World, at
from .test_deadlines import deadline
from .photo_corpus import document_photo

CIGC = default_catalog().product("cigc_classic")
ZHONGAN = default_catalog().product("zhongan_vip")
WEEKDAY_DESK = CIGC.hours_for(CIGC.service("expert_outpatient"))  # 000 （一）2.3: Mon–Fri 09:00–18:00
DAILY_DESK = ZHONGAN.hours_for(ZHONGAN.service("expert_outpatient"))  # 003 line 943: daily 09:00–21:00
WORKING_DAY_DESK = default_catalog().product("starr_jiuyibao").acceptance_hours  # 004 (and 002): statutory working days
FIVE_FROM_APPROVAL = CIGC.service("expert_outpatient").arrangement  # 000 （一）2.7
FIVE_FROM_PAPERS = ZHONGAN.service("expert_outpatient").arrangement  # 003 表2 line 752, counted from papers

# The first year the package does not know (2027 with chinesecalendar 1.11): it runs on the fallback.
YEAR = max(chinese_calendar.constants.holidays).year + 1


@pytest.fixture(autouse=True)
def calendar():
    """The working-day calendar is process-wide: every test starts and ends without overrides."""
    workdays.set_overrides({}, set())
    yield
    workdays.set_overrides({}, set())


@pytest.fixture()
def store(tmp_path):
    return LocalStorage(tmp_path / "uploads")


@functools.lru_cache(maxsize=None)
def photo(seed: int) -> photos.Photo:
    return photos.process(document_photo(1600, 1200, text_seed=seed))


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


# ============================================================================================================
# 1. Deadlines across the 2026 National Day holiday
# ============================================================================================================

# (day, statutory working day?, the package's holiday name) — as chinesecalendar 1.11.0 has them.
NATIONAL_DAY_2026 = [
    (date(2026, 9, 19), False, None), (date(2026, 9, 20), True, "National Day"),  # Sunday: 调休, working
    (date(2026, 9, 21), True, None), (date(2026, 9, 22), True, None), (date(2026, 9, 23), True, None),
    (date(2026, 9, 24), True, None), (date(2026, 9, 25), False, "Mid-autumn Festival"),
    (date(2026, 9, 26), False, "Mid-autumn Festival"), (date(2026, 9, 27), False, "Mid-autumn Festival"),
    (date(2026, 9, 28), True, None), (date(2026, 9, 29), True, None), (date(2026, 9, 30), True, None),
    *[(date(2026, 10, d), False, "National Day") for d in range(1, 8)],
    (date(2026, 10, 8), True, None), (date(2026, 10, 9), True, None),
    (date(2026, 10, 10), True, "National Day"),  # Saturday: 调休, working (the package names the holiday it serves)
    (date(2026, 10, 11), False, None), (date(2026, 10, 12), True, None),
]


def test_the_2026_schedule_is_the_one_the_package_publishes():
    """Checked, not guessed: every day from 19 Sep to 12 Oct 2026 as the package and the portal see it."""
    for day, working, name in NATIONAL_DAY_2026:
        assert chinese_calendar.is_workday(day) is working, day
        assert chinese_calendar.get_holiday_detail(day) == (not working, name), day
        assert is_workday(day) is working, day
    assert is_published(2026)


@pytest.mark.parametrize("desk, papers_in, expected", [
    # 003: "收到完整材料后的一个工作日内审核" — 1 working day after the day the desk receives the last paper.
    (DAILY_DESK, at(2026, 9, 30, 15, 0), date(2026, 10, 8)),  # Wed afternoon; 1–7 Oct off → Thu 8th
    (DAILY_DESK, at(2026, 9, 30, 21, 0), date(2026, 10, 8)),  # at closing: looked at 1 Oct (a daily desk) → 8th
    (DAILY_DESK, at(2026, 10, 3, 11, 0), date(2026, 10, 8)),  # sent in the holiday
    (DAILY_DESK, at(2026, 10, 7, 22, 0), date(2026, 10, 9)),  # after hours on the last day off: looked at 8th → 9th
    (DAILY_DESK, at(2026, 10, 9, 15, 0), date(2026, 10, 10)),  # Friday → the working Saturday (调休)
    (DAILY_DESK, at(2026, 10, 10, 15, 0), date(2026, 10, 12)),  # the working Saturday → Monday (Sunday 11th off)
    (WEEKDAY_DESK, at(2026, 9, 30, 15, 0), date(2026, 10, 8)),
    (WEEKDAY_DESK, at(2026, 9, 30, 18, 0), date(2026, 10, 9)),  # 18:00 is closed: looked at 8 Oct 09:00 → 9th
    (WEEKDAY_DESK, at(2026, 9, 24, 19, 0), date(2026, 9, 29)),  # Thu evening before 中秋: looked at Mon 28th → 29th
    (WEEKDAY_DESK, at(2026, 10, 4, 10, 0), date(2026, 10, 9)),  # the desk is closed 1–7 Oct: looked at 8th → 9th
])
def test_review_is_due_the_first_working_day_after_the_desk_receives_the_papers(desk, papers_in, expected):
    assert review_due(desk, papers_in) == expected


def test_review_due_is_the_same_instant_whatever_zone_the_server_gives():
    # DOMAIN.md, Time: servers may run in UTC. 30 Sep 2026 10:30 UTC is 18:30 in China: after the 000 desk closes.
    in_utc = datetime(2026, 9, 30, 10, 30, tzinfo=timezone.utc)
    assert review_due(WEEKDAY_DESK, in_utc) == review_due(WEEKDAY_DESK, at(2026, 9, 30, 18, 30)) == date(2026, 10, 9)


@pytest.mark.parametrize("submitted, desk_looks", [
    # 000 （一）2.3 line 38: Mon–Fri 09:00–18:00 except statutory holidays; the next opening is the next weekday that
    # is a working day: an adjusted working weekend (调休) is not Mon–Fri, so the desk stays closed on it.
    (at(2026, 10, 16, 19, 0), at(2026, 10, 19, 9, 0)),  # an ordinary Friday evening → Monday
    (at(2026, 10, 16, 18, 0), at(2026, 10, 19, 9, 0)),  # 18:00 itself is after hours
    (at(2026, 10, 9, 19, 0), at(2026, 10, 12, 9, 0)),  # Friday before a 调休 Saturday → Monday, not that Saturday
    (at(2026, 9, 18, 19, 0), at(2026, 9, 21, 9, 0)),  # Friday before the working Sunday 20 Sep → Monday
    (at(2026, 9, 24, 19, 0), at(2026, 9, 28, 9, 0)),  # Thursday before 中秋 (Fri 25 – Sun 27 off) → Monday
    (at(2026, 9, 30, 19, 0), at(2026, 10, 8, 9, 0)),  # the eve of National Day → after the holiday
    (datetime(2026, 10, 16, 11, 30, tzinfo=timezone.utc), at(2026, 10, 19, 9, 0)),  # 19:30 in China, given in UTC
])
def test_an_evening_submission_to_the_weekday_desk_counts_from_the_next_working_day(submitted, desk_looks):
    assert desk_receives(WEEKDAY_DESK, submitted) == desk_looks


def test_a_friday_evening_approval_counts_five_working_days_from_monday():
    # 000 （一）2.7 + 2.3: approved Fri 16 Oct 19:00 → looked at Mon 19th; 20, 21, 22, 23, 26 Oct.
    assert deadline(FIVE_FROM_APPROVAL, WEEKDAY_DESK, received_at=at(2026, 10, 16, 10, 0),
                                approved_at=at(2026, 10, 16, 19, 0)) == date(2026, 10, 26)


@pytest.mark.parametrize("approved, expected", [
    # 000 （一）2.7: 5 working days after the day the desk can act on the approval.
    (at(2026, 9, 29, 10, 0), date(2026, 10, 12)),  # 30 Sep, 8, 9, 10 (Sat, 调休), 12 Oct
    (at(2026, 9, 29, 18, 30), date(2026, 10, 13)),  # after hours: counts from 30 Sep → 8, 9, 10, 12, 13
    (at(2026, 9, 30, 15, 0), date(2026, 10, 13)),
    (at(2026, 10, 5, 11, 0), date(2026, 10, 14)),  # decided in the holiday: the desk acts on 8 Oct → 9, 10, 12, 13, 14
])
def test_arrangement_within_five_working_days_of_an_approval_before_the_holiday(approved, expected):
    assert deadline(FIVE_FROM_APPROVAL, WEEKDAY_DESK, received_at=at(2026, 9, 28, 10, 0),
                                approved_at=approved) == expected


def test_arrangement_counted_from_complete_papers_ignores_a_later_approval():
    # 003 表2 (catalog: counted from complete papers): the last paper on Wed 30 Sep 15:00, approved 8 Oct.
    assert deadline(FIVE_FROM_PAPERS, DAILY_DESK, received_at=at(2026, 9, 29, 10, 0),
                                approved_at=at(2026, 10, 8, 10, 0),
                                papers_complete_at=at(2026, 9, 30, 15, 0)) == date(2026, 10, 13)


@pytest.mark.parametrize("day, today, expected", [
    # Due(day, left, overdue, late_by): left and late_by are statutory working days (003 line 427).
    (date(2026, 10, 8), date(2026, 9, 29), (2, False, 0)),  # 30 Sep and 8 Oct left
    (date(2026, 10, 8), date(2026, 9, 30), (1, False, 0)),  # the whole holiday is no working day
    (date(2026, 10, 8), date(2026, 10, 3), (1, False, 0)),  # seen during the holiday
    (date(2026, 10, 8), date(2026, 10, 8), (0, False, 0)),  # on the day itself: not overdue, 0 left
    (date(2026, 10, 12), date(2026, 9, 29), (5, False, 0)),  # 30 Sep, 8, 9, 10 (Sat), 12 Oct
    (date(2026, 10, 12), date(2026, 10, 10), (1, False, 0)),  # Sunday 11th is off
    (date(2026, 9, 30), date(2026, 10, 1), (0, True, 0)),  # past the day, but only by days off
    (date(2026, 9, 30), date(2026, 10, 7), (0, True, 0)),
    (date(2026, 9, 30), date(2026, 10, 8), (0, True, 1)),
    (date(2026, 9, 30), date(2026, 10, 11), (0, True, 3)),  # 8, 9, 10 Oct
    (date(2026, 9, 30), date(2026, 10, 12), (0, True, 4)),
    (date(2026, 9, 24), date(2026, 9, 28), (0, True, 1)),  # over 中秋 (25–27 off): only Monday counts
])
def test_due_counts_left_and_late_in_working_days_over_the_holiday(day, today, expected):
    got = due(day, today)
    assert got == Due(day, *expected)


def test_due_agrees_with_working_days_between_every_pair_around_the_holiday():
    span = days(date(2026, 9, 19), date(2026, 10, 14))
    for day in span:
        for today in span:
            got = due(day, today)
            assert got.overdue is (today > day)
            if got.overdue:
                assert got.left == 0 and got.late_by == workdays_between(day, today) >= 0
            else:
                assert got.late_by == 0 and got.left == workdays_between(today, day) >= 0


# ============================================================================================================
# 2. A year the package does not know yet
# ============================================================================================================

def spring_festival(year: int) -> date:
    """正月初一 of `year`."""
    return LunarDate(year, 1, 1).to_solar_date()


def first_weekday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_the_first_unknown_year_runs_on_the_fallback():
    assert not is_published(YEAR) and is_published(YEAR - 1)
    assert workdays.unpublished_years(date(YEAR - 1, 11, 23)) == [YEAR]  # the staff banner names it


def test_the_fallback_never_raises_and_always_answers():
    """DOMAIN.md, Time: later dates must work, never crash — including past the lunar tables (2099)."""
    for year in (YEAR, YEAR + 1, 2099, 2100, 2101):
        for day in days(date(year, 1, 1), date(year, 12, 31)):
            assert is_workday(day) in (True, False)
        assert add_workdays(date(year, 1, 1), 20) > date(year, 1, 1)
        assert workdays_between(date(year, 1, 1), date(year, 12, 31)) > 200
        for desk in (WEEKDAY_DESK, DAILY_DESK):
            assert review_due(desk, at(year, 9, 30, 20, 0)) > date(year, 9, 30)
            assert deadline(FIVE_FROM_APPROVAL, desk, received_at=at(year, 12, 31, 10, 0),
                                        approved_at=at(year, 12, 31, 23, 0)) > date(year, 12, 31)


def test_the_fallback_rests_both_golden_weeks_and_every_weekend():
    """Golden weeks are granted every year (春节 腊月二十八–初八, 国庆 1–8 Oct); the fallback cannot know the adjusted
    working weekends, so it rests every Saturday and Sunday: it can only promise later than the weekdays would."""
    new_year = spring_festival(YEAR)
    for day in days(new_year - timedelta(days=1), new_year + timedelta(days=6)):
        assert not is_workday(day), day
        assert workdays.is_spring_festival_holiday(day), day
    for day in days(date(YEAR, 10, 1), date(YEAR, 10, 7)):
        assert not is_workday(day), day
    for day in (date(YEAR, 1, 1), date(YEAR, 5, 1), date(YEAR, 5, 2)):
        assert not is_workday(day), day
    assert all(day.weekday() < 5 for day in days(date(YEAR, 1, 1), date(YEAR, 12, 31)) if is_workday(day))


def test_fallback_deadlines_jump_the_golden_weeks():
    new_year = spring_festival(YEAR)
    eve = new_year - timedelta(days=1)  # 除夕
    # Sent the evening before 除夕: the daily desk looks on 除夕 itself; the first working day is after 初七.
    assert review_due(DAILY_DESK, china_datetime(eve - timedelta(days=1), time(22, 0))) == \
        first_weekday_after(new_year + timedelta(days=6))
    assert add_workdays(date(YEAR, 9, 30), 1) == first_weekday_after(date(YEAR, 10, 8))
    assert review_due(WEEKDAY_DESK, at(YEAR, 9, 30, 19, 0)) == first_weekday_after(first_weekday_after(date(YEAR, 10, 8)))
    # Left on the eve of the holiday: the whole week off counts for nothing.
    promised = first_weekday_after(date(YEAR, 10, 8))
    assert due(promised, date(YEAR, 9, 30)).left == 1


def test_a_published_schedule_can_only_bring_fallback_deadlines_forward_by_its_working_weekends():
    """Against any schedule that keeps the days the fallback rests and adds adjusted working weekends (调休, as
    every published year does), a fallback promise is never earlier."""
    span = days(date(YEAR, 1, 1), date(YEAR, 12, 20))
    fallback = {(day, n): add_workdays(day, n) for day in span for n in (1, 5, 10)}
    new_year = spring_festival(YEAR)
    working_weekends = {d: True for d in (*days(new_year - timedelta(days=14), new_year - timedelta(days=2)),
                                          *days(new_year + timedelta(days=7), new_year + timedelta(days=21)),
                                          *days(date(YEAR, 9, 20), date(YEAR, 9, 30)),
                                          *days(date(YEAR, 10, 8), date(YEAR, 10, 18)),
                                          *days(date(YEAR, 4, 25), date(YEAR, 4, 30)),
                                          *days(date(YEAR, 5, 3), date(YEAR, 5, 12))) if d.weekday() >= 5}
    workdays.set_overrides(working_weekends, {YEAR})
    assert any(add_workdays(day, n) < promised for (day, n), promised in fallback.items())  # they did move
    for (day, n), promised in fallback.items():
        assert add_workdays(day, n) <= promised, (day, n)


def whole_schedule(changes: dict) -> dict:
    """A year's whole schedule as staff enter it before marking the year published (from then on a day not entered
    is an ordinary weekday or weekend): the holidays the fallback rests, with the notice's own changes."""
    return {**{d: False for d in workdays.fallback_rest_days(YEAR) if d.weekday() < 5}, **changes}


def test_the_schedule_staff_enter_changes_the_answers():
    """Staff type the State Council's notice when it appears (workdays.set_overrides, as the calendar page does):
    an extra day off after the Spring Festival, an adjusted working Saturday, and a day off after National Day."""
    new_year = spring_festival(YEAR)
    extra_day_off = first_weekday_after(new_year + timedelta(days=6))  # the first weekday the fallback works
    working_saturday = next(d for d in days(extra_day_off, extra_day_off + timedelta(days=14)) if d.weekday() == 5)
    after_national_day = first_weekday_after(date(YEAR, 10, 8))
    before = {
        "after spring festival": add_workdays(new_year + timedelta(days=6), 1),
        "friday before the saturday": add_workdays(working_saturday - timedelta(days=1), 1),
        "review after national day": review_due(DAILY_DESK, at(YEAR, 9, 30, 15, 0)),
        "desk": desk_receives(WORKING_DAY_DESK, china_datetime(working_saturday - timedelta(days=1), time(19, 0))),
    }
    assert before == {
        "after spring festival": extra_day_off,
        "friday before the saturday": working_saturday + timedelta(days=2),
        "review after national day": after_national_day,
        "desk": china_datetime(working_saturday + timedelta(days=2), time(9, 0)),
    }
    workdays.set_overrides(whole_schedule({extra_day_off: False, working_saturday: True, after_national_day: False}), {YEAR})
    assert is_published(YEAR) and workdays.unpublished_years(date(YEAR - 1, 11, 23)) == []
    assert add_workdays(new_year + timedelta(days=6), 1) == min(first_weekday_after(extra_day_off), working_saturday)
    assert add_workdays(working_saturday - timedelta(days=1), 1) == working_saturday
    assert review_due(DAILY_DESK, at(YEAR, 9, 30, 15, 0)) == first_weekday_after(after_national_day)
    friday_evening = china_datetime(working_saturday - timedelta(days=1), time(19, 0))
    assert desk_receives(WORKING_DAY_DESK, friday_evening) == china_datetime(working_saturday, time(9, 0))
    # 000's desk opens Mon–Fri only (（一）2.3 line 38): the working Saturday changes nothing for it.
    assert desk_receives(WEEKDAY_DESK, friday_evening) == china_datetime(working_saturday + timedelta(days=2), time(9, 0))
    workdays.set_overrides({}, set())  # taken back: the fallback answers again
    assert add_workdays(new_year + timedelta(days=6), 1) == extra_day_off and not is_published(YEAR)


@pytest.fixture()
def package_ends_in_2024(monkeypatch):
    """Pretend the package stopped at 2024, so that 2025 and 2026 — the first years under the 2024 revision of
    《全国年节及纪念日放假办法》 — run on the fallback, and the fallback can be compared with what was published."""
    monkeypatch.setattr(workdays, "_LAST_PACKAGE_YEAR", 2024)
    workdays.set_overrides({}, set())  # clears the cached package answers
    yield
    monkeypatch.undo()
    workdays.set_overrides({}, set())


def test_a_fallback_promise_is_never_earlier_than_the_published_one(package_ends_in_2024):
    assert not is_published(2025) and not is_published(2026)

    def published(day: date, n: int) -> date:
        while n:
            day += timedelta(days=1)
            n -= chinese_calendar.is_workday(day)
        return day

    # Labour Day 2026 was 1–5 May (Fri–Tue): 1 working day after Thu 30 Apr is Wed 6 May.
    assert published(date(2026, 4, 30), 1) == date(2026, 5, 6)
    assert add_workdays(date(2026, 4, 30), 1) >= date(2026, 5, 6)
    earlier = [(day, n) for day in days(date(2025, 1, 1), date(2026, 12, 10)) for n in (1, 3, 5)
               if add_workdays(day, n) < published(day, n)]
    assert earlier == []


# ============================================================================================================
# 3. The queue
# ============================================================================================================

QUEUE_NOW = at(2026, 11, 18, 10, 0)  # Wednesday


class Desk:
    """A desk's worth of open applications, one per insured person, each waiting at a known stage."""

    def __init__(self, session, store):
        self.session, self.store = session, store
        self.world = World(session, "cigc_classic", effective=date(2026, 1, 1))
        self.reviewer = self.staff_account("13900000010", "reviewer")
        self.coordinator = self.world.staff
        self.seq = 200
        self.bookings = {}

    def staff_account(self, mobile, role) -> Account:
        account = Account(mobile=mobile, staff_role=role, created_at=at(2024, 1, 1))
        self.session.add(account)
        self.session.commit()
        return account

    def insured(self, name: str, product: str = "cigc_classic", effective: date = date(2026, 1, 1),
                years: int = 1) -> tuple[Account, Policy]:
        """Another insured person with their own policy (waiting period over 90 days after `effective`), and a
        confirmed diagnosis from a 3A hospital 5 months after it."""
        self.seq += 1
        session = self.session
        person = Person(name=name, id_number=demo_resident_id("110105", date(1975, 5, 5), self.seq),
                        birth_date=date(1975, 5, 5), mobile=f"13900{self.seq:06d}", created_at=at(2024, 1, 1))
        account = Account(mobile=person.mobile, person=person, created_at=at(2024, 1, 1))
        policy = Policy(number=f"Q-{self.seq}", product=session.scalar(select(Product).where(Product.code == product)),
                        holder=person, insured=person, effective_date=effective,
                        expiry_date=anniversary(effective, years), created_at=at(2024, 1, 1))
        session.add_all([person, account, policy])
        session.flush()
        session.add(Diagnosis(person_id=person.id, certainty="confirmed", diagnosed_on=effective + timedelta(days=150),
                              hospital="测试医院", hospital_grade="3A", verified_at=at(2024, 1, 1)))
        session.commit()
        return account, policy

    def apply(self, name: str, now: datetime, *, city="上海", product="cigc_classic", service="expert_outpatient",
              **kw):
        account, policy = self.insured(name, product)
        outcome = bookings.apply(self.session, account=account, policy_id=policy.id, service_code=service,
                                 request_key=name, now=now, details={"city": city}, **kw)
        assert outcome.ok, outcome.reasons
        self.bookings[name] = outcome.booking
        return outcome.booking, account

    def send(self, booking, account, now, seed=1):
        """Every paper the application needs, one page each, sent at `now`."""
        pages = []
        _, service = rules_for(booking.service)
        for k, kind in enumerate(documents.required_kinds(service, booking)):
            pages.append(documents.add_page(self.session, self.store, booking_id=booking.id, kind=kind,
                                            photo=photo(seed + k), account=account, now=now))
        documents.submit(self.session, booking_id=booking.id, account=account, now=now)
        return pages

    def approve(self, booking, now):
        bookings.start_review(self.session, booking.id, staff=self.reviewer, now=now)
        return bookings.approve(self.session, booking.id, staff=self.reviewer, now=now)

    def schedule(self, booking, now, starts_at):
        return bookings.schedule(self.session, booking.id, staff=self.coordinator, now=now, starts_at=starts_at,
                                 appointment={"hospital": "瑞金医院"})


def rows_of(session, now=QUEUE_NOW, **filters):
    session.expire_all()  # as a fresh request would see the database
    return queue(session, Filters(**filters), now)


def names(rows) -> list[str]:
    return [r.booking.policy.insured.name for r in rows]


@pytest.fixture()
def desk(session, store) -> Desk:
    """Open applications at every stage, as the desk finds them on Wednesday 18 Nov 2026 at 10:00."""
    d = Desk(session, store)
    b, who = d.apply("赵一", at(2026, 11, 16, 10, 0))  # nothing sent: the customer's turn
    b, who = d.apply("钱二", at(2026, 11, 16, 10, 0), city="北京")
    d.send(b, who, at(2026, 11, 16, 10, 30))  # review due Tue 17th: overdue by 1 working day
    b, who = d.apply("孙三", at(2026, 11, 17, 14, 0))
    d.send(b, who, at(2026, 11, 17, 15, 0))  # review due today
    b, who = d.apply("李四", at(2026, 11, 16, 10, 0))
    pages = d.send(b, who, at(2026, 11, 16, 11, 0))
    review.decide_page(session, b, public_id=pages[0].public_id, staff=d.reviewer, now=at(2026, 11, 17, 9, 30),
                       decision=documents.UNREADABLE, reason=None, note="模糊")  # sent back: the customer's turn
    b, _ = d.apply("周五", at(2026, 11, 6, 10, 0), city="广州")
    d.approve(b, at(2026, 11, 9, 10, 0))  # arrange by Mon 16th: overdue by 2
    b, _ = d.apply("吴六", at(2026, 11, 13, 10, 0))
    d.approve(b, at(2026, 11, 16, 10, 0))  # arrange by Mon 23rd
    b, _ = d.apply("郑七", at(2026, 11, 12, 10, 0))
    d.approve(b, at(2026, 11, 13, 10, 0))  # arrange by Fri 20th
    bookings.record_failed_booking(session, b.id, staff=d.coordinator, now=at(2026, 11, 17, 11, 0),
                                   asked_for="王主任", alternatives="李主任、张主任")  # 000 Q&A: the customer chooses
    b, _ = d.apply("王八", at(2026, 11, 10, 10, 0), service="inpatient_surgery", admission_slip_date=date(2026, 11, 10))
    d.approve(b, at(2026, 11, 11, 10, 0))
    d.schedule(b, at(2026, 11, 12, 11, 0), at(2026, 11, 25, 9, 0))  # in the future: nobody's turn
    b, _ = d.apply("冯九", at(2026, 11, 10, 10, 0), city="杭州")
    d.approve(b, at(2026, 11, 11, 10, 0))
    d.schedule(b, at(2026, 11, 12, 12, 0), at(2026, 11, 17, 9, 0))  # passed: record what happened
    b, who = d.apply("陈十", at(2026, 11, 17, 21, 30), product="zhongan_vip")
    d.send(b, who, at(2026, 11, 17, 22, 0))  # daily desk closes at 21:00: looked at 18th 09:00 → due 19th
    b, _ = d.apply("褚十一", at(2026, 11, 16, 10, 0))
    bookings.reject(session, b.id, staff=d.reviewer, now=at(2026, 11, 16, 15, 0), reason="waiting_period")  # closed
    return d


def test_the_default_list_is_the_desks_work_most_urgent_first(desk):
    rows, counts = rows_of(desk.session)
    # Overdue first, oldest promise first; then by the promised day; then what has no promised day.
    assert [(names([r])[0], r.stage) for r in rows] == [
        ("周五", "arrange"), ("钱二", "review"), ("孙三", "review"), ("陈十", "review"), ("吴六", "arrange"),
        ("冯九", "close"),
    ]
    assert [r.due and (r.due.day, r.due.left, r.due.overdue, r.due.late_by) for r in rows] == [
        (date(2026, 11, 16), 0, True, 2), (date(2026, 11, 17), 0, True, 1), (date(2026, 11, 18), 0, False, 0),
        (date(2026, 11, 19), 1, False, 0), (date(2026, 11, 23), 3, False, 0), None,
    ]
    assert counts == {"papers": 2, "review": 3, "arrange": 2, "choosing": 1, "visit": 1, "close": 1, "overdue": 2}


def test_every_open_application_with_its_stage_and_since(desk):
    rows, _ = rows_of(desk.session, stage="all")
    assert [(names([r])[0], r.stage) for r in rows] == [
        ("周五", "arrange"), ("钱二", "review"), ("孙三", "review"), ("陈十", "review"), ("郑七", "choosing"),
        ("吴六", "arrange"),
        # no promised day: by how long they have waited at their stage
        ("王八", "visit"), ("赵一", "papers"), ("冯九", "close"), ("李四", "papers"),
    ]
    by = {names([r])[0]: r for r in rows}
    assert "褚十一" not in by  # rejected: closed, never listed
    assert by["钱二"].since == at(2026, 11, 16, 10, 30) and by["钱二"].papers.to_decide == 2
    assert by["冯九"].since == at(2026, 11, 17, 9, 0)  # the appointment it waits to be closed for
    assert by["李四"].papers.waiting_retake == 1 and not by["李四"].papers.complete and by["李四"].due is None
    assert by["郑七"].due == Due(date(2026, 11, 20), 2, False, 0)  # the arrangement promise still runs
    assert by["钱二"].city == "北京" and by["冯九"].city == "杭州"


@pytest.mark.parametrize("stage, expected", [
    ("papers", ["赵一", "李四"]),
    ("review", ["钱二", "孙三", "陈十"]),
    ("arrange", ["周五", "吴六"]),
    ("choosing", ["郑七"]),
    ("visit", ["王八"]),
    ("close", ["冯九"]),
    ("open", ["周五", "钱二", "孙三", "陈十", "吴六", "冯九"]),
    ("", ["周五", "钱二", "孙三", "陈十", "吴六", "冯九"]),
    ("bogus", []),
])
def test_each_stage_filter_and_the_counts_do_not_depend_on_it(desk, stage, expected):
    rows, counts = rows_of(desk.session, stage=stage)
    assert names(rows) == expected
    assert counts == {"papers": 2, "review": 3, "arrange": 2, "choosing": 1, "visit": 1, "close": 1, "overdue": 2}


@pytest.mark.parametrize("filters, expected, counts", [
    ({"service": "inpatient_surgery", "stage": "all"}, ["王八"],
     {"papers": 0, "review": 0, "arrange": 0, "choosing": 0, "visit": 1, "close": 0, "overdue": 0}),
    ({"service": "expert_outpatient"}, ["周五", "钱二", "孙三", "陈十", "吴六", "冯九"],
     {"papers": 2, "review": 3, "arrange": 2, "choosing": 1, "visit": 0, "close": 1, "overdue": 2}),
    ({"product": "zhongan_vip", "stage": "all"}, ["陈十"],
     {"papers": 0, "review": 1, "arrange": 0, "choosing": 0, "visit": 0, "close": 0, "overdue": 0}),
    ({"product": "cigc_classic", "stage": "review"}, ["钱二", "孙三"],
     {"papers": 2, "review": 2, "arrange": 2, "choosing": 1, "visit": 1, "close": 1, "overdue": 2}),
    ({"city": "北京", "stage": "all"}, ["钱二"],
     {"papers": 0, "review": 1, "arrange": 0, "choosing": 0, "visit": 0, "close": 0, "overdue": 1}),
    ({"city": "上海", "stage": "all"}, ["孙三", "陈十", "郑七", "吴六", "王八", "赵一", "李四"],
     {"papers": 2, "review": 2, "arrange": 1, "choosing": 1, "visit": 1, "close": 0, "overdue": 0}),
    ({"city": "拉萨", "stage": "all"}, [],
     {"papers": 0, "review": 0, "arrange": 0, "choosing": 0, "visit": 0, "close": 0, "overdue": 0}),
    ({"overdue_only": True}, ["周五", "钱二"],
     {"papers": 2, "review": 3, "arrange": 2, "choosing": 1, "visit": 1, "close": 1, "overdue": 2}),
    ({"overdue_only": True, "stage": "review"}, ["钱二"],
     {"papers": 2, "review": 3, "arrange": 2, "choosing": 1, "visit": 1, "close": 1, "overdue": 2}),
    ({"overdue_only": True, "stage": "all", "city": "上海"}, [],
     {"papers": 2, "review": 2, "arrange": 1, "choosing": 1, "visit": 1, "close": 0, "overdue": 0}),
    ({"search": "孙", "stage": "all"}, ["孙三"],
     {"papers": 0, "review": 1, "arrange": 0, "choosing": 0, "visit": 0, "close": 0, "overdue": 0}),
    ({"search": " 周五 ", "stage": "all"}, ["周五"],
     {"papers": 0, "review": 0, "arrange": 1, "choosing": 0, "visit": 0, "close": 0, "overdue": 1}),
    ({"search": "褚十一", "stage": "all"}, [],  # closed applications are not in the queue, even by name
     {"papers": 0, "review": 0, "arrange": 0, "choosing": 0, "visit": 0, "close": 0, "overdue": 0}),
    ({"search": "不存在", "stage": "all"}, [],
     {"papers": 0, "review": 0, "arrange": 0, "choosing": 0, "visit": 0, "close": 0, "overdue": 0}),
])
def test_service_product_city_search_and_overdue_filters(desk, filters, expected, counts):
    rows, got = rows_of(desk.session, **filters)
    assert names(rows) == expected
    assert got == counts


@pytest.mark.parametrize("typed", ["{ref}", "{ref_dashed}", "{ref_lower}", "  {ref_dashed_lower}  "])
def test_search_by_reference_as_staff_type_it(desk, typed):
    ref = desk.bookings["孙三"].reference
    term = typed.format(ref=ref, ref_dashed=f"{ref[:2]}-{ref[2:]}", ref_lower=ref.lower(),
                        ref_dashed_lower=f"{ref[:2]}-{ref[2:]}".lower())
    rows, counts = rows_of(desk.session, stage="all", search=term)
    assert [r.booking.reference for r in rows] == [ref]
    assert counts["review"] == 1 and sum(v for k, v in counts.items() if k != "overdue") == 1


def test_a_closed_reference_is_not_found(desk):
    rows, _ = rows_of(desk.session, stage="all", search=desk.bookings["褚十一"].reference)
    assert rows == []


@pytest.mark.parametrize("typed", ["%", "_"])
def test_search_takes_wildcards_literally(desk, typed):
    rows, counts = rows_of(desk.session, stage="all", search=typed)
    assert rows == [] and counts["papers"] == counts["review"] == 0


@pytest.mark.parametrize("typed", ["\\", "'", "LT-", "   "])
def test_search_with_odd_input_never_fails(desk, typed):
    rows, _ = rows_of(desk.session, stage="all", search=typed)
    assert len(rows) == (10 if typed.strip() == "" else 0)  # blank is no search at all


def test_cities_lists_open_applications_only(desk):
    assert staff_queue.cities(desk.session) == ["上海", "北京", "广州", "杭州"]


def test_the_same_desk_a_day_later(desk):
    """The promises stay put; only where today stands against them moves (Thursday 19 Nov)."""
    rows, counts = rows_of(desk.session, now=at(2026, 11, 19, 10, 0))
    assert [(names([r])[0], r.due and (r.due.left, r.due.overdue, r.due.late_by)) for r in rows] == [
        ("周五", (0, True, 3)), ("钱二", (0, True, 2)), ("孙三", (0, True, 1)), ("陈十", (0, False, 0)),
        ("吴六", (2, False, 0)), ("冯九", None),
    ]
    assert counts["overdue"] == 3


# ------------------------------------------------------------------------------------------------------------
# One application walked through every stage

def row_of(session, booking, now):
    rows, _ = rows_of(session, now=now, stage="all")
    found = [r for r in rows if r.booking.id == booking.id]
    return found[0] if found else None


def test_one_application_through_every_stage(session, store):
    d = Desk(session, store)
    w = d.world
    b = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                       request_key="walk", now=at(2026, 11, 16, 10, 0), details={"city": "上海"}).booking
    row = row_of(session, b, at(2026, 11, 16, 10, 5))
    assert (row.stage, row.due, row.papers.complete) == ("papers", None, False)  # nothing sent

    # One of the two papers (diagnosis, pathology report: 000 （一）1.2(1)(2)) sent: still the customer's turn.
    first = documents.add_page(session, store, booking_id=b.id, kind="diagnosis", photo=photo(1), account=w.account,
                               now=at(2026, 11, 16, 11, 0))
    documents.submit(session, booking_id=b.id, account=w.account, now=at(2026, 11, 16, 11, 0))
    row = row_of(session, b, at(2026, 11, 16, 12, 0))
    assert (row.stage, row.papers.to_decide, row.papers.complete) == ("papers", 1, False)

    # A draft is not sent: still papers.
    second = documents.add_page(session, store, booking_id=b.id, kind="pathology_report", photo=photo(2),
                                account=w.account, now=at(2026, 11, 16, 17, 0))
    assert row_of(session, b, at(2026, 11, 16, 17, 30)).stage == "papers"

    # All sent Monday 19:00, after the 000 desk closes: it looks Tuesday; the review is due Wednesday.
    documents.submit(session, booking_id=b.id, account=w.account, now=at(2026, 11, 16, 19, 0))
    row = row_of(session, b, at(2026, 11, 17, 9, 0))
    assert (row.stage, row.since, row.papers.in_at, row.papers.to_decide) == (
        "review", at(2026, 11, 16, 19, 0), at(2026, 11, 16, 19, 0), 2)
    assert row.due == Due(date(2026, 11, 18), 1, False, 0)

    # A page sent back for a retake: the customer's turn again, with no promise running.
    review.decide_page(session, b, public_id=first.public_id, staff=d.reviewer, now=at(2026, 11, 17, 10, 0),
                       decision=documents.ACCEPTED, reason=None, note=None)
    review.decide_page(session, b, public_id=second.public_id, staff=d.reviewer, now=at(2026, 11, 17, 10, 1),
                       decision=documents.REJECTED, reason="incomplete", note="缺第二页")
    row = row_of(session, b, at(2026, 11, 17, 11, 0))
    assert (row.stage, row.due, row.papers.waiting_retake, row.papers.to_decide) == ("papers", None, 1, 0)
    assert row.booking.state == "under_review"

    # The retake sent Friday 20 Nov 17:00: the review is due the next working day, Monday.
    documents.add_page(session, store, booking_id=b.id, kind="pathology_report", photo=photo(3), account=w.account,
                       now=at(2026, 11, 20, 16, 0), replaces=second.public_id)
    assert row_of(session, b, at(2026, 11, 20, 16, 30)).stage == "papers"  # a retake not sent yet
    documents.submit(session, booking_id=b.id, account=w.account, now=at(2026, 11, 20, 17, 0))
    row = row_of(session, b, at(2026, 11, 21, 10, 0))
    assert (row.stage, row.papers.in_at, row.papers.waiting_retake) == ("review", at(2026, 11, 20, 17, 0), 0)
    assert row.due == Due(date(2026, 11, 23), 1, False, 0)  # Saturday: Monday is 1 working day away
    assert row_of(session, b, at(2026, 11, 24, 9, 0)).due == Due(date(2026, 11, 23), 0, True, 1)

    # Approved: the coordinator's turn, with the arrangement promise (000 （一）2.7: 5 working days).
    retake = [p for p in documents.checklist(session, b, rules_for(b.service)[1])
              if p.kind == "pathology_report"][0].pages[0]
    review.decide_page(session, b, public_id=retake.public_id, staff=d.reviewer, now=at(2026, 11, 23, 9, 0),
                       decision=documents.ACCEPTED, reason=None, note=None)
    review.approve(session, b, staff=d.reviewer, now=at(2026, 11, 23, 9, 30))
    row = row_of(session, b, at(2026, 11, 23, 10, 0))
    assert (row.stage, row.papers, row.due) == ("arrange", None, Due(date(2026, 11, 30), 5, False, 0))

    # The named expert could not be booked (000 Q&A): the customer chooses among the alternatives.
    bookings.record_failed_booking(session, b.id, staff=d.coordinator, now=at(2026, 11, 24, 10, 0),
                                   asked_for="王主任", alternatives="李主任")
    row = row_of(session, b, at(2026, 11, 24, 11, 0))
    assert (row.stage, row.due) == ("choosing", Due(date(2026, 11, 30), 4, False, 0))

    # One accepted: arranged for Friday 27th 09:00 — nobody's turn until then, then the coordinator closes it.
    d.schedule(b, at(2026, 11, 25, 10, 0), at(2026, 11, 27, 9, 0))
    row = row_of(session, b, at(2026, 11, 27, 8, 59))
    assert (row.stage, row.due, row.since) == ("visit", None, at(2026, 11, 25, 10, 0))
    row = row_of(session, b, at(2026, 11, 27, 9, 0))
    assert (row.stage, row.due, row.since) == ("close", None, at(2026, 11, 27, 9, 0))
    bookings.complete(session, b.id, staff=d.coordinator, now=at(2026, 11, 27, 12, 0))
    assert row_of(session, b, at(2026, 11, 27, 12, 1)) is None


def test_papers_the_application_does_not_need_do_not_hold_it_back(session, store):
    """zhongan_vip escort_outpatient asks for no paper (003 门诊陪诊: catalog documents []): it waits for review
    from the moment it was applied for."""
    d = Desk(session, store)
    b, _ = d.apply("周一", at(2026, 11, 16, 22, 0), product="zhongan_vip", service="escort_outpatient")
    row = row_of(session, b, at(2026, 11, 17, 9, 0))
    assert (row.stage, row.since, row.papers.complete) == ("review", at(2026, 11, 16, 22, 0), True)
    assert row.due == Due(date(2026, 11, 18), 1, False, 0)  # looked at 17th 09:00 (daily desk) → 18th


def test_review_promise_over_national_day_in_the_queue(session, store):
    """003 line 949 + the daily desk: papers complete Wed 30 Sep 2026 at 15:00 → the review is due Thu 8 Oct."""
    d = Desk(session, store)
    b, who = d.apply("国庆", at(2026, 9, 30, 14, 0), product="zhongan_vip")
    d.send(b, who, at(2026, 9, 30, 15, 0))
    assert row_of(session, b, at(2026, 9, 30, 16, 0)).due == Due(date(2026, 10, 8), 1, False, 0)
    assert row_of(session, b, at(2026, 10, 5, 10, 0)).due == Due(date(2026, 10, 8), 1, False, 0)
    assert row_of(session, b, at(2026, 10, 8, 20, 0)).due == Due(date(2026, 10, 8), 0, False, 0)
    assert row_of(session, b, at(2026, 10, 9, 10, 0)).due == Due(date(2026, 10, 8), 0, True, 1)
    assert row_of(session, b, at(2026, 10, 11, 10, 0)).due == Due(date(2026, 10, 8), 0, True, 2)  # 9th, Sat 10th


def test_review_promise_in_an_unpublished_year_follows_the_schedule_staff_enter(session, store):
    """A zhongan_vip policy in force in YEAR (no published schedule): the queue's promise comes from the fallback,
    then from the schedule staff enter."""
    d = Desk(session, store)
    # Effective 1 Jan YEAR: the diagnosis (5 months later) falls in the same policy year as the application, as 003's
    # PLUS services require (特别说明(1) line 745 "限客户首发重大疾病后一个保单年度内使用一次").
    account, policy = d.insured("明年", "zhongan_vip", effective=date(YEAR, 1, 1), years=2)
    b = bookings.apply(session, account=account, policy_id=policy.id, service_code="expert_outpatient",
                       request_key="next-year", now=at(YEAR, 9, 30, 14, 0), details={"city": "上海"})
    assert b.ok, b.reasons
    d.send(b.booking, account, at(YEAR, 9, 30, 15, 0))
    fallback_day = first_weekday_after(date(YEAR, 10, 8))  # 1–8 Oct always rest on the fallback; weekends rest
    assert row_of(session, b.booking, at(YEAR, 10, 2, 10, 0)).due == Due(fallback_day, 1, False, 0)
    workdays.set_overrides(whole_schedule({fallback_day: False}), {YEAR})  # the notice gives that day off too
    assert row_of(session, b.booking, at(YEAR, 10, 2, 10, 0)).due == Due(first_weekday_after(fallback_day), 1, False, 0)
