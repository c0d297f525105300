"""The fixture worlds (tests/worlds.py): what a restore gives is exactly what the build made, rows and photos,
and a row a test adds afterwards never collides with a restored one."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from webapp.models import Account, Base
from webapp.services.demo import demo
from webapp.services.papers.storage import LocalStorage

from .web_helpers import NOW
from .worlds import empty_database


def everything(engine) -> dict:
    with engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in Base.metadata.sorted_tables}


def files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_restored_demo_world_is_the_built_one_row_for_row_and_photo_for_photo(engine, session, worlds, tmp_path):
    key = ("test_worlds", NOW)
    built_dir, restored_dir = tmp_path / "built", tmp_path / "restored"

    result = worlds.restore(session, key, lambda: demo.build(session, NOW, LocalStorage(built_dir)), uploads=built_dir)
    built = everything(engine)
    assert built["bookings"] and built["document_pages"] and files(built_dir)

    empty_database(engine)
    restored_before = worlds.restored
    again = worlds.restore(session, key, lambda: 1 / 0, uploads=restored_dir)  # not built again
    assert worlds.restored == restored_before + 1 and again == result
    assert everything(engine) == built
    assert files(restored_dir) == files(built_dir)


def test_what_a_test_adds_after_a_restore_gets_new_ids(engine, session, worlds):
    key = ("test_worlds ids", NOW)
    worlds.restore(session, key, lambda: demo.build(session, NOW))
    empty_database(engine)
    worlds.restore(session, key, lambda: 1 / 0)
    highest = session.scalar(select(func.max(Account.id)))
    session.add(Account(mobile="13700000042", created_at=NOW))
    session.commit()
    assert session.scalar(select(Account.id).where(Account.mobile == "13700000042")) > highest


def test_a_database_that_is_not_empty_is_built_on_not_restored_over(session, worlds):
    key = ("test_worlds not empty", NOW)
    worlds.restore(session, key, lambda: demo.build(session, NOW))
    session.add(Account(mobile="13700000043", created_at=NOW))
    calls = []
    worlds.restore(session, key, lambda: calls.append(demo.build(session, NOW + timedelta(days=1))))
    assert calls == [None]  # the build ran (the demo wipes and rebuilds as of its own moment)
    assert session.scalar(select(Account).where(Account.mobile == "13700000043")) is None
