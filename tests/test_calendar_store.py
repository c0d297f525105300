"""The operators' override table drives the working-day calendar (and the 'not published' banner)."""
from datetime import date

from webapp.services import workdays
from webapp.services.calendar.workdays_store import load_overrides, mark_published, set_override

from .conftest import at


def test_overrides_from_the_table_reach_add_workdays(session):
    assert workdays.add_workdays(date(2027, 2, 19), 1) == date(2027, 2, 22)  # fallback: Saturday 20th is off
    set_override(session, date(2027, 2, 20), True, now=at(2026, 12, 1, 9, 0), name="春节调休上班")
    assert workdays.add_workdays(date(2027, 2, 19), 1) == date(2027, 2, 20)
    assert workdays.unpublished_years(date(2026, 12, 1)) == [2027]
    mark_published(session, 2027, now=at(2026, 12, 1, 9, 0))
    assert workdays.unpublished_years(date(2026, 12, 1)) == []
    workdays.set_overrides({})
    load_overrides(session)  # another process reloading sees the same
    assert workdays.is_workday(date(2027, 2, 20)) and workdays.is_published(2027)


def test_cli_sets_and_reports(app):
    runner = app.test_cli_runner()
    assert "2027" in runner.invoke(args=["calendar-status"]).output
    result = runner.invoke(args=["calendar-set", "2027-10-09", "workday", "--name", "国庆节调休上班"])
    assert result.exit_code == 0 and workdays.is_workday(date(2027, 10, 9))
    assert runner.invoke(args=["calendar-set", "2027-13-01", "rest"]).exit_code != 0
    runner.invoke(args=["calendar-publish", "2027"])
    assert "every year" in runner.invoke(args=["calendar-status"]).output


def test_catalog_check_cli(app):
    result = app.test_cli_runner().invoke(args=["catalog-check"])
    assert result.exit_code == 0 and "zhongan_vip" in result.output


def test_demo_cli_builds_in_demo_mode_and_is_refused_in_production(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0 and "13800000001" in result.output
    app.config["DEMO_MODE"] = False
    refused = runner.invoke(args=["demo"])
    assert refused.exit_code != 0 and "only built in development or demo mode" in refused.output
