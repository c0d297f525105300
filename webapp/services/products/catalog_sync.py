"""Mirror the catalog files into the products and services tables, and find a service row's rules."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Product as ProductRow
from ...models import Service as ServiceRow
from .catalog import Catalog, Product, Service, default_catalog


def sync_catalog(session: Session, catalog: Catalog | None = None) -> None:
    """Insert or update every product and service of the catalog (idempotent). The caller commits."""
    catalog = catalog or default_catalog()
    for product in catalog.products:
        row = session.scalar(select(ProductRow).where(ProductRow.code == product.code))
        if row is None:
            row = ProductRow(code=product.code)
            session.add(row)
        row.name_zh, row.name_en, row.seed_file = product.name.zh, product.name.en, product.seed.file
        session.flush()
        existing = {s.code: s for s in session.scalars(select(ServiceRow).where(ServiceRow.product_id == row.id))}
        for position, service in enumerate(product.services):
            srow = existing.get(service.code) or ServiceRow(product_id=row.id, code=service.code)
            srow.kind, srow.pool, srow.position = service.kind, service.pool, position
            srow.name_zh, srow.name_en = service.name.zh, service.name.en
            session.add(srow)
    session.flush()


def rules_for(service_row: ServiceRow, catalog: Catalog | None = None) -> tuple[Product, Service]:
    """The catalog product and service a database service row stands for."""
    product = (catalog or default_catalog()).product(service_row.product.code)
    return product, product.service(service_row.code)
