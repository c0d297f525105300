"""Throughput and p95 latency of the portal's busiest pages against a trivial Flask view, on the same gunicorn.

    .venv/bin/python bench/http_bench.py [--threads 8] [--duration 10] [--warmup 2] [--fragment /bookings/LT…/cancel]

Builds a fresh SQLite demo database in a temporary directory, serves the portal (wsgi:app) and bench/trivial_app.py
with `gunicorn --workers 2 --threads 4` on 127.0.0.1, signs in as the demo insured 13800000001 over HTTP, then
hammers each target with N keep-alive client threads. Everything started is stopped on the way out.
See bench/README.md for the targets.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"
INSURED = "13800000001"
HOME_TARGET = 0.30  # home throughput at least 30% of the trivial view's


class BenchError(RuntimeError):
    """A step the benchmark needs did not work; the message says which and why."""


# ------------------------------------------------------------------------------------------------------------------
# Servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def demo_env(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "LVTONG_ENV": "demo",
        "SECRET_KEY": secrets.token_hex(32),
        "UPLOAD_DIR": str(workdir / "uploads"),
        "SMS_BACKEND": "log",
    })
    return env


def build_demo_database(env: dict[str, str], root: Path = ROOT) -> None:
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["demo"]):
        done = subprocess.run(flask + step, cwd=root, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"`flask --app wsgi {' '.join(step)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")


class Gunicorn:
    """`gunicorn --workers 2 --threads 4 --bind 127.0.0.1:<free port> <app>`; a context manager that always stops it."""

    def __init__(self, app: str, env: dict[str, str], cwd: Path, ready_path: str, log: Path,
                 workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.app, self.env, self.cwd, self.ready_path, self.log = app, env, cwd, ready_path, log
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        cmd = [str(VENV_BIN / "gunicorn"), "--workers", str(self.workers), "--threads", str(self.threads),
               "--bind", f"{HOST}:{self.port}", "--log-level", "warning", self.app]
        self._log_file = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gunicorn {self.app} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", self.ready_path)
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise BenchError(f"gunicorn {self.app} not ready on {self.base}{self.ready_path} after {timeout} s ({last}):\n"
                         f"{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the master stops its own workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if getattr(self, "_log_file", None):
            self._log_file.close()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class DemoPortal:
    """A fresh demo database and the portal on gunicorn: `with DemoPortal() as portal: portal.base`."""

    workers: int = 2
    threads: int = 4
    keep: bool = False
    root: Path = ROOT  # the checkout served: this one, or an earlier one to compare with (--compare)
    database_url: str | None = None  # an empty database to build the demo in (--database-url); default a SQLite file
    workdir: Path = field(init=False)
    server: Gunicorn = field(init=False)

    def __enter__(self) -> "DemoPortal":
        self.workdir = Path(tempfile.mkdtemp(prefix="lvtong-bench-"))
        try:
            self.env = demo_env(self.workdir, self.database_url)
            build_demo_database(self.env, self.root)
            self.server = Gunicorn("wsgi:app", self.env, self.root, "/healthz", self.workdir / "gunicorn-portal.log",
                                   self.workers, self.threads).__enter__()
        except BaseException:
            self._cleanup()
            raise
        self.base = self.server.base
        return self

    def _cleanup(self) -> None:
        if not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        try:
            if hasattr(self, "server"):
                self.server.stop()
        finally:
            self._cleanup()


# ------------------------------------------------------------------------------------------------------------------
# A minimal HTTP client with cookies (neither requests nor urllib3 is installed; http.client keeps connections alive)

class Client:
    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        hdrs = {"User-Agent": "lvtong-bench", "Accept-Encoding": "gzip", **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=hdrs)
        resp = self.conn.getresponse()
        data = resp.read()
        for header in resp.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if resp.getheader("Content-Encoding") == "gzip":
            import gzip

            data = gzip.decompress(data)
        return resp, data.decode("utf-8", errors="replace")

    def get_following(self, path: str, headers: dict | None = None, limit: int = 5):
        """GET, following redirects on the same host; returns (final path, response, text)."""
        for _ in range(limit):
            resp, text = self.request("GET", path, headers=headers)
            if resp.status in (301, 302, 303, 307, 308):
                path = urlsplit(resp.getheader("Location")).path or "/"
                continue
            return path, resp, text
        raise BenchError(f"too many redirects from {path}")

    def close(self) -> None:
        self.conn.close()


def _form_fields(form_html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", form_html):
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if name:
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    return fields


def _form_with(html: str, input_name: str) -> tuple[str, dict[str, str]]:
    """The (action, fields) of the first form holding an input called `input_name`."""
    for match in re.finditer(r"<form\b([^>]*)>(.*?)</form>", html, re.S):
        attrs, inner = match.groups()
        if re.search(rf'<input\b[^>]*\bname="{re.escape(input_name)}"', inner):
            action = re.search(r'\baction="([^"]*)"', attrs)
            return (unescape(action.group(1)) if action else ""), _form_fields(inner)
    raise BenchError(f"no form with an input named {input_name!r} on the page")


def human_answer(html: str) -> str | None:
    """The answer to the sign-in page's question for a person ("what is 3 plus 4?"), if the page asks it."""
    found = re.search(r'data-testid="human-check".*?<label[^>]*>(.*?)</label>', html, re.S)
    if not found:
        return None
    numbers = [int(n) for n in re.findall(r"\d+", found.group(1))]
    return str(sum(numbers[:2])) if len(numbers) >= 2 else None


