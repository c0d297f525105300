"""Where page images live: one small interface, a local-disk store and an S3-compatible one, chosen by configuration.

SECURITY.md (Uploads, "No orphans") asks that a crash at any point leaves neither a file without a row nor a row
without its file. The store's half of that promise is `put`: when it returns, the object is durable and complete
under its key; when it raises, nothing is there (only temp leftovers, which `sweep_temp` removes). The caller stores
first and commits the row second; files whose row never came are found with `keys(older_than=…)` by the sweeper.

Keys are ours, never the user's: 32 random hex characters, plus ".t" for a page's thumbnail. Every method checks the
key against that pattern before it touches a path or a request, so nothing a user typed can reach the disk or the bucket.

Plain Python on purpose (no Flask): the CLI, the sweeper and the tests use it without an app.
"""
from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from botocore.exceptions import BotoCoreError, ClientError  # light (~10 ms); boto3 itself is imported only for S3

__all__ = ["StorageError", "Storage", "LocalStorage", "S3Storage", "new_key", "storage_from_config"]

KEY_PATTERN = re.compile(r"[0-9a-f]{32}(\.t)?")
DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "uploads"  # the project's uploads/, kept out of git by its .gitignore
SHARED_MARKER = ".lvtong-store"  # in a local store's root: the folder every server shares (LocalStorage.is_shared)


class StorageError(RuntimeError):
    """The store failed (disk full, permissions, S3 down…): the caller rolls its transaction back."""


def new_key() -> str:
    """A fresh random key (128 bits): unguessable, never derived from a user's file name, never reused."""
    return secrets.token_hex(16)


def _check(key: str) -> str:
    # fullmatch, not match with "$": "$" also matches before a trailing newline.
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


@runtime_checkable
class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Durable and atomic: afterwards the object exists complete under key; if it raises, nothing does."""

    def get(self, key: str) -> bytes:
        """The object's bytes; KeyError if absent."""

    def delete(self, key: str) -> None:
        """Remove the object; an absent one is fine."""

    def exists(self, key: str) -> bool: ...

    def keys(self, *, older_than: float = 0.0, prefix: str = "") -> Iterator[str]:
        """Every stored key (starting with `prefix`) whose object is at least `older_than` seconds old (fresh ones
        may await their commit). Streamed, never collected: a store may hold millions."""

    def listing(self, *, prefix: str = "") -> Iterator[tuple[str, float]]:
        """(key, modified time in epoch seconds) of every stored key starting with `prefix`, in key order."""

    def sweep_temp(self, *, older_than: float = 0.0) -> int:
        """Remove leftovers of interrupted writes older than that; how many."""

    def is_shared(self) -> bool:
        """Is this the one store every server reads? Only then may a missing object mean a lost page (the sweeper)."""

    def check(self) -> None:
        """Cheap and quick (a few seconds at most): raise StorageError unless the store can be read and written
        (/healthz)."""


# --------------------------------------------------------------------------------------------------- local disk

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class _Keys:
    """`keys` from a store's own `listing`: the names under `prefix`, only those older than `older_than` seconds if set."""

    def keys(self, *, older_than: float = 0.0, prefix: str = "") -> Iterator[str]:
        cutoff = time.time() - older_than
        for key, modified in self.listing(prefix=prefix):
            if older_than <= 0 or modified <= cutoff:
                yield key


