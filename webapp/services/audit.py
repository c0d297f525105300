"""Write audit events (SECURITY.md, Logs): time, actor, subject and IP; never a code, token or document content."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

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
