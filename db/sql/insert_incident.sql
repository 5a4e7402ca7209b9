-- Store a routed report in one statement: the incident (its case number made from its id), its
-- first case event (the columns of services/events.py EVENT_COLUMNS), and a NOTIFY for live
-- listeners (delivered at commit; :message is built by events.live_message). A resent report whose
-- idempotency key is already stored inserts nothing and returns no row. The case number is the
-- town's prefix (towns.case_prefix, migration 0010), the report day and the id in 7 digits.
WITH n AS (
    SELECT nextval('incidents_id_seq') AS id
), ins AS (
    INSERT INTO incidents (
        id, case_no, geom, raw_lng, raw_lat, raw_crs, source, category_id, description, address,
        grid_id, grid_code, village_code, worker_id, leader_id, department_id, reporter_id,
        reporter_name, reporter_phone, state, flags, reported_at, deadline, idempotency_key, photos,
        distance_m, tier)
    SELECT n.id, wangge_case_prefix() || :day || lpad(n.id::text, 7, '0'),
           ST_SetSRID(ST_MakePoint(:lng, :lat), 4326), :raw_lng, :raw_lat, :raw_crs, :source,
           :category_id, :description, :address, :grid_id, :grid_code, :village_code, :worker_id,
           :leader_id, :department_id, :reporter_id, :reporter_name, :reporter_phone, '待受理',
           CAST(:flags AS varchar[]), :reported_at, :deadline, :idempotency_key,
           CAST(:photos AS varchar[]), :distance_m,
           CASE WHEN :grid_code IS NULL THEN 'town' ELSE 'village' END
      FROM n
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, case_no
), event AS (
    INSERT INTO case_events (incident_id, at, actor_id, role, action, from_state, to_state, note, data)
    SELECT ins.id, :reported_at, :reporter_id, :reporter_role, 'report', NULL, '待受理', '上报',
           CAST(:event_data AS jsonb)
      FROM ins
)
SELECT ins.id, ins.case_no,
       pg_notify(:channel, (CAST(:message AS jsonb)
                            || jsonb_build_object('id', ins.id, 'case_no', ins.case_no))::text)
  FROM ins
