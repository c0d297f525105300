"""The staff console's working-day calendar (issue 6, part 6): parsing a pasted State Council schedule, importing
it all or nothing, the year view (package, staff and fallback years), the banner while the coming year is missing,
and the pages with CSRF on: any staff role reads, only an admin writes, customers get 403, bad input changes
nothing and never gives a 500.

Deadlines count statutory working days (seed 003: "以上工作日均以国家公布的法定工作日为准"). The package's 2026
data (checked, not guessed): 国庆节 and 中秋节 2026-09-25..27 and 2026-10-01..07 off, Sunday 2026-09-20 and
Saturday 2026-10-10 working.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import chinese_calendar
import pytest
from sqlalchemy import func, select

from webapp.models import AuditEvent, HolidayOverride, PublishedYear
from webapp.services import audit, workdays
from webapp.services.calendar import holiday_schedule as schedule
from webapp.services.calendar.holiday_schedule import Entry, Problem
from webapp.services.demo import demo

from .conftest import at, build_demo
from .web_helpers import attr_values, block, csrf_from, element, fresh, set_clock, sign_in, text_of, use_english

# The first year the package does not know runs on the fallback; the clock is November of the year before,
# when the State Council publishes it (2027 and 2026-11-23 with chinesecalendar 1.11).
YEAR = max(chinese_calendar.constants.holidays).year + 1
NOW = at(YEAR - 1, 11, 23, 10, 0)
ADMIN, REVIEWER, COORDINATOR, CUSTOMER = demo.ADMIN, demo.REVIEWER, demo.COORDINATOR, "13800000001"


@pytest.fixture(autouse=True)
def calendar_reset():
    """The in-process calendar is global: leave it as it was found."""
    yield
    workdays.set_overrides({}, set())


# ------------------------------------------------------------------------------------------------ parsing

def test_parse_reads_csv_ranges_every_type_word_and_skips_comments_blanks_and_the_header():
    text = f"""\ufeffdate,type,name
# 国务院办公厅关于{YEAR}年部分节假日安排的通知

