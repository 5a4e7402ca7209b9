"""Settings from the environment, typed and checked at start-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from db.cluster import database_url, project_root


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one kept in var/ so sessions survive restarts."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = project_root() / "var" / "secret_key"
    try:
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
    except OSError:
        return secrets.token_hex(32)


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


# The one default of the near-boundary rule (metres); every intake path reads the setting below.
DEFAULT_NEAR_BOUNDARY_M = 50


def near_boundary_m() -> float:
    """WANGGE_NEAR_BOUNDARY_M: a report outside every grid but this close to one (metres, 0–1000)
    is routed to it and flagged near_boundary. It is the default: the administrator's setting in
    /admin (:mod:`webmap.services.settings`) wins, for the API, boards, Open311, 12345, the bulk
    import and plan re-routing alike (the web views through ``webmap.params.near_boundary_m``)."""
    return float(_int("WANGGE_NEAR_BOUNDARY_M", DEFAULT_NEAR_BOUNDARY_M, 0, 1000))


@dataclass
class Settings:
    DATABASE_URL: str = field(default_factory=database_url)
    SECRET_KEY: str = field(default_factory=_secret_key)
    # OGC API – Features page sizes (pygeoapi's evaluate_limit, tipg's max_features_per_query)
    OGC_DEFAULT_LIMIT: int = field(default_factory=lambda: _int("WANGGE_OGC_DEFAULT_LIMIT", 100, 1, 10_000))
    OGC_MAX_LIMIT: int = field(default_factory=lambda: _int("WANGGE_OGC_MAX_LIMIT", 10_000, 1, 100_000))
    # Outside every grid but this close to one: routed to it, flagged near_boundary (metres).
    NEAR_BOUNDARY_M: float = field(default_factory=near_boundary_m)
    # one photo of 10 MB plus the multipart envelope
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024 + 64 * 1024
    MAP_LATEST_INCIDENTS: int = field(default_factory=lambda: _int("WANGGE_MAP_LATEST", 300, 1, 2_000))
    # An optional local tile server (none by default: the app runs without internet).
    TILE_URL: str = field(default_factory=lambda: os.environ.get("WANGGE_TILE_URL", ""))
    # The offline base map: an MBTiles or PMTiles file of raster tiles, served at /tiles/{z}/{x}/{y}.png
    # and drawn by every map page (before TILE_URL when both are set). `wangge serve` takes
    # var/basemap.mbtiles when this is unset and that file exists.
    BASEMAP: str = field(default_factory=lambda: os.environ.get("WANGGE_BASEMAP", ""))
    # The address printed in grid-board QR codes and posters, e.g. https://wangge.town.gov.cn
    # (default: the host the page was asked on).
    PUBLIC_BASE_URL: str = field(default_factory=lambda: os.environ.get("WANGGE_PUBLIC_BASE_URL", "").rstrip("/"))
    # Residents' reports from a grid board, per client address (Flask-Limiter syntax).
    BOARD_REPORT_RATE_LIMIT: str = field(
        default_factory=lambda: os.environ.get("WANGGE_BOARD_RATE_LIMIT", "5 per minute;30 per day"))
    RATELIMIT_STORAGE_URI: str = field(default_factory=lambda: os.environ.get("WANGGE_RATELIMIT_STORAGE", "memory://"))
    # Behind a reverse proxy: trust one X-Forwarded-For/-Proto hop (client addresses, URLs).
    PROXY_FIX: bool = field(default_factory=lambda: os.environ.get("WANGGE_PROXY_FIX", "") == "1")
    # Case exports (/api/v1/exports): up to this many cases the file is written at once, beyond in the
    # background; the workbooks and their job records are kept in EXPORTS_DIR (var/exports).
    EXPORT_SYNC_MAX: int = field(default_factory=lambda: _int("WANGGE_EXPORT_SYNC_MAX", 10_000, 1, 1_000_000))
    EXPORTS_DIR: str = field(default_factory=lambda: os.environ.get("WANGGE_EXPORTS_DIR", "")
                             or str(project_root() / "var" / "exports"))
    BABEL_DEFAULT_LOCALE: str = "zh"
    BABEL_DEFAULT_TIMEZONE: str = "Asia/Shanghai"
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    WTF_CSRF_TIME_LIMIT: int | None = None
    TESTING: bool = False

    def as_flask(self) -> dict:
        if not self.DATABASE_URL.startswith("postgresql"):
            raise ConfigError(f"DATABASE_URL must be a PostgreSQL URL, got {self.DATABASE_URL!r}")
        return asdict(self)


TRANSLATIONS = Path(__file__).parent / "translations"
