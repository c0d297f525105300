"""绿通 self-service: the application factory."""
from __future__ import annotations

from urllib.parse import urlsplit

from babel import Locale
from flask import Flask, g, redirect, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from . import formatting, i18n, input_guard, logsafe, request_log
from . import proxies as proxies_check
from .extensions import babel, compress, csrf, db, htmx, login_manager


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.update(config)
    from .services.accounts import id_vault  # at call time: webapp is imported before any module under it, services included

    id_vault.configure(app.config["ID_KEYRING"])  # process-wide: Person.id_number has no app to ask
    if not app.config.get("DEMO_MODE") and app.config.get("SMS_BACKEND") == "log":
        raise settings.ConfigError("SMS_BACKEND=log is for development and demo only: configure an SMS provider")
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N reverse proxies the client's address is in X-Forwarded-For (per-IP limits and audit need it).
        proxies = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    logsafe.install()  # a line break in a path or a form value cannot forge a log line
    request_log.init_app(app)  # a request id on every log line and response (the first hook); JSON lines in production
    proxies_check.watch(app)  # else a proxy's header seen in production is logged and shown in /healthz
    from .views.papers import body_limit

    app.before_request(body_limit)  # before CSRF's check, which is the first to read a form body
    register_extensions(app)
    input_guard.init_app(app)  # no NUL, control or bidi character reaches a view
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


_LOCALES = {name: Locale.parse(name) for name in settings.LOCALES}  # parsed once: Locale.parse costs ~0.3 ms


def select_locale() -> Locale:
    """Chinese first, whatever the browser says (WeChat's webview often reports en-US); English by the switch."""
    return _LOCALES.get(session.get("locale"), _LOCALES[settings.LOCALES[0]])


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_timezone=settings.RULES_TIMEZONE)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"  # mobile users hop between 4G and Wi-Fi (SECURITY.md)

    @login_manager.user_loader
    def _load_account(account_id: str):
        """Only a live server-side login counts: a cookie from before sign-out, or of a disabled account, is not."""
        from .services.accounts import signin  # at call time: webapp is imported before any module under it, services included
        from .views.common import now

        if not account_id.isdigit():
            return None
        account = signin.account_for_token(db.session, session.get("login_token"), int(account_id), now())
        if account is None:
            from .views.account import forget_ended_login

            forget_ended_login()  # signed out here too, told why once (closed, 30 days, ended from another device)
        return account

    @login_manager.unauthorized_handler
    def _sign_in_first():
        from .views.common import safe_next  # at call time: webapp is imported before any module under it, views included

        # A deep link comes back after sign-in; a signed-out POST (an expired session) returns to its page.
        back = request.full_path.rstrip("?") if request.method == "GET" else urlsplit(request.referrer or "").path
        if request.method != "GET" and request.referrer and urlsplit(request.referrer).netloc != request.host:
            back = ""
        target = url_for("auth.sign_in", next=safe_next(back, "") or None)
        if request.htmx:
            return "", 401, {"HX-Redirect": target}
        return redirect(target)
    htmx.init_app(app)
    compress.init_app(app)
    formatting.init_app(app)
    i18n.init_app(app)

    @app.context_processor
    def _page_context():
        from .services.booking.notifications import unread_count  # at call time: webapp is imported before any module under it, services included

        def unread() -> int:  # called by the page frame only, so fragments skip the query
            if not current_user.is_authenticated:
                return 0
            if "unread_count" not in g:  # the home page reads it with its cards
                g.unread_count = unread_count(db.session, current_user.id)
            return g.unread_count

        from .views import acting

        # The banner and the switcher: called by the page frame only, so fragments skip the queries.
        return {"current_locale": str(get_locale()), "unread_count": unread, "acting_banner": acting.banner,
                "acting_people": acting.represented}

    from .services.calendar.workdays_store import refresh_if_stale  # at call time: webapp is imported before any module under it, services included

    app.before_request(lambda: refresh_if_stale(db.session))


def register_blueprints(app: Flask) -> None:
    # at call time: webapp is imported before any module under it, views included
    from .views import (account, apply, auth, bookings, desk_link, family, main, paper_wording, papers, phone_wording, portal,
                        refusal_text, security, staff, staff_wording, wording)
    from .views import identity  # noqa: F401 (routes join auth.bp)
    from .views import booking_confirm  # noqa: F401 (routes join bookings.bp)

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(bookings.bp)
    app.register_blueprint(apply.bp)
    app.register_blueprint(papers.bp)
    app.register_blueprint(family.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(desk_link.bp)
    wording.init_app(app)
    refusal_text.init_app(app)
    paper_wording.init_app(app)
    phone_wording.init_app(app)
    staff_wording.init_app(app)
    security.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from .views import errors  # at call time: webapp is imported before any module under it, views included

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from . import cli  # at call time: webapp is imported before any module under it, cli included

    cli.init_app(app)
