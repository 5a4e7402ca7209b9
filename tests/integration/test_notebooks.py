"""The analysts' notebooks run against the demo town: no cell fails, the charts and maps are in
their outputs; and the analyst API loads cases and grids as GeoDataFrames."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from db.analyst import load_cases, load_grids

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_the_two_notebooks():
    assert {p.stem for p in NOTEBOOKS} >= {"grid_workload", "hotspots_and_trends"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_notebook_runs_with_charts_in_its_outputs(path, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2, f"{path.name}: {len(images)} charts"
    text = "".join(o.get("text", "") for o in outputs)
    assert "Traceback" not in text
    # the offline map (db.analyst.offline_map): Leaflet inlined, no script or stylesheet to fetch
    maps = [o["data"]["text/html"] for o in outputs if "leaflet" in o.get("data", {}).get("text/html", "")]
    assert maps, f"{path.name}: no interactive map"
    assert not [m for m in maps if "&lt;script src=" in m or "rel=&quot;stylesheet" in m]


def test_the_analyst_api_loads_geodataframes(engine):
    cases = load_cases(engine, since="2026-01-01", until="2026-06-30", categories=["SR01"])
    assert len(cases) > 0 and cases.crs.to_epsg() == 4326 and set(cases.category) == {"SR01"}
    assert cases.reported_at.min() >= pd.Timestamp("2026-01-01", tz="Asia/Shanghai")
    assert cases.reported_at.max() < pd.Timestamp("2026-07-01", tz="Asia/Shanghai")
    assert str(cases.reported_at.dt.tz) == "Asia/Shanghai"
    assert "reporter_name" not in cases.columns and "reporter_phone" not in cases.columns  # no personal data
    box = load_cases(engine, bbox=(117.70, 39.30, 117.75, 39.33))
    assert box.geometry.x.between(117.70, 117.75).all() and box.geometry.y.between(39.30, 39.33).all()
    grids = load_grids(engine, at="2026-06-01")
    assert len(grids) > 0 and grids.crs.to_epsg() == 4326 and grids.code.str.len().eq(15).all()
