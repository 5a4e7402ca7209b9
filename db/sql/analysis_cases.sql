-- 周分析 / 月汇总: the cases reported in [:lo, :hi) in one village or the town, counted in one pass
-- per category, per grid, per grid and category (the hotspots) and in total (the grouping sets;
-- has_grid / has_category say which a row is).
--
-- :village   a village's code (its cases: incidents.village_code), or NULL
-- :town      the town's code (its villages' cases and those outside every grid), or NULL
-- :now       the moment "overdue" is judged at: open past the deadline then, or closed after it
--            (void and parked cases are not on the clock), as the statistics' 超期数
--            (db/sql/stats_indicators.sql)
WITH cohort AS (
    SELECT i.grid_code, c.code AS category, i.state, i.deadline, i.closed_at
      FROM incidents i
      JOIN categories c ON c.id = i.category_id
     WHERE i.reported_at >= :lo AND i.reported_at < :hi
       AND (CAST(:village AS text) IS NULL OR i.village_code = CAST(:village AS text))
       AND (CAST(:town AS text) IS NULL OR starts_with(i.village_code, CAST(:town AS text))
            OR i.village_code IS NULL)
)
SELECT GROUPING(grid_code) = 0 AS has_grid,
       GROUPING(category) = 0 AS has_category,
       grid_code,
       category,
       count(*) AS reported,
       count(*) FILTER (WHERE state = '结案') AS closed,
       count(*) FILTER (WHERE state = '作废') AS void,
       count(*) FILTER (WHERE state NOT IN ('结案', '作废')) AS open,
       count(*) FILTER (WHERE state NOT IN ('作废', '挂账') AND deadline IS NOT NULL
                          AND (closed_at > deadline OR (closed_at IS NULL AND deadline < :now))) AS overdue
  FROM cohort
 GROUP BY GROUPING SETS ((), (category), (grid_code), (grid_code, category))
