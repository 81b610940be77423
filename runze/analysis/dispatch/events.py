"""Supply events and planning scenarios as modifications of a copied `Network` (应急调度事件).

Every plant gets a production cap: its metered outlet pipe (`outlet_link` in the sidecar's `plants` list) is
replaced by a flow-control valve (FCV) of the same id, diameter and end nodes whose setting is the plant's
rated capacity (capacity_m3d) times the available fraction.  An FCV only limits: below its setting it is
open, so a plant with fraction 1 behaves as before (its outlet pipe was 35 m of large pipe; the head it lost
is a few cm).  The cap stands for what the treatment train can produce, which a pump station cannot exceed for
hours without draining its clearwell; it is applied in every run (normal operation, no action, plan) so that
they are compared on the same footing.  The clearwell's own buffer is ignored (conservative).

Event kinds (each a pure function of a network copy; nothing is written back):
- plant capacity fraction (`capacity`, 0 < f < 1): the outlet FCV set to f × capacity (silt throttling the
  intake pumps limits what the plant can treat, so it limits what leaves the clearwell);
- plant out (`capacity` 0, or kind "plant_out"): all of the plant's pumps shut and the outlet closed;
- transmission main out (`main`): the named pipes closed (and controls on them dropped);
- pump station out (`station`): every pump of a plant's pump station or of a booster station shut;
- source lost (`source`): every plant whose raw water ("river"/"reservoir") is that source is out.
- demand factor (`demand_factor`, the hot-day scenario): every customer demand multiplied (leakage not).
Plants that are out, and stations that are out, are `locked`: the optimiser leaves their pumps alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runze.i18n import LANGUAGES, bilingual, both
from runze.network.model import Network, Valve

LEAKAGE_CATEGORY = "leakage"


class EventError(ValueError):
    """A request that cannot be modelled (unknown element, value out of range): the CLI exits with code 2."""


def plants_of(network: Network) -> list[dict[str, Any]]:
    if not network.utility.plants:
        raise EventError(bilingual("dispatch.no_plants"))
    return network.utility.plants


def resolve_plant(network: Network, plant: str | int) -> dict[str, Any]:
    """A plant by id ("P3"), by number (3 or "3", 1-based, file order) or by name ("三水厂")."""
    plants = plants_of(network)
    key = str(plant).strip()
    for p in plants:
        if key in (str(p["id"]), str(p.get("name", ""))):
            return p
    if key.isdigit() and 1 <= int(key) <= len(plants):
        return plants[int(key) - 1]
    known = ", ".join(f"{p['id']} ({i})" for i, p in enumerate(plants, start=1))
    raise EventError(bilingual("dispatch.unknown_plant", plant=plant, known=known))


def boosters_of(network: Network) -> list[dict[str, Any]]:
    return list(network.utility.extra.get("boosters", []) or [])


def stations_of(network: Network) -> dict[str, dict[str, Any]]:
    """Pump stations: each plant's (id = plant id) and each booster's, {id: {"pumps", "standby", "kind"}}."""
    out: dict[str, dict[str, Any]] = {}
    for p in plants_of(network):
        pumps = [u for u in p.get("pumps", []) if u in network.pumps]
        out[p["id"]] = {"pumps": pumps, "standby": [u for u in p.get("standby_pumps", []) if u in network.pumps],
                        "kind": "plant", "name": p.get("name", p["id"])}
    for b in boosters_of(network):
        pumps = [u for u in b.get("pumps", []) if u in network.pumps]
        out[b["id"]] = {"pumps": pumps, "standby": [u for u in b.get("standby_pumps", []) if u in network.pumps],
                        "kind": "booster", "name": b.get("name", b["id"])}
    return out


@dataclass(slots=True)
class Event:
    """What is wrong (or planned).  Fractions by plant id; links and stations by id."""

    capacity: dict[str, float] = field(default_factory=dict)  # plant id -> available fraction (0 = out)
    mains_out: list[str] = field(default_factory=list)
    stations_out: list[str] = field(default_factory=list)
    sources_lost: list[str] = field(default_factory=list)
    demand_factor: float = 1.0
    label: str = ""  # both languages in one line, "zh / en"
    labels: dict[str, str] = field(default_factory=dict)  # the label in each language

    def set_label(self, labels: dict[str, str]) -> None:
        """Set the label in every language (and `label`, the one-line form)."""
        self.labels = dict(labels)
        self.label = " / ".join(labels[lang] for lang in LANGUAGES)

    def describe(self) -> dict[str, Any]:
        return {"capacity": dict(self.capacity), "mains_out": list(self.mains_out),
                "stations_out": list(self.stations_out), "sources_lost": list(self.sources_lost),
                "demand_factor": self.demand_factor, "label": self.label,
                "labels": dict(self.labels)}

    @property
    def is_empty(self) -> bool:
        return (not self.capacity and not self.mains_out and not self.stations_out and not self.sources_lost
                and self.demand_factor == 1.0)


def build_event(network: Network, plant: str | int | None = None, capacity: float | None = None,
                mains: list[str] | None = None, stations: list[str] | None = None,
                sources: list[str] | None = None, demand_factor: float = 1.0) -> Event:
    """Check a request against the network and return the `Event` (EventError when impossible)."""
    ev = Event(demand_factor=float(demand_factor))
    labels: list[dict[str, str]] = []
    if plant is not None:
        p = resolve_plant(network, plant)
        frac = 0.0 if capacity is None else float(capacity)
        if not (0.0 <= frac <= 1.0) or frac != frac:
            raise EventError(bilingual("dispatch.bad_capacity", capacity=capacity))
        ev.capacity[p["id"]] = frac
        name = p.get("name", p["id"])
        labels.append(both("dispatch.label.plant_out", name=name, id=p["id"]) if frac == 0 else
                      both("dispatch.label.plant_capacity", name=name, id=p["id"], fraction=frac))
    elif capacity is not None:
        raise EventError(bilingual("dispatch.capacity_needs_plant"))
    for link in mains or []:
        if not network.has_link(link):
            raise EventError(bilingual("dispatch.unknown_link", link=link))
        ev.mains_out.append(link)
        labels.append(both("dispatch.label.main_out", link=link))
    known_stations = stations_of(network)
    for st in stations or []:
        sid = st
        if st not in known_stations:
            try:
                sid = resolve_plant(network, st)["id"]
            except EventError:
                raise EventError(bilingual("dispatch.unknown_station", station=st,
                                                 known=", ".join(known_stations))) from None
        ev.stations_out.append(sid)
        labels.append(both("dispatch.label.station_out", name=known_stations[sid]["name"], id=sid))
    for src in sources or []:
        hit = [p for p in plants_of(network) if src in (p.get("raw_water"), p.get("source"))]
        if not hit:
            names = sorted({str(p.get("raw_water")) for p in plants_of(network)})
            raise EventError(bilingual("dispatch.unknown_source", source=src, known=", ".join(names)))
        ev.sources_lost.append(src)
        for p in hit:
            ev.capacity[p["id"]] = 0.0
        labels.append(both("dispatch.label.source_lost", source=src))
    if not (0.0 < ev.demand_factor <= 3.0):
        raise EventError(bilingual("dispatch.bad_factor", factor=demand_factor))
    if ev.demand_factor != 1.0:
        labels.append(both("dispatch.label.demand_factor", factor=ev.demand_factor))
    ev.set_label({lang: "; ".join(part[lang] for part in labels) for lang in LANGUAGES} if labels
                 else both("dispatch.label.normal"))
    return ev


def cap_plants(network: Network, fractions: dict[str, float] | None = None) -> Network:
    """Replace each plant's outlet pipe by an FCV at (fraction ×) its capacity, in place; returns the network."""
    fractions = fractions or {}
    for p in plants_of(network):
        link_id = p.get("outlet_link")
        cap = float(p.get("capacity_m3d", 0.0)) / 86400.0
        frac = float(fractions.get(p["id"], 1.0))
        if link_id in network.pipes:
            pipe = network.pipes.pop(link_id)
            network.valves[link_id] = Valve(link_id, pipe.node1, pipe.node2, "FCV", pipe.diameter, cap * frac,
                                            minor_loss=pipe.minor_loss, tag=pipe.tag, vertices=pipe.vertices)
        elif link_id in network.valves and network.valves[link_id].valve_type == "FCV":
            network.valves[link_id].setting = cap * frac
    return network


