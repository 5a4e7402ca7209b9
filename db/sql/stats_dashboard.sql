-- 统计看板 (dashboard): the counts behind the figures of workflow/indicators.py DASHBOARD, for three
-- windows at once (w = 0 the period asked for, 1 the previous period of the same length 环比,
-- 2 the same period a year earlier 同比), in one statement. Each figure counts what *happened* in
-- the window (a case reported on 30 September and closed on 9 October is reported in September
-- and closed in October), read from incidents, the append-only case_events and hotline_orders.
--
-- Rows: kind = 'tiles' (per window), and for the period asked for (w = 0) 'grid', 'village',
-- 'reported_at' / 'closed_at' (trend buckets), 'category', 'department', 'worker', 'source';
-- kind = 'hotline' (per window) carries the 12345 counts.
--
-- :s0 :u0 :a0, :s1 :u1 :a1, :s2 :u2 :a2   the windows [since, until) and the moment "overdue" is
--            judged at (the window's end, or now when that is earlier)
-- :unit      day | week | month: the trend's bucket (checked by the caller; chosen with CASE)
-- :tz        Asia/Shanghai
-- :village, :category   optional filters (NULL: all)
-- scope: the same parameters as stats_indicators.sql (webmap.services.stats.scope_params)
WITH win (w, since, until, as_of) AS (
    VALUES (0, CAST(:s0 AS timestamptz), CAST(:u0 AS timestamptz), CAST(:a0 AS timestamptz)),
           (1, CAST(:s1 AS timestamptz), CAST(:u1 AS timestamptz), CAST(:a1 AS timestamptz)),
           (2, CAST(:s2 AS timestamptz), CAST(:u2 AS timestamptz), CAST(:a2 AS timestamptz))
), scoped AS NOT MATERIALIZED (
    SELECT i.id, i.state, i.reported_at, i.closed_at, i.deadline, i.dispatched_at, i.satisfaction,
           i.grid_code, i.village_code, i.department_id, i.worker_id, i.source, c.code AS category
      FROM incidents i
      JOIN categories c ON c.id = i.category_id
     WHERE (CAST(:village AS text) IS NULL OR i.village_code = CAST(:village AS text))
       AND (CAST(:category AS text) IS NULL OR c.code = CAST(:category AS text))
       AND (CAST(:scope_all AS boolean)
            OR i.reporter_id = CAST(:reporter_id AS integer)
            OR (i.department_id = CAST(:department_id AS integer) AND i.dispatched_at IS NOT NULL)
            OR starts_with(i.grid_code, CAST(:grid_prefix AS text))
            OR (CAST(:outside AS boolean) AND i.grid_code IS NULL))
), happened AS (  -- what the events of each window tell of each case
    SELECT e.incident_id, win.w,
           bool_or(e.action = 'file') AS filed,
           bool_or(e.action = 'dispatch') AS dispatched,
           bool_or(e.action = 'return') AS returned,
           bool_or(e.action IN ('verify_pass', 'verify_fail')) AS verified,
           bool_or(e.action = 'verify_fail') AS reworked,
           bool_or(e.action = 'self_handle') AS self_handled
      FROM case_events e
      JOIN win ON e.at >= win.since AND e.at < win.until
     WHERE e.action IN ('file', 'dispatch', 'return', 'verify_pass', 'verify_fail', 'self_handle')
     GROUP BY 1, 2
), counts_in AS (  -- which cases count in which window: reported or closed in it, overdue at its end, or
                    -- touched by its events (ids only, so that the union is a cheap one)
    SELECT k.id, win.w
      FROM scoped k
      JOIN win ON (k.reported_at >= win.since AND k.reported_at < win.until)
               OR (k.closed_at >= win.since AND k.closed_at < win.until)
               OR (k.deadline < win.as_of AND k.reported_at < win.as_of
                   AND (k.closed_at IS NULL OR k.closed_at > win.as_of))
    UNION
    SELECT h.incident_id, h.w FROM happened h
), touched AS (  -- one row per case and window it counts in
    SELECT k.*, win.w, win.as_of,
           k.reported_at >= win.since AND k.reported_at < win.until AS reported,
           k.closed_at >= win.since AND k.closed_at < win.until AS closed,
           k.state NOT IN ('作废', '挂账') AND k.deadline < win.as_of AND k.reported_at < win.as_of
               AND (k.closed_at IS NULL OR k.closed_at > win.as_of) AS overdue
      FROM counts_in c
      JOIN scoped k ON k.id = c.id
      JOIN win ON win.w = c.w
), facts AS (
    SELECT t.w, t.reported, t.closed, t.overdue,
           COALESCE(h.filed, false) AS filed,
           COALESCE(h.dispatched, false) AS dispatched,
           COALESCE(h.returned, false) AS returned,
           COALESCE(h.verified, false) AS verified,
           COALESCE(h.reworked, false) AS reworked,
           COALESCE(h.self_handled, false) AS self_handled,
           t.closed AND t.closed_at <= t.deadline AS closed_on_time,
           t.closed AND t.deadline IS NOT NULL AS closing_due,
           CASE WHEN t.closed THEN GREATEST(EXTRACT(EPOCH FROM t.closed_at - COALESCE(t.dispatched_at, t.reported_at)) / 3600.0, 0) END
               AS hours,
           t.closed AND t.satisfaction >= 4 AS satisfied,
           t.closed AND t.satisfaction IS NOT NULL AS visited,
           -- the rows of the period asked for only (NULL keys of the other windows fold away)
           CASE WHEN t.w = 0 THEN t.grid_code END AS grid,
           CASE WHEN t.w = 0 THEN t.village_code END AS village,
           CASE WHEN t.w = 0 THEN t.category END AS category,
           CASE WHEN t.w = 0 THEN t.department_id END AS department,
           CASE WHEN t.w = 0 THEN t.worker_id END AS worker,
           CASE WHEN t.w = 0 THEN t.source END AS source,
           CASE WHEN t.w = 0 AND t.reported
                THEN date_trunc(CAST(:unit AS text), t.reported_at AT TIME ZONE CAST(:tz AS text)) END AS reported_bucket,
           CASE WHEN t.w = 0 AND t.closed
                THEN date_trunc(CAST(:unit AS text), t.closed_at AT TIME ZONE CAST(:tz AS text)) END AS closed_bucket
      FROM touched t
      LEFT JOIN happened h ON h.incident_id = t.id AND h.w = t.w
), counted AS (
    SELECT CASE WHEN GROUPING(grid) = 0 THEN 'grid'
                WHEN GROUPING(village) = 0 THEN 'village'
                WHEN GROUPING(category) = 0 THEN 'category'
                WHEN GROUPING(department) = 0 THEN 'department'
                WHEN GROUPING(worker) = 0 THEN 'worker'
                WHEN GROUPING(source) = 0 THEN 'source'
                WHEN GROUPING(reported_bucket) = 0 THEN 'reported_at'
                WHEN GROUPING(closed_bucket) = 0 THEN 'closed_at'
                ELSE 'tiles' END AS kind,
           w,
           COALESCE(grid, village, category, CAST(department AS text), CAST(worker AS text), source,
                    to_char(COALESCE(reported_bucket, closed_bucket), 'YYYY-MM-DD')) AS key,
           count(*) FILTER (WHERE reported) AS reported,
           count(*) FILTER (WHERE filed) AS filed,
           count(*) FILTER (WHERE closed) AS closed,
           count(*) FILTER (WHERE overdue) AS overdue,
           count(*) FILTER (WHERE closed_on_time) AS closed_on_time,
           count(*) FILTER (WHERE closing_due) AS closing_due,
           count(*) FILTER (WHERE reworked) AS reworked,
           count(*) FILTER (WHERE verified) AS verified,
           count(*) FILTER (WHERE returned) AS returned,
           count(*) FILTER (WHERE dispatched) AS dispatched,
           count(*) FILTER (WHERE satisfied) AS satisfied,
           count(*) FILTER (WHERE visited) AS visited,
           count(*) FILTER (WHERE self_handled) AS self_handled,
           COALESCE(sum(hours), 0) AS handling_hours,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS handling_hours_median,
           NULL::bigint AS accept_due, NULL::bigint AS accepted_on_time, NULL::bigint AS reply_due,
           NULL::bigint AS replied_on_time, NULL::bigint AS hotline_visited, NULL::bigint AS hotline_satisfied,
           NULL::bigint AS hotline_returned
      FROM facts
     GROUP BY GROUPING SETS ((w), (w, grid), (w, village), (w, category), (w, department), (w, worker),
                             (w, source), (w, reported_bucket), (w, closed_bucket))
), hotline AS (  -- 12345 orders dispatched to the town in each window (三率), scoped through their case
    SELECT 'hotline' AS kind, win.w, NULL AS key,
           count(*) FILTER (WHERE COALESCE(o.signed_at, o.returned_at) IS NOT NULL OR o.accept_deadline < win.as_of)
               AS accept_due,
           count(*) FILTER (WHERE COALESCE(o.signed_at, o.returned_at) <= o.accept_deadline) AS accepted_on_time,
           count(*) FILTER (WHERE o.state <> '已退回' AND (o.replied_at IS NOT NULL OR o.reply_deadline < win.as_of))
               AS reply_due,
           count(*) FILTER (WHERE o.state <> '已退回' AND o.replied_at <= o.reply_deadline) AS replied_on_time,
           count(*) FILTER (WHERE k.satisfaction IS NOT NULL) AS hotline_visited,
           count(*) FILTER (WHERE k.satisfaction >= 4) AS hotline_satisfied,
           count(*) FILTER (WHERE o.return_count > 0) AS hotline_returned
      FROM hotline_orders o
      JOIN win ON o.dispatched_at >= win.since AND o.dispatched_at < win.until
      LEFT JOIN scoped k ON k.id = o.incident_id
     WHERE (CAST(:scope_all AS boolean) AND CAST(:village AS text) IS NULL AND CAST(:category AS text) IS NULL)
        OR k.id IS NOT NULL
        -- an order with no case yet is the town's: its readers (scope :outside) see it
        OR (CAST(:outside AS boolean) AND o.incident_id IS NULL
            AND CAST(:village AS text) IS NULL AND CAST(:category AS text) IS NULL)
        OR (CAST(:department_id AS integer) IS NOT NULL AND o.department_id = CAST(:department_id AS integer)
            AND CAST(:village AS text) IS NULL AND CAST(:category AS text) IS NULL)
     GROUP BY win.w
)
SELECT kind, w, key, reported, filed, closed, overdue, closed_on_time, closing_due, reworked, verified,
       returned, dispatched, satisfied, visited, self_handled, handling_hours, handling_hours_median,
       accept_due, accepted_on_time, reply_due, replied_on_time, hotline_visited, hotline_satisfied,
       hotline_returned
  FROM counted
 WHERE kind = 'tiles' OR key IS NOT NULL
UNION ALL
SELECT kind, w, key, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, accept_due, accepted_on_time, reply_due, replied_on_time, hotline_visited, hotline_satisfied,
       hotline_returned
  FROM hotline