def sign_in(base: str, mobile: str = INSURED) -> dict[str, str]:
    """Sign in over HTTP exactly as a phone would; returns the cookies of the signed-in session."""
    client = Client(base)
    try:
        resp, html = client.request("GET", "/sign-in")
        if resp.status == 404:
            raise BenchError("GET /sign-in answered 404: the sign-in page does not exist yet")
        if resp.status != 200:
            raise BenchError(f"GET /sign-in answered {resp.status}")
        action, fields = _form_with(html, "mobile")
        if "csrf_token" not in fields:
            raise BenchError("the sign-in form has no csrf_token field")
        fields["mobile"] = mobile
        for _attempt in range(2):  # a new device is asked a sum (issue 17), at once or after the first try
            answer = human_answer(html)
            if answer:
                fields["human_answer"] = answer
            resp, html = client.request("POST", action or "/sign-in", form=fields)
            if resp.status == 200 or not human_answer(html):
                break
        if resp.status != 200:
            raise BenchError(f"POST {action or '/sign-in'} (mobile) answered {resp.status}")
        code = re.search(r'data-testid="demo-code"[^>]*>\s*(\d{6})\s*<', html)
        if not code:
            raise BenchError('no [data-testid="demo-code"] with a 6-digit code after submitting the mobile number '
                             "(is LVTONG_ENV=demo showing the demo code?)")
        action, fields = _form_with(html, "code")
        fields["code"] = code.group(1)
        resp, html = client.request("POST", action or "/sign-in", form=fields)
        if resp.status not in (302, 303):
            raise BenchError(f"POST {action} (code) answered {resp.status}, not a redirect: sign-in refused?")
        landing = urlsplit(resp.getheader("Location")).path
        if landing != "/home":
            raise BenchError(f"signed in, but sent to {landing} rather than /home")
        return dict(client.cookies)
    finally:
        client.close()


def check_page(base: str, cookies: dict[str, str], path: str, headers: dict | None = None) -> str:
    """GET `path` with `cookies`, which take any cookie the answer sets, as a browser's would: the first page after
    signing in puts the session's CSRF secret in the session cookie, and a client that dropped it would get a
    session without one, so a fresh secret (and a freshly rendered page), on every request."""
    client = Client(base)
    client.cookies = dict(cookies)
    try:
        resp, text = client.request("GET", path, headers=headers)
    finally:
        client.close()
        cookies.clear()
        cookies.update(client.cookies)
    if resp.status == 404:
        raise BenchError(f"GET {path} answered 404: the page does not exist (yet), or is not this user's")
    if resp.status in (301, 302, 303):
        raise BenchError(f"GET {path} redirected to {resp.getheader('Location')}: not signed in?")
    if resp.status != 200:
        raise BenchError(f"GET {path} answered {resp.status}")
    return text


