"""A local Citus cluster for development and CI: a coordinator and workers, each its own
PostgreSQL 15 cluster (initdb) on a loopback port with Citus preloaded, joined into one
distributed database. `python -m core cluster up|down|status` drives it.

The nodes live in one folder (default .data/cluster): node folders coordinator/, worker1/, …,
and cluster.json, which remembers the ports so that down, status and a second up find them.
initdb refuses to run as root, so as root every PostgreSQL program runs as the `postgres`
operating-system user, who owns the folder. Settings favour a laptop or a CI box over
durability (no fsync): this cluster is for trying and testing, never for data you keep.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from core.platform import config
from core.platform.db import execute, fetch_df, normalize_url

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DEFAULT_FOLDER = config.DATA_DIR / "cluster"
DEFAULT_PORT = 9700          # coordinator; worker n listens on DEFAULT_PORT + n
DEFAULT_DATABASE = "swipesavvy"
HOST = "127.0.0.1"
STATE_FILE = "cluster.json"
BUILD_HINT = "run `bash ../shared/vendor/citus/build.sh` (as root; 5-10 minutes on 2 cores)"
OS_USER = "postgres"         # who runs the servers when we are root (initdb refuses root)

# Small and fast rather than durable: a development and CI cluster on a shared machine.
NODE_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "unix_socket_directories": "''",
    "shared_preload_libraries": "'citus'",
    "max_connections": "200",
    "max_prepared_transactions": "200",   # Citus commits across nodes in two phases
    "shared_buffers": "'96MB'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "'1GB'",
    "timezone": "'UTC'",
    "log_min_messages": "warning",
    "citus.log_distributed_deadlock_detection": "off",
}


class ClusterError(RuntimeError):
    """The cluster cannot be started or reached; the message says what to do."""


@dataclass
class Node:
    name: str
    port: int

    def folder(self, root: Path) -> Path:
        return root / self.name


@dataclass
class Cluster:
    folder: Path
    coordinator: Node
    workers: list[Node] = field(default_factory=list)
    database: str = DEFAULT_DATABASE

    @property
    def nodes(self) -> list[Node]:
        return [self.coordinator, *self.workers]

    def url(self, database: str | None = None, node: Node | None = None) -> str:
        """libpq-style URL of a database on a node (the coordinator unless named)."""
        return f"postgresql://postgres@{HOST}:{(node or self.coordinator).port}/{database or self.database}"

    def save(self) -> None:
        state = {"coordinator": asdict(self.coordinator), "workers": [asdict(w) for w in self.workers],
                 "database": self.database}
        (self.folder / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> Cluster | None:
        path = Path(folder) / STATE_FILE
        if not path.exists():
            return None
        state = json.loads(path.read_text())
        return cls(Path(folder), Node(**state["coordinator"]), [Node(**w) for w in state["workers"]],
                   state.get("database", DEFAULT_DATABASE))


# ---------------------------------------------------------------------------------------------
# What this machine has


def missing_prerequisite(pg_bin: Path | None = None) -> str | None:
    """Why a local cluster cannot start here (None when it can): no PostgreSQL 15 server
    programs, or no Citus built into them."""
    pg_bin = Path(pg_bin or PG_BIN)
    programs = [pg_bin / name for name in ("initdb", "pg_ctl", "postgres", "pg_config")]
    absent = [str(p) for p in programs if not os.access(p, os.X_OK)]
    if absent:
        return (f"no PostgreSQL 15 server programs here ({', '.join(absent)} missing): install the "
                "Debian package postgresql-15, or set PG_BIN to their folder")
    libdir = _pg_config(pg_bin, "--pkglibdir")
    sharedir = _pg_config(pg_bin, "--sharedir")
    if not (Path(libdir) / "citus.so").exists() or not (Path(sharedir) / "extension" / "citus.control").exists():
        return f"Citus is not installed in PostgreSQL 15 ({libdir}/citus.so missing): {BUILD_HINT}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root, but `runuser` is missing to start PostgreSQL as the postgres user"
    return None


def _pg_config(pg_bin: Path, option: str) -> str:
    return subprocess.run([str(pg_bin / "pg_config"), option], capture_output=True, text=True, check=True).stdout.strip()


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (the OS hands them out), for clusters made by tests."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


# ---------------------------------------------------------------------------------------------
# Running PostgreSQL's programs


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str, timeout: float = 120) -> str:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise ClusterError(f"{what} failed ({' '.join(command[:2])} …):\n{(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout


def _give_to_server_user(path: Path) -> None:
    """As root, the server user must own the folder (initdb and the servers write there)."""
    if os.geteuid() == 0:
        shutil.chown(path, OS_USER, OS_USER)
        for child in path.rglob("*"):
            shutil.chown(child, OS_USER, OS_USER)


def _initdb(folder: Path) -> None:
    _run([str(PG_BIN / "initdb"), "-D", str(folder), "-U", "postgres", "--auth=trust",
          "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"], f"initdb of {folder}")
    with (folder / "postgresql.conf").open("a") as conf:
        conf.write("\n# swipesavvy local Citus cluster (core/platform/cluster.py)\n")
        for name, value in NODE_SETTINGS.items():
            conf.write(f"{name} = {value}\n")


def _running(folder: Path) -> bool:
    done = subprocess.run(_as_server_user([str(PG_BIN / "pg_ctl"), "status", "-D", str(folder)]),
                          capture_output=True, text=True)
    return done.returncode == 0


def _start(node: Node, root: Path) -> None:
    folder = node.folder(root)
    if _running(folder):
        return
    if _port_in_use(node.port):
        raise ClusterError(f"port {node.port} ({node.name}) is taken by another program: stop it, "
                           "or choose other ports with --port")
    _run([str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(folder), "-l", str(folder / "server.log"),
          "-o", f"-p {node.port}"], f"starting the {node.name} on port {node.port} (log: {folder / 'server.log'})")


def _stop(node: Node, root: Path) -> bool:
    folder = node.folder(root)
    if not (folder / "PG_VERSION").exists() or not _running(folder):
        return False
    _run([str(PG_BIN / "pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast", "-D", str(folder)], f"stopping the {node.name}")
    return True


# ---------------------------------------------------------------------------------------------
# The cluster


def _admin(cluster: Cluster, node: Node, database: str = "postgres"):
    return create_engine(normalize_url(cluster.url(database, node)),
                         isolation_level="AUTOCOMMIT", pool_size=1, connect_args={"connect_timeout": 10})


def _check_database_name(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ClusterError(f"database name {name!r}: use lower-case letters, digits and _ (e.g. swipesavvy)")
    return name


def create_database(cluster: Cluster, name: str) -> str:
    """Create database `name` on every node (unless it is there), load Citus into each and
    join the workers in the coordinator's copy. Returns the coordinator URL of the database."""
    name = _check_database_name(name)
    for node in cluster.nodes:
        admin = _admin(cluster, node)
        try:
            with admin.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            admin.dispose()
        engine = _admin(cluster, node, name)
        try:
            with engine.connect() as conn:
                execute(conn, "cluster/create_extension")
        finally:
            engine.dispose()
    coordinator = _admin(cluster, cluster.coordinator, name)
    try:
        with coordinator.connect() as conn:
            execute(conn, "cluster/set_coordinator_host", host=HOST, port=cluster.coordinator.port)
            for worker in cluster.workers:
                execute(conn, "cluster/add_node", host=HOST, port=worker.port)
    finally:
        coordinator.dispose()
    return cluster.url(name)


