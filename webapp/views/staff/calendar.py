"""The staff console's working-day calendar (issue 6, part 6): any staff role sees a year day by day and where its
answers come from; an administrator corrects one day, pastes the State Council's schedule when it is published
(all lines or none), and says a year is entered in full. Every console page warns while this year or the next
still runs on the fallback. The rules are in services/calendar/holiday_schedule.py and services/workdays.py.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user
from sqlalchemy import select

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate  # for msgids held in variables (not extracted)
from ...models import Account
from ...services.accounts.identity import mask_mobile
from ...services.calendar import holiday_schedule as schedule
from ...services.clock import china_date
from ..common import client_ip, now
from ..refusal_text import STAFF, attempt, say
from . import bp, staff_required

MAX_SCHEDULE_CHARS = 20_000

KIND_WORDS = {
    schedule.WORKDAY: N_("Working day"),
    schedule.WEEKEND: N_("Weekend"),
    schedule.HOLIDAY: N_("Public holiday"),
    schedule.ADJUSTED_WORKDAY: N_("Working weekend (调休)"),
}
# A pasted schedule's problems (holiday_schedule.parse_schedule keys), each about one line.
PROBLEMS = {
    "calendar.bad_date": N_("Line %(line)s: “%(text)s” does not start with a date we can read. Write dates like "
                            "2027-02-06, or a range like 2027-02-05~2027-02-13."),
    "calendar.bad_type": N_("Line %(line)s: “%(text)s” does not say whether the day is off or a working day "
                            "(write rest or workday; 休 or 班 also work)."),
    "calendar.wrong_year": N_("Line %(line)s: “%(text)s” is not in %(year)s."),
    "calendar.range_order": N_("Line %(line)s: the range in “%(text)s” ends before it starts."),
    "calendar.too_long": N_("Line %(line)s: too long. A range may cover at most %(days)s days, and a schedule at "
                            "most %(lines)s lines."),
    "calendar.conflict": N_("Line %(line)s: %(text)s is given both as a day off and as a working day."),
    "calendar.long_name": N_("Line %(line)s: the name in “%(text)s” is longer than %(n)s characters."),
}
PUBLISHED_WORDS = N_("%(year)s is marked as entered in full: its deadlines no longer use the fallback rules.")


def as_year(text: str | None) -> int | None:
    """A year typed in a form or query ("2027"), else None (never a 5,000-digit int)."""
    text = (text or "").strip()
    return int(text) if len(text) == 4 and text.isascii() and text.isdigit() else None


def window(today: date) -> range:
    """The years the console shows and changes: last year through the year after next."""
    return range(today.year - 1, today.year + 3)


def problem_text(problem: schedule.Problem, year: int) -> str:
    return translate(PROBLEMS[problem.key], line=problem.line, text=problem.text, year=year,
                     days=schedule.MAX_RANGE_DAYS, lines=schedule.MAX_LINES, n=schedule.MAX_NAME)


def who_entered(rows) -> dict[int, str]:
    """The staff names behind overrides and published years (display name, else the masked number)."""
    ids = {row.entered_by_id for row in rows if row.entered_by_id}
    found = db.session.execute(select(Account.id, Account.display_name, Account.mobile).where(Account.id.in_(ids)))
    return {row.id: row.display_name or mask_mobile(row.mobile) for row in found}


def describe(day: schedule.Day) -> str:
    """A day in words, for its title and for screen readers (colour is never the only cue)."""
    parts = [translate(KIND_WORDS[day.kind])]
    if day.name and day.kind != schedule.WORKDAY:
        parts.append(day.name)
    if day.source == schedule.OVERRIDE:
        parts.append(translate(N_("entered by staff")))
    return " · ".join(parts)


def month_name(year: int, month: int) -> str:
    return format_date(date(year, month, 1), "LLLL")


def weekdays() -> list[tuple[str, str]]:
    """Monday to Sunday, each as a one-letter heading and its full name."""
    monday = date(2024, 1, 1)
    return [(format_date(monday + timedelta(days=k), "EEEEE"), format_date(monday + timedelta(days=k), "EEEE"))
            for k in range(7)]


def back(year: int | None = None):
    return redirect(url_for("staff.calendar", year=year), code=303)


def render_year(year: int, *, status: int = 200, schedule_text: str = "", publish: bool = False,
                problems: list[str] | None = None):
    today = china_date(now())
    entered = schedule.entered_days(db.session, year)
    year_status = schedule.year_status(db.session, year)
    return render_template(
        "staff/calendar.html", year=year, years=window(today), today=today, months=schedule.year_view(year, entered),
        entered=list(entered.values()), year_status=year_status,
        names=who_entered([*entered.values(), year_status]), describe=describe, month_name=month_name,
        weekdays=weekdays(),
        may_edit=current_user.staff_role == "admin", schedule_text=schedule_text, publish=publish,
        problems=problems or [], max_chars=MAX_SCHEDULE_CHARS, max_name=schedule.MAX_NAME,
    ), status


@bp.app_context_processor
def _calendar_context():
    def calendar_gaps() -> list[int]:
        """Years this console must warn about (for the banner; called only there)."""
        return schedule.gaps(china_date(now()))

    return {"calendar_gaps": calendar_gaps}


@bp.get("/calendar")
@staff_required()
def calendar():
    years = window(china_date(now()))
    wanted = request.args.get("year")
    year = as_year(wanted)
    if wanted is not None and year not in years:
        flash(translate(N_("The calendar shows %(first)s to %(last)s only; here is %(year)s."),
                        first=years[0], last=years[-1], year=years[1]), "error")
    return render_year(year if year in years else years[1])


@bp.post("/calendar/day")
@staff_required("admin")
def calendar_day():
    years = window(china_date(now()))
    try:
        day = date.fromisoformat(request.form.get("date", "").strip())
    except ValueError:
        flash(say("form.date", reader=STAFF), "error")
        return back()
    if day.year not in years:
        flash(say("form.year", reader=STAFF, first=years[0], last=years[-1]), "error")
        return back()
    clear = request.form.get("action") == "clear"
    status = request.form.get("status")
    if not clear and status not in ("workday", "rest"):
        flash(say("form.status", reader=STAFF), "error")
        return back(day.year)
    if clear:
        attempt(schedule.clear_day, db.session, day, now=now(), entered_by_id=current_user.id, ip=client_ip(),
                done=translate(N_("%(date)s: staff's entry removed; the calendar's own answer applies again."),
                               date=day.isoformat()), reader=STAFF)
    else:
        attempt(schedule.set_day, db.session, day, status == "workday", name=request.form.get("name"), now=now(),
                entered_by_id=current_user.id, ip=client_ip(), reader=STAFF,
                done=translate(N_("%(date)s is now a working day.") if status == "workday" else N_("%(date)s is now a day off."),
                               date=day.isoformat()))
    return back(day.year)


@bp.post("/calendar/import")
@staff_required("admin")
def calendar_import():
    years = window(china_date(now()))
    text = request.form.get("schedule", "")
    publish = request.form.get("publish") == "1"
    year = as_year(request.form.get("year"))
    if year not in years:
        return render_year(years[1], status=422, schedule_text=text, publish=publish,
                           problems=[say("form.year", reader=STAFF, first=years[0], last=years[-1])])
    if len(text) > MAX_SCHEDULE_CHARS:
        problems = [say("form.too_long", reader=STAFF, n=MAX_SCHEDULE_CHARS)]
    else:
        entries, found = schedule.parse_schedule(text, year)
        problems = [problem_text(p, year) for p in found] or ([] if entries else [say("form.empty", reader=STAFF)])
    if problems:
        return render_year(year, status=422, schedule_text=text, publish=publish, problems=problems)
    count = schedule.import_schedule(db.session, entries, year=year, now=now(), entered_by_id=current_user.id,
                                     publish=publish, ip=client_ip())
    flash(translate(N_("%(n)s day(s) entered for %(year)s."), n=count, year=year), "info")
    if publish and year not in schedule.PACKAGE_YEARS:
        flash(translate(PUBLISHED_WORDS, year=year), "info")
    return back(year)


@bp.post("/calendar/<int:year>/publish")
@staff_required("admin")
def calendar_publish(year):
    years = window(china_date(now()))
    if year not in years:
        flash(say("form.year", reader=STAFF, first=years[0], last=years[-1]), "error")
        return back()
    try:
        schedule.publish_year(db.session, year, now=now(), entered_by_id=current_user.id, ip=client_ip())
    except schedule.Refused as refused:
        nothing_to_do = refused.key in ("calendar.package_year", "calendar.already_published")
        flash(say(refused, reader=STAFF), "info" if nothing_to_do else "error")
    else:
        flash(translate(PUBLISHED_WORDS, year=year), "info")
    return back(year)
