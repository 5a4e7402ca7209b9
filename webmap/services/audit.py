"""The audit log: every administrative change (who, when, what, before and after), written in the
caller's transaction so that it lands with the change or not at all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.models import AuditEntry
from workflow.clock import SHANGHAI


def audit(db: Session, user, action: str, target: str, before: dict | None, after: dict | None,
          note: str | None = None, at: datetime | None = None) -> None:
    """One entry of the audit log, in the caller's transaction."""
    db.add(AuditEntry(at=at or datetime.now(SHANGHAI), actor_id=getattr(user, "id", None),
                      actor=getattr(user, "username", None) or "system", role=getattr(user, "role", None) or "system",
                      action=action, target=target, before=before, after=after, note=note))


def personal_data_shown(db: Session, user, kind: str, records: list[dict], key: str) -> None:
    """Residents' names and phones shown unmasked (PIPL): one entry per answer, naming the records
    (``kind:id`` for one, ``kinds`` with their ids for a list), committed at once. ``key`` is the
    field of each record holding ``{name, phone, masked}``."""
    shown = [r["id"] for r in records if not r[key]["masked"] and (r[key]["name"] or r[key]["phone"])]
    if not shown:
        return
    target = f"{kind}:{shown[0]}" if len(records) == 1 else f"{kind}s"
    audit(db, user, "view_personal_data", target, None, {"ids": shown[:500], "count": len(shown)})
    db.commit()
