"""The photo store and the database always agree (SECURITY.md, Uploads, "No orphans"): a failure injected at
each storage step (write, fsync, rename, commit) and a process killed between storing and committing leave,
after the sweeper, no file without a row and no row without its file — on the local disk and on a real
S3-compatible server. Also: retention deletes pages of long-closed applications, and only those."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from webapp.models import AuditEvent, Booking, Document, DocumentPage
from webapp.services.papers import documents, photos, storage as storage_module
from webapp.services.booking.booking_states import State
from webapp.services.papers.storage import LocalStorage, StorageError

from .photo_corpus import document_photo
from .web_helpers import ADULT, NOW, booking_of

from .conftest import build_demo

SECOND_OPINION = ("P003-DEMO-0002", "second_opinion")


@pytest.fixture()
def world(session):
    build_demo(session, NOW)
    return session


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads").mark_shared()  # the one store (issue 16): the sweeper may delete rows
    return request.getfixturevalue("s3_storage")


@pytest.fixture()
def local(tmp_path):
    return LocalStorage(tmp_path / "uploads")


def _photo(seed: int) -> photos.Photo:
    return photos.process(document_photo(1200, 900, text_seed=seed))


def _add(session, store, seed=1, kind="diagnosis"):
    b = booking_of(session, *SECOND_OPINION)
    account = session.get(documents.Account, b.applicant_account_id)
    return documents.add_page(session, store, booking_id=b.id, kind=kind, photo=_photo(seed), account=account, now=NOW)


def agree(session, store) -> tuple[set[str], set[str]]:
    """(files without a row, rows without a file)."""
    session.expire_all()
    rows = set()
    for key, thumb in session.execute(select(DocumentPage.storage_key, DocumentPage.thumbnail_key)):
        rows.update({key, thumb})
    session.rollback()
    files = set(store.keys())
    return files - rows, rows - files


def test_a_stored_page_has_both_files_and_its_row(world, store):
    page = _add(world, store)
    assert agree(world, store) == (set(), set())
    assert store.get(page.storage_key)[:3] == b"\xff\xd8\xff"
    assert store.get(page.thumbnail_key)[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_a_failure_while_writing_the_file_stores_nothing(world, local, monkeypatch, step):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    target = {"write": "write", "fsync": "fsync", "replace": "replace"}[step]
    monkeypatch.setattr(storage_module.os, target, broken)
    with pytest.raises(StorageError):
        _add(world, local)
    monkeypatch.undo()
    assert agree(world, local) == (set(), set())
    assert documents.sweep(world, local, now=NOW, grace_seconds=0).files_without_row == 0
    assert [p for p in local_root(local).rglob("*") if p.is_file()] == []


def test_a_failed_commit_leaves_no_row_and_its_files_are_removed(world, store, monkeypatch):
    def failing_audit(*args, **kwargs):
        raise RuntimeError("the database went away at commit")

    monkeypatch.setattr(documents.audit, "record", failing_audit)
    with pytest.raises(RuntimeError):
        _add(world, store)
    monkeypatch.undo()
    assert agree(world, store) == (set(), set())


def test_a_failed_commit_whose_clean_up_also_fails_is_swept(world, store, monkeypatch):
    monkeypatch.setattr(documents.audit, "record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("commit failed")))
    monkeypatch.setattr(store, "delete", lambda key: (_ for _ in ()).throw(StorageError("store unreachable")))
    with pytest.raises(RuntimeError):
        _add(world, store)
    monkeypatch.undo()
    orphans, lost = agree(world, store)
    assert len(orphans) == 2 and lost == set()
    # Young files are left alone (an upload may be about to commit); old ones go.
    assert documents.sweep(world, store, now=NOW, grace_seconds=3600).files_without_row == 0
    report = documents.sweep(world, store, now=NOW, grace_seconds=0)
    assert report.files_without_row == 2
    assert agree(world, store) == (set(), set())


KILLED_UPLOAD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from webapp.db import make_engine, make_session_factory
    from webapp.models import Account, Booking
    from webapp.services.papers import documents, photos
    from webapp.services.papers.storage import LocalStorage
    from tests.photo_corpus import document_photo
    from tests.web_helpers import NOW

    session = make_session_factory(make_engine({url!r}))()
    booking = session.get(Booking, {booking_id})
    account = session.get(Account, booking.applicant_account_id)
    photo = photos.process(document_photo(1200, 900, text_seed=99))

    def die(*args, **kwargs):  # between the files' rename and the row's commit
        os.kill(os.getpid(), signal.SIGKILL)

    documents.ratelimit.count = die
    documents.add_page(session, LocalStorage({store!r}), booking_id=booking.id, kind="diagnosis", photo=photo,
                       account=account, now=NOW)
""")


