"""Products and their services (mirrored from the catalog files), policies and entitlements."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Person


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    seed_file: Mapped[str] = mapped_column(String(64))

    services: Mapped[list["Service"]] = relationship(back_populates="product", order_by="Service.position")


class Service(Base):
    """One service of a product; its rules live in the catalog file, looked up by (product code, code)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    code: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(16))  # bookable | information
    pool: Mapped[str] = mapped_column(String(48))  # the quota it spends (its own code or a shared pool)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="services")

    __table_args__ = (UniqueConstraint("product_id", "code"),)


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    insured_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    effective_date: Mapped[date]
    expiry_date: Mapped[date]  # exclusive: coverage ends at 00:00 of this day
    cooling_off_days: Mapped[int] = mapped_column(default=15)
    waiting_days: Mapped[int] = mapped_column(default=90)
    is_renewal: Mapped[bool] = mapped_column(default=False)
    # Add-ons bought with the policy, as the insurer's import names them (catalog `quota.add_on.code`), comma-separated:
    # 003 门诊陪诊 三 表 lines 1526-1530 "若您同时加购了门急诊加油包/补充责任的，5次/年".
    add_ons: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # in_force | surrendered_cooling_off | surrendered | lapsed
    status: Mapped[str] = mapped_column(String(32), default="in_force")
    status_changed_on: Mapped[date | None]
    created_at: Mapped[datetime]

    product: Mapped[Product] = relationship()
    holder: Mapped[Person] = relationship(foreign_keys=[holder_id])
    insured: Mapped[Person] = relationship(foreign_keys=[insured_id])

    __table_args__ = (
        CheckConstraint("cooling_off_days >= 0 AND waiting_days >= 0", name="periods_not_negative"),
        CheckConstraint("expiry_date > effective_date", name="expiry_after_effective"),
    )


class Entitlement(Base):
    """One quota on one policy for one period: uses (or days) held by open applications and spent.

    Invariant, enforced by the database and by every update being conditional: held + used <= quota.
    """

    __tablename__ = "entitlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"))
    pool: Mapped[str] = mapped_column(String(48))
    period_start: Mapped[date]
    period_end: Mapped[date]  # exclusive
    quota: Mapped[int | None]  # None: unlimited
    held: Mapped[int] = mapped_column(default=0)
    used: Mapped[int] = mapped_column(default=0)

    policy: Mapped[Policy] = relationship()

    __table_args__ = (
        UniqueConstraint("policy_id", "pool", "period_start"),
        CheckConstraint("held >= 0 AND used >= 0", name="counts_not_negative"),
        CheckConstraint("quota IS NULL OR held + used <= quota", name="within_quota"),
    )
