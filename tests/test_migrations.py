"""The Alembic history builds exactly the models' schema, and goes down and up again."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from webapp.db import make_engine
from webapp.migrate import downgrade, upgrade
from webapp.models import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_up_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "bookings" in inspect(engine).get_table_names()
    engine.dispose()


def test_an_existing_sqlite_database_with_rows_upgrades(tmp_path):
    """`make run` on a database made by an earlier release: tables rebuilt by 0009 (accounts) and 0010 (persons)
    have rows pointing at them, which SQLite refuses to drop while foreign keys are enforced."""
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO accounts (id, mobile, locale, created_at) VALUES (1, '13900000001', 'zh_CN', '2026-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO audit_events (at, action, actor_account_id, detail) VALUES ('2026-01-01 00:00:00', 'x', 1, '{}')"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT mobile FROM accounts")).scalar() == "13900000001"
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    engine.dispose()
