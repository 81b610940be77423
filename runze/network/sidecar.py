"""The utility-attribute sidecar: what EPANET has no place for, as JSON beside the `.inp` (`X.inp` ↔ `X.json`).

Keys: plants, dmas, zones, customers, critical_users, valves, sensors, extra (see `UtilityAttributes`), plus
``"format": "runze-sidecar"`` and a version so that an unrelated `X.json` is never mistaken for one (a
hand-written sidecar may leave "format" out if it uses the keys above).  Ids
named in the sidecar must exist in the network; a sidecar that names unknown elements is an error (a stale
sidecar would otherwise silently attach DMAs to the wrong pipes).  Written atomically; a network without
utility attributes removes a stale sidecar of ours instead of leaving it to be loaded with the new file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runze.network.errors import InpError, InpErrors
from runze.network.model import Network, UtilityAttributes

FORMAT = "runze-sidecar"
VERSION = 1
KEYS = ("plants", "dmas", "zones", "customers", "critical_users", "valves", "sensors", "extra")
_TYPES: dict[str, type] = {"plants": list, "dmas": dict, "zones": dict, "customers": dict, "critical_users": list,
                           "valves": list, "sensors": list, "extra": dict}


def sidecar_path(inp_path: str | Path) -> Path:
    return Path(inp_path).with_suffix(".json")


def to_dict(utility: UtilityAttributes) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    for key in KEYS:
        data[key] = getattr(utility, key)
    return data


def is_empty(utility: UtilityAttributes) -> bool:
    return not any(getattr(utility, key) for key in KEYS)


def from_dict(data: Any, path: str, network: Network | None = None) -> UtilityAttributes:
    """Utility attributes from parsed JSON; raises InpError(s) naming the key that is wrong."""
    if not isinstance(data, dict):
        raise InpError("the sidecar is not a JSON object", path=path, expected="{\"format\": \"runze-sidecar\", ...}")
    # a hand-written sidecar may omit "format"; then it must at least use one of our keys
    if data.get("format", FORMAT) != FORMAT or ("format" not in data and not any(k in data for k in KEYS)):
        raise InpError(f"not a Runze sidecar (format {data.get('format')!r}, keys {sorted(data)[:5]})", path=path,
                       field="format", expected=f"{FORMAT!r} and keys among {', '.join(KEYS)}")
    errors: list[InpError] = []
    utility = UtilityAttributes()
    for key in KEYS:
        value = data.get(key, _TYPES[key]())
        if not isinstance(value, _TYPES[key]):
            errors.append(InpError(f"is a {type(value).__name__}", path=path, field=key,
                                   expected=f"a JSON {'array' if _TYPES[key] is list else 'object'}"))
            continue
        setattr(utility, key, value)
    if network is not None and not errors:
        errors.extend(_check_references(utility, network, path))
    if errors:
        raise errors[0] if len(errors) == 1 else InpErrors(errors)
    return utility


def unknown_references(u: UtilityAttributes, net: Network) -> list[tuple[str, str, str]]:
    """(field, "node"|"link", id) for every id the attributes name that the network lacks."""
    found: list[tuple[str, str, str]] = []

    def node(node_id: Any, field: str) -> None:
        if not net.has_node(str(node_id)):
            found.append((field, "node", str(node_id)))

    def link(link_id: Any, field: str) -> None:
        if not net.has_link(str(link_id)):
            found.append((field, "link", str(link_id)))

    for node_id in u.zones:
        node(node_id, "zones")
    for node_id in u.customers:
        node(node_id, "customers")
    for i, user in enumerate(u.critical_users):
        if isinstance(user, dict) and "node" in user:
            node(user["node"], f"critical_users[{i}].node")
    for dma_id, dma in u.dmas.items():
        if not isinstance(dma, dict):
            continue
        for n in dma.get("nodes", []):
            node(n, f"dmas.{dma_id}.nodes")
        for lk in [*dma.get("inlets", []), *dma.get("boundary_valves", [])]:
            link(lk, f"dmas.{dma_id}")
    for i, valve in enumerate(u.valves):
        if isinstance(valve, dict):
            if "link" in valve:
                link(valve["link"], f"valves[{i}].link")
            if "node" in valve:
                node(valve["node"], f"valves[{i}].node")
    return found


def _check_references(u: UtilityAttributes, net: Network, path: str) -> list[InpError]:
    errors = [InpError(f"unknown {kind} {ref!r}", path=path, field=field, expected=f"a {kind} of the network")
              for field, kind, ref in unknown_references(u, net)[:200]]
    for dma_id, dma in u.dmas.items():
        if not isinstance(dma, dict):
            errors.append(InpError("is not an object", path=path, field=f"dmas.{dma_id}", expected="a JSON object"))
    return errors


def read_sidecar(path: str | Path, network: Network | None = None) -> UtilityAttributes:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InpError(f"invalid JSON: {exc.msg}", path=str(p), line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InpError(f"cannot read the sidecar: {exc}", path=str(p)) from None
    return from_dict(data, str(p), network)


def write_sidecar(network: Network, path: str | Path) -> None:
    p = Path(path)
    if is_empty(network.utility):
        if p.exists():
            try:
                stale = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return
            if isinstance(stale, dict) and stale.get("format") == FORMAT:
                p.unlink()
        return
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(to_dict(network.utility), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(p)
