"""The embedded database's lifecycle on a cluster of its own: up, up again, down, down again."""

import os
import shutil
import socket

import psycopg2
import pytest

from db import cluster
from tests.conftest import ROOT


@pytest.fixture
def scratch_cluster():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = ROOT / "var" / f"test-cluster-{os.getpid()}"
    c = cluster.Cluster(root=root, port=port, dbname="lifecycle")
    yield c
    cluster.down(c, echo=lambda _m: None)
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="DATABASE_URL replaces the private cluster")
def test_up_twice_down_twice(scratch_cluster):
    messages = []
    url = cluster.up(scratch_cluster, echo=messages.append)
    assert any("初始化" in m for m in messages) and any("启动" in m for m in messages)
    messages.clear()
    assert cluster.up(scratch_cluster, echo=messages.append) == url
    assert messages == []  # already initialised and running: nothing done
    conn = psycopg2.connect(host="127.0.0.1", port=scratch_cluster.port, user="wangge", dbname="lifecycle")
    with conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cur.execute("SELECT postgis_lib_version()")
        assert cur.fetchone()[0].startswith("3.")
    conn.close()
    if os.geteuid() == 0:  # PostgreSQL refuses root: the server runs as another OS user
        owner = (scratch_cluster.data_dir / "PG_VERSION").stat().st_uid
        assert owner != 0
    cluster.down(scratch_cluster, echo=messages.append)
    assert not cluster.is_running(scratch_cluster)
    cluster.down(scratch_cluster, echo=messages.append)
    assert "未运行" in messages[-1]
    assert cluster.up(scratch_cluster, echo=messages.append) == url  # and back up, data kept
