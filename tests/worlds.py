"""Fixture worlds built once per test run (per xdist worker) and restored before each test that asks for one.

Building the demo world through the real services takes 0.7–2.2 s (about 90 commits, photos drawn for its
papers); writing its rows back takes milliseconds. So the first test that asks for a world builds it, on the
emptied database, and its rows (and the photos the build stored) are kept; every later test with the same
key gets the same rows inserted back into the emptied tables and the same files linked into its own upload
folder. The ids are the ones the build gave: PostgreSQL's sequences only grow, and SQLite takes max(id) + 1,
so a row a test adds never collides with a restored one.

What a test sees is the database as the build left it: after a build, the session's objects are expired and
read again, so a test passes the same way whether it built or restored.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from webapp.models import Base


@dataclass(frozen=True)
class Snapshot:
    rows: tuple[tuple[str, tuple[dict, ...]], ...]  # table name → its rows, tables in dependency order
    files: Path | None  # a copy of the upload folder the build wrote to, if it stored any photo
    result: Any  # what the build returned (ids, say)


class Worlds:
    """The worlds of one test run: `restore(session, key, build)` builds once, then restores."""

    def __init__(self, engine: Engine, keep_dir: Path):
        self.engine = engine
        self.keep_dir = keep_dir
        self._saved: dict[Hashable, Snapshot] = {}
        self.built = self.restored = 0

    def restore(self, session: Session, key: Hashable, build: Callable[[], Any], *, uploads: Path | None = None) -> Any:
        """Make the database (and `uploads`, if given) what `build()` makes of an empty one; return what `build()`
        returned (plain data: it is kept). On a database that is not empty (a second world in one test, rows the
        test added first), `build()` runs as it is: a snapshot is only ever taken of, or put into, empty tables."""
        session.commit()  # what the test added, as the build would have committed it
        if not self._empty(session):
            return build()
        saved = self._saved.get(key)
        if saved is None:
            result = build()
            session.commit()
            self._saved[key] = saved = self._capture(len(self._saved), uploads, result)
            self.built += 1
            session.expire_all()  # read back from the database, as after a restore
        else:
            self._load(saved, uploads)
            self.restored += 1
        return saved.result

    @staticmethod
    def _empty(session: Session) -> bool:
        found = session.execute(select(*(exists().select_from(t) for t in Base.metadata.sorted_tables))).one()
        session.commit()  # end the read: a SQLite snapshot would not see the restored rows
        return not any(found)

    def _capture(self, number: int, uploads: Path | None, result: Any) -> Snapshot:
        with self.engine.connect() as conn:
            rows = tuple(
                (table.name, tuple(dict(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()))
                for table in Base.metadata.sorted_tables
            )
            conn.rollback()
        files = None
        if uploads is not None and Path(uploads).is_dir():
            files = self.keep_dir / f"world-{number}"
            shutil.copytree(uploads, files)
        return Snapshot(rows=rows, files=files, result=result)

    def _load(self, saved: Snapshot, uploads: Path | None) -> None:
        tables = Base.metadata.tables
        with self.engine.begin() as conn:
            for name, rows in saved.rows:
                if rows:
                    conn.execute(tables[name].insert(), list(rows))
        if saved.files is not None and uploads is not None:
            # Hard links: as fast as a rename, and a test that deletes or replaces a file (the store writes a
            # temp file and renames it) never touches the kept copy.
            shutil.copytree(saved.files, uploads, copy_function=os.link, dirs_exist_ok=True)


def empty_database(engine: Engine) -> None:
    """Delete every row, children first."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