class LocalStorage(_Keys):
    """Objects on the filesystem: `root/objects/<key[:2]>/<key>`, temp files in `root/tmp/` (same filesystem, so the
    final `os.replace` is an atomic rename). Files 0o600, directories 0o700: the photos are health data.

    Symlinks are never followed below root (a planted one cannot leak or overwrite a file elsewhere); root itself may
    be a symlink (a deployment may mount its volume anywhere). Every OS call goes through the module's `os`, which
    the tests patch to inject faults.
    """

    def __init__(self, root: str | os.PathLike = DEFAULT_ROOT):
        self.root = Path(os.path.realpath(root))
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        try:
            # Eager and idempotent: several gunicorn workers may construct a store at once; exist_ok makes it race-free.
            for path in (self.root, self.objects, self.tmp):
                os.makedirs(path, mode=0o700, exist_ok=True)
            for path in (self.objects, self.tmp):
                self._real_dir(path)
        except OSError as exc:
            raise StorageError(f"cannot prepare the upload directory {self.root}: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- several servers

    def is_shared(self) -> bool:
        """The marker `flask storage-init` wrote proves this folder is the store every server mounts: without it a
        server's own (empty or partial) folder could make the sweeper delete pages whose files live on another."""
        return os.path.isfile(self.root / SHARED_MARKER)

    def mark_shared(self) -> LocalStorage:
        """Write the marker (idempotent). Run once, on the shared folder, by `flask storage-init`."""
        try:
            with open(self.root / SHARED_MARKER, "w", encoding="utf-8") as f:
                f.write("The upload folder every 绿通 server mounts (flask storage-init). Keep this file.\n")
        except OSError as exc:
            raise StorageError(f"cannot write {self.root / SHARED_MARKER}: {exc}") from exc
        return self

    def check(self) -> None:
        """The folders are there, real directories, and this process may write into them (a volume that came
        unmounted, or was remounted read-only, fails here)."""
        try:
            for path in (self.objects, self.tmp):
                self._real_dir(path)
                if not os.access(path, os.W_OK | os.X_OK):
                    raise OSError(errno.EACCES, "not writable", path)
        except OSError as exc:
            raise StorageError(f"the upload directory {self.root} is not usable: {exc}") from exc

    # -- paths

    @staticmethod
    def _real_dir(path: str | os.PathLike) -> None:
        """A directory, not a symlink to one: otherwise writes would land (or reads come from) outside root."""
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise OSError(errno.ENOTDIR, "not a real directory (a symlink?)", path)

    def _shard(self, key: str) -> str:
        return os.path.join(self.objects, key[:2])

    def _path(self, key: str) -> str:
        return os.path.join(self._shard(key), key)

    def _fsync_dir(self, path: str | os.PathLike) -> None:
        """Make a rename or a new entry in `path` durable (a file's fsync does not cover its directory entry)."""
        fd = os.open(path, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _make_shard(self, key: str) -> str:
        shard = self._shard(key)
        try:
            os.mkdir(shard, 0o700)
        except FileExistsError:
            pass
        else:
            self._fsync_dir(self.objects)  # the new shard's own entry must survive a crash too
        self._real_dir(shard)
        return shard

    # -- the interface

    def put(self, key: str, data: bytes) -> None:
        _check(key)
        tmp = os.path.join(self.tmp, f"{key}.{secrets.token_hex(8)}.tmp")
        final = self._path(key)
        renamed = False
        try:
            shard = self._make_shard(key)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o600)
            try:
                view = memoryview(data).cast("B")
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
            renamed = True
            self._fsync_dir(shard)
        except OSError as exc:
            # Before the rename only the temp file exists; after it (the directory's fsync failed) the object may not
            # survive a crash, so it goes too: a raise always means "nothing under key", as the caller assumes.
            for leftover in (tmp, final) if renamed else (tmp,):
                try:
                    os.unlink(leftover)
                except OSError:
                    pass  # sweep_temp removes the temp file later; the final one is the orphan sweeper's
            raise StorageError(f"cannot store {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        _check(key)
        try:
            self._real_dir(self._shard(key))
            # O_NOFOLLOW: a symlink planted under a key is not ours; O_NONBLOCK: a planted FIFO cannot hang a worker.
            fd = os.open(self._path(key), os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_NONBLOCK)
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise KeyError(key) from None
            raise StorageError(f"cannot read {key}: {exc}") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise KeyError(key)
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc
        finally:
            os.close(fd)

    def delete(self, key: str) -> None:
        _check(key)
        try:
            self._real_dir(self._shard(key))  # unlinking through a planted shard symlink would delete outside root
            os.unlink(self._path(key))
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        _check(key)
        try:
            self._real_dir(self._shard(key))
            return stat.S_ISREG(os.lstat(self._path(key)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StorageError(f"cannot look up {key}: {exc}") from exc

    @staticmethod
    def _listing(path: str | os.PathLike) -> list[tuple[str, os.stat_result]]:
        """(name, lstat) of the entries of `path`, symlinks not followed; an entry removed meanwhile (another
        worker's delete or sweep) is simply not there."""
        found = []
        with os.scandir(path) as entries:
            for entry in entries:
                try:
                    found.append((entry.name, entry.stat(follow_symlinks=False)))
                except FileNotFoundError:
                    pass
        return sorted(found)

    def listing(self, *, prefix: str = "") -> Iterator[tuple[str, float]]:
        """Walks objects/ one shard at a time without following symlinks: anything that is not a regular file named
        as a key in its own shard (a stray file, a planted link) is skipped, not trusted. Ages come from mtime, which
        the rename keeps. Only one shard's names are held at once (a 256th of the store)."""
        try:
            shards = [name for name, info in self._listing(self.objects)
                      if len(name) == 2 and stat.S_ISDIR(info.st_mode) and name.startswith(prefix[:2])]
        except OSError as exc:
            raise StorageError(f"cannot list {self.objects}: {exc}") from exc
        for shard in shards:
            try:
                listing = self._listing(os.path.join(self.objects, shard))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StorageError(f"cannot list {self.objects}/{shard}: {exc}") from exc
            for name, info in listing:
                if (KEY_PATTERN.fullmatch(name) and name[:2] == shard and name.startswith(prefix)
                        and stat.S_ISREG(info.st_mode)):
                    yield name, info.st_mtime

    def sweep_temp(self, *, older_than: float = 0.0) -> int:
        """Temp files of writes that died before their rename. A fresh one may belong to a write in progress in
        another worker, hence `older_than`."""
        cutoff = time.time() - older_than
        removed = 0
        try:
            for name, info in self._listing(self.tmp):
                if stat.S_ISDIR(info.st_mode) or (older_than > 0 and info.st_mtime > cutoff):
                    continue
                try:
                    os.unlink(os.path.join(self.tmp, name))  # a link itself, never its target
                    removed += 1
                except FileNotFoundError:
                    pass  # another worker's sweeper got there first
        except OSError as exc:
            raise StorageError(f"cannot sweep {self.tmp}: {exc}") from exc
        return removed


# --------------------------------------------------------------------------------------------------- S3


class S3Storage(_Keys):
    """Objects in an S3-compatible bucket under `prefix`, for deployments with several servers.

    A single PutObject is atomic in S3 (readers see the whole old object or the whole new one), so there are no temp
    files; the Content-MD5 header makes the server refuse a body damaged in transit. A put whose response was lost may
    still have landed: that object has no row, and the orphan sweeper (`keys(older_than=…)`) removes it.
    """

    CONNECT_TIMEOUT = 3  # seconds: an unreachable store must fail a request quickly, not hang a worker
    READ_TIMEOUT = 20  # a few MB over a slow link
    ATTEMPTS = 3  # in all, the first included: botocore's "standard" mode retries throttling and 5xx with jittered backoff

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None, region: str = "us-east-1", prefix: str = "pages/", client=None):
        if not bucket:
            raise ValueError("S3Storage needs a bucket name (S3_BUCKET)")
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        if client is None:
            import boto3  # here, not at the top: a local-disk deployment never pays for importing boto3
            from botocore.config import Config  # only the S3 store needs botocore

            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                region_name=region,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                              connect_timeout=self.CONNECT_TIMEOUT, read_timeout=self.READ_TIMEOUT,
                              retries={"mode": "standard", "total_max_attempts": self.ATTEMPTS}))
        self.client = client
        self._health_client = None
        self._settings = {"endpoint_url": endpoint_url, "aws_access_key_id": access_key,
                          "aws_secret_access_key": secret_key, "region_name": region} if client is None else None

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r}, endpoint={self.client.meta.endpoint_url!r})"

    def _name(self, key: str) -> str:
        return self.prefix + _check(key)

    @staticmethod
    def _is_missing(exc) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return error.get("Code") in ("NoSuchKey", "404", "NotFound")

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing: an explicit step (tests, a CLI), never a side effect of serving."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"cannot check bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach the object store: {exc}") from exc
        extra = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        try:
            self.client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"cannot create bucket {self.bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot reach the object store: {exc}") from exc

    def put(self, key: str, data: bytes) -> None:
        name = self._name(key)
        body = bytes(data)
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode("ascii")
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=body, ContentType="image/jpeg", ContentMD5=md5)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot store {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        name = self._name(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            with response["Body"] as body:
                return body.read()
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                raise KeyError(key) from None
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # S3 answers 204 for an absent key too
        except (BotoCoreError, ClientError) as exc:
            if not self._is_missing(exc):
                raise StorageError(f"cannot delete {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
            return True
        except (BotoCoreError, ClientError) as exc:
            if self._is_missing(exc):
                return False
            raise StorageError(f"cannot look up {key}: {exc}") from exc

    def listing(self, *, prefix: str = "") -> Iterator[tuple[str, float]]:
        """Page by page (ListObjectsV2 returns at most 1 000 names per request, in key order): ages come from
        LastModified (the store's clock, whole seconds); names under the prefix that are not keys are skipped."""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    key = item["Key"][len(self.prefix):]
                    if KEY_PATTERN.fullmatch(key):
                        yield key, item["LastModified"].timestamp()
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot list {self.bucket}/{self.prefix}: {exc}") from exc

    def sweep_temp(self, *, older_than: float = 0.0) -> int:
        """No temp files in S3; the nearest thing is a multipart upload that was never completed (we never start
        one, but a tool or a crashed client may have), which costs storage until aborted. How many were aborted."""
        cutoff = time.time() - older_than
        aborted = 0
        try:
            paginator = self.client.get_paginator("list_multipart_uploads")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", ()):
                    if older_than <= 0 or upload["Initiated"].timestamp() <= cutoff:
                        self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                        aborted += 1
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot sweep multipart uploads in {self.bucket}: {exc}") from exc
        return aborted

    def is_shared(self) -> bool:
        """A bucket is one store for every server by nature."""
        return True

    HEALTH_TIMEOUT = 2  # seconds to connect and to read, one attempt: a health check answers quickly or fails

    def check(self) -> None:
        """One ListObjectsV2 of at most one name under our prefix (the bucket is there, our keys may list it), on a
        client of its own with short timeouts and no retry."""
        if self._health_client is None:
            if self._settings is None:
                self._health_client = self.client  # a client given by the caller (tests): its own settings
            else:
                import boto3  # only the S3 store needs boto3 (slow to import)
                from botocore.config import Config  # only the S3 store needs botocore

                self._health_client = boto3.session.Session().client(
                    "s3", **self._settings,
                    config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                  connect_timeout=self.HEALTH_TIMEOUT, read_timeout=self.HEALTH_TIMEOUT,
                                  retries={"mode": "standard", "total_max_attempts": 1}))
        try:
            self._health_client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"cannot list {self.bucket}/{self.prefix}: {exc}") from exc


# --------------------------------------------------------------------------------------------------- configuration


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """STORAGE_BACKEND "local" (the default: UPLOAD_DIR) or "s3" (S3_BUCKET, S3_ENDPOINT_URL, S3_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY, S3_REGION). A typo is an error at startup, not a silent fallback to local disk."""
    backend = config.get("STORAGE_BACKEND") or "local"
    if backend == "local":
        return LocalStorage(config.get("UPLOAD_DIR") or DEFAULT_ROOT)
    if backend == "s3":
        if not config.get("S3_BUCKET"):
            raise ValueError("S3_BUCKET must be set when STORAGE_BACKEND is 's3'")
        return S3Storage(bucket=config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL"),
                         access_key=config.get("S3_ACCESS_KEY_ID"), secret_key=config.get("S3_SECRET_ACCESS_KEY"),
                         region=config.get("S3_REGION") or "us-east-1")
    raise ValueError(f"STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
