"""Several servers, safely (issue 16 item 4): a proxy's header seen while TRUSTED_PROXIES is 0, a local upload
folder that is not the shared store, the calendar's cache across servers."""
from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.models import DocumentPage
from webapp.services import workdays
from webapp.services.calendar import workdays_store
from webapp.services.papers import documents
from webapp.services.papers.storage import SHARED_MARKER, LocalStorage

from .conftest import at, build_demo
from .test_papers_consistency import _add
from .web_helpers import NOW

FORWARDED = {"X-Forwarded-For": "203.0.113.9"}


@pytest.fixture()
def production(app):
    app.config["ENV_MODE"] = "production"
    yield app
    app.extensions.pop("proxy_header_seen", None)


def test_a_proxy_header_without_trusted_proxies_is_logged_once_and_shown_in_healthz(production, caplog):
    client = production.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    with caplog.at_level(logging.ERROR, logger="lvtong.security"):
        client.get("/healthz", headers=FORWARDED)
        client.get("/", headers=FORWARDED)
    errors = [r for r in caplog.records if "TRUSTED_PROXIES=0" in r.getMessage()]
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR
    assert "X-Forwarded-For" in errors[0].getMessage()
    health = client.get("/healthz")  # the warning stays, even for a request that came without the header
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "warnings": ["X-Forwarded-For seen but TRUSTED_PROXIES=0: set TRUSTED_PROXIES"]}


def test_outside_production_a_proxy_header_is_not_a_warning(client, caplog):
    with caplog.at_level(logging.ERROR, logger="lvtong.security"):
        assert client.get("/healthz", headers=FORWARDED).get_json() == {"status": "ok"}
    assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]


def test_with_trusted_proxies_the_header_is_expected(database_url, tmp_path, caplog):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-only",
                      "UPLOAD_DIR": str(tmp_path), "TRUSTED_PROXIES": 1, "ENV_MODE": "production"})
    try:
        with caplog.at_level(logging.ERROR, logger="lvtong.security"):
            assert app.test_client().get("/healthz", headers=FORWARDED).get_json() == {"status": "ok"}
        assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    finally:
        app.extensions["db_engine"].dispose()


# -------------------------------------------------------------------------------------- a local upload folder per server

def _pages(session) -> set[int]:
    session.expire_all()
    ids = set(session.scalars(select(DocumentPage.id)))
    session.rollback()
    return ids


def test_the_sweeper_deletes_no_page_row_from_a_folder_not_marked_as_the_shared_store(session, tmp_path):
    """Issue 16: papers-sweep on a server with its own folder deleted 4 page rows whose files existed elsewhere."""
    build_demo(session, NOW)
    store = LocalStorage(tmp_path / "uploads")
    kept, lost = _add(session, store, seed=1), _add(session, store, seed=2)
    kept_id, lost_id = kept.id, lost.id
    store.delete(lost.storage_key)  # as seen from a server whose folder never had it
    store.put("0" * 32, b"left behind by a crash")
    before = _pages(session)
    later = NOW + timedelta(hours=2)
    report = documents.sweep(session, store, now=later, grace_seconds=0)
    assert (report.rows_without_file, report.rows_kept_unshared) == (0, 1)
    assert report.files_without_row == 1  # a file no row names is an orphan on any server: still removed
    assert _pages(session) == before
    assert not store.is_shared() and not store.exists("0" * 32)

    assert store.mark_shared() is store and store.is_shared()  # flask storage-init, on the folder every server mounts
    report = documents.sweep(session, store, now=later, grace_seconds=0)
    assert (report.rows_without_file, report.rows_kept_unshared) == (1, 0)
    assert _pages(session) == before - {lost_id} and kept_id in before


def test_papers_sweep_says_why_it_kept_pages_and_storage_init_marks_the_folder(app, session):
    build_demo(session, NOW)
    store = LocalStorage(app.config["UPLOAD_DIR"])
    lost = _add(session, store)
    store.delete(lost.storage_key)
    lost_id = lost.id
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=2)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["papers-sweep", "--grace-minutes", "0"])
    assert result.exit_code != 0
    assert "1 page(s) have no file in UPLOAD_DIR and were kept" in result.output and "storage-init" in result.output
    assert lost_id in _pages(session)
    result = runner.invoke(args=["storage-init"])
    assert result.exit_code == 0 and (store.root / SHARED_MARKER).is_file()
    result = runner.invoke(args=["papers-sweep", "--grace-minutes", "0"])
    assert result.exit_code == 0 and "1 page(s) whose file was missing" in result.output
    assert lost_id not in _pages(session)


# -------------------------------------------------------------------------------------- the calendar across servers

def test_a_calendar_change_on_another_server_is_seen_here_within_the_stated_seconds(session, session_factory, monkeypatch):
    """Issue 16: another server showed the old promise for up to 57 s; the README states the bound."""
    clock = [1000.0]
    monkeypatch.setattr(workdays_store.time, "monotonic", lambda: clock[0])
    saturday = date(2027, 2, 20)
    workdays_store.load_overrides(session)
    session.rollback()  # each request's session starts afresh
    assert not workdays.is_workday(saturday)
    other = session_factory()  # the other server writes the table; its own copy is not ours
    try:
        workdays_store.put_override(other, saturday, True, now=at(2026, 12, 1, 9, 0), name="春节调休上班")
        other.commit()
    finally:
        other.close()
    clock[0] += workdays_store.REFRESH_SECONDS - 0.5
    workdays_store.refresh_if_stale(session)
    assert not workdays.is_workday(saturday)  # still the copy read half a second short of the bound
    session.rollback()
    clock[0] += 0.5
    workdays_store.refresh_if_stale(session)
    assert workdays.is_workday(saturday)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"every\nother worker and server within {workdays_store.REFRESH_SECONDS} s" in readme
