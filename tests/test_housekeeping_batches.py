"""papers-purge and papers-sweep in bounded batches (issue 16: purge took 20.6 minutes in one transaction at 10k
pages, sweep used 857 MB at 100k): each batch is committed on its own, so a failure keeps what earlier batches did;
the sweeper compares store and rows one key prefix at a time. bench/purge_bench.py measures them at 100k."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.models import AuditEvent, Document, DocumentPage
from webapp.services.papers import documents
from webapp.services.papers.storage import LocalStorage

from .test_papers_consistency import SECOND_OPINION, _add, _close, agree
from .web_helpers import NOW, booking_of

from .conftest import build_demo


@pytest.fixture()
def world(session):
    build_demo(session, NOW)
    return session


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads").mark_shared()
    return request.getfixturevalue("s3_storage")


def fail_on_second(monkeypatch, action: str) -> None:
    """audit.record raises at the second row of `action`: the second batch fails inside its transaction."""
    real, seen = documents.audit.record, []

    def record(session, what, **kwargs):
        if what == action:
            seen.append(what)
            if len(seen) == 2:
                raise RuntimeError("the database went away in the second batch")
        return real(session, what, **kwargs)

    monkeypatch.setattr(documents.audit, "record", record)


def test_a_failed_purge_batch_keeps_the_batches_committed_before_it(world, store, monkeypatch):
    first = _add(world, store, seed=1)
    second = _add(world, store, seed=2, kind="medical_records")
    b = booking_of(world, *SECOND_OPINION)
    _close(world, b, days_ago=181)
    fail_on_second(monkeypatch, "document.purged")
    with pytest.raises(RuntimeError, match="second batch"):
        documents.purge_expired(world, store, now=NOW, retention=timedelta(days=180), batch=1)
    monkeypatch.undo()
    world.expire_all()
    statuses = {d.kind: d.status for d in world.scalars(select(Document).where(Document.booking_id == b.id))}
    assert statuses["diagnosis"] == "purged" and statuses["medical_records"] != "purged"
    assert [p.public_id for p in world.scalars(select(DocumentPage))] == [second.public_id]
    assert not store.exists(first.storage_key) and not store.exists(first.thumbnail_key)  # after its batch committed
    assert store.exists(second.storage_key)
    world.rollback()
    # the next run carries on where the failed one stopped
    assert documents.purge_expired(world, store, now=NOW, retention=timedelta(days=180), batch=1) == 1
    assert agree(world, store) == (set(), set())


def test_purge_in_batches_of_one_deletes_what_one_batch_does(world, store):
    _add(world, store, seed=1)
    _add(world, store, seed=2, kind="medical_records")
    _close(world, booking_of(world, *SECOND_OPINION), days_ago=181)
    assert documents.purge_expired(world, store, now=NOW, retention=timedelta(days=180), batch=1) == 2
    assert agree(world, store) == (set(), set())
    world.expire_all()
    assert world.scalar(select(DocumentPage)) is None
    purged = world.scalars(select(AuditEvent).where(AuditEvent.action == "document.purged")).all()
    assert sorted(e.detail["pages"] for e in purged) == [1, 1]


def test_a_failed_sweep_batch_keeps_the_lost_pages_forgotten_before_it(world, monkeypatch, tmp_path):
    store = LocalStorage(tmp_path / "uploads").mark_shared()
    pages = [_add(world, store, seed=seed) for seed in range(1, 4)]  # 2 lost of 3: under the misconfiguration bar (5)
    lost = [pages[0], pages[1]]
    for page in lost:
        store.delete(page.storage_key)
    lost_ids = {p.id for p in lost}
    fail_on_second(monkeypatch, "document.page_lost")
    with pytest.raises(RuntimeError, match="second batch"):
        documents.sweep(world, store, now=NOW + timedelta(hours=2), grace_seconds=0, batch=1)
    monkeypatch.undo()
    world.expire_all()
    left = set(world.scalars(select(DocumentPage.id)))
    assert len(lost_ids - left) == 1  # the first batch's page is forgotten, the second's kept for the next run
    world.rollback()
    report = documents.sweep(world, store, now=NOW + timedelta(hours=2), grace_seconds=0, batch=1)
    assert report.rows_without_file == 1
    assert agree(world, store) == (set(), set())


def test_the_sweeper_compares_one_key_prefix_at_a_time_and_misses_nothing(world, store, monkeypatch):
    """With parts of one page each (16 prefixes at 3 pages), orphans and lost rows are still all found."""
    monkeypatch.setattr(documents, "SWEEP_PREFIX_ROWS", 1)
    assert len(documents._prefixes(3)) == 16 and len(documents._prefixes(17)) == 256
    pages = [_add(world, store, seed=seed) for seed in range(1, 8)]
    store.delete(pages[0].storage_key)
    orphans = ["0" * 32, "f" * 32, "7" * 32 + ".t"]
    for key in orphans:
        store.put(key, b"left behind by a crash")
    report = documents.sweep(world, store, now=NOW + timedelta(hours=2), grace_seconds=0)
    assert (report.files_without_row, report.rows_without_file, report.rows_kept_unshared) == (3, 1, 0)
    assert agree(world, store) == (set(), set())
    assert not any(store.exists(key) for key in orphans)


def test_a_row_whose_key_is_not_one_of_ours_is_compared_too(world, store, monkeypatch):
    """The prefixes' ranges cover every string, so a row with a key the store can never hold counts as lost."""
    monkeypatch.setattr(documents, "SWEEP_PREFIX_ROWS", 1)
    pages = [_add(world, store, seed=seed) for seed in range(1, 7)]
    odd = world.get(DocumentPage, pages[0].id)
    store.delete(odd.storage_key)
    odd.storage_key, odd.thumbnail_key = "zz-not-a-key", None
    world.commit()
    report = documents.sweep(world, store, now=NOW + timedelta(hours=2), grace_seconds=0)
    assert report.rows_without_file == 1
    world.expire_all()
    assert world.get(DocumentPage, pages[0].id) is None


def test_the_stores_listing_is_streamed_by_prefix(store):
    keys = ["ab" + "0" * 30, "ab" + "1" * 30, "ab" + "1" * 30 + ".t", "ac" + "0" * 30, "0" * 32]
    for key in keys:
        store.put(key, b"x")
    assert sorted(store.keys(prefix="ab")) == sorted(keys[:3])
    assert sorted(store.keys(prefix="ab1")) == keys[1:3]
    assert sorted(store.keys(prefix="a")) == sorted(keys[:4])
    assert sorted(store.keys()) == sorted(keys)
    listed = list(store.listing(prefix="ac"))
    assert [k for k, _at in listed] == [keys[3]] and listed[0][1] > 0
    assert list(store.keys(prefix="ab", older_than=3600)) == []
