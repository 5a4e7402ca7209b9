"""Case tally (案件计数): counts per 50 m cell, grid and state, kept by the database

The dispatcher console's aggregates at town and village zoom read this small table instead of
scanning a million incidents. Statement-level triggers with transition tables keep it exact in
the transaction that changes incidents (intake, workflow, bulk import, COPY): each statement adds
its new rows' counts and subtracts its old rows', grouped, in key order (so two transactions take
the row locks in the same order). TRUNCATE of incidents empties it.

Also a partial covering index of the cases on the deadline clock, so that red and yellow counts
and the most urgent cases are read from the index alone, in deadline order; the state index then
covers only the few states off the clock that filters ask for (待核查, 挂账, 作废): 结案 is most of
the table, and an index of the clock states would tempt the planner away from the covering one.

And trigram indexes (pg_trgm) of the address and the description, for the console's search.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CELL_M = 50  # the cell edge in EPSG:3857 metres; webmap.services.mapdata.TALLY_CELL_M
CLOCK = "state IN ('待受理', '已立案', '立案派遣', '处理中', '督办')"  # workflow.deadlines.CLOCK_STATES
OFF_CLOCK = "state IN ('待核查', '挂账', '作废')"
CLOCK_INCLUDE = ["state", "reported_at", "dispatched_at", "grid_code", "village_code", "category_id",
                 "source", "geom"]

FUNCTIONS = """
CREATE FUNCTION wangge_tally_cell_x(g geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(ST_X(g) * 20037508.342789244 / 180 / {CELL_M})::integer;
CREATE FUNCTION wangge_tally_cell_y(g geometry) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(ln(tan(radians(ST_Y(g) + 90) / 2)) * 6378137 / {CELL_M})::integer;

-- add the counts of the statement's new rows, subtract its old rows', in key order
CREATE FUNCTION wangge_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE case_tally;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO case_tally AS t (cx, cy, grid_code, village_code, state, n)
        SELECT wangge_tally_cell_x(geom), wangge_tally_cell_y(geom), grid_code, village_code, state, count(*)
          FROM new_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (cx, cy, grid_code, village_code, state) DO UPDATE SET n = t.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO case_tally AS t (cx, cy, grid_code, village_code, state, n)
        SELECT wangge_tally_cell_x(geom), wangge_tally_cell_y(geom), grid_code, village_code, state, -count(*)
          FROM old_rows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (cx, cy, grid_code, village_code, state) DO UPDATE SET n = t.n + excluded.n;
    ELSE
        INSERT INTO case_tally AS t (cx, cy, grid_code, village_code, state, n)
        SELECT cx, cy, grid_code, village_code, state, sum(d)
          FROM (SELECT wangge_tally_cell_x(geom) AS cx, wangge_tally_cell_y(geom) AS cy,
                       grid_code, village_code, state, 1 AS d FROM new_rows
                UNION ALL
                SELECT wangge_tally_cell_x(geom), wangge_tally_cell_y(geom),
                       grid_code, village_code, state, -1 FROM old_rows) AS change
         GROUP BY 1, 2, 3, 4, 5 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (cx, cy, grid_code, village_code, state) DO UPDATE SET n = t.n + excluded.n;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER incidents_tally_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION wangge_tally_apply();
CREATE TRIGGER incidents_tally_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION wangge_tally_apply();
CREATE TRIGGER incidents_tally_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION wangge_tally_apply();
CREATE TRIGGER incidents_tally_truncate AFTER TRUNCATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION wangge_tally_apply();

INSERT INTO case_tally (cx, cy, grid_code, village_code, state, n)
SELECT wangge_tally_cell_x(geom), wangge_tally_cell_y(geom), grid_code, village_code, state, count(*)
  FROM incidents GROUP BY 1, 2, 3, 4, 5;
""".replace("{CELL_M}", str(CELL_M))


def upgrade() -> None:
    op.create_table(
        "case_tally",
        sa.Column("cx", sa.Integer(), nullable=False),
        sa.Column("cy", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("village_code", sa.String(length=12), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("uq_case_tally_key", "case_tally", ["cx", "cy", "grid_code", "village_code", "state"],
                    unique=True, postgresql_nulls_not_distinct=True)
    op.create_index("ix_case_tally_grid_code", "case_tally", ["grid_code"])
    op.execute(FUNCTIONS)
    op.create_index("ix_incidents_clock", "incidents", ["deadline"], postgresql_include=CLOCK_INCLUDE,
                    postgresql_where=sa.text(CLOCK))
    op.drop_index("ix_incidents_state", table_name="incidents")
    op.create_index("ix_incidents_state", "incidents", ["state"], postgresql_where=sa.text(OFF_CLOCK))
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted: the database owner may
    for column in ("address", "description"):
        op.create_index(f"ix_incidents_{column}_trgm", "incidents", [column], postgresql_using="gin",
                        postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    for column in ("address", "description"):
        op.drop_index(f"ix_incidents_{column}_trgm", table_name="incidents")
    op.drop_index("ix_incidents_state", table_name="incidents")
    op.create_index("ix_incidents_state", "incidents", ["state"])
    op.drop_index("ix_incidents_clock", table_name="incidents")
    for trigger in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS incidents_tally_{trigger} ON incidents")
    op.execute("DROP FUNCTION IF EXISTS wangge_tally_apply()")
    op.execute("DROP FUNCTION IF EXISTS wangge_tally_cell_x(geometry)")
    op.execute("DROP FUNCTION IF EXISTS wangge_tally_cell_y(geometry)")
    op.drop_table("case_tally")
