-- Re-route the open cases a published plan touches: those routed to a grid code the plan changed
-- (ix_incidents_open_grid), and those routed to no grid or to the nearest one (within :near_m)
-- that now lie in the plan's new grids (ix_incidents_open_loose). Each goes to the current grid
-- version covering it (lowest code on an edge), else the nearest within :near_m metres, else none
-- (属地兜底: the town). Only a case whose grid code changes is written: a new grid, worker and
-- leader, a new version and a 'reroute' event. A case that stays in its grid keeps the version it
-- was routed by, as closed and void cases do. :codes the plan's grid codes, :open the open states;
-- returns one row per moved case (the caller sends their live messages: services/events.py).
-- Distances in metres (geography); :near_deg only widens the bounding boxes of the index pre-filters.
WITH changed AS (
    SELECT ST_Union(geom) AS geom FROM grids WHERE code = ANY(:codes) AND valid_to IS NULL
), cand AS (
    SELECT i.id, i.grid_code, i.geom, i.state
      FROM incidents i
     WHERE i.state = ANY(:open) AND i.grid_code = ANY(:codes)
    UNION
    SELECT i.id, i.grid_code, i.geom, i.state
      FROM incidents i, changed c
     WHERE i.state = ANY(:open) AND (i.grid_code IS NULL OR i.distance_m > 0)
       AND i.geom && ST_Expand(c.geom, :near_deg)
       AND ST_DWithin(i.geom::geography, c.geom::geography, :near_m)
), routed AS (
    SELECT c.id, c.grid_code AS old_code, c.state,
           coalesce(cover.id, near.id) AS grid_id, coalesce(cover.code, near.code) AS grid_code,
           coalesce(cover.village_id, near.village_id) AS village_id,
           CASE WHEN cover.id IS NULL AND near.id IS NOT NULL THEN near.distance_m END AS distance_m
      FROM cand c
      LEFT JOIN LATERAL (
            SELECT g.id, g.code, g.village_id FROM grids g
             WHERE g.valid_to IS NULL AND g.geom && c.geom AND ST_Covers(g.geom, c.geom)
             ORDER BY g.code LIMIT 1) cover ON true
      LEFT JOIN LATERAL (
            SELECT g.id, g.code, g.village_id, ST_Distance(g.geom::geography, c.geom::geography) AS distance_m
              FROM grids g
             WHERE cover.id IS NULL AND g.valid_to IS NULL
               AND g.geom && ST_Expand(c.geom, :near_deg)
               AND ST_DWithin(g.geom::geography, c.geom::geography, :near_m)
             ORDER BY 4, g.code LIMIT 1) near ON true
), moved AS (
    UPDATE incidents i
       SET grid_id = r.grid_id, grid_code = r.grid_code, village_code = v.code, distance_m = r.distance_m,
           worker_id = wa.person_id, leader_id = la.person_id, version = i.version + 1
      FROM routed r
      LEFT JOIN areas v ON v.id = r.village_id
      LEFT JOIN LATERAL (
            SELECT person_id FROM grid_assignments
             WHERE grid_code = r.grid_code AND duty = 'worker' AND valid_to IS NULL
             ORDER BY valid_from DESC, id DESC LIMIT 1) wa ON true
      LEFT JOIN LATERAL (
            SELECT person_id FROM grid_assignments
             WHERE grid_code = r.grid_code AND duty = 'leader' AND valid_to IS NULL
             ORDER BY valid_from DESC, id DESC LIMIT 1) la ON true
     WHERE i.id = r.id AND r.grid_code IS DISTINCT FROM r.old_code
 RETURNING i.id, r.old_code, r.grid_code, r.state
), events AS (
    INSERT INTO case_events (incident_id, at, actor_id, role, action, from_state, to_state, note, data)
    SELECT m.id, :now, :actor, :role, 'reroute', m.state, m.state, :note,
           jsonb_build_object('from_grid', m.old_code, 'to_grid', m.grid_code, 'plan', :plan)
      FROM moved m
    RETURNING incident_id
)
SELECT m.id, m.old_code, m.grid_code FROM moved m
