"""Notices (通知/通报) to a grid worker and to their village: a spot check's result, a criticism, a
talk, a dismissal proposed or decided. :func:`send` adds them (no commit: in the caller's
transaction); :func:`listing` is what a reader sees: a worker their own (``person_id``), a village
leader their village's (``scope_code`` in the village, or a worker of it), the town and the district
all; :func:`mark_read` records the opening."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import Account, Notice
from workflow import roles
from workflow.clock import SHANGHAI, format_iso

from .errors import ForbiddenError, NotFoundError


def send(db: Session, *, kind: str, title: str, body: str, ref: str, at: datetime, person_id: int | None,
         village: str | None) -> None:
    """One notice to the worker and one to their village (the village's leaders read it)."""
    if person_id is not None:
        db.add(Notice(at=at, kind=kind, title=title, body=body, person_id=person_id, ref=ref))
    if village:
        db.add(Notice(at=at, kind=kind, title=title, body=body, scope_code=village, ref=ref))


def _where(db: Session, user):
    if user.role == "worker":
        person = db.get(Account, user.id).person_id
        return Notice.person_id == person if person is not None else None
    if user.role == "leader":
        return Notice.scope_code.startswith(user.scope_code or "-", autoescape=True)
    if roles.has_permission(user.role, "read_staff"):
        return Notice.id.is_not(None)
    return None


def _serialize(n: Notice) -> dict:
    return {"id": n.id, "at": format_iso(n.at), "kind": n.kind, "title": n.title, "body": n.body,
            "person_id": n.person_id, "scope_code": n.scope_code, "ref": n.ref, "read_at": format_iso(n.read_at)}


def listing(db: Session, user, limit: int = 200) -> dict:
    where = _where(db, user)
    if where is None:
        raise ForbiddenError("此角色没有通知", "this role has no notices")
    rows = db.execute(select(Notice).where(where).order_by(Notice.at.desc(), Notice.id.desc()).limit(limit)).scalars()
    items = [_serialize(n) for n in rows]
    return {"items": items, "unread": sum(1 for i in items if i["read_at"] is None)}


def mark_read(db: Session, user, notice_id: int, now: datetime | None = None) -> dict:
    """The addressee (or the town) opened it; the first opening counts. Commits."""
    where = _where(db, user)
    notice = None if where is None else db.execute(
        select(Notice).where(Notice.id == notice_id, or_(where))).scalar_one_or_none()
    if notice is None:
        raise NotFoundError("没有这条通知", "no such notice")
    if notice.read_at is None:
        notice.read_at = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
        db.commit()
    return _serialize(notice)
