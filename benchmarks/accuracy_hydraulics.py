"""Accuracy of Runze's solver against EPANET 2.3 on the reference networks: one line per case.

    python benchmarks/accuracy_hydraulics.py

Prints, over every reporting time, the largest head difference (m), the largest flow difference (m³/s and
L/s), the number of flows outside "1 % or 0.01 L/s", the number of pump/valve status mismatches, and
whether EPANET itself warned.  Uses the same EPANET runner as the tests (tests/epanet_reference.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from epanet_reference import run_epanet  # noqa: E402

import runze.hydraulics as rh  # noqa: E402
from runze.network.inp import read_inp, write_inp  # noqa: E402

DAY = 86400


def cases(tmp: Path):
    import wntr

    w = Path(wntr.__file__).parent
    nets = w / "library" / "networks"
    tests = w / "tests" / "networks_for_testing"
    yield "Net1", nets / "Net1.inp", None, None
    yield "Net2", nets / "Net2.inp", None, None
    yield "Net3 (7 d)", nets / "Net3.inp", None, None
    yield "Anytown", tests / "Anytown.inp", None, None
    yield "Net6 24h", nets / "Net6.inp", DAY, None
    yield "ky4 24h", nets / "ky4.inp", DAY, None
    yield "ky10 24h", nets / "ky10.inp", DAY, None
    yield "Net6_plus (rules) 24h", tests / "Net6_plus.inp", DAY, None
    try:
        from runze.network.demo_city.build import build_demo_city

        demo = tmp / "demo.inp"
        write_inp(build_demo_city(), demo)
        yield "demo city 24h", demo, DAY, None
    except ImportError:
        pass
    yield "Net1 PDA x3, Preq 120 psi", nets / "Net1.inp", None, (3.0, 120.0)
    yield "ky4 PDA x3, Preq 60 psi", nets / "ky4.inp", 0, (3.0, 60.0)
    yield "Net6 PDA x2, Preq 60 psi", nets / "Net6.inp", 0, (2.0, 60.0)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':28s} {'rows':>5s} {'max|dh| m':>10s} {'max|dq| L/s':>12s} {'flows off':>9s} "
              f"{'status off':>10s} {'EPANET warns':>12s} {'runze ok':>8s}")
        for name, path, dur, pda in cases(Path(tmp)):
            net = read_inp(path)
            kw = {}
            if pda:
                mult, preq = pda
                net.options.demand_multiplier = mult
                net.options.minimum_pressure = 0.0
                net.options.required_pressure = preq * 0.3048 / 0.4333
                net.options.pressure_exponent = 0.5
                kw = {"pda": (0.0, preq, 0.5), "demand_mult": mult}
            ref = run_epanet(str(path), duration=dur, **kw)
            res = rh.simulate(net, duration=dur, pda=bool(pda))
            h = res.node["head"][ref["node_ids"]].reindex(ref["times"]).to_numpy()
            q = res.link["flow"][ref["link_ids"]].reindex(ref["times"]).to_numpy()
            s = res.link["status"][ref["link_ids"]].reindex(ref["times"]).to_numpy()
            s = np.where(s <= 2, 0, np.where(s == 4, 2, 1))
            c = res.compiled
            pv = [ref["link_ids"].index(c.link_ids[k]) for k in np.concatenate([c.pumps, c.valves])]
            dh = np.abs(h - ref["head"])
            sane = np.abs(ref["head"]) < 1e6  # Anytown: EPANET's own -1e25 ft heads at cut-off junctions
            dq = np.abs(q - ref["flow"])
            off = int(((dq > 1e-5) & (dq > 0.01 * np.abs(ref["flow"]))).sum())
            print(f"{name:28s} {len(ref['times']):5d} {np.nanmax(np.where(sane, dh, 0)):10.2e} "
                  f"{np.nanmax(dq) * 1e3:12.2e} {off:9d} {int((s[:, pv] != ref['status'][:, pv]).sum()):10d} "
                  f"{'yes' if ref['warnings'] else 'no':>12s} {str(res.ok):>8s}", flush=True)


if __name__ == "__main__":
    main()
