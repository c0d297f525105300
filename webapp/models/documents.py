"""Medical papers attached to an application: one document per kind of paper, each with its pages (photos).

A page's image and thumbnail live in the configured store (services/papers/storage.py) under a random key; the row
is committed only after both are durably stored, so a crash leaves at most a file without a row, which the
sweeper removes (SECURITY.md, Uploads: "No orphans").
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    # An application's paper, or a proof sent with a request for family access (exactly one of the two).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    proxy_grant_id: Mapped[int | None] = mapped_column(ForeignKey("proxy_grants.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)  # whose paper it is
    kind: Mapped[str] = mapped_column(String(32))  # a catalog Document value
    # missing | draft | received | unreadable | rejected | accepted — kept in step with the pages by
    # services/papers/documents.py so the staff queue can filter on it
    status: Mapped[str] = mapped_column(String(16), default="missing")
    status_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    pages: Mapped[list["DocumentPage"]] = relationship(back_populates="document", order_by="DocumentPage.id")

    __table_args__ = (UniqueConstraint("booking_id", "kind"), UniqueConstraint("proxy_grant_id", "kind"))


class DocumentPage(Base):
    __tablename__ = "document_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What URLs carry: random, so page addresses cannot be counted through (access is checked anyway).
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)  # random, never the user's file name
    thumbnail_key: Mapped[str | None] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored (normalised) bytes
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    source_format: Mapped[str | None] = mapped_column(String(8))  # JPEG | PNG | WEBP | HEIF, from the bytes
    display_name: Mapped[str | None] = mapped_column(String(128))  # sanitised, display only
    # draft (not sent yet) | received | unreadable | rejected | accepted | replaced (a retake superseded it)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    status_reason: Mapped[str | None] = mapped_column(String(255))  # a reason key, then staff's own words
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("document_pages.id"), index=True)  # the page this retakes
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    document: Mapped[Document] = relationship(back_populates="pages")

    __table_args__ = (UniqueConstraint("document_id", "sha256"),)
