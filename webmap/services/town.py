"""The town this installation serves, as its record says (table ``towns``, migration 0010): the name
in page headers, the governance centre (镇综合治理中心), the supervision office and phone of boards
and receipts, and the map's first view. A database without a town record (just migrated, not yet
loaded) gets neutral defaults, so that every page still renders."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Area
from db.models import Town as TownRecord


@dataclass(frozen=True)
class Town:
    code: str | None  # the town's area code (12 digits), None without a town
    name: str
    name_en: str | None
    center_name: str
    center_name_en: str | None
    supervision_office: str
    supervision_phone: str
    case_prefix: str
    map_lat: float  # WGS84 degrees
    map_lng: float
    map_zoom: int

    def label(self, field: str, lang: str) -> str:
        """``name`` or ``center_name`` in the page's language (the Chinese when no English is kept)."""
        if field not in ("name", "center_name"):
            raise ValueError(f"no English form of {field!r}")
        chinese = getattr(self, field)
        return (getattr(self, f"{field}_en") or chinese) if lang == "en" else chinese

    @property
    def map_view(self) -> dict:
        """The map's first view, for the pages' JavaScript: {"center": [lat, lng], "zoom": z} (WGS84)."""
        return {"center": [self.map_lat, self.map_lng], "zoom": self.map_zoom}


# No town yet: a neutral name and a view of the whole country; WG as in wangge_case_prefix().
NO_TOWN = Town(
    code=None, name="网格", name_en="Wangge", center_name="综合治理中心", center_name_en="Governance Center",
    supervision_office="", supervision_phone="", case_prefix="WG", map_lat=35.0, map_lng=105.0, map_zoom=4,
)


def load_town(db: Session) -> Town:
    """The town's record; :data:`NO_TOWN` (or the bare town area's code and name) when there is none."""
    row = db.execute(
        select(TownRecord, Area.code).join(Area, Area.id == TownRecord.area_id).order_by(TownRecord.area_id).limit(1)
    ).first()
    if row is None:
        area = db.execute(
            select(Area.code, Area.name).where(Area.level == "town").order_by(Area.id).limit(1)
        ).first()
        if area is None:
            return NO_TOWN
        return replace(NO_TOWN, code=area.code, name=area.name, name_en=None)
    record, code = row
    return Town(
        code=code, name=record.name, name_en=record.name_en, center_name=record.center_name,
        center_name_en=record.center_name_en, supervision_office=record.supervision_office,
        supervision_phone=record.supervision_phone, case_prefix=record.case_prefix,
        map_lat=record.map_lat, map_lng=record.map_lng, map_zoom=record.map_zoom,
    )
