-- Route one WGS84 point: the current grid version that covers it (ST_Covers: the boundary
-- counts; on a shared edge or vertex the lowest code wins), else the nearest current grid within
-- :near_m metres (geography distance; :near_deg is a bounding-box margin in degrees for the index).
-- With its village, its active worker (网格员) and leader (网格长). No row: outside every grid.
-- On :today, a worker on approved leave for whom the town named a stand-in (顶岗, leaves.stand_in_id)
-- hands the case to the stand-in: worker_* are the stand-in's, absent_* the worker's on leave.
WITH pt AS (
    SELECT ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS geom
), covering AS (
    SELECT g.id, g.code, g.name, g.version, g.village_id, 0.0::float8 AS distance_m, 'covered'::text AS how
      FROM grids g, pt
     WHERE g.valid_to IS NULL AND ST_Covers(g.geom, pt.geom)
     ORDER BY g.code
     LIMIT 1
), nearest AS (
    SELECT g.id, g.code, g.name, g.version, g.village_id,
           ST_Distance(g.geom::geography, pt.geom::geography) AS distance_m, 'near'::text AS how
      FROM grids g, pt
     WHERE NOT EXISTS (SELECT 1 FROM covering)
       AND g.valid_to IS NULL
       AND g.geom && ST_Expand(pt.geom, :near_deg)
       AND ST_DWithin(g.geom::geography, pt.geom::geography, :near_m)
     ORDER BY distance_m, g.code
     LIMIT 1
), hit AS (
    SELECT * FROM covering
    UNION ALL
    SELECT * FROM nearest
)
SELECT hit.id AS grid_id, hit.code AS grid_code, hit.name AS grid_name, hit.version AS grid_version,
       hit.distance_m, hit.how,
       v.code AS village_code, v.name AS village_name,
       w.id AS worker_id, w.name AS worker_name, w.phone AS worker_phone,
       si.leave_id AS stand_in_leave_id, si.start AS leave_start, si."end" AS leave_end,
       CASE WHEN si.leave_id IS NOT NULL THEN wa.person_id END AS absent_worker_id,
       (SELECT name FROM people WHERE id = wa.person_id AND si.leave_id IS NOT NULL) AS absent_worker_name,
       l.id AS leader_id, l.name AS leader_name, l.phone AS leader_phone
  FROM hit
  JOIN areas v ON v.id = hit.village_id
  LEFT JOIN LATERAL (  -- the latest current assignment, should a grid ever have two
        SELECT person_id FROM grid_assignments
         WHERE grid_code = hit.code AND duty = 'worker' AND valid_to IS NULL
         ORDER BY valid_from DESC, id DESC LIMIT 1) wa ON true
  LEFT JOIN LATERAL (
        SELECT lv.id AS leave_id, lv.stand_in_id, lv.start, lv."end" FROM leaves lv
         WHERE lv.worker_id = wa.person_id AND lv.state = '已批准' AND lv.stand_in_id IS NOT NULL
           AND lv.start <= CAST(:today AS date) AND lv."end" >= CAST(:today AS date)
         ORDER BY lv.start DESC, lv.id DESC LIMIT 1) si ON true
  LEFT JOIN people w ON w.id = COALESCE(si.stand_in_id, wa.person_id)
  LEFT JOIN LATERAL (
        SELECT person_id FROM grid_assignments
         WHERE grid_code = hit.code AND duty = 'leader' AND valid_to IS NULL
         ORDER BY valid_from DESC, id DESC LIMIT 1) la ON true
  LEFT JOIN people l ON l.id = la.person_id
