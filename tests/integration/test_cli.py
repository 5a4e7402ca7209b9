"""The command line as a user runs it: db up twice, demo accounts, demo load guards."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from werkzeug.security import check_password_hash

from tests.conftest import ROOT

WANGGE = str(Path(sys.executable).parent / "wangge")


def run(*args, env=None):
    full_env = {**os.environ, "WANGGE_HOME": str(ROOT), **(env or {})}
    return subprocess.run([WANGGE, *args], capture_output=True, text=True, env=full_env, timeout=300)


def test_db_up_twice_does_no_harm(server_url):
    env = {"DATABASE_URL": ""} if not os.environ.get("DATABASE_URL") else {}
    first, second = run("db", "up", env=env), run("db", "up", env=env)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    from db.cluster import default_cluster

    assert f":{default_cluster().port}/" in second.stdout or os.environ.get("DATABASE_URL")


def test_demo_accounts_json(database_url, connection):
    out = run("demo", "accounts", env={"DATABASE_URL": database_url})
    assert out.returncode == 0, out.stderr
    accounts = json.loads(out.stdout)
    assert all(set(a) == {"username", "role", "scope"} for a in accounts)
    roles = Counter(a["role"] for a in accounts)
    for role in ("worker", "leader", "dispatcher", "department", "district"):
        assert roles[role] >= 2, role
    grid_codes = set(connection.execute(text("SELECT code FROM grids")).scalars())
    village_codes = set(connection.execute(text("SELECT code FROM areas WHERE level = 'village'")).scalars())
    workers = [a for a in accounts if a["role"] == "worker"]
    leaders = [a for a in accounts if a["role"] == "leader"]
    assert {a["scope"] for a in workers} <= grid_codes and len({a["scope"] for a in workers}) == len(workers)
    assert {a["scope"] for a in leaders} <= village_codes and len({a["scope"] for a in leaders}) >= 10
    assert {a["scope"] for a in accounts if a["role"] == "district"} == {"120116"}
    digest = connection.execute(text("SELECT password_hash FROM accounts WHERE username = :u"),
                                {"u": workers[0]["username"]}).scalar_one()
    assert check_password_hash(digest, "demo") and not digest.startswith("demo")


def test_demo_load_refuses_to_overwrite(database_url):
    refused = run("demo", "load", "--incidents", "10", env={"DATABASE_URL": database_url})
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    skipped = run("demo", "load", "--if-empty", env={"DATABASE_URL": database_url})
    assert skipped.returncode == 0 and "跳过" in skipped.stdout


def test_demo_load_replace_into_a_fresh_database(fresh_database):
    url = fresh_database("cli")
    out = run("demo", "load", "--incidents", "500", "--until", "2026-06-30", env={"DATABASE_URL": url})
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])["loaded"]
    assert loaded["incidents"] == 500 and loaded["grids"] >= 70
    again = run("demo", "load", "--incidents", "100", "--replace", env={"DATABASE_URL": url})
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["loaded"]["incidents"] == 100


def test_bad_until_is_a_clear_error(fresh_database):
    url = fresh_database("cli_bad")
    out = run("demo", "load", "--until", "yesterday", env={"DATABASE_URL": url})
    assert out.returncode == 1 and "YYYY-MM-DD" in out.stderr
