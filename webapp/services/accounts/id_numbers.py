"""Re-encrypting ID numbers after a key change (services/accounts/id_vault.py explains the keys and the rotation steps)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Person
from .. import audit
from ..clock import require_aware
from . import id_vault

BATCH = 200


def reencrypt(session: Session, *, now: datetime) -> int:
    """Rewrite every ID number that is not under the current key, or whose blind index is not under the current index
    key, a batch per transaction (a restart part-way loses nothing). Returns how many were rewritten; audited
    with the counts and key ids only."""
    require_aware(now, "now")
    ring = id_vault.keyring()
    rewritten, last_id = 0, 0
    while True:
        with write_transaction(session):
            people = session.scalars(select(Person).where(Person.id > last_id).order_by(Person.id).limit(BATCH)).all()
            for person in people:
                number = person.id_number
                if person.id_number_key != ring.current_id or person.id_number_index != id_vault.blind_index(number):
                    person.id_number = number
                    rewritten += 1
        if not people:
            break
        last_id = people[-1].id
    with write_transaction(session):
        audit.record(session, "ids.reencrypt", now=now, detail={"rewritten": rewritten, "key": ring.current_id})
    return rewritten
