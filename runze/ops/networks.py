"""Network versions: import an EPANET .inp (+ sidecar JSON) as a new stored version with its asset table.

The file is parsed and checked completely before anything is written, and the version row, its assets and
the audit entry are one transaction: a failed import leaves nothing.  Versions are numbered per network name,
so a work order can say "pipe P123 as in version 3".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from runze.network.errors import InpError, NetworkError
from runze.network.model import Network
from runze.ops import audit
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import Actor
from runze.ops.errors import InvalidInput, not_found
from runze.store import NetworkAsset, NetworkVersion

MAX_ID_LENGTH = 64
ASSET_CATEGORIES = ("node", "link")
ASSET_KINDS = ("junction", "reservoir", "tank", "pipe", "pump", "valve")


def parse_sidecar(sidecar_text: str | bytes | None, filename: str = "sidecar.json") -> dict[str, Any] | None:
    """The sidecar JSON as a dict, or a clear error naming the file, line and column."""
    if sidecar_text is None or (isinstance(sidecar_text, bytes | str) and not sidecar_text.strip()):
        return None
    try:
        data = json.loads(sidecar_text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{filename}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            message_zh=f"{filename} 不是有效的 JSON",
            details={"file": filename, "line": exc.lineno, "column": exc.colno},
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{filename}: not UTF-8 text", details={"file": filename}) from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{filename}: expected a JSON object at the top", details={"file": filename})
    return data


def parse_network(inp_text: str, filename: str, sidecar: dict[str, Any] | None,
                  sidecar_filename: str = "sidecar.json") -> Network:
    """Parse the .inp text and the sidecar and check them; InpError becomes InvalidInput naming file/line/field."""
    # the readers live in runze.network; imported here so that listing versions does not load them
    from runze.network.inp_reader import parse_inp
    from runze.network.sidecar import from_dict

    try:
        network = parse_inp(inp_text, filename)
        if sidecar is not None:
            network.utility = from_dict(sidecar, sidecar_filename, network)
    except InpError as exc:
        problems = [str(e) for e in getattr(exc, "errors", [exc])]
        raise InvalidInput(
            str(exc).splitlines()[0] if len(problems) == 1 else f"{len(problems)} problems, first: {problems[0]}",
            message_zh=f"{exc.path or filename} 有错误",
            details={"file": exc.path or filename, "line": exc.line, "section": exc.section, "field": exc.field,
                     "problems": problems[:50]},
        ) from exc
    except NetworkError as exc:
        raise InvalidInput(str(exc), details={"file": filename}) from exc
    if network.n_nodes == 0:
        raise InvalidInput(f"{filename}: the network has no nodes", message_zh="管网没有节点", details={"file": filename})
    too_long = [i for i in (*network.node_ids, *network.link_ids) if len(i) > MAX_ID_LENGTH]
    if too_long:
        raise InvalidInput(f"{filename}: ids longer than {MAX_ID_LENGTH} characters: {too_long[:5]}",
                           details={"file": filename})
    return network


def asset_rows(network: Network, version_id: int) -> list[dict[str, Any]]:
    """One row per node and link: id, kind, DMA (a link's when both ends share one), diameter, length."""
    node_dma: dict[str, str] = {}
    for dma_id, dma in (network.utility.dmas or {}).items():
        for node_id in (dma or {}).get("nodes", []) if isinstance(dma, dict) else []:
            node_dma[str(node_id)] = str(dma_id)
    rows: list[dict[str, Any]] = []
    for kind, table in (("junction", network.junctions), ("reservoir", network.reservoirs), ("tank", network.tanks)):
        for node in table.values():
            rows.append({
                "version_id": version_id, "category": "node", "asset_id": node.id, "kind": kind,
                "dma": node_dma.get(node.id), "diameter_m": getattr(node, "diameter", None) if kind == "tank" else None,
                "length_m": None, "node1": None, "node2": None,
            })
    for kind, table in (("pipe", network.pipes), ("pump", network.pumps), ("valve", network.valves)):
        for link in table.values():
            d1, d2 = node_dma.get(link.node1), node_dma.get(link.node2)
            rows.append({
                "version_id": version_id, "category": "link", "asset_id": link.id, "kind": kind,
                "dma": d1 if d1 == d2 else None, "diameter_m": getattr(link, "diameter", None),
                "length_m": link.length if kind == "pipe" else None, "node1": link.node1, "node2": link.node2,
            })
    return rows


def _summary(network: Network) -> dict[str, Any]:
    summary = dict(network.summary())
    return {k: (float(v) if isinstance(v, float) else v) for k, v in summary.items()}


@unit_of_work
def import_network(
    session: Session,
    actor: Actor,
    *,
    inp_text: str,
    filename: str,
    sidecar: dict[str, Any] | None = None,
    sidecar_filename: str = "sidecar.json",
    name: str | None = None,
    comment: str = "",
) -> NetworkVersion:
    """Parse, validate, then store a new version of network `name` (default: the file's stem)."""
    network = parse_network(inp_text, filename, sidecar, sidecar_filename)  # before any write
    name = (name or Path(filename).stem or "network").strip()[:128]
    number = (session.scalar(select(func.max(NetworkVersion.number)).where(NetworkVersion.name == name)) or 0) + 1
    version = NetworkVersion(
        name=name,
        number=number,
        filename=filename[:256],
        inp_text=inp_text,
        sidecar=sidecar,
        summary=_summary(network),
        comment=comment,
        created_by_id=actor.id,
    )
    session.add(version)
    session.flush()
    rows = asset_rows(network, version.id)
    if rows:
        session.execute(insert(NetworkAsset), rows)
    audit.record(session, actor, "network.import", "network_version", version.id, after=audit.snapshot(version))
    return version


def import_network_file(
    session: Session,
    actor: Actor,
    *,
    inp_data: bytes,
    filename: str,
    sidecar_data: bytes | None = None,
    sidecar_filename: str = "sidecar.json",
    name: str | None = None,
    comment: str = "",
) -> NetworkVersion:
    """`import_network` from uploaded bytes (UTF-8, else GB18030 as Chinese tools write)."""
    from runze.network.inp_common import decode_bytes

    sidecar = parse_sidecar(sidecar_data, sidecar_filename)
    if b"\x00" in inp_data:
        raise InvalidInput(f"{filename}: not a text file", message_zh="不是文本文件", details={"file": filename})
    return import_network(
        session, actor, inp_text=decode_bytes(inp_data), filename=filename, sidecar=sidecar,
        sidecar_filename=sidecar_filename, name=name,
        comment=comment,
    )


def get_version(session: Session, version_id: int) -> NetworkVersion:
    version = session.get(NetworkVersion, version_id)
    if version is None:
        raise not_found("network version", version_id)
    return version


def list_versions(session: Session, *, name: str | None = None, limit: int = 50, offset: int = 0) -> Page[Any]:
    query = select(NetworkVersion).order_by(NetworkVersion.id.desc())
    if name:
        query = query.where(NetworkVersion.name == name)
    return paginate(session, query, limit=limit, offset=offset)


def list_assets(
    session: Session,
    version_id: int,
    *,
    category: str | None = None,
    kind: str | None = None,
    dma: str | None = None,
    asset_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[NetworkAsset]:
    get_version(session, version_id)
    query = select(NetworkAsset).where(NetworkAsset.version_id == version_id).order_by(NetworkAsset.id)
    if category:
        query = query.where(NetworkAsset.category == category)
    if kind:
        query = query.where(NetworkAsset.kind == kind)
    if dma:
        query = query.where(NetworkAsset.dma == dma)
    if asset_id:
        query = query.where(NetworkAsset.asset_id == asset_id)
    return paginate(session, query, limit=limit, offset=offset)
