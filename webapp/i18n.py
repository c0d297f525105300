"""Fast gettext for pages with many strings (the home page has ~40 cards).

flask-babel looks up the request context and the translations on every call (~60 µs each); here the
translations are looked up once per request and kept on `g`. The same catalogs, the same locale selector.
"""
from __future__ import annotations

from flask import Flask, g
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup, escape


def N_(msgid: str) -> str:
    """Mark a string for extraction (pybabel -k N_); translate it where it is shown."""
    return msgid


def translations():
    try:
        return g._lvtong_translations
    except AttributeError:
        g._lvtong_translations = found = get_translations()
        return found


def gettext(msgid: str, **params) -> str:
    text = translations().gettext(msgid)
    return text % params if params else text


def _fill(context, text: str, params: dict):
    """Jinja's newstyle gettext, minus its cost: parameters escaped once, no `%` when there are none."""
    if context.eval_ctx.autoescape:
        if not params:
            # The text is a msgid or its translation from our own catalog; every parameter is escaped first.
            return Markup(text)  # nosec B704
        return Markup(text % {k: v if isinstance(v, (int, float)) else escape(v) for k, v in params.items()})  # nosec B704
    return text % params if params else text


def init_app(app: Flask) -> None:
    """Replace flask-babel's template callables (installed by babel.init_app, so call this after it)."""

    @pass_context
    def _gettext(context, msgid, **params):
        return _fill(context, context["_translations"].gettext(msgid), params)

    @pass_context
    def _ngettext(context, singular, plural, n, **params):
        params.setdefault("num", n)
        return _fill(context, context["_translations"].ngettext(singular, plural, n), params)

    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    app.jinja_env.globals.update(gettext=_gettext, ngettext=_ngettext, _=_gettext)
    app.context_processor(lambda: {"_translations": translations()})