def discover_fragment(base: str, cookies: dict[str, str]) -> str:
    html = check_page(base, cookies, "/bookings")
    match = re.search(r'href="(/bookings/LT[^"/?#]+)"', html)
    if not match:
        raise BenchError("no link to /bookings/LT… on /bookings: pass one with --fragment")
    return match.group(1) + "/cancel"


# ------------------------------------------------------------------------------------------------------------------
# Load

@dataclass
class Result:
    name: str
    path: str
    requests: int = 0
    errors: int = 0
    body_bytes: int = 0  # size on the wire (gzip) of the last good response
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def merge(self, other: "Result") -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.body_bytes = other.body_bytes or self.body_bytes
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def hammer(name: str, base: str, path: str, *, threads: int, duration: float, warmup: float,
           cookies: dict[str, str] | None = None, headers: dict | None = None) -> Result:
    """`threads` keep-alive connections requesting `path` for warmup + duration seconds; only the last part counts."""
    parts = urlsplit(base)
    hdrs = {"User-Agent": "lvtong-bench", "Accept-Encoding": "gzip", **(headers or {})}
    if cookies:
        hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    result = Result(name, path)
    lock = threading.Lock()
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + duration
    failures: list[str] = []

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine: list[float] = []
        errors = 0
        try:
            while True:
                t0 = time.monotonic()
                if t0 >= stop_at:
                    break
                try:
                    conn.request("GET", path, headers=hdrs)
                    resp = conn.getresponse()
                    size = len(resp.read())
                    ok = resp.status == 200
                    if resp.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException) as exc:
                    ok = False
                    conn.close()
                    if len(failures) < 3:
                        failures.append(repr(exc))
                t1 = time.monotonic()
                if t0 >= measure_from and t1 <= stop_at:
                    if ok:
                        mine.append(t1 - t0)
                        result.body_bytes = size
                    else:
                        errors += 1
        finally:
            conn.close()
            with lock:
                result.latencies.extend(mine)
                result.requests += len(mine)
                result.errors += errors

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    result.seconds = duration
    if failures:
        print(f"  {name}: transport errors, e.g. {failures}", file=sys.stderr)
    return result


