"""Which attachment ids a record may name: the uploads kept here (``services/attachments.py`` keeps
them and decides who may open them; this module only looks them up, so that every service that takes
ids — cases, actions, visits, discipline, tasks, the centre's registers — checks them the same way)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Attachment


def stored(db: Session, shas, *, photos_only: bool = True) -> set[str]:
    """Which of these ids are attachments kept here: photos only (a case's, a visit's photos), or
    documents too (a task's document, a register's scan)."""
    shas = [s for s in dict.fromkeys(shas) if isinstance(s, str)]
    if not shas:
        return set()
    q = select(Attachment.sha256).where(Attachment.sha256.in_(shas))
    if photos_only:
        q = q.where(Attachment.mime.like("image/%"))
    return set(db.execute(q).scalars())
