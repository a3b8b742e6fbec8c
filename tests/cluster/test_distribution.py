"""The local cluster command and the placement of every table: every table of the schema has a
place (so a new migration's table cannot be forgotten), distribute changes nothing on plain
PostgreSQL, and on the cluster each table is where core.platform.distribute says, colocated."""
from __future__ import annotations

import stat

import pytest

from core.__main__ import main as cli
from core.platform import cluster as local_cluster
from core.platform import distribute
from core.platform.db import fetch_df

pytestmark = pytest.mark.cluster


def test_every_table_of_the_schema_has_a_place(db):
    assert distribute.unknown_tables(db) == [], "place the new table(s) in core/platform/distribute.py"
    gone = set(distribute.PLACEMENTS) - {"alembic_version"} - distribute.schema_tables(db)
    assert not gone, f"core/platform/distribute.py places tables the schema no longer has: {sorted(gone)}"


def test_distribute_changes_nothing_on_plain_postgresql(db):
    report = distribute.distribute(db)
    assert not report.citus and "plain PostgreSQL" in report.detail
    assert not distribute.is_distributed(db)
    assert distribute.statement(db, "ab_summary") == "ab_summary"


def test_each_table_is_where_planned_and_colocated_with_events(cluster_db):
    placements = distribute.current_placements(cluster_db)
    planned = {t: p for t, p in distribute.PLACEMENTS.items() if p != "plain"}
    assert placements == planned
    assert not set(distribute.PLAIN) & set(placements)
    frame = fetch_df(cluster_db, "cluster/table_placements")
    distributed = frame[frame.placement == "distributed"]
    assert set(distributed.distribution_column) == {"campaign_id"}
    assert distributed.colocationid.nunique() == 1, "every distributed table shares the events table's shards"
    again = distribute.distribute(cluster_db)
    assert again.already == len(planned) and not any(again.placed.values())
    assert distribute.is_distributed(cluster_db)
    assert distribute.statement(cluster_db, "ab_summary") == "citus/ab_summary"


def test_the_session_cluster_reports_its_nodes(citus):
    made, nodes = local_cluster.status(citus.folder)
    assert made.coordinator.port == citus.coordinator.port
    assert [(n.name, n.running, n.role, n.active) for n in nodes] == [
        ("coordinator", True, "coordinator", True), ("worker1", True, "worker", True), ("worker2", True, "worker", True)]


def _program(path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_without_citus_the_cluster_command_says_how_to_build_it(tmp_path, monkeypatch, capsys):
    bin_dir, lib_dir = tmp_path / "bin", tmp_path / "lib"
    bin_dir.mkdir()
    (lib_dir / "extension").mkdir(parents=True)
    for name in ("initdb", "pg_ctl", "postgres"):
        _program(bin_dir / name, "exit 0")
    _program(bin_dir / "pg_config", f'echo "{lib_dir}"')  # --pkglibdir and --sharedir: no citus.so there
    monkeypatch.setattr(local_cluster, "PG_BIN", bin_dir)
    reason = local_cluster.missing_prerequisite(bin_dir)
    assert "Citus is not installed" in reason and "bash ../shared/vendor/citus/build.sh" in reason
    assert cli(["cluster", "up", "--dir", str(tmp_path / "cluster")]) == 2
    assert "bash ../shared/vendor/citus/build.sh" in capsys.readouterr().err
    assert not (tmp_path / "cluster").exists()


def test_without_postgresql_15_the_cluster_command_names_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(local_cluster, "PG_BIN", tmp_path / "nothing")
    assert "no PostgreSQL 15 server programs" in local_cluster.missing_prerequisite()
    with pytest.raises(local_cluster.ClusterError, match="postgresql-15"):
        local_cluster.up(tmp_path / "cluster", port=0)
