"""Resident ID numbers at rest (issue 17 item 5): AES-GCM with a key id, a keyed blind index for matches, keys from
the environment, rotation by `flask ids-reencrypt`, and no plaintext number in the database, a log line or an export.

Written as the attack: someone with a copy of the database (a backup, a read-only SQL hole) or of the logs looks
for the ID numbers of the people the portal knows."""
from __future__ import annotations

import base64
import logging
import os
from datetime import date

import pytest
from sqlalchemy import inspect, select, text

from webapp.config import ConfigError, from_environment
from webapp.db import make_engine, make_session_factory
from webapp.migrate import downgrade, upgrade
from webapp.models import Account, Base, Booking, Person, Policy, Product
from webapp.services.accounts import id_vault
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.booking import diagnoses
from webapp.services.demo import demo
from webapp.services.policy_years import anniversary

from .conftest import at, build_demo
from .web_helpers import NOW, csrf_from, fresh, set_clock, sign_in

NEWCOMER, FATHER, REVIEWER, COORDINATOR = "13912345678", demo.FATHER, demo.REVIEWER, demo.COORDINATOR
INSURED_ID = demo_resident_id("310104", date(1975, 2, 3), 515)  # 吴桐: insured, no account yet
FATHER_ID = demo_resident_id("310104", date(1984, 5, 5), 777)  # 李强's own ID card: not on file yet


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def raw_dump(engine) -> list[tuple[str, str, object]]:
    """Every value of every row of every table, read with plain SQL: what a stolen copy of the database shows."""
    found = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(text(f"SELECT * FROM {table.name}")).mappings():
                found.extend((table.name, column, value) for column, value in row.items() if value is not None)
    return found


def plaintext_in(values, numbers) -> list:
    """(table, column) where any of `numbers` shows, as text (either case of X) or as bytes."""
    hits = []
    for table, column, value in values:
        blob = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
        for number in numbers:
            if any(form.encode() in blob.upper() for form in (number, number[:17])):
                hits.append((table, column, number))
    return hits


@pytest.fixture()
def world(app, session):
    """The demo world and 吴桐, insured under a policy of her own and not signed up yet."""
    build_demo(session, NOW)
    set_clock(app, NOW)
    product = session.scalar(select(Product).where(Product.code == "zhongan_vip"))
    insured = Person(name="吴桐", id_number=INSURED_ID, birth_date=date(1975, 2, 3), created_at=NOW)
    session.add(insured)
    session.add(Policy(number="P003-IDS-0001", product=product, insured=insured, holder=insured,
                       effective_date=date(2026, 1, 1), expiry_date=anniversary(date(2026, 1, 1), 1), created_at=NOW))
    session.commit()
    return session


def post_form(client, path, form_path, **fields):
    token = csrf_from(client.get(form_path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields}, environ_base={"REMOTE_ADDR": "10.0.0.7"})


def walk_the_flows(app, session) -> list[str]:
    """Sign-in and bind (a wrong name first), a family request by a new number with both ID numbers, staff reading
    the request and an application. Returns every number the flows typed or showed."""
    numbers = [person.id_number for person in fresh(session).scalars(select(Person))] + [FATHER_ID]
    newcomer = app.test_client()
    sign_in(newcomer, NEWCOMER)
    assert post_form(newcomer, "/bind", "/bind", name="吴小桐", id_number=INSURED_ID).status_code == 422
    assert post_form(newcomer, "/bind", "/bind", name="吴桐", id_number=INSURED_ID.lower()).status_code in (302, 303)

    father = app.test_client()
    sign_in(father, FATHER)
    child = fresh(session).scalar(select(Person).where(Person.name == "李小明"))
    asked = post_form(father, "/family/new", "/family/new", kind="guardian_minor", relationship="son", own_name="李强",
                      own_id_number=FATHER_ID, insured_name="李小明", insured_id_number=child.id_number)
    assert asked.status_code == 303, asked.status_code
    public_id = asked.headers["Location"].rsplit("/", 1)[1]
    assert father.get(asked.headers["Location"]).status_code == 200

    reviewer, coordinator = app.test_client(), app.test_client()
    sign_in(reviewer, REVIEWER)
    sign_in(coordinator, COORDINATOR)
    booking = fresh(session).scalar(select(Booking).order_by(Booking.id).limit(1))
    for staff, path in ((reviewer, "/staff/access"), (reviewer, f"/staff/access/{public_id}"),
                        (coordinator, f"/staff/bookings/{booking.reference}")):
        shown = staff.get(path)
        assert shown.status_code == 200, (path, shown.status_code)
        assert not [n for n in numbers if n in shown.get_data(as_text=True)]  # masked on screen, as before
    return numbers


