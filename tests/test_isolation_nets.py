"""Small hand-made networks with known isolation answers, shared by the tests/test_isolation_*.py files.

Net "loop" (metric, LPS):

    R ==P0== J1 ---P1--- J2 ---P2--- J3 ---P5--- J5 ---P6--- J6
              \\                    /
               `-------P4-- J4 --P3'

Valves (WNTR layer: valve on link, next to node):
    V5 (P0, J1)  V1 (P1, J1)  V2 (P2, J3)  V6 (P4, J4)  V3 (P5, J3)  V4 (P6, J5)
Segments:  {R, P0} | {J1, P4} | {J2, P1, P2} | {J3, J4, P3} | {J5, P5} | {J6, P6}
"""

from __future__ import annotations

from runze.network.model import Demand, Junction, Network, Pattern, Pipe, Pump, Reservoir, Tank

# night-low 24-hour pattern: lowest at 03:00-05:00
DAY_PATTERN = [1.0, 0.8, 0.6, 0.3, 0.2, 0.5] + [1.2] * 16 + [1.1, 1.0]

LOOP_VALVES = [
    {"valve": "V5", "link": "P0", "node": "J1"},
    {"valve": "V1", "link": "P1", "node": "J1"},
    {"valve": "V2", "link": "P2", "node": "J3"},
    {"valve": "V6", "link": "P4", "node": "J4"},
    {"valve": "V3", "link": "P5", "node": "J3"},
    {"valve": "V4", "link": "P6", "node": "J5"},
]


def loop_network(with_tank: bool = False, pump_inlet: bool = False) -> Network:
    """The "loop" network above; `with_tank` adds tank T joined to J6 by P7 (no valve), so the dead end has a
    source of its own; `pump_inlet` replaces pipe P0 by pump PU1 (R -> J1)."""
    net = Network(name="loop")
    net.patterns["1"] = Pattern("1", list(DAY_PATTERN))
    coords = {"J1": (0, 0), "J2": (100, 0), "J3": (200, 0), "J4": (100, -100), "J5": (300, 0), "J6": (400, 0)}
    demand = {"J1": 1.0, "J2": 2.0, "J3": 1.0, "J4": 1.0, "J5": 3.0, "J6": 0.5}  # L/s
    for nid, (x, y) in coords.items():
        net.junctions[nid] = Junction(nid, elevation=10.0, demands=[Demand(demand[nid] / 1000.0, "1")], x=x, y=y)
    net.reservoirs["R"] = Reservoir("R", head=60.0, x=-100, y=0)
    pipes = [("P1", "J1", "J2", 100), ("P2", "J2", "J3", 100), ("P3", "J3", "J4", 141),
             ("P4", "J4", "J1", 141), ("P5", "J3", "J5", 100), ("P6", "J5", "J6", 100)]
    if pump_inlet:
        net.pumps["PU1"] = Pump("PU1", "R", "J1", pump_type="POWER", power=5.0)
    else:
        pipes.insert(0, ("P0", "R", "J1", 100))
    for pid, a, b, length in pipes:
        net.pipes[pid] = Pipe(pid, a, b, length=float(length), diameter=0.3 if pid in ("P0", "P1") else 0.2,
                              roughness=120.0)
    if with_tank:
        net.tanks["T"] = Tank("T", elevation=40.0, init_level=5.0, min_level=0.0, max_level=10.0, diameter=10.0,
                              x=500, y=0)
        net.pipes["P7"] = Pipe("P7", "J6", "T", length=100.0, diameter=0.2, roughness=120.0)
    net.utility.valves = [dict(v) for v in LOOP_VALVES if not (pump_inlet and v["link"] == "P0")]
    net.utility.customers = {"J2": {"residential": 120}, "J5": {"residential": 30, "commercial": 2},
                             "J6": {"hospital": 1, "residential": 10}}
    net.utility.critical_users = [{"node": "J6", "name": "人民医院 People's Hospital", "category": "hospital"}]
    net.utility.dmas = {"D1": {"name": "城东片区 East", "nodes": ["J1", "J2", "J4"]},
                        "D2": {"name": "河西片区 West", "nodes": ["J3", "J5", "J6"]}}
    return net


def test_loop_network_is_well_formed():
    net = loop_network()
    assert net.n_nodes == 7 and net.n_links == 7
    assert all(net.has_link(v["link"]) and net.has_node(v["node"]) for v in net.utility.valves)