def drop_database(cluster: Cluster, name: str) -> None:
    """Drop database `name` on every node (the coordinator first: it holds connections to the workers)."""
    name = _check_database_name(name)
    for node in cluster.nodes:
        admin = _admin(cluster, node)
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()


def up(folder: Path | str | None = None, port: int | None = None, workers: int = 2,
       database: str = DEFAULT_DATABASE, progress=None) -> Cluster:
    """Start (creating it first if needed) the cluster in `folder` and return it. The ports of
    an existing cluster are kept; a new one takes `port` (coordinator) and the next ones, or
    free ports when port is 0."""
    say = progress or (lambda message: None)
    problem = missing_prerequisite()
    if problem:
        raise ClusterError(f"cannot start a local Citus cluster: {problem}")
    root = Path(folder or DEFAULT_FOLDER).resolve()
    cluster = Cluster.load(root)
    if cluster is None:
        if workers < 1:
            raise ClusterError("a cluster needs at least one worker (--workers 2 is the usual)")
        ports = free_ports(workers + 1) if port == 0 else [(port or DEFAULT_PORT) + n for n in range(workers + 1)]
        cluster = Cluster(root, Node("coordinator", ports[0]),
                          [Node(f"worker{n}", p) for n, p in enumerate(ports[1:], start=1)], database)
    root.mkdir(parents=True, exist_ok=True)
    _give_to_server_user(root)
    for node in cluster.nodes:
        if not (node.folder(root) / "PG_VERSION").exists():
            say(f"initdb {node.name} in {node.folder(root)}")
            _initdb(node.folder(root))
    cluster.save()
    for node in cluster.nodes:
        say(f"starting {node.name} on {HOST}:{node.port}")
        _start(node, root)
    say(f"creating database {cluster.database} with Citus on every node and joining the workers")
    create_database(cluster, cluster.database)
    return cluster


def down(folder: Path | str | None = None, remove: bool = False) -> list[str]:
    """Stop every node of the cluster in `folder` (coordinator first); with remove, delete the
    folder too. Returns the names of the nodes that were running."""
    root = Path(folder or DEFAULT_FOLDER).resolve()
    cluster = Cluster.load(root)
    stopped = []
    if cluster is not None:
        for node in cluster.nodes:
            if _stop(node, root):
                stopped.append(node.name)
    if remove and root.exists():
        shutil.rmtree(root)
    return stopped


@dataclass
class NodeStatus:
    name: str
    port: int
    running: bool
    role: str | None = None     # as the coordinator's metadata knows it: coordinator or worker
    active: bool | None = None


def status(folder: Path | str | None = None) -> tuple[Cluster | None, list[NodeStatus]]:
    """Each node of the cluster in `folder`: running or not and, when the coordinator answers,
    how its metadata sees the node."""
    root = Path(folder or DEFAULT_FOLDER).resolve()
    cluster = Cluster.load(root)
    if cluster is None:
        return None, []
    nodes = [NodeStatus(n.name, n.port, _running(n.folder(root))) for n in cluster.nodes]
    if nodes[0].running:
        engine = _admin(cluster, cluster.coordinator, cluster.database)
        try:
            known = fetch_df(engine, "cluster/nodes")
        except Exception:  # noqa: BLE001 — the database may not exist yet: status still answers
            known = None
        finally:
            engine.dispose()
        if known is not None:
            for node in nodes:
                row = known[known.nodeport == node.port]
                if len(row):
                    node.role = "coordinator" if int(row.groupid.iloc[0]) == 0 else "worker"
                    node.active = bool(row.isactive.iloc[0])
    return cluster, nodes