def print_table(results: list[Result], threads: int, duration: float, rounds: list[dict[str, float]] = ()) -> None:
    base = results[0]
    print()
    print(f"{threads} client threads, {duration:g} s per target in interleaved rounds; gunicorn --workers 2 --threads 4; "
          f"{os.cpu_count()} CPUs shared by client and servers")
    print("bytes: one response body on the wire (gzip); p95/trivial: how many times slower the 95th percentile is")
    print()
    header = f"{'target':<10} {'path':<34} {'bytes':>7} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} " \
             f"{'rps/trivial':>12} {'p95/trivial':>12}"
    print(header)
    print("-" * len(header))
    for r in results:
        rps_ratio = r.rps / base.rps if base.rps else float("nan")
        p95_ratio = r.percentile(95) / base.percentile(95) if base.latencies else float("nan")
        path = r.path if len(r.path) <= 34 else r.path[:31] + "..."
        print(f"{r.name:<10} {path:<34} {r.body_bytes:>7} {r.requests:>9} {r.errors:>7} {r.rps:>9.1f} "
              f"{r.percentile(50) * 1000:>8.1f} {r.percentile(95) * 1000:>8.1f} {rps_ratio:>11.0%} {p95_ratio:>11.1f}x")
    print()
    by_name = {r.name: r for r in results}
    if "home" in by_name and base.rps:
        ratio = by_name["home"].rps / base.rps
        per_round = sorted(r["home"] / r["trivial"] for r in rounds if r.get("trivial") and "home" in r)
        if per_round:
            print("home/trivial per round: " + ", ".join(f"{x:.0%}" for x in per_round)
                  + f"  (median {statistics.median(per_round):.0%})")
        verdict = "MET" if ratio >= HOME_TARGET else "MISSED"
        print(f"target: home >= {HOME_TARGET:.0%} of trivial throughput -> {ratio:.0%} over the whole run  {verdict}")
    if "home" in by_name and "home@base" in by_name:
        per_round = sorted(r["home"] / r["home@base"] for r in rounds if r.get("home@base"))
        print("home/home@base per round: " + ", ".join(f"{x:.0%}" for x in per_round)
              + f"  (median {statistics.median(per_round):.0%}); over the run "
              f"{by_name['home'].rps / by_name['home@base'].rps:.0%}")
    if any(r.errors for r in results):
        print("warning: some requests failed (non-200 or transport errors); see the errors column")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per target (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each slice (at most 1)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds the duration is split into (default 5)")
    parser.add_argument("--fragment", help="an htmx fragment URL, e.g. /bookings/LT…/cancel "
                                           "(default: the first booking on /bookings + /cancel)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server logs)")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also serve the portal of another checkout (e.g. `git worktree add DIR <commit>`, with .venv "
                             "linked) and load its /home in the same rounds, as `home@base`")
    parser.add_argument("--database-url", help="an empty database to build the demo world in and serve from, e.g. "
                                               "postgresql+psycopg://postgres@127.0.0.1/lvt_http (default: SQLite)")
    args = parser.parse_args(argv)

    results: list[Result] = []
    rounds: list[dict[str, float]] = []  # requests/s per target in each round
    slice_ = args.duration / args.rounds
    load = dict(threads=args.threads, duration=slice_, warmup=min(args.warmup, 1.0))
    try:
        with contextlib.ExitStack() as stack, DemoPortal(keep=args.keep, database_url=args.database_url) as portal:
            print(f"portal (demo database in {portal.workdir}) on {portal.base}")
            trivial_log = portal.workdir / "gunicorn-trivial.log"
            with Gunicorn("trivial_app:app", portal.env, ROOT / "bench", "/", trivial_log) as trivial:
                print(f"trivial Flask view on {trivial.base}")
                cookies = sign_in(portal.base)
                print(f"signed in as {INSURED}")
                check_page(portal.base, cookies, "/home")
                fragment = args.fragment or discover_fragment(portal.base, cookies)
                htmx = {"HX-Request": "true", "HX-Current-URL": f"{portal.base}/bookings"}
                check_page(portal.base, cookies, fragment, headers=htmx)
                targets = [("trivial", trivial.base, "/", {}), ("home", portal.base, "/home", {"cookies": cookies}),
                           ("bookings", portal.base, "/bookings", {"cookies": cookies}),
                           ("fragment", portal.base, fragment, {"cookies": cookies, "headers": htmx})]
                if args.compare:
                    other = stack.enter_context(DemoPortal(keep=args.keep, root=args.compare.resolve()))
                    other_cookies = sign_in(other.base)
                    check_page(other.base, other_cookies, "/home")
                    print(f"baseline portal from {args.compare} on {other.base}")
                    targets.append(("home@base", other.base, "/home", {"cookies": other_cookies}))
                totals = {name: Result(name, path) for name, _, path, _ in targets}
                # Interleaved rounds: a machine that slows down or speeds up mid-run moves every target alike.
                for number in range(args.rounds):
                    this_round = {}
                    for name, base, path, extra in targets:
                        r = hammer(name, base, path, **load, **extra)
                        totals[name].merge(r)
                        this_round[name] = r.rps
                    rounds.append(this_round)
                    print(f"  round {number + 1}/{args.rounds}: " + ", ".join(f"{k} {v:.0f} req/s" for k, v in this_round.items()))
                results = list(totals.values())
    except BenchError as exc:
        if results:
            print_table(results, args.threads, args.duration, rounds)
        print(f"\nbench stopped: {exc}", file=sys.stderr)
        return 2
    print_table(results, args.threads, args.duration, rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
