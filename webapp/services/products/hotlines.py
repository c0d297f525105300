"""The numbers a customer can call, product by product, for the help page and the sign-in page (issue 15, item 6:
"calling is one tap everywhere", "a 帮助/客服 entry on every page", "收不到验证码？ … the hotline").

Every number comes from the catalog (services/products/phones.py resolves each service's lines, its own or its product's):
one row per number, with what it is for and, where only some services use it (003's 10109955 for the escorts,
second opinions, MDT and aide, 003 lines 1560, 1654, 2587, 2678, 2373), which ones.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Policy, Product as ProductRow
from .catalog import PURPOSES, Catalog, Phones, Product, Service
from .phones import Line, phone_lines


@dataclass(frozen=True)
class Hotline:
    line: Line  # the number, its tel: link and its hours (of the first purpose it serves)
    purposes: tuple[str, ...]  # in PURPOSES order
    services: tuple[Service, ...]  # the services that use this number instead of the product's lines; () for those


@dataclass(frozen=True)
class ProductHotlines:
    product: Product
    hotlines: tuple[Hotline, ...]


def own_lines(product: Product) -> dict[str, Line]:
    """{purpose: Line} of the product itself: what a service that names no line of its own is given."""
    return phone_lines(product, product.services[0].model_copy(update={"phones": Phones()}))


def product_hotlines(product: Product) -> ProductHotlines:
    """The product's own lines first (in purpose order), then the lines only some of its services use."""
    own = own_lines(product)
    own_numbers = {line.number for line in own.values()}
    rows: dict[str, tuple[Line, list[str], list[Service]]] = {}
    for purpose, line in own.items():
        rows.setdefault(line.number, (line, [], []))[1].append(purpose)
    for service in product.services:
        for purpose, line in phone_lines(product, service).items():
            _line, purposes, users = rows.setdefault(line.number, (line, [], []))
            if purpose not in purposes:
                purposes.append(purpose)
            if line.number not in own_numbers and service not in users:
                users.append(service)
    return ProductHotlines(product, tuple(Hotline(line, tuple(p for p in PURPOSES if p in purposes), tuple(users))
                                          for line, purposes, users in rows.values()))


def held_products(session: Session, catalog: Catalog, person_ids: list[int]) -> dict[int, tuple[Product, ...]]:
    """{person id: the catalog products of the policies they are insured on}, in `person_ids` order, each product
    once; a person with no policy is left out. Lapsed and surrendered policies count: their holders may still need
    to call about an earlier booking."""
    rows = session.execute(select(Policy.insured_id, ProductRow.code).join(ProductRow, Policy.product_id == ProductRow.id)
                           .where(Policy.insured_id.in_(person_ids)).order_by(ProductRow.code)).all()
    known = {product.code: product for product in catalog.products}
    held: dict[int, list[Product]] = {}
    for person_id, code in rows:
        product = known.get(code)
        if product is not None and product not in held.setdefault(person_id, []):
            held[person_id].append(product)
    return {person_id: tuple(held[person_id]) for person_id in person_ids if held.get(person_id)}


def application_lines(catalog: Catalog) -> tuple[tuple[Line, tuple[Product, ...]], ...]:
    """Each product's hotline (its own `apply` line), one row per number with the products answered on it (002 and
    004 share 英仕健康's line): what a person who is not signed in, or cannot sign in, can call."""
    rows: dict[str, tuple[Line, list[Product]]] = {}
    for product in catalog.products:
        line = own_lines(product)["apply"]
        rows.setdefault(line.number, (line, []))[1].append(product)
    return tuple((line, tuple(products)) for line, products in rows.values())
