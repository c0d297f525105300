"""The staff console's weekly report to each insurer (issue 6, part 7; seed 004 服务流程 line 15: "英仕每周服务进度
报告 至史带"): on screen with a chart, and as CSV and XLSX downloads. The figures are in services/desk/insurer_report.py.

`?week=` is any day of the week wanted (its Monday is used; by default the last complete week), `?product=` one
product code (by default all). A bad or unfinished week, or an unknown product, is said and replaced by the default.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, flash, render_template, request
from flask_babel import get_locale
from flask_login import current_user

from ...extensions import db
from ...i18n import N_
from ...i18n import gettext as translate  # for msgids held in variables (not extracted)
from ...services import audit
from ...services.clock import china_date
from ...services.desk import case_records, insurer_report
from ...services.products.catalog import default_catalog
from ..common import client_ip, now
from . import bp, staff_required

READERS = ("admin", "coordinator")
LABELS = {
    "week": N_("Week"), "insurer": N_("Insurer"), "product": N_("Product"), "service": N_("Service"),
    "total": N_("Total"), "received": N_("Received"), "arranged": N_("Arranged"),
    "arranged_in_time": N_("Arranged within the promise"), "arranged_late": N_("Arranged late"),
    "overdue": N_("Overdue at week end"), "counted": N_("Uses counted"), "reversed": N_("Given back on appeal"),
    "net_counted": N_("Net uses counted"), "open_at_end": N_("Open at week end"),
}
PROBLEMS = {
    "week.bad": N_("Please give the week as a date, for example 2026-11-16. Showing the last complete week."),
    "week.unfinished": N_("That week is not over yet. Showing the last complete week."),
    "product.unknown": N_("There is no such product. Showing all products."),
}
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def labels() -> dict:
    return {key: translate(msgid) for key, msgid in LABELS.items()}


def locale() -> str:
    return str(get_locale())


def chosen(*, speak: bool) -> tuple[date, date, str | None]:
    """(the week's Monday, the latest Monday allowed, the product code or None) from the query string; anything
    that cannot be shown falls back to the default, said in a flash when `speak` (a page, not a download)."""
    latest = insurer_report.last_complete_week(china_date(now()))[0]
    week, product = latest, request.args.get("product") or None
    problems = []
    raw = request.args.get("week")
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            problems.append("week.bad")
        else:
            if day < insurer_report.EARLIEST_WEEK:
                problems.append("week.bad")
            elif day >= latest + timedelta(days=7):
                problems.append("week.unfinished")
            else:
                week = insurer_report.week_of(day)[0]
    if product is not None and product not in {p.code for p in default_catalog().products}:
        problems.append("product.unknown")
        product = None
    if speak:
        for problem in problems:
            flash(translate(PROBLEMS[problem]), "error")
    return week, latest, product


@bp.get("/report")
@staff_required(*READERS)
def report():
    week, latest, product = chosen(speak=True)
    found = insurer_report.weekly_report(db.session, week_start=week, product_code=product)
    words, lang = labels(), locale()
    charts = {p.code: insurer_report.chart_svg(p.rows, words, p.name(lang), locale=lang, ident=f"chart-{p.code}")
              for p in found.products}
    previous = week - timedelta(days=7)
    cases = case_records.closed_in_week(db.session, week_start=week, product_code=product)
    return render_template(
        "staff/report.html", report=found, cases=cases, service_names={
            (p.code, s.code): s.name.get(lang) for p in default_catalog().products for s in p.services},
        product=product, products=default_catalog().products, words=words,
        charts=charts, columns=insurer_report.COLUMNS, last_allowed_day=latest + timedelta(days=6),
        previous=previous if previous >= insurer_report.EARLIEST_WEEK else None,
        next=week + timedelta(days=7) if week < latest else None)


def download(kind: str) -> Response:
    week, _latest, product = chosen(speak=False)
    found = insurer_report.weekly_report(db.session, week_start=week, product_code=product)
    write = insurer_report.to_csv if kind == "csv" else insurer_report.to_xlsx
    body = write(found, labels(), locale())
    name = f"lvtong-report-{week.isoformat()}-{product or 'all'}.{kind}"
    audit.record_view(db.session, "report.download", now=now(), actor_id=current_user.id, ip=client_ip(),
                      target=f"report:{week.isoformat()}",
                      detail={"week": week.isoformat(), "product": product, "format": kind})
    return Response(body, headers={"Content-Type": MIMETYPES[kind],
                                   "Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/report.csv")
@staff_required(*READERS)
def report_csv():
    return download("csv")


@bp.get("/report.xlsx")
@staff_required(*READERS)
def report_xlsx():
    return download("xlsx")


@bp.get("/report-cases.csv")
@staff_required(*READERS)
def report_cases_csv():
    """The second-opinion cases closed in the week, one line each (services/desk/case_records.py)."""
    week, _latest, product = chosen(speak=False)
    body = case_records.to_csv(case_records.closed_in_week(db.session, week_start=week, product_code=product))
    name = f"lvtong-opinion-cases-{week.isoformat()}-{product or 'all'}.csv"
    audit.record_view(db.session, "report.download", now=now(), actor_id=current_user.id, ip=client_ip(),
                      target=f"report:{week.isoformat()}",
                      detail={"week": week.isoformat(), "product": product, "format": "cases.csv"})
    return Response(body, headers={"Content-Type": MIMETYPES["csv"],
                                   "Content-Disposition": f'attachment; filename="{name}"'})
