-- What publishing plan :plan would change, grid by grid: area (m², geography), households and
-- residents before (the current version) and after (the item's own figures, else the current
-- grids' figures shared out by the area each hands over — areal interpolation).
WITH items AS (
    SELECT * FROM grid_plan_items WHERE plan_id = :plan
), base AS (  -- the current versions of the plan's codes
    SELECT g.* FROM grids g WHERE g.valid_to IS NULL AND g.code IN (SELECT code FROM items)
)
SELECT i.code, i.name, v.code AS village_code, v.name AS village_name,
       CASE WHEN b.id IS NULL THEN 'new' WHEN i.geom IS NULL THEN 'retired' ELSE 'changed' END AS change,
       b.name AS name_before, b.version AS version_before,
       ST_Area(b.geom::geography) AS area_before, ST_Area(i.geom::geography) AS area_after,
       b.households AS households_before, b.residents AS residents_before,
       CASE WHEN i.geom IS NULL THEN 0 ELSE coalesce(i.households, shared.households) END AS households_after,
       CASE WHEN i.geom IS NULL THEN 0 ELSE coalesce(i.residents, shared.residents) END AS residents_after,
       ST_AsGeoJSON(i.geom, 7) AS geojson_after, ST_AsGeoJSON(b.geom, 7) AS geojson_before
  FROM items i
  JOIN areas v ON v.id = i.village_id
  LEFT JOIN base b ON b.code = i.code
  LEFT JOIN LATERAL (
        SELECT round(sum(o.households * ST_Area(ST_Intersection(i.geom, o.geom)::geography)
                         / nullif(ST_Area(o.geom::geography), 0)))::int AS households,
               round(sum(o.residents * ST_Area(ST_Intersection(i.geom, o.geom)::geography)
                         / nullif(ST_Area(o.geom::geography), 0)))::int AS residents
          FROM base o
         WHERE i.geom IS NOT NULL AND ST_IsValid(i.geom) AND o.geom && i.geom) shared ON true
 ORDER BY i.code
