"""Fixtures: a real database (a fresh SQLite file, or PostgreSQL when DATABASE_URL names one), migrated with
Alembic once per run and emptied after each test; the app and a client with CSRF on."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from webapp import create_app
from webapp.db import make_engine, make_session_factory
from webapp.migrate import downgrade, upgrade
from webapp.models import Account, Base, Diagnosis, Person, Policy, Product, ProxyGrant
from webapp.services import workdays
from webapp.services.catalog_sync import sync_catalog
from webapp.services.clock import CHINA
from webapp.services.identity import demo_resident_id
from webapp.services.policy_years import anniversary

pytest_plugins = ["tests.seaweed"]  # s3_server / s3_storage: a real SeaweedFS started once per run, on demand


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    downgrade(engine, "base")  # a reused PostgreSQL database starts from nothing too
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture()
def session_factory(engine):
    yield make_session_factory(engine)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    workdays.set_overrides({})


@pytest.fixture()
def session(session_factory):
    s = session_factory()
    yield s
    s.rollback()
    s.close()


@pytest.fixture()
def app(engine, database_url, session_factory, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-only",
                      "UPLOAD_DIR": str(tmp_path / "uploads")})
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


def at(*args) -> datetime:
    """An aware China-time datetime: at(2026, 11, 23, 11, 59, 59)."""
    return datetime(*args, tzinfo=CHINA)


class World:
    """A tiny world for booking tests: one insured person with one policy of a chosen product."""

    def __init__(self, session, product_code: str = "cigc_classic", effective: date = date(2025, 1, 1), **policy_kw):
        self.session = session
        sync_catalog(session)
        self.product = session.scalar(select(Product).where(Product.code == product_code))
        self.person = self.person_named("张三", date(1980, 1, 1), 101, "13900000001")
        self.account = Account(mobile="13900000001", person=self.person, created_at=at(2024, 1, 1))
        self.staff = Account(mobile="13900000009", staff_role="coordinator", created_at=at(2024, 1, 1))
        self.stranger = Account(mobile="13900000003", created_at=at(2024, 1, 1))
        session.add_all([self.account, self.staff, self.stranger])
        self.policy = Policy(number=f"T-{product_code}", product=self.product, holder=self.person, insured=self.person,
                             effective_date=effective, expiry_date=anniversary(effective, policy_kw.pop("years", 1)),
                             cooling_off_days=policy_kw.pop("cooling_off_days", 15),
                             waiting_days=policy_kw.pop("waiting_days", 90), created_at=at(2024, 1, 1), **policy_kw)
        session.add(self.policy)
        session.flush()
        session.add(Diagnosis(person_id=self.person.id, certainty="confirmed", diagnosed_on=effective + timedelta(days=120),
                              hospital="测试医院", hospital_grade="3A", verified_at=at(2024, 1, 1)))
        session.commit()

    def person_named(self, name, birth, seq, mobile=None):
        person = Person(name=name, id_number=demo_resident_id("110105", birth, seq), birth_date=birth, mobile=mobile,
                        created_at=at(2024, 1, 1))
        self.session.add(person)
        return person

    def guardian(self, mobile="13900000002", status="verified", valid_until=None) -> Account:
        parent = Account(mobile=mobile, created_at=at(2024, 1, 1))
        self.session.add(parent)
        self.session.flush()
        self.session.add(ProxyGrant(grantee_account_id=parent.id, insured_person_id=self.person.id, kind="guardian_minor",
                                    status=status, valid_until=valid_until, created_at=at(2024, 1, 1)))
        self.session.commit()
        return parent


@pytest.fixture()
def world(session):
    return World(session)
