"""Medical papers attached to an application, page by page (filled in by the uploads issue)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)  # whose paper it is
    kind: Mapped[str] = mapped_column(String(32))  # a catalog Document value
    # missing | received | unreadable | rejected | accepted
    status: Mapped[str] = mapped_column(String(16), default="missing")
    status_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    pages: Mapped[list["DocumentPage"]] = relationship(back_populates="document", order_by="DocumentPage.position")


class DocumentPage(Base):
    __tablename__ = "document_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    storage_key: Mapped[str] = mapped_column(String(128), unique=True)  # random, never the user's file name
    thumbnail_key: Mapped[str | None] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]
    display_name: Mapped[str | None] = mapped_column(String(128))  # sanitised, display only
    status: Mapped[str] = mapped_column(String(16), default="received")
    status_reason: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]

    document: Mapped[Document] = relationship(back_populates="pages")

    __table_args__ = (UniqueConstraint("document_id", "sha256"),)
