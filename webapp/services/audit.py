"""Write audit events (SECURITY.md, Logs): time, actor, subject and IP; never a code, token or document content.
`record` adds one to the caller's unit of work; `record_view` writes one on its own, for a page that only reads
(someone looked at a person's records). And read them back for one target (a booking's calls,
services/desk/contact_calls.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import write_transaction
from ..models import AuditEvent
from .clock import require_aware


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    actor_id: int | None = None,
    subject_person_id: int | None = None,
    target: str | None = None,
    ip: str | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=require_aware(now, "now"), action=action, actor_account_id=actor_id,
        subject_person_id=subject_person_id, target=target, ip=ip, detail=detail or {},
    )
    session.add(event)
    return event


def record_view(session: Session, action: str, *, now: datetime, **event) -> None:
    """`record` (with its keywords) in a short write transaction of its own, for a page that only reads: who
    looked, or was refused a look, is committed before the page is rendered. The session must hold no pending
    changes (db.write_transaction)."""
    with write_transaction(session):
        record(session, action, now=now, **event)


def events_on(session: Session, target: str, actions: tuple[str, ...], *, limit: int = 50) -> list[AuditEvent]:
    """The events of these kinds on one target ("booking:12"), oldest first (the last `limit`)."""
    rows = session.scalars(select(AuditEvent).where(AuditEvent.target == target, AuditEvent.action.in_(actions))
                           .order_by(AuditEvent.id.desc()).limit(limit)).all()
    return list(reversed(rows))


def done_since(session: Session, action: str, *, actor_id: int, target: str, since: datetime) -> bool:
    """Whether this actor already did `action` on `target` after `since`."""
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == action, AuditEvent.actor_account_id == actor_id, AuditEvent.target == target,
        AuditEvent.at > require_aware(since, "since")).limit(1)) is not None
