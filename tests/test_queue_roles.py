"""A queue per role (issue 18): each staff role opens the queue on the work it may do, the tabs carry their
counts, computed by the database in a fixed number of queries, and the laptop shows the chosen application beside
the list. Clocks are fixed: the service-layer desk is Wednesday 18 Nov 2026 10:00 (tests/test_staff_queue.py),
the web tests run on the demo world at tests/web_helpers.NOW.

Who acts on what (services/desk/review.py REVIEWERS, COORDINATORS): a reviewer decides pages and eligibility (003:
"收到完整材料后的一个工作日内审核"); a coordinator arranges within the promised working days (000 （一）2.7), follows
up a named expert who could not be booked (000 Q&A: the customer chooses among alternatives or declines), and
closes a passed appointment as completed, late or a no-show (000 （一）2.9(5)); an admin may do both.
"""
from __future__ import annotations

from collections import Counter
import pytest
from sqlalchemy import event

from webapp.services.demo import demo
from webapp.services.desk import staff_queue
from webapp.services.desk.staff_queue import Filters, default_tab, stage_counts, tab_counts, tab_for
from webapp.services.papers.storage import storage_from_config

from .conftest import at, build_demo
from .test_staff_access import client_for
from .test_staff_queue import QUEUE_NOW, Desk, desk, names, rows_of, store  # noqa: F401 (fixtures)


# The imported `desk` fixture is reached through request: naming it as a parameter would shadow the import (ruff F811).
@pytest.fixture()
def queue_desk(request) -> Desk:
    return request.getfixturevalue("desk")
from .web_helpers import NOW, attr_values, fresh, set_clock

REVIEWER, COORDINATOR, ADMIN = demo.REVIEWER, demo.COORDINATOR, demo.ADMIN
EVERY_STAGE = {"papers": 2, "review": 3, "arrange": 2, "choosing": 1, "visit": 1, "close": 1, "overdue": 2}


# --- the service ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, tab", [("reviewer", "review"), ("coordinator", "coordinate"), ("admin", "open"),
                                       (None, "open"), ("", "open"), ("cleaner", "open")])
def test_each_role_opens_on_its_own_work(role, tab):
    assert default_tab(role) == tab
    assert tab_for(None, role) == tab_for("", role) == tab_for("bogus", role) == tab_for("长" * 500, role) == tab
    assert tab_for("all", role) == "all" and tab_for("visit", role) == "visit"


def test_the_coordinators_tab_is_arranging_following_up_and_closing(queue_desk):
    rows, counts = rows_of(queue_desk.session, stage="coordinate")
    # 周五 overdue to arrange; 郑七's named expert failed (the customer chooses, due 20th); 吴六 due 23rd; 冯九's
    # appointment passed on the 17th: to close (completed, late or no-show).
    assert [(names([r])[0], r.stage) for r in rows] == [
        ("周五", "arrange"), ("郑七", "choosing"), ("吴六", "arrange"), ("冯九", "close")]
    assert counts == EVERY_STAGE


def test_the_reviewers_tab_is_only_complete_papers_to_decide(queue_desk):
    rows, _ = rows_of(queue_desk.session, stage="review")
    assert names(rows) == ["钱二", "孙三", "陈十"]
    assert all(r.papers.complete and r.papers.to_decide for r in rows if r.booking.service.code == "expert_outpatient")


def test_tab_counts_add_the_stages_of_each_tab(queue_desk):
    _, counts = rows_of(queue_desk.session)
    assert tab_counts(counts) == {**EVERY_STAGE, "open": 6, "coordinate": 4, "all": 10}


@pytest.mark.parametrize("now", [QUEUE_NOW, at(2026, 11, 16, 11, 0), at(2026, 11, 25, 10, 0), at(2026, 12, 10, 10, 0)])
def test_the_databases_counts_agree_with_each_row(queue_desk, now):
    """The SQL counts and the stage of each row computed one by one agree, as the clock moves (王八's admission
    on the 25th moves it to be closed; promises fall overdue)."""
    rows, counts = rows_of(queue_desk.session, now=now, stage="all")
    by_stage = Counter(r.stage for r in rows)
    assert counts == {**{s: by_stage[s] for s in staff_queue.STAGES},
                      "overdue": sum(1 for r in rows if r.due and r.due.overdue)}


def test_the_counts_take_a_fixed_number_of_queries(queue_desk):
    session = queue_desk.session
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    def queries() -> int:
        statements.clear()
        session.expire_all()
        event.listen(session.get_bind(), "before_cursor_execute", seen)
        try:
            stage_counts(session, Filters(), QUEUE_NOW)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", seen)
        return len(statements)

    before = queries()
    for k in range(6):  # six more applications, half of them with every paper sent
        b, who = queue_desk.apply(f"新{k}", at(2026, 11, 17, 10, 0))
        if k % 2:
            queue_desk.send(b, who, at(2026, 11, 17, 11, 0), seed=k)
    after = queries()
    assert after == before <= 5, statements
    assert stage_counts(session, Filters(), QUEUE_NOW)["review"] == EVERY_STAGE["review"] + 3


