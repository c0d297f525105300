"""Every extension created once here and initialised in create_app (cookiecutter-flask's shape)."""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import Session

from .db import make_engine, make_session_factory


class Database:
    """One engine per app; a session per request, opened lazily and closed on teardown (flaskr's db.py)."""

    def init_app(self, app: Flask) -> None:
        app.extensions["db_engine"] = make_engine(app.config["DATABASE_URL"])
        app.extensions["db_sessions"] = make_session_factory(app.extensions["db_engine"])
        app.teardown_appcontext(self._close)

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["db_sessions"]()
        return g.db_session

    @staticmethod
    def engine(app: Flask):
        return app.extensions["db_engine"]


db = Database()
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
htmx = Htmx()
compress = Compress()  # gzip on the wire: the first load must stay under 60 KB at 400 kbit/s
