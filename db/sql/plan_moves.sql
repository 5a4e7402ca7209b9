-- The cases plan :plan would move to another grid: open cases (which publishing re-routes) and
-- the cases reported since :since (whose statistics would count elsewhere from now on; closed
-- ones keep their grid). A case goes to the plan's new grid covering it (lowest code on an
-- edge), else stays where it is when its grid is not the plan's, else falls outside every grid.
WITH items AS (
    SELECT code, geom FROM grid_plan_items WHERE plan_id = :plan
), area AS (
    SELECT ST_Union(geom) AS geom FROM items WHERE geom IS NOT NULL AND ST_IsValid(geom)
), cand AS (
    SELECT i.id, i.case_no, i.state, i.grid_code, i.geom, i.reported_at
      FROM incidents i
     WHERE (i.state = ANY(:open) OR i.reported_at >= :since)
       AND (i.grid_code IN (SELECT code FROM items)
            OR (i.grid_code IS NULL AND i.geom && (SELECT geom FROM area)
                AND ST_Covers((SELECT geom FROM area), i.geom)))
), routed AS (
    SELECT c.*, CASE WHEN hit.code IS NOT NULL THEN hit.code
                     WHEN c.grid_code IN (SELECT code FROM items) THEN NULL
                     ELSE c.grid_code END AS new_code
      FROM cand c
      LEFT JOIN LATERAL (
            SELECT it.code FROM items it
             WHERE it.geom IS NOT NULL AND ST_IsValid(it.geom) AND it.geom && c.geom AND ST_Covers(it.geom, c.geom)
             ORDER BY it.code LIMIT 1) hit ON true
)
SELECT id, case_no, state, grid_code AS old_code, new_code, state = ANY(:open) AS open,
       ST_X(geom) AS lng, ST_Y(geom) AS lat
  FROM routed
 WHERE new_code IS DISTINCT FROM grid_code
 ORDER BY (state = ANY(:open)) DESC, reported_at DESC
