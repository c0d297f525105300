"""Fixtures: a real database (a SQLite file, or PostgreSQL when DATABASE_URL names one), migrated with Alembic
once per run and emptied after each test; one app for the run, its settings put back after each test; a client
with CSRF on; and the fixture worlds (tests/worlds.py), built once per run and restored per test.

Under pytest-xdist every worker has its own SQLite file, or its own PostgreSQL database made for the run beside the
one DATABASE_URL names (`<name>_gw0`, …), its own upload folders and its own SeaweedFS: nothing is shared but
the machine. Tests marked `serial` (races, timing) all go to one worker, one after another.
"""
from __future__ import annotations

import base64
import os
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from webapp import create_app
from webapp.db import make_engine, make_session_factory
from webapp.extensions import babel
from webapp.migrate import downgrade, upgrade
from webapp.models import Account, Diagnosis, Person, Policy, Product, ProxyGrant
from webapp.services import workdays
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.calendar import workdays_store
from webapp.services.clock import CHINA
from webapp.services.demo import demo
from webapp.services.home import cards_cache, today
from webapp.services.policy_years import anniversary
from webapp.services.products.catalog_sync import sync_catalog
from webapp.views import fragments

from .worlds import Worlds, empty_database

pytest_plugins = [
    "tests.seaweed",  # s3_server / s3_storage: a real SeaweedFS started once per run, on demand
    "tests.id_guards",  # no resident ID number in any log line of any test; the ID keys put back
]


def pytest_collection_modifyitems(config, items):
    """`serial` tests (races, timing) run on one xdist worker, in order, never two at once on that worker."""
    for item in items:
        if item.get_closest_marker("serial"):
            item.add_marker(pytest.mark.xdist_group("serial"))


