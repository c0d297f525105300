"""Run the Alembic migrations from code (the CLI and the tests use this; no alembic.ini needed)."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from sqlalchemy.engine import Engine

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


@contextmanager
def sqlite_table_rebuild():
    """SQLite changes a constraint by rebuilding the table (batch mode: new table, copy, drop, rename), and dropping
    a table other rows point at fails while foreign keys are enforced. sqlite.org/lang_altertable.html: turn them
    off outside any transaction, check with foreign_key_check before committing, turn them on again."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:
        raw.execute("COMMIT")  # this revision's transaction, empty so far
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("BEGIN IMMEDIATE")
    try:
        yield
        if raw.execute("PRAGMA foreign_key_check").fetchall():
            raise RuntimeError("a rebuilt table left rows pointing nowhere")
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("BEGIN")  # Alembic stamps the revision in it and commits