def test_a_process_killed_between_storing_and_committing_leaves_only_files_the_sweeper_removes(world, local, database_url, tmp_path):
    _add(world, local, seed=1)  # a page that must survive the sweep
    b = booking_of(world, *SECOND_OPINION)
    world.commit()
    script = KILLED_UPLOAD.format(root=os.getcwd(), url=database_url, booking_id=b.id, store=str(local_root(local)))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "LVTONG_ENV": "test"})
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    orphans, lost = agree(world, local)
    assert len(orphans) == 2 and lost == set()  # the killed upload's image and thumbnail
    report = documents.sweep(world, local, now=NOW, grace_seconds=0)
    assert report.files_without_row == 2
    assert agree(world, local) == (set(), set())
    assert len(world.scalars(select(DocumentPage)).all()) == 1


def local_root(store: LocalStorage):
    return getattr(store, "root", None) or store._root


def test_a_row_whose_file_vanished_is_removed_so_the_checklist_asks_again(world, store):
    kept, lost = _add(world, store, seed=1), _add(world, store, seed=2)
    store.delete(lost.storage_key)
    report = documents.sweep(world, store, now=NOW + timedelta(hours=2), grace_seconds=3600)
    assert report.rows_without_file == 1
    assert agree(world, store) == (set(), set())
    world.expire_all()
    assert [p.public_id for p in world.scalars(select(DocumentPage))] == [kept.public_id]
    assert world.scalar(select(AuditEvent).where(AuditEvent.action == "document.page_lost")) is not None


def test_temp_files_of_interrupted_writes_are_swept(world, local):
    root = local_root(local)
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    leftover = root / "tmp" / "upload-interrupted"
    leftover.write_bytes(b"half a photo")
    os.utime(leftover, (0, 0))
    assert documents.sweep(world, local, now=NOW, grace_seconds=60).temp_files == 1
    assert not leftover.exists()


# ------------------------------------------------------------------------------------------------ retention

def _close(session, booking: Booking, days_ago: int) -> None:
    session.execute(update(Booking).where(Booking.id == booking.id)
                    .values(state=State.COMPLETED.value, closed_at=NOW - timedelta(days=days_ago)))
    session.commit()


def test_retention_deletes_pages_of_applications_closed_long_enough_ago_and_nothing_else(world, store):
    old = _add(world, store, seed=1)
    recent = _add(world, store, seed=2, kind="medical_records")
    b = booking_of(world, *SECOND_OPINION)
    _close(world, b, days_ago=181)
    # another application, still open, keeps its pages
    other = booking_of(world, "P003-DEMO-0005", "expert_outpatient")
    parent = world.get(documents.Account, other.applicant_account_id)
    kept = documents.add_page(world, store, booking_id=other.id, kind="diagnosis", photo=_photo(3), account=parent, now=NOW)

    assert documents.purge_expired(world, store, now=NOW, retention=timedelta(days=180)) == 2
    world.expire_all()
    assert [p.public_id for p in world.scalars(select(DocumentPage))] == [kept.public_id]
    for page in (old, recent):
        assert not store.exists(page.storage_key) and not store.exists(page.thumbnail_key)
    assert store.exists(kept.storage_key)
    statuses = {d.kind: d.status for d in world.scalars(select(Document).where(Document.booking_id == b.id))}
    assert statuses == {"diagnosis": "purged", "medical_records": "purged"}
    assert documents.purge_expired(world, store, now=NOW, retention=timedelta(days=180)) == 0  # idempotent


