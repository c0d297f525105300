"""A request id on every log line of a request and on its response; JSON lines in production (webapp/request_log.py,
issue 16 item 5)."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from webapp import create_app, request_log

FORWARDED = {"X-Forwarded-For": "203.0.113.9"}


def test_each_response_carries_a_fresh_id(client):
    first, second = client.get("/healthz"), client.get("/sign-in")
    ids = [r.headers["X-Request-ID"] for r in (first, second)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids) and ids[0] != ids[1]
    assert client.get("/no-such-page").headers["X-Request-ID"]  # error pages too


def test_without_a_trusted_proxy_the_clients_id_is_not_taken(client):
    response = client.get("/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert response.headers["X-Request-ID"] != "chosen-by-the-client"


@pytest.fixture()
def behind_proxy(database_url, tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-only",
                      "UPLOAD_DIR": str(tmp_path), "TRUSTED_PROXIES": 1})
    yield app
    app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("sent, kept", [
    ("7f3a9c0e2b4d4e6f8a1b2c3d4e5f6a7b", True),  # nginx's $request_id
    ("req-2026.12.03:abc", True),
    ("short", False),
    ("x" * 129, False),
    ("has space in it", False),
    ('quote"and<markup>', False),
])
def test_behind_a_trusted_proxy_its_id_is_kept_when_it_looks_like_one(behind_proxy, sent, kept):
    rid = behind_proxy.test_client().get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert (rid == sent) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", rid)


def test_every_log_line_of_a_request_names_its_id(app, caplog):
    app.config["ENV_MODE"] = "production"  # the proxy warning below is logged in production only
    try:
        with caplog.at_level(logging.ERROR, logger="lvtong.security"):
            response = app.test_client().get("/healthz", headers=FORWARDED)
    finally:
        app.extensions.pop("proxy_header_seen", None)
    lines = [r for r in caplog.records if "TRUSTED_PROXIES=0" in r.getMessage()]
    assert lines and {r.request_id for r in lines} == {response.headers["X-Request-ID"]}
    outside = logging.getLogger("lvtong.test").makeRecord("lvtong.test", logging.INFO, __file__, 1, "m", (), None)
    assert outside.request_id == "-"


def test_json_lines_are_one_object_per_record_traceback_included():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(request_log.JsonLines())
    log = logging.getLogger("lvtong.test.json")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("page %s\r\nforged line", "/x")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "page /x\\r\\nforged line" and first["level"] == "WARNING"
    assert first["logger"] == "lvtong.test.json" and first["request_id"] == "-" and first["time"].endswith("+00:00")
    assert second["message"] == "failed" and "ValueError: boom" in second["exception"]


def test_production_logs_json_lines_to_stderr_once(monkeypatch):
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        first = request_log.use_json_lines(io.StringIO())
        assert request_log.use_json_lines(io.StringIO()) is first
        assert isinstance(first.formatter, request_log.JsonLines)
    finally:
        root.handlers[:] = before
        root.setLevel(level)
