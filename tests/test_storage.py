"""The page-image stores: one contract, run against LocalStorage (a temp dir) and S3Storage (a real SeaweedFS server),
then what only one of them can show: crash-safety of the local put under injected faults, sweeping, file modes and
symlinks; signing, checksums, configuration and an unreachable endpoint for S3.

SECURITY.md, Uploads: stored under a random name outside the web root; "No orphans": a failed put leaves nothing under
its key, and what an interrupted write leaves behind is swept.
"""
from __future__ import annotations

import errno
import io
import os
import re
import stat
import time

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.seaweed import free_ports, s3_server, s3_storage  # noqa: F401
from webapp.services.papers import storage as storage_module
from webapp.services.papers.storage import LocalStorage, S3Storage, Storage, StorageError, new_key, storage_from_config

MB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    return request.getfixturevalue("s3_storage")


def stored_anything(store) -> bool:
    """Whether the store holds any object at all, looking past the key filter of keys()."""
    if isinstance(store, LocalStorage):
        return any(files for _, _, files in os.walk(store.objects)) or bool(os.listdir(store.tmp))
    return bool(store.client.list_objects_v2(Bucket=store.bucket).get("Contents"))


# ------------------------------------------------------------------------------------------------ the contract


def test_new_keys_are_random_lowercase_hex():
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


def test_round_trip_of_a_few_megabytes_and_its_thumbnail(store):
    assert isinstance(store, Storage)
    key, page, thumb = new_key(), os.urandom(3 * MB + 17), os.urandom(20_000)
    assert not store.exists(key)
    store.put(key, page)
    store.put(key + ".t", thumb)
    assert store.exists(key) and store.exists(key + ".t")
    assert store.get(key) == page
    assert store.get(key + ".t") == thumb


def test_put_overwrites_the_whole_object(store):
    key = new_key()
    store.put(key, b"a" * 100_000)
    store.put(key, b"short")
    assert store.get(key) == b"short"
    assert list(store.keys()) == [key]


def test_delete_is_idempotent(store):
    key = new_key()
    store.put(key, b"page")
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)
    store.delete(new_key())  # never existed
    with pytest.raises(KeyError):
        store.get(key)


def test_get_of_an_absent_key_is_a_key_error(store):
    with pytest.raises(KeyError):
        store.get(new_key())
    with pytest.raises(KeyError):
        store.get(new_key() + ".t")


def test_keys_lists_exactly_what_was_put(store):
    assert list(store.keys()) == []
    keys = [new_key() for _ in range(5)]
    for key in keys:
        store.put(key, key.encode())
    store.put(keys[0] + ".t", b"thumb")
    store.delete(keys[1])
    assert sorted(store.keys()) == sorted({*keys, keys[0] + ".t"} - {keys[1]})


def test_keys_older_than_skips_fresh_objects(store):
    key = new_key()
    store.put(key, b"page")
    assert list(store.keys(older_than=3600)) == []  # an upload may sit between its put and its commit
    assert list(store.keys(older_than=0)) == [key]
    assert list(store.keys()) == [key]


def test_nothing_to_sweep_in_a_fresh_store(store):
    assert store.sweep_temp() == 0
    assert store.sweep_temp(older_than=3600) == 0


BAD_KEYS = [
    "../x", "ABC", "A" * 32, "0123456789ABCDEF0123456789abcdef", "a" * 33, "a" * 31, "", "a" * 16 + "/" + "a" * 15,
    "a" * 16 + "\\" + "a" * 15, "../" + "a" * 29, "/" + "a" * 31, "a" * 32 + "\n", "a" * 32 + ".T", "a" * 32 + ".tt",
    "a" * 32 + ".thumb", "a" * 32 + "/.t", "a" * 31 + "\x00", "g" * 32, "a" * 32 + ".t.t", b"a" * 32, None,
]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=repr)
def test_invalid_keys_are_refused_and_nothing_is_written(store, bad):
    with pytest.raises(ValueError):
        store.put(bad, b"payload")
    with pytest.raises(ValueError):
        store.get(bad)
    with pytest.raises(ValueError):
        store.delete(bad)
    with pytest.raises(ValueError):
        store.exists(bad)
    assert not stored_anything(store)