def test_no_id_number_is_in_the_database_in_plain_text(app, session, world):
    """The raw columns after binding a person and a family request that adds one: ciphertext and an index only."""
    numbers = walk_the_flows(app, session)
    bound = fresh(session).scalar(select(Account).where(Account.mobile == NEWCOMER))
    zhao = fresh(session).scalar(select(Person).where(Person.name == "吴桐"))
    assert zhao.id in (bound.person_id, getattr(bound, "claimed_person_id", None))  # bound (or claimed) through the index
    engine = app.extensions["db_engine"]
    assert plaintext_in(raw_dump(engine), numbers) == []
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM persons WHERE id = :id"), {"id": zhao.id}).mappings().one()
    assert "id_number" not in row  # the plaintext column is gone
    assert INSURED_ID.encode() not in bytes(row["id_number_ct"]) and row["id_number_key"] == id_vault.DEV_KEY_ID
    assert row["id_number_index"] == id_vault.blind_index(INSURED_ID) != INSURED_ID
    assert zhao.id_number == INSURED_ID  # code entitled to it still reads the number


def test_no_id_number_reaches_a_log_line(app, session, world, caplog):
    """Every record at DEBUG, SQLAlchemy's statements and parameters included, through sign-in, bind, family and staff."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    numbers = walk_the_flows(app, session)
    records = caplog.records
    assert any(r.name.startswith("sqlalchemy.engine") for r in records)  # the parameters were logged, and looked at
    lines = [r.getMessage() + (r.exc_text or "") for r in records]
    assert [line for line in lines if any(n in line.upper() or n[:17] in line for n in numbers)] == []


def test_equal_numbers_share_an_index_and_encrypt_differently(session):
    one = Person(name="甲", id_number=INSURED_ID, birth_date=date(1975, 2, 3), created_at=NOW)
    two = Person(name="乙", id_type="passport", id_number=" " + INSURED_ID.lower() + " ", birth_date=date(1975, 2, 3),
                 created_at=NOW)
    assert one.id_number_index == two.id_number_index and one.id_number_ct != two.id_number_ct  # random nonces
    assert two.id_number == INSURED_ID  # kept normalised
    session.add_all([one, two])
    session.commit()
    found = session.scalar(select(Person).where(Person.id_type == "resident_id", Person.id_number == INSURED_ID.lower()))
    assert found.id == one.id
    with pytest.raises(NotImplementedError):
        select(Person).where(Person.id_number.like("3101%"))  # a ciphertext cannot be searched by part


def test_the_same_number_twice_is_refused_by_the_database(session):
    from sqlalchemy.exc import IntegrityError

    session.add(Person(name="甲", id_number=INSURED_ID, birth_date=date(1975, 2, 3), created_at=NOW))
    session.commit()
    session.add(Person(name="乙", id_number=INSURED_ID.lower(), birth_date=date(1975, 2, 3), created_at=NOW))
    with pytest.raises(IntegrityError) as refused:
        session.commit()
    session.rollback()
    assert INSURED_ID not in str(refused.value) and INSURED_ID.lower() not in str(refused.value)


def test_a_ciphertext_moved_or_altered_does_not_open(session):
    person = Person(name="甲", id_number=INSURED_ID, birth_date=date(1975, 2, 3), created_at=NOW)
    altered = bytearray(person.id_number_ct)
    altered[-1] ^= 1
    with pytest.raises(id_vault.CannotDecrypt) as failed:
        id_vault.decrypt(bytes(altered), person.id_number_key)
    assert INSURED_ID not in str(failed.value)
    with pytest.raises(id_vault.CannotDecrypt):
        id_vault.decrypt(person.id_number_ct, "k9")  # relabelled: a key id outside the ring


def test_the_insurers_import_finds_people_through_the_index(session, world):
    zhao = session.scalar(select(Person).where(Person.name == "吴桐"))
    missing = demo_resident_id("310104", date(1990, 1, 1), 999)
    report = diagnoses.import_rows(session, [
        {"id_number": INSURED_ID.lower(), "certainty": "confirmed", "diagnosed_on": "2026-06-01", "hospital": "华山医院",
         "hospital_grade": "3A"},
        {"id_number": missing, "certainty": "confirmed", "diagnosed_on": "2026-06-01", "hospital": "华山医院",
         "hospital_grade": "3A"},
    ], now=NOW)
    assert report.recorded == 1 and [line for line, _ in report.problems] == [3]
    assert zhao.id in {d.person_id for d in fresh(session).scalars(select(diagnoses.Diagnosis))}
    assert not [p for _, p in report.problems if missing in p]  # the refusal names the line, not the number


# ------------------------------------------------------------------------------------------------ keys

def test_production_refuses_to_start_without_id_keys():
    env = {"LVTONG_ENV": "production", "SECRET_KEY": "s" * 32}
    with pytest.raises(ConfigError, match="LVTONG_ID_KEYS"):
        from_environment(env)
    with pytest.raises(ConfigError, match="not base64"):
        from_environment({**env, "LVTONG_ID_KEYS": "k1:not*base64", "LVTONG_ID_INDEX_KEY": key()})
    with pytest.raises(ConfigError, match="32 bytes"):
        from_environment({**env, "LVTONG_ID_KEYS": "k1:" + base64.b64encode(b"short").decode(), "LVTONG_ID_INDEX_KEY": key()})
    dev = base64.b64encode(id_vault.DEV_KEY).decode()
    with pytest.raises(ConfigError, match="public"):
        from_environment({**env, "LVTONG_ID_KEYS": f"k1:{dev}", "LVTONG_ID_INDEX_KEY": key()})
    material = key()
    with pytest.raises(ConfigError) as refused:
        from_environment({**env, "LVTONG_ID_KEYS": f"k1:{material}", "LVTONG_ID_INDEX_KEY": material})
    assert material not in str(refused.value)  # an error names the setting, never the key
    ring = from_environment({**env, "LVTONG_ID_KEYS": f"k2:{key()}, k1:{key()}", "LVTONG_ID_INDEX_KEY": key()})["ID_KEYRING"]
    assert ring.current_id == "k2" and [k for k, _ in ring.keys] == ["k2", "k1"]


def test_demo_and_tests_use_the_public_dev_keys():
    assert from_environment({"LVTONG_ENV": "test"})["ID_KEYRING"] is id_vault.DEV_KEYRING
    assert from_environment({"LVTONG_ENV": "demo"})["ID_KEYRING"].is_dev


def test_rotation_reencrypts_every_row_under_the_new_key(app, session, world):
    """Add k2 first, run `flask ids-reencrypt`, drop the old key: every number still reads and still matches.
    (tests/id_guards.py puts the run's keys back after each test.)"""
    old = id_vault.keyring()
    k2 = key()
    index_key = base64.b64encode(old.index_key).decode()
    id_vault.configure(id_vault.parse(f"k2:{k2},{old.current_id}:{base64.b64encode(old.keys[0][1]).decode()}", index_key))
    before = {p.id: p.id_number for p in fresh(session).scalars(select(Person))}
    result = app.test_cli_runner().invoke(args=["ids-reencrypt"])
    assert result.exit_code == 0, result.output
    assert f"{len(before)} ID number(s) re-encrypted under key k2" in result.output
    id_vault.configure(id_vault.parse(f"k2:{k2}", index_key))  # the old key retired
    people = fresh(session).scalars(select(Person)).all()
    assert {p.id_number_key for p in people} == {"k2"}
    assert {p.id: p.id_number for p in people} == before
    assert session.scalar(select(Person.name).where(Person.id_number == INSURED_ID)) == "吴桐"
    assert app.test_cli_runner().invoke(args=["ids-reencrypt"]).output.startswith("0 ID number(s)")  # nothing left


def test_a_new_index_key_rewrites_every_index(app, session, world):
    old = id_vault.keyring()
    id_vault.configure(id_vault.Keyring(keys=old.keys, index_key=os.urandom(32)))
    result = app.test_cli_runner().invoke(args=["ids-reencrypt"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Person.name).where(Person.id_number == INSURED_ID)) == "吴桐"


# ------------------------------------------------------------------------------------------------ the migration

def test_the_migration_encrypts_existing_rows_and_its_downgrade_restores_them(database_url, tmp_path):
    """Rows written before 0010 (plaintext, with accounts pointing at them) come out encrypted, and back."""
    engine = make_engine(database_url if not database_url.startswith("sqlite") else f"sqlite:///{tmp_path / 'm.sqlite3'}")
    if engine.dialect.name != "sqlite":  # the run's own database is in use: one of this test's own beside it
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        url = make_url(database_url)
        own = url.set(database=f"{url.database}_ids_migration")
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
        engine = make_engine(own.render_as_string(hide_password=False))
    try:
        upgrade(engine, "0009")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO persons (id, name, id_type, id_number, birth_date, created_at) VALUES "
                              "(1, '吴桐', 'resident_id', :a, '1975-02-03', '2024-01-01 00:00:00'), "
                              "(2, '李强', 'resident_id', :b, '1984-05-05', '2024-01-01 00:00:00')"),
                         {"a": INSURED_ID, "b": FATHER_ID})
            conn.execute(text("INSERT INTO accounts (id, mobile, person_id, locale, created_at) VALUES "
                              "(1, '13912345678', 1, 'zh_CN', '2024-01-01 00:00:00')"))
        upgrade(engine, "0010")
        assert "id_number" not in {c["name"] for c in inspect(engine).get_columns("persons")}
        assert plaintext_in(raw_dump_of(engine, ("persons", "accounts")), [INSURED_ID, FATHER_ID]) == []
        with make_session_factory(engine)() as s:
            assert s.scalar(select(Person.name).where(Person.id_number == FATHER_ID)) == "李强"
            assert s.get(Person, 1).id_number == INSURED_ID and s.get(Account, 1).person_id == 1
        with engine.connect() as conn:  # SQLite: the rebuild left foreign keys enforced on the connection
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        downgrade(engine, "0009")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, id_number FROM persons ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, INSURED_ID), (2, FATHER_ID)]
        assert "id_number_ct" not in {c["name"] for c in inspect(engine).get_columns("persons")}
    finally:
        engine.dispose()
        if engine.dialect.name != "sqlite":
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
            admin.dispose()


