"""The settings an administrator may change in the /admin page, with their ranges: each is a row of
the ``settings`` table (``{"value": …}``) over the environment's default.

- ``near_boundary_m`` (0–1000 m): a report outside every grid but this close to one is routed to it
  (default: ``WANGGE_NEAR_BOUNDARY_M``, else 50).
- ``track_retention_days`` (30–3650): how long patrol fixes and tracks are kept (default:
  ``WANGGE_TRACK_RETENTION_DAYS``, else 180); read by :func:`webmap.services.patrols.retention_days`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import Setting
from webmap.config import near_boundary_m as env_near_boundary_m
from workflow import roles

from .audit import audit
from .errors import FieldError, ForbiddenError, InvalidInputError


@dataclass(frozen=True)
class Spec:
    key: str
    zh: str
    en: str
    unit: tuple[str, str]
    low: int
    high: int

    def default(self) -> int:
        if self.key == "near_boundary_m":
            return int(env_near_boundary_m())
        return int(os.environ.get("WANGGE_TRACK_RETENTION_DAYS", 180))


SPECS = {s.key: s for s in (
    Spec("near_boundary_m", "网格外近边界归属距离", "near-boundary distance for reports outside every grid",
         ("米", "m"), 0, 1000),
    Spec("track_retention_days", "巡查轨迹保留天数", "days patrol tracks are kept", ("天", "days"), 30, 3650),
)}


class SettingsInputError(InvalidInputError):
    CODE = "SettingsRejected"
    LEAD = ("设置未保存", "the settings were not saved")


def _stored(db: Session, key: str):
    value = db.execute(select(Setting.value).where(Setting.key == key)).scalar()
    if isinstance(value, dict):
        value = value.get("value", value.get("days"))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def value(db: Session, key: str) -> int:
    """The setting's value: the table's, else the default."""
    stored = _stored(db, key)
    return stored if stored is not None else SPECS[key].default()


def near_boundary_m(db: Session, default: float | None = None) -> float:
    """The administrator's near-boundary distance, else ``default`` (a view passes the app's
    setting), else the environment's."""
    stored = _stored(db, "near_boundary_m")
    if stored is not None:
        return float(stored)
    return float(default) if default is not None else float(SPECS["near_boundary_m"].default())


def listing(db: Session) -> list[dict]:
    return [{"key": s.key, "label": [s.zh, s.en], "unit": list(s.unit), "low": s.low, "high": s.high,
             "value": value(db, s.key), "default": s.default(), "stored": _stored(db, s.key) is not None}
            for s in SPECS.values()]


def update(db: Session, user, body) -> list[dict]:
    """``{key: value, …}`` within the ranges, all or nothing; commits; audited."""
    if not roles.has_permission(getattr(user, "role", None), "administer"):
        raise ForbiddenError("只有系统管理员可以修改设置", "only the administrator may change the settings")
    if not isinstance(body, dict) or not body:
        raise SettingsInputError([FieldError("body", "请给出要修改的设置", "give the settings to change")])
    errors: list[FieldError] = []
    for key, raw in body.items():
        spec = SPECS.get(key)
        if spec is None:
            errors.append(FieldError(key, "没有这项设置", "no such setting"))
        elif not isinstance(raw, int) or isinstance(raw, bool) or not spec.low <= raw <= spec.high:
            errors.append(FieldError(key, f"{spec.zh}应为 {spec.low}–{spec.high} 的整数 ({spec.unit[0]})",
                                     f"{spec.en} must be a whole number {spec.low}–{spec.high} ({spec.unit[1]})"))
    if errors:
        raise SettingsInputError(errors)
    for key, raw in body.items():
        before = value(db, key)
        statement = insert(Setting).values(key=key, value={"value": raw})
        db.execute(statement.on_conflict_do_update(index_elements=[Setting.key], set_={"value": statement.excluded.value}))
        audit(db, user, "setting", f"setting:{key}", {"value": before}, {"value": raw})
    db.commit()
    return listing(db)