{YEAR}-02-06,rest,春节
{YEAR}-02-07 , 休 , 春节
{YEAR}-02-08，放假，"春节"
{YEAR}-02-09 off
{YEAR}-02-14,workday,春节调休上班
{YEAR}-02-20 班
{YEAR}-02-21 上班 春节调休上班
{YEAR}-02-27 work
{YEAR}-04-03~{YEAR}-04-05 rest 清明节
{YEAR}-05-01 至 {YEAR}-05-05 休 劳动节
{YEAR}-06-07–{YEAR}-06-08 rest 端午节
{YEAR}-10-01-{YEAR}-10-02 rest 国庆节
{YEAR}/10/3 rest 国庆节
{YEAR}年10月4日 rest 国庆节
{YEAR - 1}-12-31 rest 元旦
"""
    entries, problems = schedule.parse_schedule(text, YEAR)
    assert problems == []
    got = {e.day: (e.is_workday, e.name) for e in entries}
    d = lambda m, n: date(YEAR, m, n)  # noqa: E731
    assert got[d(2, 6)] == got[d(2, 7)] == got[d(2, 8)] == (False, "春节")
    assert got[d(2, 9)] == (False, None)
    assert got[d(2, 14)] == got[d(2, 21)] == (True, "春节调休上班")
    assert got[d(2, 20)] == got[d(2, 27)] == (True, None)
    assert [got[d(4, n)] for n in (3, 4, 5)] == [(False, "清明节")] * 3
    assert [got[d(5, n)][0] for n in range(1, 6)] == [False] * 5
    assert got[d(6, 7)] == got[d(6, 8)] == (False, "端午节")
    assert [got[d(10, n)] for n in range(1, 5)] == [(False, "国庆节")] * 4
    assert got[date(YEAR - 1, 12, 31)] == (False, "元旦")  # 元旦 may start in December (the 2023 notice)
    assert len(entries) == 23 and [e.day for e in entries] == sorted(got)


def test_the_same_day_twice_with_the_same_answer_is_one_entry():
    entries, problems = schedule.parse_schedule(f"{YEAR}-10-01~{YEAR}-10-07 rest 国庆节\n{YEAR}-10-03 rest", YEAR)
    assert problems == [] and len(entries) == 7 and all(e.name == "国庆节" for e in entries)


@pytest.mark.parametrize("line, key", [
    ("2027-13-01,rest", "calendar.bad_date"),
    ("2027-02-30 rest", "calendar.bad_date"),
    ("春节 2027-02-06 rest", "calendar.bad_date"),
    ("27-2-6,rest", "calendar.bad_date"),
    ("2027-02-06", "calendar.bad_type"),
    ("2027-02-06,sleep,春节", "calendar.bad_type"),
    ("2028-01-03,rest", "calendar.wrong_year"),
    ("2026-12-01,rest", "calendar.wrong_year"),
    ("2027-12-30~2028-01-02 rest 元旦", "calendar.wrong_year"),
    ("2027-02-13~2027-02-05 rest", "calendar.range_order"),
    ("2027-03-01~2027-04-30 rest", "calendar.too_long"),
    ("2027-02-06,rest," + "春" * 65, "calendar.long_name"),
])
def test_every_bad_line_is_a_problem_with_its_line_number_and_key(line, key):
    entries, problems = schedule.parse_schedule(f"# the notice\n\n2027-01-01,rest,元旦\n{line}\n", 2027)
    assert problems == [Problem(4, key, line[:80])]
    assert [e.day for e in entries] == [date(2027, 1, 1)]


def test_one_day_given_as_rest_and_as_workday_is_a_conflict_on_the_later_line():
    text = "2027-10-01~2027-10-08 rest 国庆节\n2027-10-09 workday\n2027-10-08 workday 国庆节调休上班"
    assert schedule.parse_schedule(text, 2027)[1] == [Problem(3, "calendar.conflict", "2027-10-08")]


def test_more_than_400_lines_is_too_long():
    start = date(2027, 1, 1)
    text = "\n".join(f"{start + timedelta(days=k % 365)},rest" for k in range(schedule.MAX_LINES + 5))
    problems = schedule.parse_schedule(text, 2027)[1]
    assert problems == [Problem(schedule.MAX_LINES + 1, "calendar.too_long", "2027-02-05,rest")]


def test_nothing_but_comments_gives_nothing():
    assert schedule.parse_schedule("# 2027\n\n   \n", 2027) == ([], [])


# ------------------------------------------------------------------------------------------------ the year view

def days_of(year: int, entered=None) -> dict[date, schedule.Day]:
    return {d.date: d for m in schedule.year_view(year, entered) for d in m.days}


def test_national_day_2026_as_the_package_has_it():
    days = days_of(2026)
    for n in range(1, 8):
        assert days[date(2026, 10, n)][1:] == (False, "holiday", "published", "国庆节")
    for adjusted in (date(2026, 9, 20), date(2026, 10, 10)):
        assert days[adjusted][1:] == (True, "adjusted_workday", "published", "国庆节")
    assert days[date(2026, 9, 25)].name == "中秋节" and days[date(2026, 9, 25)].kind == "holiday"
    assert days[date(2026, 10, 8)].kind == "workday" and days[date(2026, 10, 11)].kind == "weekend"
    assert days[date(2026, 2, 17)].name == "春节" and days[date(2026, 1, 1)].name == "元旦"
    assert all(d.is_workday == workdays.is_workday(day) for day, d in days.items())


def test_a_fallback_year_rests_the_fixed_holidays_and_knows_no_working_weekend():
    days = days_of(YEAR)
    assert len(days) in (365, 366) and {d.source for d in days.values()} == {"fallback"}
    assert days[date(YEAR, 1, 1)].name == "元旦" and not days[date(YEAR, 1, 1)].is_workday
    for n in range(1, 8):
        assert days[date(YEAR, 10, n)].kind == "holiday" and days[date(YEAR, 10, n)].name == "国庆节"
    assert days[date(YEAR, 5, 2)].name == "劳动节"
    assert {d.name for d in days.values() if d.kind == "holiday"} >= {"元旦", "春节", "清明节", "劳动节", "端午节",
                                                                      "中秋节", "国庆节"}
    assert not any(d.kind == "adjusted_workday" for d in days.values())
    assert all(d.is_workday == workdays.is_workday(day) for day, d in days.items())


def test_months_are_monday_first_weeks():
    months = schedule.year_view(2026)
    assert [m.month for m in months] == list(range(1, 13))
    march = months[2]  # 1 March 2026 is a Sunday
    assert march.weeks[0][:6] == [None] * 6 and march.weeks[0][6].date == date(2026, 3, 1)
    assert all(len(week) == 7 for m in months for week in m.weeks)
    assert [d for week in march.weeks for d in week if d] == march.days


def test_staff_entries_win_and_keep_the_holiday_apart_from_the_working_weekend(session):
    entries, _ = schedule.parse_schedule(f"{YEAR}-10-01~{YEAR}-10-08 rest 国庆节\n{YEAR}-10-09 workday", YEAR)
    schedule.import_schedule(session, entries, year=YEAR, now=NOW, entered_by_id=None, publish=False)
    days = days_of(YEAR, schedule.entered_days(session, YEAR))
    assert days[date(YEAR, 10, 8)][1:] == (False, "holiday", "override", "国庆节")
    saturday = date(YEAR, 10, 9)
    assert days[saturday].kind == ("adjusted_workday" if saturday.weekday() >= 5 else "workday")
    assert days[saturday].source == "override" and workdays.is_workday(saturday)
    assert days[date(YEAR, 10, 12)].source == "fallback"


# ------------------------------------------------------------------------------------------------ writing

def table(session) -> tuple:
    fresh(session)
    return (sorted((r.day, r.is_workday, r.name) for r in session.scalars(select(HolidayOverride))),
            sorted(session.scalars(select(PublishedYear.year))))


def test_import_writes_every_day_and_publishing_takes_the_year_off_the_fallback(session):
    entries, _ = schedule.parse_schedule(f"{YEAR}-02-05~{YEAR}-02-13 rest 春节\n{YEAR}-02-20 workday", YEAR)
    assert schedule.gaps(NOW.date()) == [YEAR]
    count = schedule.import_schedule(session, entries, year=YEAR, now=NOW, entered_by_id=None, publish=True)
    assert count == 10 and len(table(session)[0]) == 10 and table(session)[1] == [YEAR]
    assert workdays.is_published(YEAR) and schedule.gaps(NOW.date()) == []
    assert workdays.is_workday(date(YEAR, 2, 20)) and not workdays.is_workday(date(YEAR, 2, 8))
    assert schedule.year_status(session, YEAR).source == "staff"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.import"))
    assert event.detail == {"year": YEAR, "count": 10, "publish": True}


def test_import_is_all_or_nothing(session, monkeypatch):
    schedule.set_day(session, date(YEAR, 3, 1), True, name="旧", now=NOW, entered_by_id=None)
    before = table(session)
    entries = [Entry(date(YEAR, 3, 1), False, "新"), Entry(date(YEAR, 3, 2), False, None)]

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(audit, "record", broken)  # fails after every override is written, before the commit
    with pytest.raises(RuntimeError):
        schedule.import_schedule(session, entries, year=YEAR, now=NOW, entered_by_id=None, publish=True)
    assert table(session) == before and workdays.is_workday(date(YEAR, 3, 1)) and not workdays.is_published(YEAR)
    with pytest.raises(ValueError):  # a day outside the year's schedule is a caller's mistake
        schedule.import_schedule(session, [Entry(date(YEAR + 1, 1, 1), False, None)], year=YEAR, now=NOW,
                                 entered_by_id=None, publish=False)
    assert table(session) == before


def test_a_year_the_package_knows_takes_corrections_but_needs_no_publishing(session):
    assert not workdays.is_workday(date(YEAR - 1, 10, 7))  # 国庆节
    entries, _ = schedule.parse_schedule(f"{YEAR - 1}-10-07 workday 更正", YEAR - 1)
    assert schedule.import_schedule(session, entries, year=YEAR - 1, now=NOW, entered_by_id=None, publish=True) == 1
    assert table(session) == ([(date(YEAR - 1, 10, 7), True, "更正")], [])
    assert workdays.is_workday(date(YEAR - 1, 10, 7)) and schedule.year_status(session, YEAR - 1).source == "package"


def test_set_clear_and_publish_refusals(session):
    day = date(YEAR, 6, 1)
    with pytest.raises(schedule.Refused, match="calendar.long_name"):
        schedule.set_day(session, day, False, name="节" * 65, now=NOW, entered_by_id=None)
    with pytest.raises(schedule.Refused, match="calendar.not_entered"):
        schedule.clear_day(session, day, now=NOW, entered_by_id=None)
    with pytest.raises(schedule.Refused, match="calendar.nothing_entered"):
        schedule.publish_year(session, YEAR, now=NOW, entered_by_id=None)
    with pytest.raises(schedule.Refused, match="calendar.package_year"):
        schedule.publish_year(session, YEAR - 1, now=NOW, entered_by_id=None)
    assert table(session) == ([], [])
    schedule.set_day(session, day, False, name=" 端午\n节 ", now=NOW, entered_by_id=None)
    assert table(session)[0] == [(day, False, "端午 节")] and not workdays.is_workday(day)
    schedule.publish_year(session, YEAR, now=NOW, entered_by_id=None)
    with pytest.raises(schedule.Refused, match="calendar.already_published"):
        schedule.publish_year(session, YEAR, now=NOW, entered_by_id=None)
    schedule.clear_day(session, day, now=NOW, entered_by_id=None)
    assert workdays.is_workday(day) == (day.weekday() < 5 and day not in workdays.fallback_rest_days(YEAR))


# ------------------------------------------------------------------------------------------------ the pages

@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def client_for(app, mobile: str):
    client = app.test_client()
    sign_in(client, mobile)
    return client


def page(client, year: int | str | None = YEAR, status: int = 200) -> str:
    response = client.get("/staff/calendar" + (f"?year={year}" if year is not None else ""))
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def post(client, url: str, form: dict, token_from: str = "/staff/calendar"):
    token = csrf_from(client.get(token_from).get_data(as_text=True))
    return client.post(url, data={**form, "csrf_token": token})


def flashes(html: str, kind: str = "flash-error") -> list[str]:
    return [text_of(m) for m in re.findall(rf'data-testid="{kind}">(.*?)</p>', html, re.S)]


def audits(session, action: str) -> int:
    fresh(session)
    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


CALENDAR_POSTS = [
    ("/staff/calendar/day", {"date": f"{YEAR}-02-20", "status": "workday", "name": "春节调休上班"}),
    ("/staff/calendar/day", {"date": f"{YEAR}-02-20", "action": "clear"}),
    ("/staff/calendar/import", {"year": str(YEAR), "schedule": f"{YEAR}-02-20,workday", "publish": "1"}),
    (f"/staff/calendar/{YEAR}/publish", {}),
]


@pytest.mark.parametrize("mobile", [REVIEWER, COORDINATOR])
def test_other_staff_read_the_calendar_without_forms_and_get_403_on_every_change(app, world, mobile):
    client = client_for(app, mobile)
    html = page(client)
    assert attr_values(html, "calendar-year", "data-year") == [str(YEAR)]
    assert len(attr_values(html, "calendar-month", "data-month")) == 12
    assert 'data-testid="calendar-import-form"' not in html and 'data-testid="calendar-day-form"' not in html
    assert attr_values(html, "calendar-banner", "data-years") == [str(YEAR)]
    before = table(world)
    for url, form in CALENDAR_POSTS:
        assert post(client, url, form).status_code == 403, url
    assert table(world) == before and audits(world, "access.refused") == len(CALENDAR_POSTS)


def test_a_customer_gets_403_on_every_calendar_route(app, world):
    client = client_for(app, CUSTOMER)
    assert client.get(f"/staff/calendar?year={YEAR}").status_code == 403
    for url, form in CALENDAR_POSTS:
        token = csrf_from(client.get("/home").get_data(as_text=True))
        assert client.post(url, data={**form, "csrf_token": token}).status_code == 403, url
    assert table(world) == ([], [])
    assert 'data-testid="calendar-banner"' not in client.get("/home").get_data(as_text=True)


def test_the_admin_sees_a_year_day_by_day_with_words_not_only_colours(app, world):
    client = client_for(app, ADMIN)
    html = page(client, YEAR - 1)
    cells = re.findall(r'<td data-testid="calendar-day"[^>]*>', html)
    assert len(cells) in (365, 366)
    oct1 = element(html, f'data-date="{YEAR - 1}-10-01"')
    assert 'data-workday="0"' in oct1 and 'data-kind="holiday"' in oct1 and 'data-source="published"' in oct1
    assert "国庆节" in text_of(oct1)  # the words for screen readers, besides the colour and the mark
    assert attr_values(html, "calendar-source", "data-source") == ["package"]
    assert 'data-testid="calendar-import-form"' in html and 'data-testid="calendar-day-form"' in html
    fallback = page(client)
    assert attr_values(fallback, "calendar-source", "data-source") == ["fallback"]
    assert set(attr_values(fallback, "calendar-day", "data-source")) == {"fallback"}


def test_the_admin_sets_and_clears_a_day(app, world):
    client = client_for(app, ADMIN)
    saturday = next(date(YEAR, 2, 20) + timedelta(days=k) for k in range(7) if (date(YEAR, 2, 20) + timedelta(days=k)).weekday() == 5)
    response = post(client, "/staff/calendar/day", {"date": saturday.isoformat(), "status": "workday",
                                                    "name": "春节调休上班"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/calendar?year={YEAR}")
    assert workdays.is_workday(saturday) and audits(world, "calendar.set") == 1
    html = page(client)
    assert flashes(html, "flash") and attr_values(html, "calendar-override", "data-date") == [saturday.isoformat()]
    cell = element(html, f'data-date="{saturday.isoformat()}"')
    assert 'data-kind="adjusted_workday"' in cell and 'data-source="override"' in cell
    assert "春节调休上班" in text_of(block(html, "calendar-overrides"))
    assert post(client, "/staff/calendar/day", {"date": saturday.isoformat(), "action": "clear"}).status_code == 303
    assert not workdays.is_workday(saturday) and audits(world, "calendar.clear") == 1 and table(world) == ([], [])


@pytest.mark.parametrize("form, message", [
    ({"date": "2027-02-30", "status": "rest"}, "Please give the day as a date"),
    ({"date": "", "status": "rest"}, "Please give the day as a date"),
    ({"date": "2035-01-01", "status": "rest"}, "Only the years"),
    ({"date": f"{YEAR}-03-01", "status": "maybe"}, "Please choose working day or day off"),
    ({"date": f"{YEAR}-03-01", "status": "rest", "name": "节" * 65}, "at most 64 characters"),
    ({"date": f"{YEAR}-03-01", "action": "clear"}, "nothing to clear"),
])
def test_a_bad_day_form_gets_a_message_and_changes_nothing(app, world, form, message):
    client = client_for(app, ADMIN)
    use_english(client)
    response = post(client, "/staff/calendar/day", form)
    assert response.status_code == 303
    errors = flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert len(errors) == 1 and message in errors[0] and "Nothing was changed" in errors[0]
    assert table(world) == ([], []) and audits(world, "calendar.set") == 0


def test_an_unknown_year_shows_this_year_with_a_message(app, world):
    client = client_for(app, ADMIN)
    use_english(client)
    for wanted in ("1999", "abc", "9" * 5000, ""):
        html = page(client, wanted)
        assert attr_values(html, "calendar-year", "data-year") == [str(NOW.year)]
        assert "The calendar shows" in " ".join(flashes(html))
    response = post(client, f"/staff/calendar/{'9' * 30}/publish", {})
    assert response.status_code in (303, 404) and table(world) == ([], [])


def test_an_import_with_a_bad_line_lists_every_problem_keeps_the_text_and_writes_nothing(app, world):
    client = client_for(app, ADMIN)
    use_english(client)
    text = f"{YEAR}-02-05~{YEAR}-02-13 rest 春节\n{YEAR}-02-30 rest\n<b>{YEAR}-02-20 sleep"
    response = post(client, "/staff/calendar/import", {"year": str(YEAR), "schedule": text, "publish": "1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    problems = [text_of(li) for li in re.findall(r"<li>(.*?)</li>", block(html, "calendar-problems"), re.S)]
    assert len(problems) == 2 and problems[0].startswith("Line 2:") and problems[1].startswith("Line 3:")
    assert "&lt;b&gt;" in block(html, "calendar-import-form") and "<b>" not in block(html, "calendar-import-form")
    assert f"{YEAR}-02-05~{YEAR}-02-13 rest 春节" in block(html, "calendar-import-form")
    assert table(world) == ([], []) and audits(world, "calendar.import") == 0 and not workdays.is_published(YEAR)
    for form in ({"year": str(YEAR), "schedule": "# nothing\n"}, {"year": "2035", "schedule": f"{YEAR}-02-20,work"},
                 {"year": str(YEAR), "schedule": "x" * 20_001}):
        response = post(client, "/staff/calendar/import", form)
        assert response.status_code == 422 and 'data-testid="calendar-problems"' in response.get_data(as_text=True)
    assert table(world) == ([], [])


def test_importing_and_publishing_next_year_removes_the_banner(app, world):
    client = client_for(app, ADMIN)
    html = page(client)
    assert attr_values(html, "calendar-banner", "data-years") == [str(YEAR)]
    assert attr_values(html, "calendar-banner-link", "data-year") == [str(YEAR)]
    text = f"date,type,name\n{YEAR}-02-05~{YEAR}-02-13,rest,春节\n{YEAR}-10-01~{YEAR}-10-07,rest,国庆节"
    response = post(client, "/staff/calendar/import", {"year": str(YEAR), "schedule": text, "publish": "1"})
    assert response.status_code == 303
    assert workdays.is_published(YEAR) and len(table(world)[0]) == 16
    html = page(client)
    assert 'data-testid="calendar-banner"' not in html and len(flashes(html, "flash")) == 2
    assert attr_values(html, "calendar-source", "data-source") == ["staff"]


def test_publish_needs_a_day_entered_and_a_package_year_needs_nothing(app, world):
    client = client_for(app, ADMIN)
    use_english(client)
    post(client, f"/staff/calendar/{YEAR}/publish", {})
    assert "Not a single day" in " ".join(flashes(page(client))) and not workdays.is_published(YEAR)
    post(client, f"/staff/calendar/{YEAR - 1}/publish", {})
    assert "already built in" in " ".join(flashes(page(client, YEAR - 1), "flash"))
    post(client, "/staff/calendar/import", {"year": str(YEAR), "schedule": f"{YEAR}-02-05~{YEAR}-02-13 rest 春节"})
    assert not workdays.is_published(YEAR)
    assert 'data-testid="calendar-publish-form"' in page(client)
    assert post(client, f"/staff/calendar/{YEAR}/publish", {}).status_code == 303
    assert workdays.is_published(YEAR) and table(world)[1] == [YEAR] and audits(world, "calendar.publish") == 1


def test_a_reviewer_is_offered_to_see_the_missing_year_and_an_admin_to_enter_it(app, world):
    reviewer = client_for(app, REVIEWER)
    use_english(reviewer)
    banner = text_of(block(page(reviewer, YEAR - 1), "calendar-banner"))
    assert f"for {YEAR} has not been entered yet" in banner and f"See the {YEAR} calendar" in banner
    admin = client_for(app, ADMIN)
    use_english(admin)
    assert f"Enter the {YEAR} schedule" in text_of(block(page(admin, YEAR - 1), "calendar-banner"))
