"""绿通 self-service: the application factory."""
from __future__ import annotations

from flask import Flask, session

from . import config as settings
from .extensions import babel, csrf, db, htmx, login_manager


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.update(config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def select_locale() -> str:
    """Chinese first, whatever the browser says (WeChat's webview often reports en-US); English by the switch."""
    chosen = session.get("locale")
    return chosen if chosen in settings.LOCALES else settings.LOCALES[0]


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_timezone=settings.RULES_TIMEZONE)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"  # mobile users hop between 4G and Wi-Fi (SECURITY.md)

    @login_manager.user_loader
    def _load_account(account_id: str):
        from .models import Account

        return db.session.get(Account, int(account_id)) if account_id.isdigit() else None
    htmx.init_app(app)

    @app.context_processor
    def _locale():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale())}

    from .services.workdays_store import refresh_if_stale

    app.before_request(lambda: refresh_if_stale(db.session))


def register_blueprints(app: Flask) -> None:
    from .views import main, security

    app.register_blueprint(main.bp)
    security.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from .views import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