def test_retention_keeps_pages_of_an_application_closed_less_long_ago(world, store):
    page = _add(world, store, seed=1)
    _close(world, booking_of(world, *SECOND_OPINION), days_ago=179)
    assert documents.purge_expired(world, store, now=NOW, retention=timedelta(days=180)) == 0
    assert store.exists(page.storage_key)


def test_the_cli_commands_sweep_and_purge(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["papers-sweep", "--grace-minutes", "0"])
    assert result.exit_code == 0 and "removed 0 temp file(s)" in result.output
    result = runner.invoke(args=["papers-purge", "--days", "30"])
    assert result.exit_code == 0 and "deleted 0 page(s)" in result.output
    assert runner.invoke(args=["papers-purge", "--days", "-1"]).exit_code != 0


def test_the_signed_in_insured_is_who_adds_pages(world, local):
    page = _add(world, local)
    assert world.get(documents.Account, page.uploaded_by_id).mobile == ADULT


def test_a_store_that_lost_most_pages_is_a_misconfiguration_and_nothing_is_deleted(app, world, tmp_path):
    """An UPLOAD_DIR pointing at the wrong (empty) place must not make the sweeper delete every page row."""
    real = LocalStorage(tmp_path / "real")
    for seed in range(6):
        _add(world, real, seed=seed)
    empty = LocalStorage(tmp_path / "wrong")
    with pytest.raises(documents.SweepRefused):
        documents.sweep(world, empty, now=NOW + timedelta(hours=2), grace_seconds=0)
    world.expire_all()
    assert len(world.scalars(select(DocumentPage)).all()) == 6
    app.config["CLOCK"] = lambda: NOW + timedelta(hours=2)
    app.config["UPLOAD_DIR"] = str(tmp_path / "wrong")
    app.extensions.pop("storage", None)
    result = app.test_cli_runner().invoke(args=["papers-sweep", "--grace-minutes", "0"])
    assert result.exit_code != 0 and "Nothing was deleted" in result.output


def test_a_post_of_several_photos_keeps_each_that_passes_and_says_why_each_other_did_not(world, local, monkeypatch):
    """documents.add_photos: one photo refused, or one store that fails, leaves the others of the post alone."""
    b = booking_of(world, *SECOND_OPINION)
    account = world.get(documents.Account, b.applicant_account_id)
    good, unlucky = (document_photo(1200, 900, text_seed=seed) for seed in (11, 12))
    real_put, calls = local.put, []

    def put(key, data):  # the second photo's image cannot be stored
        calls.append(key)
        if len(calls) == 3:
            raise StorageError("disk full")
        real_put(key, data)

    monkeypatch.setattr(local, "put", put)
    uploads = [("a.jpg", io.BytesIO(good)), ("b.jpg", io.BytesIO(unlucky)), ("c.jpg", io.BytesIO(b""))]
    outcomes = documents.add_photos(world, local, booking_id=b.id, kind="diagnosis", uploads=uploads, account=account,
                                    now=NOW)
    assert [(o.filename, o.refused.key if o.refused else None) for o in outcomes] == [
        ("a.jpg", None), ("b.jpg", "document.storage"), ("c.jpg", "photo.empty")]
    assert outcomes[0].page is not None
    assert world.scalar(select(DocumentPage.id).where(DocumentPage.id != outcomes[0].page.id)) is None
    with pytest.raises(documents.DocumentRefused, match="document.no_file"):
        documents.add_photos(world, local, booking_id=b.id, kind="diagnosis", uploads=[], account=account, now=NOW)
    too_many = [("x.jpg", io.BytesIO(good))] * (documents.MAX_PHOTOS_PER_POST + 1)
    with pytest.raises(documents.DocumentRefused, match="document.too_many_files"):
        documents.add_photos(world, local, booking_id=b.id, kind="diagnosis", uploads=too_many, account=account, now=NOW)
