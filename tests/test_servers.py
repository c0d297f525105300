"""Several servers, safely (issue 16 item 4): a proxy's header seen while TRUSTED_PROXIES is 0, a local upload
folder that is not the shared store, the calendar's cache across servers."""
from __future__ import annotations

import logging

import pytest

from webapp import create_app

FORWARDED = {"X-Forwarded-For": "203.0.113.9"}


@pytest.fixture()
def production(app):
    app.config["ENV_MODE"] = "production"
    yield app
    app.extensions.pop("proxy_header_seen", None)


def test_a_proxy_header_without_trusted_proxies_is_logged_once_and_shown_in_healthz(production, caplog):
    client = production.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    with caplog.at_level(logging.ERROR, logger="lvtong.security"):
        client.get("/healthz", headers=FORWARDED)
        client.get("/", headers=FORWARDED)
    errors = [r for r in caplog.records if "TRUSTED_PROXIES=0" in r.getMessage()]
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR
    assert "X-Forwarded-For" in errors[0].getMessage()
    health = client.get("/healthz")  # the warning stays, even for a request that came without the header
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok", "warnings": ["X-Forwarded-For seen but TRUSTED_PROXIES=0: set TRUSTED_PROXIES"]}


def test_outside_production_a_proxy_header_is_not_a_warning(client, caplog):
    with caplog.at_level(logging.ERROR, logger="lvtong.security"):
        assert client.get("/healthz", headers=FORWARDED).get_json() == {"status": "ok"}
    assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]


def test_with_trusted_proxies_the_header_is_expected(database_url, tmp_path, caplog):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-only",
                      "UPLOAD_DIR": str(tmp_path), "TRUSTED_PROXIES": 1, "ENV_MODE": "production"})
    try:
        with caplog.at_level(logging.ERROR, logger="lvtong.security"):
            assert app.test_client().get("/healthz", headers=FORWARDED).get_json() == {"status": "ok"}
        assert not [r for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage()]
    finally:
        app.extensions["db_engine"].dispose()
