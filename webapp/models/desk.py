"""The single-use link the service desk texts after taking an application by phone (issue 18 item 4; seed 003
lines 488, 614, 945, 2271: "如您通过客服电话申请，客服将发送申请短信链接，请查收短信并按照指引提交申请材料")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DeskLink(Base):
    """Bound to one application and one number; only its hash is stored. Dead once used, or after its expiry."""

    __tablename__ = "desk_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token in the texted URL
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the insured's account it signs into
    mobile: Mapped[str] = mapped_column(String(20))  # the number texted: the only one whose code opens it
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the staff member who took the call
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