def _shut_pumps(network: Network, pumps: list[str]) -> None:
    for u in pumps:
        if u in network.pumps:
            network.pumps[u].initial_status = "CLOSED"
    gone = set(pumps)
    network.controls = [c for c in network.controls if c.link not in gone]


def locked_stations(network: Network, event: Event) -> set[str]:
    """Stations whose pumps the optimiser may not touch: out, or belonging to a plant that is out."""
    out = set(event.stations_out)
    out.update(pid for pid, f in event.capacity.items() if f == 0.0)
    return out


def apply_event(network: Network, event: Event) -> Network:
    """A copy of `network` with the event applied (plants capped first; see the module docstring)."""
    net = network.copy()
    cap_plants(net, event.capacity)
    stations = stations_of(net)
    for pid, frac in event.capacity.items():
        if frac == 0.0:
            _shut_pumps(net, stations[pid]["pumps"])
            link = next(p["outlet_link"] for p in plants_of(net) if p["id"] == pid)
            if link in net.valves:
                net.valves[link].initial_status = "CLOSED"
    for sid in event.stations_out:
        _shut_pumps(net, stations[sid]["pumps"])
    if event.mains_out:
        gone = set(event.mains_out)
        for link in event.mains_out:
            net.link(link).initial_status = "CLOSED"  # type: ignore[union-attr]
        net.controls = [c for c in net.controls if c.link not in gone]
    if event.demand_factor != 1.0:
        for j in net.junctions.values():
            for d in j.demands:
                if d.category != LEAKAGE_CATEGORY:
                    d.base *= event.demand_factor
    return net
