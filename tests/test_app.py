"""The application shell: configuration, headers on every response, translated errors, language switch."""
import re

import pytest

from webapp import create_app
from webapp.config import ConfigError, from_environment

from .conftest import PRODUCTION_ID_KEYS


def test_secret_key_is_required_outside_development_and_demo():
    with pytest.raises(ConfigError):
        from_environment({"LVTONG_ENV": "production"})
    cfg = from_environment({"LVTONG_ENV": "production", "SECRET_KEY": "x" * 32, **PRODUCTION_ID_KEYS})
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["DEMO_MODE"] is False


def test_defaults_from_the_environment():
    cfg = from_environment({})
    assert cfg["DATABASE_URL"].startswith("sqlite:///") and cfg["DATABASE_URL"].endswith("instance/lvtong.sqlite3")
    assert cfg["UPLOAD_DIR"].endswith("uploads")
    assert cfg["RULES_TIMEZONE"] == "Asia/Shanghai"
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax" and cfg["SESSION_COOKIE_HTTPONLY"] is True
    cfg = from_environment({"DATABASE_URL": "postgresql+psycopg://u@h/db", "UPLOAD_DIR": "/srv/up"})
    assert cfg["DATABASE_URL"] == "postgresql+psycopg://u@h/db" and cfg["UPLOAD_DIR"] == "/srv/up"


def test_create_app_takes_a_config_mapping(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "k"})
    assert app.config["TESTING"] and app.config["SECRET_KEY"] == "k"


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("path, status", [("/", 200), ("/healthz", 200), ("/no-such-page", 404)])
def test_security_headers_on_every_response(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "HX-Request" in response.headers["Vary"]


def test_pages_carry_no_inline_script_or_style(client):
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html and "<style" not in html


def test_chinese_by_default_even_for_an_english_browser(client):
    html = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "绿通自助服务" in html and 'lang="zh-CN"' in html


def test_not_found_is_a_translated_page_and_a_fragment_for_htmx(client):
    page = client.get("/missing")
    assert page.status_code == 404 and "找不到这个页面" in page.get_data(as_text=True)
    fragment = client.get("/missing", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'data-testid="error"' in fragment


def test_language_switch_needs_csrf_and_sticks(client):
    assert client.post("/language", data={"locale": "en"}).status_code == 400  # CSRF is on in tests
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/language", data={"locale": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    english = client.get("/").get_data(as_text=True)
    assert "Green channel self-service" in english and 'lang="en"' in english


def test_language_switch_refuses_foreign_redirects(client):
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post("/language", data={"locale": "en", "next": target, "csrf_token": token})
        assert response.headers["Location"] == "/"


def test_state_never_changes_on_get(client):
    assert client.get("/language?locale=en").status_code == 405


@pytest.mark.own_app
def test_unexpected_errors_answer_a_generic_page_without_traceback(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and "secret detail" not in body and "Traceback" not in body
    assert "没有丢失" in body


def test_development_secret_is_shared_by_worker_processes(tmp_path, monkeypatch):
    import webapp.config as config

    monkeypatch.setattr(config, "ROOT", tmp_path)
    first = from_environment({"LVTONG_ENV": "demo"})["SECRET_KEY"]
    second = from_environment({"LVTONG_ENV": "demo"})["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_production_refuses_the_development_sms_backend(database_url):
    config = from_environment({"LVTONG_ENV": "production", "SECRET_KEY": "x" * 32, "DATABASE_URL": database_url,
                               **PRODUCTION_ID_KEYS})
    with pytest.raises(ConfigError, match="SMS_BACKEND"):
        create_app(config)


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(app):
    from webapp import create_app as make

    proxied = make({**app.config, "TRUSTED_PROXIES": 1})
    seen = {}

    @proxied.get("/_ip")
    def _ip():
        from flask import request

        seen["ip"] = request.remote_addr
        return ""

    proxied.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen["ip"] == "203.0.113.7"
    proxied.extensions["db_engine"].dispose()
