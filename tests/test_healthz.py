"""/healthz for the load balancer (issue 16 item 5): 200 while the database answers and the page store can be read and
written, 503 naming the part that failed, quickly; the proxy warning (tests/test_servers.py) rides along."""
from __future__ import annotations

import logging
import shutil
import time

import pytest

from webapp import create_app
from webapp.services.papers.storage import StorageError

from .seaweed import free_ports


def test_healthy(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_an_upload_folder_gone_is_a_failed_store(app, client, caplog):
    from webapp.views.papers import storage

    with app.app_context():
        root = storage().root
    shutil.rmtree(root)  # the volume came unmounted
    with caplog.at_level(logging.ERROR, logger="lvtong.health"):
        response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (503, {"status": "unavailable", "failed": ["store"]})
    assert any("page store" in r.getMessage() for r in caplog.records)


def test_an_s3_store_that_does_not_answer_fails_within_seconds(app, client):
    (port,) = free_ports(1)  # nobody listens there
    app.config.update(STORAGE_BACKEND="s3", S3_BUCKET="pages", S3_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                      S3_ACCESS_KEY_ID="x", S3_SECRET_ACCESS_KEY="y")
    started = time.monotonic()
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (503, {"status": "unavailable", "failed": ["store"]})
    assert time.monotonic() - started < 5


def test_an_s3_bucket_that_is_missing_is_a_failed_store_and_a_real_one_is_fine(app, client, request):
    server = request.getfixturevalue("s3_server")
    store = request.getfixturevalue("s3_storage")
    app.config.update(STORAGE_BACKEND="s3", S3_ENDPOINT_URL=server.endpoint_url, S3_ACCESS_KEY_ID=server.access_key,
                      S3_SECRET_ACCESS_KEY=server.secret_key, S3_BUCKET=store.bucket)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    app.extensions.pop("storage", None)
    app.config["S3_BUCKET"] = "no-such-bucket-here"
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (503, {"status": "unavailable", "failed": ["store"]})


def test_a_database_that_does_not_answer_is_reported_and_the_proxy_warning_stays(tmp_path, caplog):
    (port,) = free_ports(1)
    app = create_app({"TESTING": True, "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere",
                      "SECRET_KEY": "test-only", "UPLOAD_DIR": str(tmp_path), "ENV_MODE": "production"})
    try:
        client = app.test_client()
        started = time.monotonic()
        with caplog.at_level(logging.ERROR):
            response = client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
        assert time.monotonic() - started < 5
        assert response.status_code == 503
        assert response.get_json() == {"status": "unavailable", "failed": ["database"], "warnings": [
            "X-Forwarded-For seen but TRUSTED_PROXIES=0: set TRUSTED_PROXIES"]}
        assert any("database does not answer" in r.getMessage() for r in caplog.records)
    finally:
        app.extensions["db_engine"].dispose()


def test_the_local_check_names_what_is_wrong(tmp_path):
    from webapp.services.papers.storage import LocalStorage

    store = LocalStorage(tmp_path / "up")
    store.check()
    shutil.rmtree(store.tmp)
    store.tmp.write_text("not a folder")
    with pytest.raises(StorageError, match="not usable"):
        store.check()
