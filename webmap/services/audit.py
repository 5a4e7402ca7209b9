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