def raw_dump_of(engine, tables) -> list:
    with engine.connect() as conn:
        return [(table, column, value) for table in tables
                for row in conn.execute(text(f"SELECT * FROM {table}")).mappings()
                for column, value in row.items() if value is not None]


def test_a_restored_world_keeps_its_ciphertexts(session):
    """tests/worlds.py copies rows back as they were read: the bytes open again, the index still matches."""
    build_demo(session, NOW)
    first = {p.id: (bytes(p.id_number_ct), p.id_number) for p in fresh(session).scalars(select(Person))}
    session.close()
    from .worlds import empty_database

    engine = session.get_bind()
    empty_database(engine)
    build_demo(session, NOW)  # restored this time
    again = {p.id: (bytes(p.id_number_ct), p.id_number) for p in fresh(session).scalars(select(Person))}
    assert again == first
    zhang = demo_resident_id("310104", date(1978, 5, 12), 123)
    assert session.scalar(select(Person.name).where(Person.id_number == zhang)) == "张伟"


def test_models_never_show_the_number_in_a_repr(session):
    person = Person(name="甲", id_number=INSURED_ID, birth_date=date(1975, 2, 3), created_at=at(2024, 1, 1))
    assert INSURED_ID not in repr(person) and INSURED_ID not in str(person.__dict__)


def test_the_suite_wide_guard_catches_a_number_in_a_log_line(no_id_number_in_logs):
    """tests/id_guards.py watches every test; here it is shown one line that leaks, and one that does not."""
    logging.getLogger("lvtong.test").warning("bound %s", "person 7, ID " + id_masked())
    assert no_id_number_in_logs.found == []
    logging.getLogger("lvtong.test").warning("bound ID %s", INSURED_ID)
    assert no_id_number_in_logs.found == [("lvtong.test", id_masked())]
    no_id_number_in_logs.found.clear()  # the line above was this test's own bait


def id_masked() -> str:
    from webapp.services.accounts.identity import mask_id_number

    return mask_id_number(INSURED_ID)