def test_counts_follow_the_filters_but_not_the_tab(queue_desk):
    for tab in ("review", "coordinate", "bogus"):
        _, counts = rows_of(queue_desk.session, stage=tab, city="上海")
        assert counts == {"papers": 2, "review": 2, "arrange": 1, "choosing": 1, "visit": 1, "close": 0, "overdue": 0}


# --- the web ----------------------------------------------------------------------------------------------------

@pytest.fixture()
def papered(app, session):
    build_demo(session, NOW, storage_from_config(app.config))
    set_clock(app, NOW)
    return session


def tab_of(html: str) -> str:
    return attr_values(html, "queue-tabs", "data-tab")[0]


def count_of(html: str, tab: str) -> int:
    return int(attr_values(html, f"stage-{tab}", "data-count")[0])


def test_each_role_lands_on_its_own_tab_with_its_counts(app, papered):
    fresh(papered)
    liu = next(b for b in staff_queue.open_bookings(papered, Filters()) if b.policy.insured.name == "刘秀兰")
    reviewer = client_for(app, REVIEWER).get("/staff/").get_data(as_text=True)
    assert tab_of(reviewer) == "review" and 'data-testid="stage-review" data-count' in reviewer
    assert set(attr_values(reviewer, "queue-row", "data-stage")) == {"review"}
    assert liu.reference in attr_values(reviewer, "queue-row", "data-reference")
    assert count_of(reviewer, "review") == len(attr_values(reviewer, "queue-row", "data-reference"))

    coordinator = client_for(app, COORDINATOR).get("/staff/").get_data(as_text=True)
    stages = attr_values(coordinator, "queue-row", "data-stage")
    assert tab_of(coordinator) == "coordinate" and stages and set(stages) <= {"arrange", "choosing", "close"}
    assert liu.reference not in attr_values(coordinator, "queue-row", "data-reference")
    assert count_of(coordinator, "coordinate") == len(stages) == sum(
        count_of(coordinator, s) for s in ("arrange", "choosing", "close"))
    assert attr_values(coordinator, "stage-coordinate", "data-own") == ["yes"]

    admin = client_for(app, ADMIN).get("/staff/").get_data(as_text=True)
    assert tab_of(admin) == "open" and set(attr_values(admin, "queue-row", "data-stage")) <= {"review", "arrange", "close"}
    assert count_of(admin, "open") == count_of(admin, "review") + count_of(admin, "arrange") + count_of(admin, "close")
    # The same counts whoever reads them, and whatever the tab.
    assert all(count_of(html, t) == count_of(admin, t) for html in (reviewer, coordinator) for t in ("review", "all"))


@pytest.mark.parametrize("query", ["tab=bogus", "tab=" + "长" * 500, "tab=%00", "stage=nope", "tab=&stage="])
def test_an_unknown_tab_answers_the_roles_own_with_no_error(app, papered, query):
    response = client_for(app, COORDINATOR).get(f"/staff/?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and tab_of(html) == "coordinate"
    assert 'data-testid="flash"' not in html


def test_a_tab_is_a_link_kept_in_the_url_and_in_the_filters(app, papered):
    client = client_for(app, COORDINATOR)
    html = client.get("/staff/?tab=review").get_data(as_text=True)
    assert tab_of(html) == "review" and set(attr_values(html, "queue-row", "data-stage")) == {"review"}
    assert 'href="/staff/?tab=coordinate"' in html and '<input type="hidden" name="tab" value="review">' in html
    assert tab_of(client.get("/staff/?stage=all").get_data(as_text=True)) == "all"  # older links still answer


def test_the_preview_shows_the_chosen_application_and_its_pages(app, papered):
    client = client_for(app, REVIEWER)
    html = client.get("/staff/").get_data(as_text=True)
    first = attr_values(html, "queue-row", "data-reference")[0]
    assert attr_values(html, "queue-preview", "data-reference") == [first]  # the most urgent, with its pages
    assert attr_values(html, "queue-thumb", "data-page")
    coordinator = client_for(app, COORDINATOR)
    html = coordinator.get("/staff/").get_data(as_text=True)
    refs = attr_values(html, "queue-row", "data-reference")
    assert attr_values(html, "queue-preview", "data-reference") == [refs[0]]
    chosen = coordinator.get(f"/staff/?tab=coordinate&show={refs[-1].lower()}").get_data(as_text=True)
    assert attr_values(chosen, "queue-preview", "data-reference") == [refs[-1]]
    # A reference not in the list shows the most urgent one instead.
    other = coordinator.get("/staff/?show=LTNOTHERE").get_data(as_text=True)
    assert attr_values(other, "queue-preview", "data-reference") == [refs[0]]
