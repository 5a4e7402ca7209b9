-- The checks of a redraw plan (改划方案) :plan, in PostGIS: one row per problem with its kind, the
-- grid codes involved, a point in the problem's place (WGS84) and its area in square metres. The
-- proposed state of each village the plan touches is its current grids with the plan's items put
-- in their place (an item without geometry retires its code). Areas are planar in degrees scaled
-- to m² at the villages' latitude (:m2_per_deg2), the plane the edits and the overlay work in: a
-- geography or UTM area would count the bend of a projected edge between two vertices as a sliver
-- (about 5 m² along a 1 km edge cut at a new vertex).
-- :gap_m2 is the area under which a gap between grids is a sliver (a warning), :overlap_m2 the
-- area under which an overlap is float noise.
WITH items AS (
    SELECT i.*, ST_IsValid(i.geom) AS valid
      FROM grid_plan_items i
     WHERE i.plan_id = :plan
), villages AS (
    SELECT DISTINCT v.id, v.code, v.name, v.geom
      FROM items i JOIN areas v ON v.id = i.village_id
), proposed AS (  -- invalid geometries are reported once, and mended for the other checks
    SELECT i.code, i.village_id, CASE WHEN i.valid THEN i.geom ELSE ST_MakeValid(i.geom) END AS geom,
           true AS changed
      FROM items i
     WHERE i.geom IS NOT NULL AND NOT ST_IsEmpty(i.geom)
    UNION ALL
    SELECT g.code, g.village_id, g.geom, false
      FROM grids g
     WHERE g.valid_to IS NULL
       AND g.village_id IN (SELECT id FROM villages)
       AND g.code NOT IN (SELECT code FROM items)
), invalid AS (
    SELECT 'error' AS severity, 'invalid' AS kind, ARRAY[i.code]::text[] AS codes,
           d.location AS place, NULL::float8 AS area_m2, d.reason AS detail
      FROM items i, LATERAL ST_IsValidDetail(i.geom) d
     WHERE i.geom IS NOT NULL AND NOT i.valid
), empty AS (
    SELECT 'error', 'empty', ARRAY[i.code]::text[], NULL::geometry, NULL::float8, NULL::text
      FROM items i
     WHERE i.geom IS NOT NULL AND (ST_IsEmpty(i.geom) OR (ST_Area(i.geom) * :m2_per_deg2) < 1)
), code_village AS (
    SELECT 'error', 'code_village', ARRAY[i.code]::text[], NULL::geometry, NULL::float8, v.code
      FROM items i JOIN villages v ON v.id = i.village_id
     WHERE left(i.code, 12) <> v.code
), outside AS (
    SELECT 'error', 'outside_village', ARRAY[p.code]::text[], ST_PointOnSurface(d.geom),
           (ST_Area(d.geom) * :m2_per_deg2), v.name
      FROM proposed p
      JOIN villages v ON v.id = p.village_id
     CROSS JOIN LATERAL (SELECT ST_Difference(p.geom, v.geom) AS geom) d
     WHERE p.changed AND NOT ST_Covers(v.geom, p.geom) AND (ST_Area(d.geom) * :m2_per_deg2) > :gap_m2
), overlap AS (
    SELECT 'error', 'overlap', ARRAY[a.code, b.code]::text[], ST_PointOnSurface(x.geom),
           (ST_Area(x.geom) * :m2_per_deg2), NULL::text
      FROM proposed a
      JOIN proposed b ON a.code < b.code AND (a.changed OR b.changed) AND a.geom && b.geom
     CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3) AS geom) x
     WHERE ST_Relate(a.geom, b.geom, '2********') AND (ST_Area(x.geom) * :m2_per_deg2) > :overlap_m2
), holes AS (  -- what of each village no grid covers, piece by piece (all of it when none is left)
    SELECT v.id AS village_id, v.name,
           (ST_Dump(ST_Difference(v.geom, coalesce(ST_Union(p.geom), 'SRID=4326;POLYGON EMPTY'::geometry)))).geom
               AS geom
      FROM villages v LEFT JOIN proposed p ON p.village_id = v.id
     GROUP BY v.id, v.name, v.geom
), gap AS (
    SELECT CASE WHEN (ST_Area(h.geom) * :m2_per_deg2) > :gap_m2 THEN 'error' ELSE 'warning' END,
           CASE WHEN (ST_Area(h.geom) * :m2_per_deg2) > :gap_m2 THEN 'gap' ELSE 'sliver' END,
           ARRAY(SELECT p.code FROM proposed p
                  WHERE p.village_id = h.village_id AND ST_DWithin(p.geom, h.geom, 1e-6)
                  ORDER BY p.code)::text[],
           ST_PointOnSurface(h.geom), (ST_Area(h.geom) * :m2_per_deg2), h.name
      FROM holes h
     WHERE ST_Dimension(h.geom) = 2 AND (ST_Area(h.geom) * :m2_per_deg2) > :overlap_m2
), pieces AS (
    SELECT 'warning', 'multipart', ARRAY[p.code]::text[], ST_PointOnSurface(p.geom), (ST_Area(p.geom) * :m2_per_deg2),
           ST_NumGeometries(p.geom)::text
      FROM proposed p
     WHERE p.changed AND ST_NumGeometries(p.geom) > 1
), stale AS (  -- the grid changed since the plan's change of it began: another plan was published
    SELECT 'error', 'stale', ARRAY[i.code]::text[], ST_PointOnSurface(base.geom), NULL::float8,
           coalesce(by_.title, '') || '|' || coalesce(to_char(base.valid_to AT TIME ZONE 'Asia/Shanghai',
                                                            'YYYY-MM-DD HH24:MI'), '')
      FROM items i
      JOIN grids base ON base.id = i.base_grid_id
      LEFT JOIN LATERAL (
            SELECT p.title FROM grid_plan_items x JOIN grid_plans p ON p.id = x.plan_id
             WHERE x.base_grid_id = base.id AND x.plan_id <> :plan AND p.status = 'published'
             LIMIT 1) by_ ON true
     WHERE base.valid_to IS NOT NULL
), taken AS (  -- a new grid's code that a current grid already has
    SELECT 'error', 'code_taken', ARRAY[i.code]::text[], NULL::geometry, NULL::float8, NULL::text
      FROM items i
     WHERE i.base_grid_id IS NULL AND i.geom IS NOT NULL
       AND EXISTS (SELECT 1 FROM grids g WHERE g.code = i.code AND g.valid_to IS NULL)
)
SELECT severity, kind, codes, ST_X(place) AS lng, ST_Y(place) AS lat, area_m2, detail
  FROM (SELECT * FROM invalid UNION ALL SELECT * FROM empty UNION ALL SELECT * FROM code_village
        UNION ALL SELECT * FROM outside UNION ALL SELECT * FROM overlap UNION ALL SELECT * FROM gap
        UNION ALL SELECT * FROM pieces UNION ALL SELECT * FROM stale UNION ALL SELECT * FROM taken) AS problems
 ORDER BY severity, kind, codes
