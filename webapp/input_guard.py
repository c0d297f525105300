"""Every query and form value arrives without the characters no one types (issue 17 item 6).

NUL, the other C0 and C1 controls (tab and line breaks excepted), DEL, lone surrogates and Unicode format
characters — the bidi controls U+202A–E and U+2066–9, the marks U+200E/F, zero-width characters — are removed
from every key and value of `request.args` and `request.form` before any view reads them: a name cannot be
stored with a NUL (which PostgreSQL refuses: a 500) or a right-to-left override that shows "张伟" as someone
else, whichever form or field it came through. Each field's own rules (`apply_forms.clean_text`: NFC, line
breaks, trimming; a name empty after cleaning is refused) apply after this. A path holding such characters can
name nothing: 404.
"""
from __future__ import annotations

import re
import unicodedata

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.utils import cached_property

# Fast check for the usual all-printable value; `_drop` then asks unicodedata for every Cf (there are ~170).
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
                      "\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]|[\U000110bd-\U000e007f]")


def _drop(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")


def strip_controls(value: str) -> str:
    """`value` without controls (but tab, CR, LF), format characters and surrogates."""
    if not _SUSPECT.search(value):
        return value
    return "".join(ch for ch in value if not _drop(ch))


def _cleaned(values: ImmutableMultiDict) -> ImmutableMultiDict:
    pairs = list(values.items(multi=True))
    if not any(_SUSPECT.search(k) or _SUSPECT.search(v) for k, v in pairs):
        return values
    return ImmutableMultiDict([(strip_controls(k), strip_controls(v)) for k, v in pairs])


class CleanRequestMixin:
    """`args` and `form` with `strip_controls` applied to every key and value."""

    @cached_property
    def args(self) -> ImmutableMultiDict:
        return _cleaned(super().args)

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        self.__dict__["form"] = _cleaned(self.__dict__["form"])


DB_INT_MAX = 2**31 - 1  # an INTEGER column on PostgreSQL: a larger number in a URL can name no row


class DbIntConverter(IntegerConverter):
    """`<int:…>` that matches only numbers a database column can hold: /x/9223372036854775808 is a 404, not an
    overflow in the query (a 500 on PostgreSQL), and a 10,000-digit number is never parsed."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, DB_INT_MAX if max is None else max, signed)

    def to_python(self, value: str):
        if len(value) > len(str(DB_INT_MAX)) + 1:
            raise ValidationError()
        return super().to_python(value)


def init_app(app: Flask) -> None:
    """Call after the extensions (htmx-flask sets a request class of its own, which this one extends) and before
    the blueprints (their rules pick the converter when added)."""
    app.url_map.converters["int"] = DbIntConverter
    base = app.request_class
    if not issubclass(base, CleanRequestMixin):
        app.request_class = type("CleanRequest", (CleanRequestMixin, base), {})

    @app.before_request
    def _no_controls_in_the_path():
        if any(ch in "\t\n\r" or _drop(ch) for ch in request.path if not ch.isprintable()):
            abort(404)
