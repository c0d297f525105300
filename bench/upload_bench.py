"""Eight phones uploading at once: photos through the whole web path on gunicorn (2 workers × 4 threads).

    .venv/bin/python bench/upload_bench.py [--clients 8] [--rounds 2] [--size 4000x3000]

Builds a fresh demo database (bench/http_bench.py's DemoPortal), signs in 8 sessions as the demo insured, and has
them post one distinct 4000×3000 phone JPEG each, all at once, `rounds` times, to the checklist of his second
opinion (the page script's request: one photo, HX-Request). Every upload is checked (200, or the benchmark fails).

Baseline, measured in the same run on the same machine: the same photos decoded bare by Pillow (`Image.open().load()`)
in 2 processes, 8 at a time — what the two workers could do if uploading were nothing but a decode. Printed: uploads/s,
the ratio of the web path to the bare decode, and p50/p95 latency per upload. Not a test: machines are noisy.
"""
from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_bench import BenchError, Client, DemoPortal, check_page, sign_in  # noqa: E402

from tests.photo_corpus import document_photo  # noqa: E402


def _decode(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.width


def bare_decodes(photos: list[bytes], clients: int) -> float:
    """Seconds for 2 processes to decode every photo, `clients` submitted at a time."""
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_decode, photos[:2]))  # warm the workers
        start = time.perf_counter()
        for i in range(0, len(photos), clients):
            list(pool.map(_decode, photos[i:i + clients]))
        return time.perf_counter() - start


def multipart(fields: dict[str, str], name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(base: str, cookies: dict, path: str, token: str, data: bytes, name: str) -> float:
    client = Client(base)
    client.cookies = dict(cookies)
    body, ctype = multipart({"csrf_token": token}, "photos", name, data)
    start = time.perf_counter()
    client.conn.request("POST", path, body=body, headers={
        "Content-Type": ctype, "HX-Request": "true", "X-CSRFToken": token,
        "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())})
    resp = client.conn.getresponse()
    text = resp.read().decode("utf-8", errors="replace")
    took = time.perf_counter() - start
    client.close()
    if resp.status != 200:
        raise BenchError(f"upload {name} answered {resp.status}: {text[:300]}")
    return took


def workers_memory(master_pid: int) -> list[tuple[int, int]]:
    """(current RSS, peak RSS) in kB of each gunicorn worker (the master's children), from /proc."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    found = []
    for pid in children:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        found.append((int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", default="4000x3000")
    args = parser.parse_args(argv)
    width, height = map(int, args.size.split("x"))
    total = args.clients * args.rounds
    print(f"generating {total} distinct {width}×{height} phone JPEGs …", flush=True)
    photos = [document_photo(width, height, text_seed=1000 + i, quality=92, exif=True, orientation=6) for i in range(total)]
    print(f"  {statistics.mean(len(p) for p in photos) / 1e6:.1f} MB each on average")

    with DemoPortal() as portal:
        # One signed-in session shared by every client: sign-in codes are rate-limited per number, and the
        # server's work per upload does not depend on whose session it is.
        sessions = [sign_in(portal.base)] * args.clients
        bookings = check_page(portal.base, sessions[0], "/bookings")
        refs = re.findall(r'href="/bookings/(LT[0-9A-Z]+)"', bookings)
        papers = None
        for ref in refs:
            html = check_page(portal.base, sessions[0], f"/bookings/{ref}/papers")
            if 'data-kind="medical_records"' in html and 'data-testid="upload-form"' in html:
                papers = (ref, html)
                break
        if papers is None:
            raise BenchError("no open booking of the demo insured takes medical records")
        ref, _html = papers
        # The page's CSRF token belongs to the session cookie that page set: keep both, as a browser does.
        browser = Client(portal.base)
        browser.cookies = dict(sessions[0])
        _resp, html = browser.request("GET", f"/bookings/{ref}/papers")
        browser.close()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        sessions = [dict(browser.cookies)] * args.clients
        tokens = [token] * args.clients
        idle = workers_memory(portal.server.proc.pid)
        kinds = ["medical_records", "diagnosis"]
        latencies: list[float] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        start = time.perf_counter()
        for r in range(args.rounds):
            threads = []
            for c in range(args.clients):
                i = r * args.clients + c
                path = f"/bookings/{ref}/papers/{kinds[i % 2]}"

                def run(i=i, c=c, path=path):
                    try:
                        took = upload(portal.base, sessions[c], path, tokens[c], photos[i], f"IMG_{i}.jpg")
                    except BaseException as exc:  # reported after the round
                        with lock:
                            errors.append(exc)
                        return
                    with lock:
                        latencies.append(took)
                threads.append(threading.Thread(target=run))
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
        web = time.perf_counter() - start
        busy = workers_memory(portal.server.proc.pid)
        if len(latencies) != total:
            raise BenchError(f"only {len(latencies)} of {total} uploads finished")
    bare = bare_decodes(photos, args.clients)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    print(f"\n{args.clients} concurrent uploads × {args.rounds} rounds, gunicorn 2 workers × 4 threads:")
    print(f"  web path   {total / web:6.2f} uploads/s   p50 {statistics.median(latencies) * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms")
    print(f"  bare decode{total / bare:6.2f} decodes/s  (2 processes, same photos, same run)")
    print(f"  the web path takes {web / bare:.2f}× the time of the bare decodes "
          f"(throughput {bare / web:.0%} of theirs)")
    for n, ((rss, _), (_, peak)) in enumerate(zip(idle, busy), 1):
        print(f"  worker {n}: {rss / 1024:5.0f} MB idle, peak {peak / 1024:5.0f} MB with 4 uploads in flight "
              f"(+{(peak - rss) / 1024 / 4:.0f} MB per upload)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
