"""One run of a cron job at a time, whichever server starts it (issue 16 item 3).

Every server may carry the same crontab; `only_one(session, "remind")` lets the first run through and tells the
others it did not get the lock, so they stop at once ("another server is running remind; nothing done").

On PostgreSQL the lock is `pg_try_advisory_lock(key)`, key a fixed 64-bit number per job name (the first 8 bytes of
BLAKE2b of "lvtong.job:<name>": the same on every server and every release). It is held by a connection of its own,
in autocommit (no transaction left open while the job runs), for the whole run: the session's own connection goes
back to the pool at each commit, and a session-level advisory lock stays with the connection that took it. The
lock is released at the end, or by PostgreSQL itself when the process dies and its connection drops: a crashed run
never blocks the next one.

On SQLite the app runs on one server by definition, so there is nothing to take; overlapping runs there (cron and
a hand-started one) are made safe by the jobs themselves, each of which claims an item before acting on it.
The lock only saves work: the guarantee that a message goes out once is the per-item claim (notifications._deliver,
family.end_guardianships_of_adults).
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session


def lock_key(name: str) -> int:
    """The advisory-lock key of job `name`: a signed 64-bit integer, stable across processes and releases
    (Python's hash() is salted per process, so it would not do)."""
    digest = hashlib.blake2b(f"lvtong.job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def only_one(session: Session, name: str) -> Iterator[bool]:
    """Yield True when this run may do job `name` (it holds the job's lock until the block ends), False when another
    run holds it. Never waits."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
