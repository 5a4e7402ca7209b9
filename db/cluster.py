"""The embedded default database: a private PostgreSQL + PostGIS cluster under ``var/``.

``wangge db up`` uses ``DATABASE_URL`` when it is set. Otherwise it creates and starts a private
cluster from the machine's own PostgreSQL binaries. PostgreSQL refuses to run as root, so when we
are root the cluster belongs to an unprivileged OS user (``postgres`` when the distribution made
one, else ``wangge``). Every step is idempotent: running ``up`` twice does no harm.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

POSTGIS_PACKAGE = "postgresql-{major}-postgis-3"
DEFAULT_PORT = 54329
DEFAULT_DBNAME = "wangge"


class ClusterError(RuntimeError):
    """The private cluster could not be made ready; the message says what to do."""


@dataclass(frozen=True)
class Cluster:
    root: Path  # var/pg
    port: int = DEFAULT_PORT
    dbname: str = DEFAULT_DBNAME
    superuser: str = "wangge"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self, dbname: str | None = None) -> str:
        return (
            f"postgresql+psycopg2://{self.superuser}@127.0.0.1:{self.port}/"
            f"{dbname or self.dbname}"
        )


def project_root() -> Path:
    """The folder holding ``var/``: the working directory, or WANGGE_HOME."""
    return Path(os.environ.get("WANGGE_HOME", os.getcwd())).resolve()


def default_cluster() -> Cluster:
    port = int(os.environ.get("WANGGE_PG_PORT", DEFAULT_PORT))
    return Cluster(root=project_root() / "var" / "pg", port=port)


def database_url() -> str:
    """The URL every command uses: ``DATABASE_URL`` (normalised) or the private cluster's."""
    return normalise_url(os.environ.get("DATABASE_URL") or default_cluster().url())


# the URL schemes PostgreSQL's own tools print, and Heroku-style ``postgres://``
_PLAIN_SCHEMES = ("postgresql", "postgres")


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL for ``url`` with psycopg2 named as its driver.

    ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg2://``: SQLAlchemy 2.1 made
    psycopg 3 the default driver of ``postgresql://``, and we ship psycopg2. Everything after the
    scheme is kept as written (credentials, and query args such as ``?host=/var/run/postgresql``
    for a unix socket). Other URLs are returned unchanged.

    >>> normalise_url("postgresql://wangge@127.0.0.1:54329/wangge")
    'postgresql+psycopg2://wangge@127.0.0.1:54329/wangge'
    >>> normalise_url("postgres:///wangge?host=/var/run/postgresql")
    'postgresql+psycopg2:///wangge?host=/var/run/postgresql'
    >>> normalise_url("postgresql+psycopg2://u:p%40ss@db/w")
    'postgresql+psycopg2://u:p%40ss@db/w'
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in _PLAIN_SCHEMES:
        return "postgresql+psycopg2://" + rest
    return url


# ---------------------------------------------------------------- binaries and PostGIS


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/N/bin`` that has ``initdb`` (Debian layout), or PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ClusterError(
        "找不到 PostgreSQL 程序 (initdb)。请安装: apt-get install -y postgresql-15 postgresql-15-postgis-3\n"
        "PostgreSQL binaries (initdb) not found. Install: "
        "apt-get install -y postgresql-15 postgresql-15-postgis-3"
    )


def pg_major(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True)
    # "postgres (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)"
    return out.stdout.split(")")[1].strip().split(".")[0]


def postgis_installed(major: str) -> bool:
    return Path(f"/usr/share/postgresql/{major}/extension/postgis.control").exists()


def ensure_postgis(major: str, echo=print) -> None:
    """Install Debian's PostGIS package when it is missing and we can; else say what to install."""
    if postgis_installed(major):
        return
    package = POSTGIS_PACKAGE.format(major=major)
    if os.geteuid() == 0 and shutil.which("apt-get"):
        echo(f"正在安装 {package} … / installing {package} …")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env)
        if done.returncode == 0 and postgis_installed(major):
            return
    raise ClusterError(
        f"未安装 PostGIS。请以 root 运行: apt-get update && apt-get install -y {package}\n"
        f"PostGIS is not installed. As root run: apt-get update && apt-get install -y {package}"
    )


# ---------------------------------------------------------------- running as another user