# ------------------------------------------------------------------------------------------------ LocalStorage


@pytest.fixture()
def local(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def object_path(store: LocalStorage, key: str) -> str:
    return os.path.join(store.objects, key[:2], key)


def test_layout_and_private_modes(local):
    key = new_key()
    local.put(key, b"page")
    path = object_path(local, key)
    assert os.path.isfile(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for directory in (local.objects, local.tmp, os.path.dirname(path)):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert os.listdir(local.tmp) == []


def test_two_stores_on_one_root_do_not_race(tmp_path):
    """Every gunicorn worker builds its own store on the same root: creating it again is harmless."""
    first, second = LocalStorage(tmp_path / "uploads"), LocalStorage(tmp_path / "uploads")
    key = new_key()
    first.put(key, b"page")
    assert second.get(key) == b"page"


def test_local_keys_age_from_mtime(local):
    old, fresh = new_key(), new_key()
    local.put(old, b"old")
    local.put(fresh, b"fresh")
    an_hour_ago = time.time() - 3600
    os.utime(object_path(local, old), (an_hour_ago, an_hour_ago))
    assert list(local.keys(older_than=600)) == [old]
    assert sorted(local.keys()) == sorted([old, fresh])


def _failing(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device (injected)")


def _half_then_full_disk():
    """os.write that writes part of the first buffer, then finds the disk full: a partial temp file exists."""
    real_write, calls = os.write, []

    def write(fd, data):
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data[:4096]))
        raise OSError(errno.ENOSPC, "No space left on device (injected)")
    return write


def _file_fsync_fails():
    """os.fsync that fails for the temp file, not for directories (a new shard's fsync comes before the write)."""
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            return real_fsync(fd)
        raise OSError(errno.EIO, "I/O error (injected)")
    return fsync


FAULTS = {
    "open": ("open", lambda: _failing),
    "write": ("write", _half_then_full_disk),
    "fsync": ("fsync", _file_fsync_fails),
    "replace": ("replace", lambda: _failing),
}


@pytest.mark.parametrize("stage", FAULTS)
def test_a_fault_leaves_nothing_under_the_key(local, monkeypatch, stage):
    """The documented way to inject faults: patch the module's `os` (webapp.services.papers.storage.os.fsync…)."""
    name, make = FAULTS[stage]
    key = new_key()
    with monkeypatch.context() as patch:
        patch.setattr(storage_module.os, name, make())
        with pytest.raises(StorageError):
            local.put(key, os.urandom(MB))
    assert not local.exists(key)
    assert key not in set(local.keys())
    with pytest.raises(KeyError):
        local.get(key)
    assert os.listdir(local.tmp) == []  # cleaned up at once: unlink still worked
    assert local.sweep_temp(older_than=0) == 0


@pytest.mark.parametrize("stage", ["write", "fsync", "replace"])
def test_a_crash_leaves_only_a_temp_file_for_the_sweeper(local, monkeypatch, stage):
    """As if the process died mid-put: the fault strikes and the cleanup cannot run either."""
    name, make = FAULTS[stage]
    key = new_key()
    with monkeypatch.context() as patch:
        patch.setattr(storage_module.os, name, make())
        patch.setattr(storage_module.os, "unlink", _failing)
        with pytest.raises(StorageError):
            local.put(key, os.urandom(MB))
    assert not local.exists(key)
    assert len(os.listdir(local.tmp)) == 1
    assert list(local.keys()) == []
    assert local.sweep_temp(older_than=0) == 1
    assert os.listdir(local.tmp) == []


def test_a_failed_directory_fsync_removes_the_renamed_object(local, monkeypatch):
    """After the rename, only the directory's fsync makes the new entry durable; if it fails, the object goes too, so
    that a raise always means "nothing under key"."""
    neighbour = "ab" + new_key()[2:]
    key = "ab" + new_key()[2:]
    local.put(neighbour, b"first in its shard")  # the shard exists: the only directory fsync left is the last step
    real_fsync = os.fsync

    def fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, "I/O error (injected)")
        return real_fsync(fd)

    with monkeypatch.context() as patch:
        patch.setattr(storage_module.os, "fsync", fsync)
        with pytest.raises(StorageError):
            local.put(key, b"page")
    assert not local.exists(key)
    assert list(local.keys()) == [neighbour]
    assert os.listdir(local.tmp) == []


