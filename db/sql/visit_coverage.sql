-- 日走访 coverage per current grid whose code starts with :prefix, for visits in [:a, :b): the
-- register's active address points (门牌) and their households, the address points visited (each
-- once however often visited) and their households, the visits and the flagged ones, the grid's
-- worker (网格员) now. A grid with no register has households 0 (its coverage is unknown).
WITH reg AS (
    SELECT grid_code, count(*) AS addresses, sum(households) AS households
      FROM address_points
     WHERE active AND grid_code LIKE :prefix || '%'
     GROUP BY grid_code
), seen AS (
    SELECT grid_code, address_id, count(*) AS visits, count(*) FILTER (WHERE flags <> '{}') AS flagged
      FROM visits
     WHERE visited_at >= :a AND visited_at < :b AND grid_code LIKE :prefix || '%'
     GROUP BY grid_code, address_id
), done AS (
    SELECT s.grid_code, count(p.id) AS addresses, coalesce(sum(p.households), 0) AS households,
           sum(s.visits) AS visits, sum(s.flagged) AS flagged
      FROM seen s LEFT JOIN address_points p ON p.id = s.address_id AND p.active
     GROUP BY s.grid_code
)
SELECT g.code AS grid_code, g.name AS grid_name, v.code AS village_code, v.name AS village_name,
       w.name AS worker_name,
       coalesce(reg.addresses, 0)::int AS addresses, coalesce(reg.households, 0)::int AS households,
       coalesce(done.addresses, 0)::int AS visited_addresses,
       coalesce(done.households, 0)::int AS visited_households,
       coalesce(done.visits, 0)::int AS visits, coalesce(done.flagged, 0)::int AS flagged
  FROM grids g
  JOIN areas v ON v.id = g.village_id
  LEFT JOIN reg ON reg.grid_code = g.code
  LEFT JOIN done ON done.grid_code = g.code
  LEFT JOIN LATERAL (
        SELECT p.name FROM grid_assignments ga JOIN people p ON p.id = ga.person_id
         WHERE ga.grid_code = g.code AND ga.duty = 'worker' AND ga.valid_to IS NULL
         ORDER BY ga.valid_from DESC LIMIT 1) w ON true
 WHERE g.valid_to IS NULL AND g.code LIKE :prefix || '%'
 ORDER BY g.code