def cluster_os_user() -> str | None:
    """The OS user that owns the cluster when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "wangge"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "wangge"],
        check=True,
    )
    return "wangge"


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    if user is None:
        return cmd
    return ["runuser", "-u", user, "--", *cmd]


def _give_to(paths: list[Path], user: str | None) -> None:
    """Hand our folders to the cluster user (initdb then creates the data folder as that user)."""
    if user is None:
        return
    info = pwd.getpwnam(user)
    for path in paths:
        os.chown(path, info.pw_uid, info.pw_gid)


def _check_traversable(path: Path, user: str | None) -> None:
    """The cluster user must be able to reach var/pg through every parent folder."""
    if user is None:
        return
    check = subprocess.run(_as_user(["test", "-x", str(path)], user))
    if check.returncode != 0:
        raise ClusterError(
            f"用户 {user} 无法进入 {path}: 请给上级目录加上 o+x 权限,或设置 DATABASE_URL。\n"
            f"OS user {user} cannot enter {path}: make its parents o+x, or set DATABASE_URL."
        )


# ---------------------------------------------------------------- up, down, status


def is_running(cluster: Cluster) -> bool:
    pid_file = cluster.data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def up(cluster: Cluster | None = None, echo=print) -> str:
    """Make the database ready and return its URL. Idempotent."""
    if os.environ.get("DATABASE_URL"):
        url = normalise_url(os.environ["DATABASE_URL"])
        try:
            create_database(url)
        except psycopg2.Error:
            # no right to list or create databases there: the database itself must answer
            psycopg2.connect(**connect_params(url)).close()
        return url

    cluster = cluster or default_cluster()
    bindir = find_bindir()
    ensure_postgis(pg_major(bindir), echo=echo)
    user = cluster_os_user()

    cluster.root.mkdir(parents=True, exist_ok=True)
    cluster.socket_dir.mkdir(parents=True, exist_ok=True)
    _give_to([cluster.root, cluster.socket_dir], user)
    _check_traversable(cluster.root, user)

    if not (cluster.data_dir / "PG_VERSION").exists():
        echo(f"初始化数据库集群 {cluster.data_dir} / initialising cluster")
        subprocess.run(
            _as_user(
                [
                    str(bindir / "initdb"),
                    "-D", str(cluster.data_dir),
                    "-U", cluster.superuser,
                    "--auth=trust",
                    "-E", "UTF8",
                    "--locale=C.UTF-8",
                ],
                user,
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    if not is_running(cluster):
        echo(f"启动 PostgreSQL 于 127.0.0.1:{cluster.port} / starting PostgreSQL")
        options = (
            f"-p {cluster.port} -k {cluster.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=200 -c shared_buffers=512MB"
        )
        started = subprocess.run(
            _as_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D", str(cluster.data_dir),
                    "-l", str(cluster.log_file),
                    "-o", options,
                    "-w", "-t", "60",
                    "start",
                ],
                user,
            ),
            capture_output=True,
            text=True,
        )
        if started.returncode != 0:
            tail = cluster.log_file.read_text()[-2000:] if cluster.log_file.exists() else ""
            raise ClusterError(f"PostgreSQL 启动失败 / failed to start:\n{started.stderr}\n{tail}")

    url = cluster.url()
    _wait_ready(url)
    create_database(url)
    return url


def down(cluster: Cluster | None = None, echo=print) -> None:
    """Stop the private cluster. Idempotent; does nothing when DATABASE_URL is set."""
    if os.environ.get("DATABASE_URL"):
        echo("DATABASE_URL 已设置: 不停止外部数据库 / external database left running")
        return
    cluster = cluster or default_cluster()
    if not is_running(cluster):
        echo("数据库未运行 / not running")
        return
    subprocess.run(
        _as_user(
            [str(find_bindir() / "pg_ctl"), "-D", str(cluster.data_dir), "-m", "fast", "-w", "stop"],
            cluster_os_user(),
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    echo("已停止 / stopped")


def connect_params(url: str, dbname: str | None = None) -> dict:
    """``psycopg2.connect`` keywords for a database URL (any form ``normalise_url`` accepts).

    Query args pass through as libpq keywords, so ``?host=/var/run/postgresql&port=5433`` reaches a
    unix socket; what the URL leaves out libpq decides, exactly as for the engine on the same URL.
    ``dbname`` replaces the URL's database (``postgres`` for CREATE/DROP DATABASE).
    """
    u = make_url(normalise_url(url))
    # a repeated query arg arrives as a tuple: the last one wins, as in libpq's conninfo
    params = {k: v[-1] if isinstance(v, tuple) else v for k, v in u.query.items()}
    given = {"host": u.host, "port": u.port, "user": u.username, "password": u.password,
             "dbname": dbname or u.database}
    params.update({k: v for k, v in given.items() if v})
    return params


def _wait_ready(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg2.connect(**connect_params(url, "postgres")).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def _maintenance_cursor(url: str):
    """An autocommit cursor on the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    conn = psycopg2.connect(**connect_params(url, "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def create_database(url: str) -> bool:
    """Create the URL's database when it does not exist. Returns True when it was created."""
    name = make_url(url).database
    with _maintenance_cursor(url) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone():
            return False
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    name = make_url(url).database
    with _maintenance_cursor(url) as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
