"""Stored network versions (SQLite and PostgreSQL): import with sidecar, numbering, asset table, references from
work orders, and imports that fail (bad file, bad sidecar, failure midway) leaving nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wntr
from runze_db_fixtures import *  # noqa: F403
from sqlalchemy import func, select

from runze.network.inp_reader import parse_inp
from runze.ops import networks
from runze.ops import workorders as wo_ops
from runze.ops.auth import SYSTEM
from runze.ops.errors import InvalidInput
from runze.store import AuditEntry, NetworkAsset, NetworkVersion

NET3 = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"


@pytest.fixture(scope="module")
def net3_text() -> str:
    return NET3.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def net3_sidecar(net3_text) -> dict:
    net = parse_inp(net3_text, "Net3.inp")
    junctions = list(net.junctions)
    half = len(junctions) // 2
    return {"format": "runze-sidecar", "version": 1,
            "dmas": {"DMA-北": {"name": "北区", "nodes": junctions[:half]},
                     "DMA-南": {"name": "南区", "nodes": junctions[half:]}}}


def _counts(session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(NetworkVersion)),
            session.scalar(select(func.count()).select_from(NetworkAsset)),
            session.scalar(select(func.count()).select_from(AuditEntry)))


def test_import_stores_text_sidecar_and_asset_table(database, net3_text, net3_sidecar):
    net = parse_inp(net3_text, "Net3.inp")
    with database.session() as session:
        v1 = networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp", sidecar=net3_sidecar)
        v2 = networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp", comment="re-import")
        other = networks.import_network(session, SYSTEM, inp_text=net3_text, filename="x.inp", name="other")
        assert [(v.name, v.number) for v in (v1, v2, other)] == [("Net3", 1), ("Net3", 2), ("other", 1)]
    with database.session() as session:
        stored = networks.get_version(session, v1.id)
        assert stored.inp_text == net3_text and stored.sidecar == net3_sidecar
        assert stored.summary["junctions"] == len(net.junctions) and stored.summary["pipes"] == len(net.pipes)
        page = networks.list_assets(session, v1.id, limit=1000)
        assert page.total == net.n_nodes + net.n_links == len(page.items)
        by_id = {(a.category, a.asset_id): a for a in page.items}
        pipe = next(iter(net.pipes.values()))
        row = by_id[("link", pipe.id)]
        assert (row.kind, row.node1, row.node2) == ("pipe", pipe.node1, pipe.node2)
        assert row.diameter_m == pytest.approx(pipe.diameter) and row.length_m == pytest.approx(pipe.length)
        junctions = list(net.junctions)
        assert by_id[("node", junctions[0])].dma == "DMA-北" and by_id[("node", junctions[-1])].dma == "DMA-南"
        inside = [p for p in net.pipes.values() if p.node1 in junctions[:5] and p.node2 in junctions[:46]]
        assert inside and all(by_id[("link", p.id)].dma == "DMA-北" for p in inside)
        assert networks.list_assets(session, v1.id, kind="pump").total == len(net.pumps)
        assert networks.list_assets(session, v1.id, dma="DMA-南", category="node").total == len(junctions) - 46
        assert networks.list_versions(session, name="Net3").total == 2


def test_work_order_points_at_an_asset_of_a_version(database, net3_text):
    with database.session() as session:
        v1 = networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp")
        pipe_id = networks.list_assets(session, v1.id, kind="pipe", limit=1).items[0].asset_id
        wo = wo_ops.create_work_order(session, SYSTEM, kind="planned_repair", title="t", network_version_id=v1.id,
                                      assets=[{"category": "link", "asset_id": pipe_id}])
        assert [(a.category, a.asset_id) for a in wo.assets] == [("link", pipe_id)]
        with pytest.raises(InvalidInput, match="not in network version") as err:
            wo_ops.create_work_order(session, SYSTEM, kind="planned_repair", title="t", network_version_id=v1.id,
                                     assets=[{"category": "link", "asset_id": "P-NOPE"},
                                             {"category": "link", "asset_id": pipe_id}, {"category": "node",
                                                                                          "asset_id": "J-NOPE"}])
        assert err.value.details["missing"] == ["link:P-NOPE", "node:J-NOPE"]
        with pytest.raises(InvalidInput, match="network version"):
            wo_ops.create_work_order(session, SYSTEM, kind="planned_repair", title="t",
                                     assets=[{"category": "link", "asset_id": pipe_id}])
        wo = wo_ops.update_work_order(session, SYSTEM, wo.id, {"assets": [{"category": "link", "asset_id": pipe_id},
                                                                          {"category": "node", "asset_id": "10"}]},
                                      expected_version=1)
        assert sorted(a.asset_id for a in wo.assets) == sorted([pipe_id, "10"]) and wo.version == 2


def _bad_line(text: str) -> str:
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip().upper() == "[PIPES]") + 2
    parts = lines[i].split()
    parts[3] = "long"  # the length of the first pipe
    lines[i] = " ".join(parts)
    return "\n".join(lines)


def test_a_bad_file_names_the_line_and_stores_nothing(database, net3_text):
    with database.session() as session:
        with pytest.raises(InvalidInput) as err:
            networks.import_network(session, SYSTEM, inp_text=_bad_line(net3_text), filename="bad.inp")
        assert err.value.details["file"] == "bad.inp" and err.value.details["line"] is not None
        assert "bad.inp" in err.value.message
        with pytest.raises(InvalidInput, match="JSON"):
            networks.import_network_file(session, SYSTEM, inp_data=net3_text.encode(), filename="Net3.inp",
                                         sidecar_data=b"{not json", sidecar_filename="Net3.json")
        with pytest.raises(InvalidInput, match="unknown node"):
            networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp", sidecar={
                "format": "runze-sidecar", "version": 1, "dmas": {"A": {"nodes": ["NO-SUCH-NODE"]}}})
        with pytest.raises(InvalidInput, match="no nodes"):
            networks.import_network(session, SYSTEM, inp_text="[TITLE]\nempty\n[END]\n", filename="e.inp")
        with pytest.raises(InvalidInput, match="not a text file"):
            networks.import_network_file(session, SYSTEM, inp_data=b"\x00\x01garbage", filename="b.inp")
        assert _counts(session) == (0, 0, 0)


def test_a_failure_midway_through_the_import_leaves_nothing(database, net3_text, monkeypatch):
    real_rows = networks.asset_rows

    def half_then_fail(network, version_id):
        rows = real_rows(network, version_id)
        raise RuntimeError(f"connection lost after computing {len(rows)} rows")

    with database.session() as session:
        monkeypatch.setattr(networks, "asset_rows", half_then_fail)  # the version row is already flushed here
        with pytest.raises(RuntimeError, match="connection lost"):
            networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp")
        monkeypatch.setattr(networks, "asset_rows", real_rows)

        def fail_audit(*a, **k):
            raise RuntimeError("audit write failed")

        monkeypatch.setattr(networks.audit, "record", fail_audit)  # assets already inserted here
        with pytest.raises(RuntimeError, match="audit write failed"):
            networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp")
        assert _counts(session) == (0, 0, 0)
    monkeypatch.undo()
    with database.session() as session:
        v = networks.import_network(session, SYSTEM, inp_text=net3_text, filename="Net3.inp")
        assert v.number == 1  # the failed attempts consumed no version number


def test_sidecar_json_round_trip_keeps_chinese_text(database, net3_text, net3_sidecar):
    with database.session() as session:
        v = networks.import_network_file(session, SYSTEM, inp_data=net3_text.encode("gb18030"), filename="Net3.inp",
                                         sidecar_data=json.dumps(net3_sidecar, ensure_ascii=False).encode("utf-8"))
    with database.session() as session:
        assert networks.get_version(session, v.id).sidecar["dmas"]["DMA-北"]["name"] == "北区"
