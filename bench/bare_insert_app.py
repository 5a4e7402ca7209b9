"""The peer of the intake benchmark: a bare Flask endpoint that inserts one row into the same
database (no validation, no routing, no events), served by waitress like our app.

    DATABASE_URL=... python bench/bare_insert_app.py --port 5099 --threads 16
"""

from __future__ import annotations

import argparse
import json
import os

from flask import Flask, request
from psycopg2.pool import ThreadedConnectionPool
from sqlalchemy.engine import make_url
from waitress import serve


def create_app(url: str, threads: int) -> Flask:
    u = make_url(url)
    pool = ThreadedConnectionPool(1, threads, host=u.host, port=u.port, user=u.username,
                                  password=u.password, dbname=u.database)
    conn = pool.getconn()
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bare_rows (id bigserial PRIMARY KEY, body jsonb, "
                    "created_at timestamptz DEFAULT now())")
    pool.putconn(conn)
    app = Flask(__name__)

    @app.post("/insert")
    def insert():
        conn = pool.getconn()
        try:
            with conn, conn.cursor() as cur:
                cur.execute("INSERT INTO bare_rows (body) VALUES (%s) RETURNING id",
                            (json.dumps(request.get_json(silent=True)),))
                new_id = cur.fetchone()[0]
        finally:
            pool.putconn(conn)
        return {"id": new_id}, 201

    @app.get("/ping")
    def ping():
        return {"ok": True}

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    serve(create_app(os.environ["DATABASE_URL"], args.threads), host="127.0.0.1", port=args.port,
          threads=args.threads, ident="bare")
