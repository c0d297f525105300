"""The staff queue and the weekly report at any size (issue 16 item 2): the same number of statements with 10 and
with 200 more open applications, whatever their stage, family-made ones with proxy papers on file included; and
the queue's pages (50 rows, overdue first) walk the whole list once, through plain links.

The extra applications are copies of the demo world's open ones (each stage, guardians' and agents', papers in
every state), bulk-inserted rather than applied for: only the rows matter here, and the test stays fast.
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, insert, select

from webapp.models import Booking, BookingTransition, Document, DocumentPage
from webapp.services.calendar import workdays_store
from webapp.services.desk import staff_queue
from webapp.services.booking.booking_states import OPEN
from webapp.services.desk.insurer_report import last_complete_week, weekly_report
from webapp.services.desk.staff_queue import Filters
from webapp.services.clock import china_date
from webapp.services.papers.storage import storage_from_config

from .conftest import build_demo
from .test_staff_access import client_for
from .web_helpers import NOW, attr_values, set_clock

ADMIN = "13800000007"
PAGES = ("/staff/?tab=all", "/staff/?tab=review", "/staff/?tab=coordinate", "/staff/?tab=all&overdue=1")


def copy_open_applications(session, copies: int, tag: str) -> None:
    """`copies` more open applications, each a copy of one of the open ones (round robin) with its steps, papers
    and pages, inserted in bulk (one INSERT … RETURNING per table)."""
    bookings = Booking.__table__
    sources = session.execute(select(bookings).where(bookings.c.state.in_([s.value for s in OPEN]))
                              .order_by(bookings.c.id)).mappings().all()
    assert sources
    chosen = [sources[k % len(sources)] for k in range(copies)]
    rows = [{**{c: v for c, v in src.items() if c != "id"}, "reference": f"{tag}{k:06d}",
             "request_key": f"copy-{tag}-{k}"} for k, src in enumerate(chosen)]
    new_ids = session.scalars(insert(bookings).returning(bookings.c.id, sort_by_parameter_order=True), rows).all()
    copy_of = dict(zip(new_ids, (src["id"] for src in chosen)))
    _copy_children(session, BookingTransition.__table__, "booking_id", copy_of)
    documents = Document.__table__
    docs = session.execute(select(documents).where(documents.c.booking_id.in_(set(copy_of.values())))).mappings().all()
    by_booking: dict[int, list] = {}
    for doc in docs:
        by_booking.setdefault(doc["booking_id"], []).append(doc)
    doc_rows, doc_sources = [], []
    for new, old in copy_of.items():
        for doc in by_booking.get(old, []):
            doc_rows.append({**{c: v for c, v in doc.items() if c != "id"}, "booking_id": new})
            doc_sources.append(doc["id"])
    if doc_rows:
        new_docs = session.scalars(insert(documents).returning(documents.c.id, sort_by_parameter_order=True),
                                   doc_rows).all()
        _copy_pages(session, dict(zip(new_docs, doc_sources)), tag)
    session.commit()


def _copy_children(session, table, key: str, copy_of: dict[int, int]) -> None:
    found = session.execute(select(table).where(table.c[key].in_(set(copy_of.values())))).mappings().all()
    by_parent: dict[int, list] = {}
    for row in found:
        by_parent.setdefault(row[key], []).append(row)
    rows = [{**{c: v for c, v in row.items() if c != "id"}, key: new}
            for new, old in copy_of.items() for row in by_parent.get(old, [])]
    if rows:
        session.execute(insert(table), rows)


def _copy_pages(session, copy_of: dict[int, int], tag: str) -> None:
    pages = DocumentPage.__table__
    found = session.execute(select(pages).where(pages.c.document_id.in_(set(copy_of.values())))
                            .order_by(pages.c.id)).mappings().all()
    by_doc: dict[int, list] = {}
    for page in found:
        by_doc.setdefault(page["document_id"], []).append(page)
    rows, n = [], 0
    for new, old in copy_of.items():
        for page in by_doc.get(old, []):
            n += 1
            rows.append({**{c: v for c, v in page.items() if c not in ("id", "replaces_id")}, "document_id": new,
                         "replaces_id": None, "public_id": f"{tag}-p{n}", "storage_key": f"{tag}/copy/{n}"})
    if rows:
        session.execute(insert(pages), rows)


@pytest.fixture()
def desk_world(app, session, monkeypatch):
    build_demo(session, NOW, storage_from_config(app.config))
    set_clock(app, NOW)
    monkeypatch.setattr(workdays_store, "REFRESH_SECONDS", 3600)  # no calendar reload in the middle of a count
    return session


def statements_of(app, client, path: str, warm: bool = True) -> int:
    engine = app.extensions["db_engine"]
    seen = []

    def count(*_args):
        seen.append(1)

    if warm:
        assert client.get(path).status_code == 200  # sessions, caches
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_queue_and_the_report_take_as_many_statements_with_200_open_applications_as_with_10(app, desk_world):
    session = desk_world
    client = client_for(app, ADMIN)
    counts = {}
    for more, tag in ((10, "LTA"), (190, "LTB")):
        copy_open_applications(session, more, tag)
        client.get(PAGES[0])  # warm: the sign-in's session, the calendar, the catalog
        counts[more] = {path: statements_of(app, client, path, warm=False) for path in (*PAGES, "/staff/report")}
    assert counts[10] == counts[190]
    # A later page: no more than the first (it may hold no family-made application, whose proxy papers take up to
    # three more statements).
    assert statements_of(app, client, "/staff/?tab=all&page=4", warm=False) <= counts[190]["/staff/?tab=all"]
    # Copies of every stage and of the family-made applications: the pages and tabs hold them.
    html = client.get("/staff/?tab=all").get_data(as_text=True)
    assert len(attr_values(html, "queue-row", "data-reference")) == staff_queue.PAGE_SIZE
    assert int(attr_values(html, "stage-all", "data-count")[0]) > 200


def test_the_report_takes_three_queries_and_the_same_figures_with_more_history(app, desk_world):
    session = desk_world
    week = last_complete_week(china_date(NOW))[0]
    engine = session.get_bind()
    seen = []

    def count(*_args):
        seen.append(1)

    before = weekly_report(session, week_start=week)
    session.commit()  # each count starts a transaction of its own, as a request does
    event.listen(engine, "before_cursor_execute", count)
    try:
        weekly_report(session, week_start=week)
        few = len(seen)
        copy_open_applications(session, 150, "LTC")
        seen.clear()
        after = weekly_report(session, week_start=week)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == few <= 4  # BEGIN on SQLite, the services, the bookings alive in the week, the uses
    # The copies are applications alive in that week: every figure but the uses moved by as many.
    assert sum(p.total.open_at_end for p in after.products) > sum(p.total.open_at_end for p in before.products)


def test_the_pages_walk_the_whole_list_once_in_order(app, desk_world):
    session = desk_world
    copy_open_applications(session, 120, "LTD")
    rows, _counts = staff_queue.queue(session, Filters(stage="all"), NOW)
    client = client_for(app, ADMIN)
    seen, path = [], "/staff/?tab=all"
    for _ in range(10):
        html = client.get(path).get_data(as_text=True)
        seen += attr_values(html, "queue-row", "data-reference")
        following = attr_values(html, "queue-next", "href")
        if not following:
            break
        path = following[0].replace("&amp;", "&")
    assert seen == [r.booking.reference for r in rows]
    assert len(seen) == len(rows) > 2 * staff_queue.PAGE_SIZE
    last = client.get(path).get_data(as_text=True)
    assert attr_values(last, "queue-prev", "href") and not attr_values(last, "queue-next", "href")
    assert attr_values(last, "queue-prev", "aria-label")[0] and attr_values(html, "queue-next", "aria-label") == []
    # A page past the end shows the last one; a bad number the first.
    assert attr_values(client.get("/staff/?tab=all&page=999").get_data(as_text=True), "queue", "data-page") == ["3"]
    assert attr_values(client.get("/staff/?tab=all&page=x").get_data(as_text=True), "queue", "data-page") == ["1"]


def test_the_overdue_notice_counts_the_tab_it_is_shown_on(app, desk_world):
    client = client_for(app, ADMIN)
    session = desk_world
    counts = staff_queue.stage_counts(session, Filters(), NOW)
    for tab in ("all", "review", "coordinate", "papers", "visit"):
        html = client.get(f"/staff/?tab={tab}").get_data(as_text=True)
        shown = int(attr_values(html, "queue", "data-overdue")[0])
        rows, _ = staff_queue.queue(session, Filters(stage=tab), NOW)
        assert shown == sum(1 for r in rows if r.due and r.due.overdue) <= counts["overdue"], tab
        assert ('data-testid="overdue-count"' in html) is (shown > 0)


def test_proxy_papers_on_file_in_bulk_are_those_of_each_application(desk_world):
    from webapp.services.papers import documents

    session = desk_world
    found = session.scalars(select(Booking).where(Booking.acting_as.in_(list(documents.PROXY_PAPERS)))).all()
    assert found, "the demo has applications made by a guardian and by an agent"
    rows = [staff_queue._Applicant(b.id, b.applicant_account_id, b.acting_as, b.policy.insured_id) for b in found]
    bulk = staff_queue.proxy_papers_on_file(session, rows)
    assert bulk == {b.id: filed for b in found if (filed := documents.on_file(session, b))}