@pytest.fixture(scope="session")
def worker() -> str:
    """The xdist worker's name (gw0, gw1, …), or "main" without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker):
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    if worker == "main":
        yield url
        return
    # A database of this worker's own beside the one named (the named one is where CI allows writes);
    # commits need not wait for the disk: it is thrown away after the run (never the app's setting).
    own = make_url(url).set(database=f"{make_url(url).database}_{worker}")
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
        conn.execute(text(f'ALTER DATABASE "{own.database}" SET synchronous_commit = off'))
    yield own.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    downgrade(engine, "base")  # a reused PostgreSQL database starts from nothing too
    upgrade(engine)
    yield engine
    engine.dispose()


def forget_process_state() -> None:
    """Every in-process cache a test could leave behind: cards, the home's strip, rendered sections and pages, the
    calendar."""
    cards_cache.clear()
    today.clear()
    fragments.clear()
    workdays.set_overrides({})
    workdays_store.forget()


@pytest.fixture(scope="session")
def worlds(engine, tmp_path_factory) -> Worlds:
    return Worlds(engine, tmp_path_factory.mktemp("worlds"))


@pytest.fixture()
def session_factory(engine):
    forget_process_state()
    yield make_session_factory(engine)
    empty_database(engine)
    forget_process_state()


@pytest.fixture()
def session(session_factory, worlds):
    s = session_factory()
    s.info["worlds"] = worlds  # World(session, …) and build_demo(session, …) restore through it
    yield s
    s.rollback()
    s.close()


def new_app(database_url: str, upload_dir) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-only", "UPLOAD_DIR": str(upload_dir)})


@pytest.fixture(scope="session")
def shared_app(engine, database_url, tmp_path_factory):
    """One app for the run (building one costs more than most tests); `app` puts its settings back after each test."""
    app = new_app(database_url, tmp_path_factory.mktemp("uploads"))
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture()
def app(request, database_url, session_factory, tmp_path):
    """The run's app with this test's upload folder, or an app of the test's own if it is marked `own_app`
    (it adds routes: an app that has served a request takes none)."""
    if request.node.get_closest_marker("own_app"):
        app = new_app(database_url, tmp_path / "uploads")
        yield app
        app.extensions["db_engine"].dispose()
        return
    shared = request.getfixturevalue("shared_app")
    settings = dict(shared.config)
    shared.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    shared.extensions.pop("storage", None)  # made from UPLOAD_DIR on first use
    yield shared
    shared.config.clear()
    shared.config.update(settings)
    shared.extensions.pop("storage", None)
    with shared.app_context():
        babel.domain_instance.cache.clear()  # the catalogues are read again


@pytest.fixture()
def client(app):
    return app.test_client()


# Production settings refuse to start without ID keys of their own (services/accounts/id_vault.py): these, made for the run.
PRODUCTION_ID_KEYS = {"LVTONG_ID_KEYS": "prod-test:" + base64.b64encode(os.urandom(32)).decode(),
                      "LVTONG_ID_INDEX_KEY": base64.b64encode(os.urandom(32)).decode()}


def at(*args) -> datetime:
    """An aware China-time datetime: at(2026, 11, 23, 11, 59, 59)."""
    return datetime(*args, tzinfo=CHINA)


class World:
    """A tiny world for booking tests: one insured person with one policy of a chosen product.

    Built once per run for each set of arguments and restored after (tests/worlds.py); the attributes are the
    restored rows, loaded in `session`."""

    def __init__(self, session, product_code: str = "cigc_classic", effective: date = date(2025, 1, 1), **policy_kw):
        self.session = session
        key = ("World", product_code, effective, tuple(sorted(policy_kw.items())))
        ids = restore(session, key, lambda: self._build(session, product_code, effective, **policy_kw))
        self.product = session.get(Product, ids["product"])
        self.person = session.get(Person, ids["person"])
        self.account, self.staff, self.stranger = (session.get(Account, ids[k]) for k in ("account", "staff", "stranger"))
        self.policy = session.get(Policy, ids["policy"])

    @staticmethod
    def _build(session, product_code, effective, **policy_kw) -> dict:
        sync_catalog(session)
        product = session.scalar(select(Product).where(Product.code == product_code))
        person = World._person(session, "张三", date(1980, 1, 1), 101, "13900000001")
        account = Account(mobile="13900000001", person=person, created_at=at(2024, 1, 1))
        staff = Account(mobile="13900000009", staff_role="coordinator", created_at=at(2024, 1, 1))
        stranger = Account(mobile="13900000003", created_at=at(2024, 1, 1))
        session.add_all([account, staff, stranger])
        policy = Policy(number=f"T-{product_code}", product=product, holder=person, insured=person,
                        effective_date=effective, expiry_date=anniversary(effective, policy_kw.pop("years", 1)),
                        cooling_off_days=policy_kw.pop("cooling_off_days", 15),
                        waiting_days=policy_kw.pop("waiting_days", 90), created_at=at(2024, 1, 1), **policy_kw)
        session.add(policy)
        session.flush()
        session.add(Diagnosis(person_id=person.id, certainty="confirmed", diagnosed_on=effective + timedelta(days=120),
                              hospital="测试医院", hospital_grade="3A", verified_at=at(2024, 1, 1)))
        session.commit()
        return {"product": product.id, "person": person.id, "account": account.id, "staff": staff.id,
                "stranger": stranger.id, "policy": policy.id}

    @staticmethod
    def _person(session, name, birth, seq, mobile=None):
        person = Person(name=name, id_number=demo_resident_id("110105", birth, seq), birth_date=birth, mobile=mobile,
                        created_at=at(2024, 1, 1))
        session.add(person)
        return person

    def person_named(self, name, birth, seq, mobile=None):
        return self._person(self.session, name, birth, seq, mobile)

    def guardian(self, mobile="13900000002", status="verified", valid_until=None) -> Account:
        parent = Account(mobile=mobile, created_at=at(2024, 1, 1))
        self.session.add(parent)
        self.session.flush()
        self.session.add(ProxyGrant(grantee_account_id=parent.id, insured_person_id=self.person.id, kind="guardian_minor",
                                    status=status, valid_until=valid_until, created_at=at(2024, 1, 1)))
        self.session.commit()
        return parent


def build_demo(session, now: datetime, storage=None) -> None:
    """The demo world as of `now` (webapp.services.demo.demo), with its papers' photos when given a LocalStorage."""

    uploads = storage.root if storage is not None else None
    restore(session, ("demo", now, storage is not None), lambda: demo.build(session, now, storage), uploads=uploads)


def restore(session, key, build, *, uploads=None):
    """`build()` once per run on an empty database, then its rows restored (tests/worlds.py); returns what it returned.
    A session the `session` fixture did not make, or a database that is not empty, is built on as before."""
    worlds = session.info.get("worlds")
    if worlds is None:
        return build()
    return worlds.restore(session, key, build, uploads=uploads)


@pytest.fixture()
def world(session):
    return World(session)
