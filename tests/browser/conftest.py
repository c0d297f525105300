"""Browser tests: Debian's Chromium driven by Playwright against a live server, as a phone inside WeChat.

Every test here is marked `browser` and runs on one phone in WeChat (zh-CN, Asia/Shanghai): the iPhone 13, or
the phone named by `@pytest.mark.phones("Pixel 7")`; `@pytest.mark.phones(*DEVICES)` runs it on both, as the smoke
and narrow-screen checks do. They test pages, not the database: CI runs them once, in the SQLite pass. Each test
gets its own live server over the demo world, built once per run and restored for each test (tests/worlds.py),
with the clock put back to the moment it was built; the test can move it from there.

After every test that passed, it is failed if any page logged a console error (CSP violations included: Chromium
reports them as "Refused to …" / "… violates the following Content Security Policy directive" console errors),
threw an uncaught exception, got a 5xx response or a 4xx for an asset (CSS, script, image, font), or left anything
in `localStorage` (SECURITY.md: no health data kept in the browser).

Helpers for the tests (import them: `from .conftest import visit, sign_in`):
  visit(page, url, name=None)          navigate, check the status, run axe, save a screenshot
  axe_check(page)                      axe-core WCAG 2.1 A/AA: fail on serious/critical violations (once per page
                                       and phone: a page already checked in this run, in the same state, is not
                                       checked again)
  fits_width(page, url, name)          open at 320 px and fail if the page scrolls sideways
  shot(page, name)                     full-page screenshot in test-artifacts/screenshots/, when LVTONG_SCREENSHOTS=1
                                       (a failing test always leaves one of each page it had open)
  sign_in(page, base_url, mobile, next=None)   mobile → demo code → /home (or `next`)

axe-core is injected with `page.evaluate(<axe.min.js source>)` rather than `add_script_tag`: a script tag is
inline script, which the portal's CSP (`script-src 'self'`, no 'unsafe-inline') rightly refuses, whereas an
evaluation through the DevTools protocol is not subject to the page's CSP. So no context needs `bypass_csp`, and the
pages are checked for accessibility and CSP violations in the same, unmodified browser context.
"""
from __future__ import annotations

import os
import re
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
AXE_FAILING_IMPACTS = ("serious", "critical")

# WeChat's in-app browser: WKWebView on iOS, the XWEB (Chromium) webview on Android.
WECHAT_UA = {
    "iPhone 13": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"
    ),
    "Pixel 7": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1220099 MMWEBSDK/20240404 MMWEBID/6170 "
        "MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
    ),
}
DEVICES = tuple(WECHAT_UA)
DEVICE_SLUGS = {"iPhone 13": "iphone13", "Pixel 7": "pixel7"}
DEFAULT_PHONE = "iPhone 13"
# Full-page screenshots cost 40-45 % of a browser test: taken on request, and always when a test fails.
SCREENSHOTS_ON = os.environ.get("LVTONG_SCREENSHOTS", "") not in ("", "0")

# Chromium asks for /favicon.ico on its own; a missing one says nothing about the portal.
IGNORED_URLS = (re.compile(r"/favicon\.ico$"),)
# Chromium logs every HTTP error response as a console error too; those are judged from the responses instead
# (5xx always fails; 4xx only for assets), so a page that rightly answers 404 or 422 can be tested.
HTTP_ERROR_CONSOLE = re.compile(r"^Failed to load resource: the server responded with a status of \d+")
ASSET_TYPES = ("stylesheet", "script", "image", "font", "media", "manifest")


# --------------------------------------------------------------------------------------------------------------
# Collection: everything here is a browser test; no Chromium → skip on a laptop, fail loudly on CI.

_HERE = Path(__file__).resolve().parent


def _chromium_missing_reason() -> str | None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return (f"Debian's Chromium is not installed at {CHROMIUM} "
            "(apt-get install -y --no-install-recommends chromium fonts-noto-cjk; see /work/shared/BROWSER.md)")


def pytest_collection_modifyitems(config, items):
    missing = _chromium_missing_reason()
    for item in items:
        if _HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if missing and os.environ.get("CI", "").lower() != "true":
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    missing = _chromium_missing_reason()
    if missing:  # only reached with CI=true (otherwise the tests were skipped at collection)
        pytest.fail(f"CI=true but the browser tests cannot run: {missing}", pytrace=False)


# --------------------------------------------------------------------------------------------------------------
# pytest-playwright's session fixtures, overridden for Debian's Chromium and two phones in WeChat.

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_generate_tests(metafunc):
    """Each browser test on the phones its `phones` mark names (the iPhone 13 when it names none)."""
    if "device" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("phones")
    phones = marker.args if marker else (DEFAULT_PHONE,)
    unknown = set(phones) - set(DEVICES)
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: no such phone {sorted(unknown)} (one of {DEVICES})")
    metafunc.parametrize("device", phones, ids=[DEVICE_SLUGS[d] for d in phones], indirect=True, scope="session")


