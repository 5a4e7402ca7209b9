-- 综合评价: the counts behind the indicators of workflow/indicators.py, for the cases reported in
-- [:since, :until) that the reader may see, per group and in total (is_total: the grouping-sets
-- row over every group). One pass over the cohort and one over its events.
--
-- :by        grid | village | department | category | source | month (checked by the caller;
--            chosen with CASE, so no identifier is ever spliced in)
-- :tz        the time zone of months and days (Asia/Shanghai)
-- :now       the moment "overdue" and "still waiting" are judged at
-- :filing_days, :filing_deadlines   parallel arrays: a case received on that day is filed on time
--            up to that moment (1 working day, from the working-day calendar)
-- scope (the same rule as webmap/services/scope.py incident_visible, as parameters):
-- :scope_all every case; :reporter_id what the reader reported; :department_id cases dispatched
-- to that department; :grid_prefix cases in grids whose code starts with it; :outside cases
-- outside every grid (the town's 属地兜底).
WITH filing_clock AS (
    SELECT day, due
      FROM unnest(CAST(:filing_days AS date[]), CAST(:filing_deadlines AS timestamptz[])) AS t (day, due)
), cohort AS NOT MATERIALIZED (  -- inlined into both readers, each with the scope filter
    SELECT i.id, i.state, i.tier, i.reported_at, i.deadline, i.dispatched_at, i.closed_at,
           i.rework_count, i.return_count, i.satisfaction,
           CASE CAST(:by AS text)
               WHEN 'grid' THEN i.grid_code
               WHEN 'village' THEN i.village_code
               WHEN 'department' THEN d.code
               WHEN 'category' THEN c.code
               WHEN 'source' THEN i.source
               WHEN 'month' THEN to_char(i.reported_at AT TIME ZONE CAST(:tz AS text), 'YYYY-MM')
           END AS key
      FROM incidents i
      JOIN categories c ON c.id = i.category_id
      LEFT JOIN departments d ON d.id = i.department_id
     WHERE i.reported_at >= :since AND i.reported_at < :until
       AND (CAST(:scope_all AS boolean)
            OR i.reporter_id = CAST(:reporter_id AS integer)
            OR (i.department_id = CAST(:department_id AS integer) AND i.dispatched_at IS NOT NULL)
            OR starts_with(i.grid_code, CAST(:grid_prefix AS text))
            OR (CAST(:outside AS boolean) AND i.grid_code IS NULL))
), history AS (  -- what the append-only events tell of each case
    SELECT e.incident_id,
           min(e.at) FILTER (WHERE e.action = 'escalate') AS escalated_at,
           min(e.at) FILTER (WHERE e.action = 'file') AS filed_at,
           -- 处理反馈 by the department (or 村级处置完毕 by the village), and 返工 after it
           max(e.at) FILTER (WHERE e.action IN ('feedback', 'village_done')) AS fed_back_at,
           max(e.at) FILTER (WHERE e.action = 'verify_fail') AS reworked_at,
           bool_or(e.action = 'self_handle') AS self_handled,
           count(*) FILTER (WHERE e.action = 'verify_pass') AS verify_pass,
           count(*) FILTER (WHERE e.action = 'verify_fail') AS verify_fail
      FROM case_events e
      JOIN cohort ON cohort.id = e.incident_id
     WHERE e.action IN ('escalate', 'file', 'feedback', 'village_done', 'verify_pass', 'verify_fail',
                        'self_handle')
     GROUP BY e.incident_id
), facts AS (
    SELECT k.key, k.state, k.tier, k.deadline, k.closed_at, k.rework_count, k.return_count,
           k.satisfaction,
           k.dispatched_at IS NOT NULL OR k.return_count > 0 AS dispatched,
           h.filed_at IS NOT NULL OR k.dispatched_at IS NOT NULL AS filed,
           COALESCE(h.filed_at, k.dispatched_at) AS filed_at,
           fc.due AS filing_deadline,
           -- handled: the last feedback that was not sent back for rework, or closing
           LEAST(CASE WHEN h.fed_back_at > COALESCE(h.reworked_at, '-infinity') THEN h.fed_back_at END,
                 k.closed_at) AS handled_at,
           k.state NOT IN ('作废', '挂账') AND k.deadline IS NOT NULL AS timed,
           EXTRACT(EPOCH FROM k.closed_at - COALESCE(k.dispatched_at, k.reported_at)) / 3600.0 AS hours,
           COALESCE(h.self_handled, false) AS self_handled,
           COALESCE(h.verify_pass, 0) AS verify_pass,
           COALESCE(h.verify_fail, 0) AS verify_fail
      FROM cohort k
      LEFT JOIN history h ON h.incident_id = k.id
      LEFT JOIN filing_clock fc
             ON fc.day = (COALESCE(h.escalated_at, k.reported_at) AT TIME ZONE CAST(:tz AS text))::date
), counted AS (
    SELECT GROUPING(key) = 1 AS is_total,
           key,
           count(*) AS reported,
           count(*) FILTER (WHERE filed) AS filed,
           count(*) FILTER (WHERE filed AND filed_at <= filing_deadline) AS filed_on_time,
           count(*) FILTER (WHERE filed OR (state = '待受理' AND tier = 'town' AND filing_deadline < :now))
               AS filing_due,
           count(*) FILTER (WHERE dispatched) AS dispatched,
           count(*) FILTER (WHERE dispatched AND timed AND handled_at <= deadline) AS handled_on_time,
           count(*) FILTER (WHERE dispatched AND timed AND (handled_at IS NOT NULL OR deadline < :now))
               AS handling_due,
           count(*) FILTER (WHERE timed AND (closed_at > deadline OR (closed_at IS NULL AND deadline < :now)))
               AS overdue,
           count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
           count(*) FILTER (WHERE closed_at <= deadline) AS closed_on_time,
           count(*) FILTER (WHERE closed_at IS NOT NULL AND deadline IS NOT NULL) AS closing_due,
           count(*) FILTER (WHERE self_handled) AS self_handled,
           COALESCE(sum(GREATEST(hours, 0)) FILTER (WHERE closed_at IS NOT NULL), 0) AS handling_hours,
           count(*) FILTER (WHERE rework_count > 0) AS reworked,
           count(*) FILTER (WHERE verify_pass + verify_fail > 0 OR rework_count > 0) AS verified,
           count(*) FILTER (WHERE return_count > 0) AS returned,
           sum(verify_pass) AS verify_pass,
           sum(verify_pass + verify_fail) AS verifications,
           count(*) FILTER (WHERE satisfaction >= 4) AS satisfied,
           count(*) FILTER (WHERE satisfaction IS NOT NULL) AS visited
      FROM facts
     GROUP BY GROUPING SETS ((key), ())
)
SELECT n.*,
       COALESCE(g.name, v.name, dp.name, ct.class_name || ' · ' || ct.name) AS label
  FROM counted n
  LEFT JOIN grids g ON CAST(:by AS text) = 'grid' AND g.code = n.key AND g.valid_to IS NULL
  LEFT JOIN areas v ON CAST(:by AS text) = 'village' AND v.code = n.key
  LEFT JOIN departments dp ON CAST(:by AS text) = 'department' AND dp.code = n.key
  LEFT JOIN categories ct ON CAST(:by AS text) = 'category' AND ct.code = n.key
 ORDER BY n.is_total, n.key NULLS LAST
