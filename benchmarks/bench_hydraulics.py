"""Side-by-side timing of Runze's solver, EPANET 2.3 (owa-epanet, in process) and WNTR's WNTRSimulator.

    python benchmarks/bench_hydraulics.py [--runs 5] [--wntr-runs 1] [--nets Net6,ky10,demo] [--no-wntr]
        [--scale10] [--cold]

Times are the median of N runs of a 24 h extended-period simulation (the file's own hydraulic step), one
process, no file output in the timed part: Runze `simulate()` on an already-read `Network` (compile + solve +
DataFrames) and "prepared" (network compiled once beforehand, as EPANET's ENopen is outside its timing: EPS +
DataFrames), "set-up+run" (compiled beforehand, but the solver's ordering and symbolic factorisation built
inside the timing, as EPANET's openH does: the like-for-like figure), EPANET openH/initH/runH/nextH/closeH loop, WNTR `WNTRSimulator.run_sim()`.  Also prints the spread
(min-max) so that run-to-run noise is visible; runze and EPANET runs alternate, and, with --scale10, time and peak memory (tracemalloc) of the
demo city at scale 1 and 10.

`simulate()` reuses the fill-reducing ordering of a topology already seen in the process (ldl.py); --cold
clears that cache before every simulate() call (outside the timing) so that the column includes it.
RUNZE_FAST_POW=1 switches on the vectorised pipe head-loss powers (fastkernel.pow_pos, opt-in).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import runze.hydraulics as rh
from runze.network.inp import read_inp

DAY = 86400
# CPU time of this process: the machine is shared, and wall time swings with other users' load; both solvers
# run single-threaded in this process, so CPU time compares their work.  --wall switches to wall-clock time.
CLOCK = time.process_time


def _wntr_dir() -> Path:
    import wntr

    return Path(wntr.__file__).parent


def net_paths(tmp: Path) -> dict[str, Path]:
    nets = _wntr_dir() / "library" / "networks"
    paths = {"Net3": nets / "Net3.inp", "Net6": nets / "Net6.inp", "ky10": nets / "ky10.inp"}
    try:
        from runze.network.demo_city.build import build_demo_city
        from runze.network.inp import write_inp

        demo = tmp / "demo-city.inp"
        write_inp(build_demo_city(), demo)
        paths["demo"] = demo
    except ImportError:
        pass
    return paths


COLD = False


def time_runze(net, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        if COLD:
            from runze.hydraulics.ldl import clear_order_cache

            clear_order_cache()
        t = CLOCK()
        rh.simulate(net, duration=DAY)
        out.append(CLOCK() - t)
    return out


def time_runze_prepared(net, runs: int) -> list[float]:
    """Compile once (as EPANET's ENopen parses and converts once), time the EPS and the results tables."""
    c, kernel, controls, rules = rh.prepare(net, duration=DAY)
    out = []
    for _ in range(runs):
        t = CLOCK()
        rh.build_results(c, rh.Simulation(c, kernel, controls, rules).run())
        out.append(CLOCK() - t)
    return out


def time_runze_opened(net, runs: int) -> list[float]:
    """Like for like with EPANET's timed part: the network compiled beforehand (ENopen's conversion), then the
    solver set up from scratch (fill-reducing ordering and symbolic factorisation, as EPANET's openH does in
    createsparse; ordering cache cleared), the EPS and the results tables."""
    from runze.hydraulics.ldl import clear_order_cache

    c = rh.compile_network(net, duration=DAY)
    out = []
    for _ in range(runs):
        clear_order_cache()
        t = CLOCK()
        kernel, controls, rules = rh.set_up_solver(net, c)
        rh.build_results(c, rh.Simulation(c, kernel, controls, rules).run())
        out.append(CLOCK() - t)
    return out


def time_epanet(path: Path, runs: int) -> list[float]:
    from epanet import toolkit as en

    ph = en.createproject()
    en.open(ph, str(path), str(path.with_suffix(".rpt")), "")
    en.settimeparam(ph, en.DURATION, DAY)
    out = []
    for _ in range(runs):
        t = CLOCK()
        en.openH(ph)
        en.initH(ph, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            while True:
                en.runH(ph)
                if en.nextH(ph) <= 0:
                    break
        en.closeH(ph)
        out.append(CLOCK() - t)
    en.close(ph)
    en.deleteproject(ph)
    return out


def time_wntr(path: Path, runs: int) -> list[float]:
    import wntr

    out = []
    for _ in range(runs):
        wn = wntr.network.WaterNetworkModel(str(path))
        wn.options.time.duration = DAY
        t = CLOCK()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wntr.sim.WNTRSimulator(wn).run_sim()
        out.append(CLOCK() - t)
    return out


def fmt(ts: list[float]) -> str:
    return f"{statistics.median(ts):8.4f} s [{min(ts):.4f}-{max(ts):.4f}]"


def scale_report() -> None:
    from runze.network.demo_city.build import build_demo_city

    for scale in (1, 10):
        net = build_demo_city(scale=scale)
        tracemalloc.start()
        t = CLOCK()
        res = rh.simulate(net, duration=DAY)
        dt = CLOCK() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"demo city scale {scale:>2}: {len(net.junctions):6d} junctions {len(net.pipes):6d} pipes  "
              f"24 h EPS {dt:7.3f} s  peak memory {peak / 2**20:7.1f} MiB  ok={res.ok}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--wntr-runs", type=int, default=1)
    ap.add_argument("--nets", default="Net3,Net6,ky10,demo")
    ap.add_argument("--no-wntr", action="store_true")
    ap.add_argument("--scale10", action="store_true")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of process CPU time")
    ap.add_argument("--cold", action="store_true", help="simulate() without the cached fill-reducing ordering")
    args = ap.parse_args()
    global CLOCK, COLD
    COLD = args.cold
    if args.wall:
        CLOCK = time.perf_counter
    print(f"clock: {'wall' if args.wall else 'process CPU'} time; median [min-max] of {args.runs} runs"
          f"{'; simulate() with a cold ordering cache' if COLD else ''}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = net_paths(Path(tmp))
        print(f"{'network':8s} {'runze simulate()':>30s} {'runze prepared':>30s} {'EPANET':>30s} "
              f"{'ratio':>6s} {'ratio p.':>8s} {'WNTR':>30s} {'WNTR/runze':>10s}")
        pairs = []
        for name in args.nets.split(","):
            if name not in paths:
                print(f"{name}: not available")
                continue
            path = paths[name]
            net = read_inp(path)
            rh.simulate(net, duration=DAY)  # warm-up (imports, JIT cache)
            tr, tp, to, te = [], [], [], []
            for _ in range(args.runs):  # interleaved so that machine load affects all alike
                tr += time_runze(net, 1)
                tp += time_runze_prepared(net, 1)
                to += time_runze_opened(net, 1)
                te += time_epanet(path, 1)
            ratio = statistics.median(tr) / statistics.median(te)
            ratio_p = statistics.median(tp) / statistics.median(te)
            line = f"{name:8s} {fmt(tr):>30s} {fmt(tp):>30s} {fmt(te):>30s} {ratio:6.2f} {ratio_p:8.2f}"
            # runs i of runze and EPANET are neighbours in time: their ratio cancels most load drift
            pairs.append((name, [a / b for a, b in zip(tr, te, strict=True)],
                          [a / b for a, b in zip(tp, te, strict=True)],
                          [a / b for a, b in zip(to, te, strict=True)]))
            if not args.no_wntr:
                try:
                    tw = time_wntr(path, args.wntr_runs)
                    line += f" {fmt(tw):>30s} {statistics.median(tw) / statistics.median(tr):10.1f}"
                except Exception as exc:  # WNTR 1.5 cannot read some EPANET 2.3 sections ([LEAKAGE])
                    line += f"  WNTR n/a: {type(exc).__name__}"
            print(line, flush=True)
        print("paired ratios (run i of runze / run i of EPANET): median [min-max]")
        for name, rs, rp, ro in pairs:
            print(f"{name:8s} simulate() {statistics.median(rs):5.2f} [{min(rs):.2f}-{max(rs):.2f}]   "
                  f"prepared {statistics.median(rp):5.2f} [{min(rp):.2f}-{max(rp):.2f}]   "
                  f"set-up+run (like EPANET's openH..closeH) {statistics.median(ro):5.2f} "
                  f"[{min(ro):.2f}-{max(ro):.2f}]")
        if args.scale10:
            scale_report()


if __name__ == "__main__":
    main()