@pytest.fixture(scope="session")
def device(request) -> str:
    """The Playwright device name (see pytest_generate_tests)."""
    return request.param


@pytest.fixture(scope="session")
def browser_context_args(playwright, device) -> dict:
    descriptor = dict(playwright.devices[device])
    descriptor.pop("default_browser_type", None)
    descriptor["user_agent"] = WECHAT_UA[device]
    return {**descriptor, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


# --------------------------------------------------------------------------------------------------------------
# The server side: a movable clock, the demo world, the app on a live server.

@dataclass
class MovableClock:
    """Real time plus an offset the test moves. The app calls it (app.config["CLOCK"]) for "now"."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def move(self, **delta) -> datetime:
        """clock.move(hours=3), clock.move(days=-1, minutes=5): shift "now" by that much."""
        self.offset += timedelta(**delta)
        return self()

    def set(self, moment: datetime) -> datetime:
        """Make "now" this aware instant (time keeps running from there)."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("clock.set() needs a timezone-aware datetime")
        self.offset = moment - datetime.now(timezone.utc)
        return self()

    def reset(self) -> datetime:
        self.offset = timedelta()
        return self()


@pytest.fixture()
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="session")
def demo_moment() -> datetime:
    """When this run's demo world is built: every browser test starts at this moment."""
    return datetime.now(timezone.utc)


@pytest.fixture()
def demo_world(session, clock, demo_moment):
    """The demo world (张伟, 李娜 and her son, 王芳, staff) as of `demo_moment`, with the clock set back to it;
    wiped after the test."""
    from webapp.services.demo import demo

    from ..conftest import build_demo

    build_demo(session, demo_moment)
    clock.set(demo_moment)
    return demo


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


@pytest.fixture()
def live_app(engine, database_url, demo_world, clock, tmp_path):
    from webapp import create_app

    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "browser-tests-only",
        "UPLOAD_DIR": str(tmp_path / "uploads"), "CLOCK": clock, "SHOW_DEMO_CODE": True,
    })
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture()
def live_server(live_app):
    """The base URL (http://127.0.0.1:<port>, no trailing slash) of the app served in a thread for this test."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


# --------------------------------------------------------------------------------------------------------------
# The browser side: every page watched for console errors; localStorage checked after the test.

@dataclass
class _Current:
    device: str = "device"
    test: str = "test"
    problems: list[str] = field(default_factory=list)
    contexts: list = field(default_factory=list)


_current = _Current()


def _watch(page) -> None:
    """Record console errors, uncaught exceptions, 5xx responses and missing assets of this page."""
    problems = _current.problems

    def ignored(url: str) -> bool:
        return any(p.search(url) for p in IGNORED_URLS)

    def on_console(message):
        if message.type != "error" or HTTP_ERROR_CONSOLE.match(message.text):
            return
        url = (message.location or {}).get("url", "")
        if not ignored(url):
            problems.append(f"console.error on {page.url}: {message.text}" + (f" ({url})" if url else ""))

    def on_response(response):
        request = response.request
        if ignored(response.url):
            return
        if response.status >= 500 or (response.status >= 400 and request.resource_type in ASSET_TYPES):
            problems.append(f"HTTP {response.status} for {request.method} {response.url} ({request.resource_type})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught exception on {page.url}: {error}"))
    page.on("response", on_response)

    def on_request_failed(request):
        failure = request.failure or ""
        if not ignored(request.url) and "ERR_ABORTED" not in failure:  # aborted: navigated away, not broken
            problems.append(f"request failed: {request.method} {request.url}: {failure}")

    page.on("requestfailed", on_request_failed)


@pytest.fixture()
def context(new_context, live_server, device, request):
    """A fresh phone context whose relative URLs go to the live server; every page in it is watched."""
    _current.device = DEVICE_SLUGS.get(device, device)
    _current.test = request.node.originalname
    _current.problems = []
    ctx = new_context(base_url=live_server)
    ctx.on("page", _watch)
    _current.contexts = [ctx]
    return ctx


@pytest.fixture()
def page(context):
    return context.new_page()


@pytest.fixture()
def watched_context(new_context, live_server):
    """Make another context (a second user, say) on the same terms: `ctx = watched_context(); p = ctx.new_page()`.

    `watched_context(java_script_enabled=False)` gives a browser without JavaScript; `axe_check` (and so `visit`,
    `sign_in`) then checks a copy of each page's DOM in a scripted page, as axe cannot run where timers never fire."""
    made = []

    def make(**kwargs):
        ctx = new_context(base_url=live_server, **kwargs)
        ctx.on("page", _watch)
        if kwargs.get("java_script_enabled") is False:
            _SCRIPTLESS[ctx] = None  # axe_check works on copies of its pages (_axe_check_copy)
        _current.contexts.append(ctx)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        copy = _SCRIPTLESS.pop(ctx, None)
        if copy is not None:
            copy.context.close()


