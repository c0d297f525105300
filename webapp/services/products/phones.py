"""Which number a customer calls for what, and the seed's promises they must be told (issue 14, item 6).

Every service resolves to a line for each purpose — applying, changing or cancelling, urgent questions,
complaints — from its own `phones:` in the catalog, else its product's (catalog.py checks the product names all
four). The numbers differ where the seeds say so: 000's insurer hotline takes applications but not cancellations,
which go to the vendor's 7×24 line (000 （一）2.9(6) lines 94-98, Q&A lines 266-268); 003's escorts, second
opinions, MDT and aide run on 10109955, not 952299 (003 lines 1560, 1654, 2587, 2678, 2373).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .catalog import PURPOSES, Note, NotePage, Product, SeedRef, Service, Text


@dataclass(frozen=True)
class Line:
    purpose: str
    number: str  # as printed: "400-678-8500"
    href: str  # "tel:4006788500"
    hours: Text
    seed: SeedRef
    abroad: str | None = None  # "+86-10-64105433", to dial from outside mainland China
    abroad_href: str | None = None


@dataclass(frozen=True)
class LineGroup:
    """One number and the purposes it serves for a service, in PURPOSES order (one row on a page)."""

    purposes: tuple[str, ...]
    line: Line


def tel_href(number: str) -> str:
    """A `tel:` link: the digits only, with the leading + of an international number (RFC 3966 global number)."""
    digits = re.sub(r"\D", "", number)
    if not digits:
        raise ValueError(f"no digits in {number!r}")
    return f"tel:{'+' if number.strip().startswith('+') else ''}{digits}"


def phone_lines(product: Product, service: Service) -> dict[str, Line]:
    """{purpose: Line} for every purpose: the service's own line where it names one, else the product's."""
    lines = {}
    for purpose in PURPOSES:
        entry = getattr(service.phones, purpose) or getattr(product.phones, purpose)
        lines[purpose] = Line(purpose, entry.number, tel_href(entry.number), entry.hours, entry.seed,
                              entry.abroad, tel_href(entry.abroad) if entry.abroad else None)
    return lines


def line_groups(product: Product, service: Service) -> tuple[LineGroup, ...]:
    """The lines of `service` with the purposes that share a number (and its hours) merged into one row."""
    rows: dict[tuple, list[Line]] = {}
    for line in phone_lines(product, service).values():
        rows.setdefault((line.number, line.hours, line.abroad), []).append(line)
    return tuple(LineGroup(tuple(line.purpose for line in same), same[0]) for same in rows.values())


def notes_to_tell(product: Product, service: Service, page: NotePage) -> tuple[Note, ...]:
    """The notes whose promise the customer must see on `page`: the product's first, then the service's."""
    return tuple(note for note in (*product.notes, *service.notes) if note.tell is not None and page in note.show)