def test_sweep_removes_stale_temp_files_only(local):
    stale, fresh = os.path.join(local.tmp, "stale.tmp"), os.path.join(local.tmp, "fresh.tmp")
    for path in (stale, fresh):
        with open(path, "wb") as f:
            f.write(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    assert local.sweep_temp(older_than=600) == 1
    assert os.listdir(local.tmp) == ["fresh.tmp"]  # may be a write in progress in another worker
    assert local.sweep_temp(older_than=0) == 1
    assert os.listdir(local.tmp) == []


def test_symlinks_are_never_followed_out_of_root(local, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret"
    secret.write_bytes(b"not a page")
    linked_key, shard_key = "ab" + new_key()[2:], "cd" + new_key()[2:]
    (outside / shard_key).write_bytes(b"outside root")
    os.makedirs(os.path.join(local.objects, "ab"), mode=0o700)
    os.symlink(secret, object_path(local, linked_key))  # a planted file link under a valid key
    os.symlink(outside, os.path.join(local.objects, "cd"))  # a planted shard link

    assert list(local.keys()) == []
    for key in (linked_key, shard_key):
        assert not local.exists(key)
        with pytest.raises(KeyError):
            local.get(key)
        local.delete(key)
    assert secret.read_bytes() == b"not a page"
    assert (outside / shard_key).read_bytes() == b"outside root"
    with pytest.raises(StorageError):
        local.put("cd" + new_key()[2:], b"must not land outside root")
    assert sorted(os.listdir(outside)) == sorted(["secret", shard_key])
    assert not os.path.lexists(object_path(local, linked_key))  # delete removed the link itself, not its target


def test_keys_skips_strays_without_crashing(local):
    key = new_key()
    local.put(key, b"page")
    shard = os.path.join(local.objects, key[:2])
    other = "ff" if key[:2] != "ff" else "ee"
    for path in (os.path.join(shard, "notes.txt"), os.path.join(shard, key.upper()), os.path.join(local.objects, "stray"),
                 os.path.join(shard, other + key[2:])):  # a well-formed key in the wrong shard
        with open(path, "wb") as f:
            f.write(b"stray")
    os.mkdir(os.path.join(local.objects, "zz"))
    os.mkdir(os.path.join(shard, new_key()))  # a directory named like a key
    assert list(local.keys()) == [key]


# ------------------------------------------------------------------------------------------------ S3Storage


# The fixtures come in by import (tests.seaweed); naming them as parameters here would shadow the imported names
# (ruff F811), so they are reached through request.


@pytest.fixture()
def s3(request) -> S3Storage:
    return request.getfixturevalue("s3_storage")


@pytest.fixture()
def server(request):
    return request.getfixturevalue("s3_server")


def test_s3_objects_are_jpeg_under_the_prefix(s3):
    key = new_key()
    s3.put(key, b"\xff\xd8 a jpeg")
    head = s3.client.head_object(Bucket=s3.bucket, Key="pages/" + key)
    assert head["ContentType"] == "image/jpeg"


def test_s3_keys_skips_names_that_are_not_keys(s3):
    key = new_key()
    s3.put(key, b"page")
    for name in ("pages/notes.txt", "pages/" + key.upper(), "elsewhere/" + new_key(), "pages/sub/" + new_key()):
        s3.client.put_object(Bucket=s3.bucket, Key=name, Body=b"stray")
    assert list(s3.keys()) == [key]


def test_s3_ensure_bucket_is_idempotent(s3):
    """Run again on a bucket that holds pages (every deploy runs it), it neither fails nor empties the bucket."""
    key = new_key()
    s3.put(key, b"page")
    s3.ensure_bucket()
    s3.ensure_bucket()
    assert [b["Name"] for b in s3.client.list_buckets()["Buckets"]].count(s3.bucket) == 1
    assert s3.get(key) == b"page" and list(s3.keys()) == [key]


def test_s3_sweep_aborts_stale_multipart_uploads(s3):
    client, bucket = s3.client, s3.bucket
    client.create_multipart_upload(Bucket=bucket, Key="pages/" + new_key())
    assert s3.sweep_temp(older_than=3600) == 0
    assert s3.sweep_temp() == 1
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_s3_a_body_damaged_in_transit_is_refused(s3):
    """Content-MD5 is computed from the bytes we meant to send; the server checks what it received."""
    def damage(request, **_):  # after signing and checksums, just before the bytes go out
        body = request.body.read() if hasattr(request.body, "read") else bytes(request.body)
        request.body = io.BytesIO(bytes([body[0] ^ 1]) + body[1:])

    s3.client.meta.events.register("before-send.s3.PutObject", damage)
    key = new_key()
    with pytest.raises(StorageError, match="BadDigest"):
        s3.put(key, os.urandom(100_000))
    s3.client.meta.events.unregister("before-send.s3.PutObject", damage)
    assert not s3.exists(key)


def test_s3_requests_are_really_signed(server, s3):
    """The server holds one identity: a wrong secret and an anonymous client are both refused."""
    forged = S3Storage(bucket=s3.bucket, endpoint_url=server.endpoint_url, access_key=server.access_key,
                       secret_key="not-the-secret")
    with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
        forged.put(new_key(), b"page")
    anonymous = boto3.session.Session().client("s3", endpoint_url=server.endpoint_url, region_name="us-east-1",
                                               config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
    with pytest.raises(ClientError, match="AccessDenied"):
        anonymous.put_object(Bucket=s3.bucket, Key="pages/" + new_key(), Body=b"page")
    assert list(s3.keys()) == []


def test_storage_from_config_defaults_to_local_disk(tmp_path):
    local = storage_from_config({"UPLOAD_DIR": str(tmp_path / "up")})
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "up").resolve()
    assert isinstance(storage_from_config({"STORAGE_BACKEND": "local", "UPLOAD_DIR": str(tmp_path)}), LocalStorage)
    with pytest.raises(ValueError, match="STORAGE_BACKEND"):
        storage_from_config({"STORAGE_BACKEND": "gcs"})
    with pytest.raises(ValueError, match="S3_BUCKET"):
        storage_from_config({"STORAGE_BACKEND": "s3"})


def test_storage_from_config_builds_a_working_s3_store(server, s3):
    built = storage_from_config({"STORAGE_BACKEND": "s3", "S3_BUCKET": s3.bucket, "S3_ENDPOINT_URL": server.endpoint_url,
                                 "S3_ACCESS_KEY_ID": server.access_key, "S3_SECRET_ACCESS_KEY": server.secret_key,
                                 "S3_REGION": ""})
    assert isinstance(built, S3Storage) and built.bucket == s3.bucket and built.region == "us-east-1"
    key = new_key()
    built.put(key, b"through the configured client")
    assert s3.get(key) == b"through the configured client"


@pytest.mark.serial
def test_an_unreachable_endpoint_is_a_storage_error_quickly():
    (port,) = free_ports(1)  # nothing listens there
    store = S3Storage(bucket="nowhere", endpoint_url=f"http://127.0.0.1:{port}", access_key="k", secret_key="s")
    started = time.monotonic()
    for call in (lambda: store.put(new_key(), b"page"), lambda: store.get(new_key()), lambda: store.exists(new_key()),
                 lambda: store.delete(new_key()), lambda: list(store.keys()), store.sweep_temp, store.ensure_bucket):
        with pytest.raises(StorageError):
            call()
    assert time.monotonic() - started < 15