def _after_test_problems() -> list[str]:
    problems = list(_current.problems)
    for ctx in _current.contexts:
        try:
            state = ctx.storage_state()
        except Exception:  # the test closed it itself
            continue
        for origin in state.get("origins", []):
            stored = origin.get("localStorage") or []
            if stored:
                keys = ", ".join(item["name"] for item in stored)
                problems.append(f"localStorage is not empty on {origin['origin']}: {keys}")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test leaves a screenshot of every page it had open (test-artifacts/screenshots/)."""
    report = yield
    if report.failed and call.when == "call" and "context" in getattr(item, "fixturenames", ()):
        for ctx in _current.contexts:
            for number, open_page in enumerate(ctx.pages):
                try:
                    path = shot(open_page, f"failed-{number}", always=True)
                    report.sections.append(("screenshot", str(path)))
                except Exception as exc:  # a closed or crashed page: the failure itself says more
                    report.sections.append(("screenshot", f"none of page {number}: {exc}"))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a browser test passes, fail it (not its teardown) on console errors or anything in localStorage."""
    result = yield
    if "context" in getattr(item, "fixturenames", ()) and _current.contexts:
        problems = _after_test_problems()
        if problems:
            pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)
    return result


# --------------------------------------------------------------------------------------------------------------
# Helpers.

_AXE_SOURCE: str | None = None
# Contexts made with java_script_enabled=False → the page (in a context of its own) where copies of theirs are checked.
_SCRIPTLESS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# The pages axe has passed in this run: (phone, JavaScript on, path, language, the test ids on the page, width).
_AXE_PASSED: set[tuple] = set()
_PAGE_STATE = """() => [document.documentElement.lang,
    [...new Set([...document.querySelectorAll('[data-testid]')].map(e => e.dataset.testid))].sort().join(' ')]"""


def axe_check(page) -> None:
    """Run axe-core (WCAG 2.0 A/AA, 2.1 AA) on the page; fail listing every serious or critical violation.

    Once per page and phone: the same path, in the same language, showing the same set of test ids (so in the same
    state: a booking scheduled, a form with its errors) on the same phone passed before in this run is not checked
    again. Sign-in, the home page and the booking pages are visited by almost every test."""
    lang, testids = page.evaluate(_PAGE_STATE)
    key = (_current.device, page.context not in _SCRIPTLESS, urlsplit(page.url).path, lang, testids,
           page.viewport_size["width"])
    if key in _AXE_PASSED:
        return
    _axe_check(page)
    _AXE_PASSED.add(key)


def _axe_check(page) -> None:
    if page.context in _SCRIPTLESS:
        _axe_check_copy(page)
        return
    _axe_run(page, page.url)


def _axe_run(page, where: str) -> None:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        if not AXE_JS.is_file():
            pytest.fail(f"{AXE_JS} is missing: run `npm ci` (axe-core is a devDependency in package.json)")
        _AXE_SOURCE = AXE_JS.read_text(encoding="utf-8")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_AXE_SOURCE)  # not add_script_tag: that is inline script, which the CSP refuses
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS)
    bad = [v for v in result["violations"] if v.get("impact") in AXE_FAILING_IMPACTS]
    if bad:
        lines = []
        for v in bad:
            targets = "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:10])
            lines.append(f"[{v['impact']}] {v['id']}: {v['help']} — {targets}")
        pytest.fail(f"axe on {where}:\n  " + "\n  ".join(lines), pytrace=False)


def _axe_check_copy(page) -> None:
    """axe on a page of a context with JavaScript off (`watched_context(java_script_enabled=False)`): there timers
    never fire, so `axe.run` would wait forever. Check a copy of the page's DOM instead, in a page of the same size
    with script on: the page's stylesheets inlined (nothing is fetched again) and none of its own scripts."""
    css = page.evaluate("""() => Array.from(document.styleSheets)
        .map(sheet => Array.from(sheet.cssRules).map(rule => rule.cssText).join("\\n")).join("\\n")""")
    html = re.sub(r"<script\b[^>]*>.*?</script>", "", page.content(), flags=re.S | re.I)
    html = re.sub(r"<link\b[^>]*>", "", html, flags=re.I)
    html = html.replace("</head>", f"<style>{css}</style></head>", 1)
    copy = _SCRIPTLESS.get(page.context)
    if copy is None:
        copy = _SCRIPTLESS[page.context] = page.context.browser.new_context().new_page()
    copy.set_viewport_size(page.viewport_size)
    copy.set_content(html, wait_until="load")
    _axe_run(copy, f"{page.url} (JavaScript off; checked on a copy of its DOM)")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "page"


def shot(page, name: str, *, always: bool = False) -> Path | None:
    """Save a full-page screenshot as test-artifacts/screenshots/<device>-<test>-<name>.png and return its path,
    when LVTONG_SCREENSHOTS is set (or `always`)."""
    if not (SCREENSHOTS_ON or always):
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_current.device}-{_slug(_current.test)}-{_slug(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def visit(page, url: str, name: str | None = None, *, status: int | None = 200):
    """Go to `url` (relative to the live server or absolute), check the status, run axe, take a screenshot.

    `status=None` accepts any status; the final response after redirects is what is checked.
    """
    response = page.goto(url, wait_until="load")
    if response is None:
        pytest.fail(f"no response for {url}", pytrace=False)
    if status is not None and response.status != status:
        pytest.fail(f"GET {url} gave {response.status} (expected {status}) at {page.url}", pytrace=False)
    settle(page)
    axe_check(page)
    shot(page, name or (url.split("?")[0].strip("/").replace("/", "-") or "landing"))
    return response


def fits_width(page, url: str, name: str, width: int = 320) -> None:
    """Open `url` at `width` CSS px (the narrowest phones) and fail if the page scrolls sideways; axe runs too."""
    page.set_viewport_size({"width": width, "height": 640})
    visit(page, url, f"{name}-{width}")
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{url} scrolls sideways at {width} px: scrollWidth is {scroll}"


def settle(page) -> None:
    """Wait for the page, including htmx's deferred scripts and any swap in flight, to be still; fail at once
    if anything went wrong on the way (a 5xx, a console error), rather than later on a confusing assertion."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    if _current.problems:
        pytest.fail(f"on {page.url}:\n  " + "\n  ".join(_current.problems), pytrace=False)


def _submit(form) -> None:
    form.locator("button[type=submit], button:not([type]), input[type=submit]").first.click()


def _answer_human_check(page) -> None:
    """Answer the sign-in page's question for a person (issue 17 item 4) as a person would: read the two numbers
    in it and type their sum. A phone that signed in with the number before is not asked."""
    check = page.locator('[data-testid="human-check"]')
    if check.count():
        a, b = map(int, re.findall(r"\d+", check.locator("label").inner_text()))
        check.locator("input[name=human_answer]").fill(str(a + b))


def sign_in(page, base_url: str, mobile: str, next: str | None = None) -> None:
    """Sign in with a demo mobile number: /sign-in → mobile → the demo code shown on the page → /home (or `next`).

    Each step is checked with axe and photographed. Demo mobiles: 13800000001 (insured adult 张伟),
    13800000002 (parent 李娜), 13800000003 (王芳), 13800000009 (reviewer), 13800000008 (coordinator).
    """
    from urllib.parse import quote

    base = base_url.rstrip("/")
    visit(page, f"{base}/sign-in" + (f"?next={quote(next)}" if next else ""), f"sign-in-{mobile}")
    mobile_form = page.locator("form").filter(has=page.locator("input[name=mobile]:not([type=hidden])"))
    mobile_form.locator("input[name=mobile]").fill(mobile)
    _answer_human_check(page)
    _submit(mobile_form)
    code_input = page.locator("input[name=code]")
    code_input.or_(page.locator('[data-testid="human-check"] .field-error')).first.wait_for(state="visible")
    if not code_input.count():  # a phone that signed in before with another number is asked only now
        settle(page)
        _answer_human_check(page)
        _submit(mobile_form)
    code_input.wait_for(state="visible")
    settle(page)
    code = page.locator('[data-testid="demo-code"]').inner_text().strip()
    if not re.fullmatch(r"\d{6}", code):
        pytest.fail(f"the demo code on {page.url} is {code!r}, not 6 digits", pytrace=False)
    axe_check(page)
    shot(page, f"sign-in-{mobile}-code")
    code_input.fill(code)
    _submit(page.locator("form").filter(has=code_input))
    landing = re.compile(re.escape(base) + re.escape(next or "/home") + r"([?#].*)?$")
    page.wait_for_url(landing)
    settle(page)
    axe_check(page)
    shot(page, f"signed-in-{mobile}")
