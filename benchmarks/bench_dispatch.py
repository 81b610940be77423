"""Benchmark: emergency dispatch on the demo city, end to end as a duty manager runs it.

    python benchmarks/bench_dispatch.py [NET.inp] [--repeat 3] [--events p3-40,p1-out,p2-out] [--html]

Each repetition runs `runze dispatch whatif NET --start 22:00 --hours 13 ...` in a fresh process (imports,
reading, the current state, no action, the plan search, the verifying run, source tracing and the report
included; that is what the 60 s target is about) and prints wall time (median, min-max), unmet demand and
customer-hours below 14 m without and with the plan.  Without NET the demo city is generated first.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVENTS = {
    "p3-40": ["--plant", "3", "--capacity", "0.4"],
    "p1-40": ["--plant", "1", "--capacity", "0.4"],
    "p1-out": ["--plant", "1", "--capacity", "0"],
    "p2-out": ["--plant", "2", "--capacity", "0"],
    "p3-out": ["--plant", "3", "--capacity", "0"],
    "river-lost": ["--source", "river"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("network", nargs="?", help="EPANET .inp with its sidecar (default: generate the demo city)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--events", default="p3-40,p1-out,p2-out")
    ap.add_argument("--html", action="store_true", help="also render the HTML page (counted in the time)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    runze = str(Path(sys.executable).with_name("runze"))
    inp = args.network
    if inp is None:
        subprocess.run([runze, "demo-city", "--out", str(tmp)], check=True, capture_output=True)
        inp = str(tmp / "demo-city.inp")
    print(f"network: {inp}")
    print(f"{'event':<11} {'wall s median (min-max)':<26} {'unmet m3 no action -> plan':<30} "
          f"{'customer-h <14 m no action -> plan':<38} actions  solver")
    for name in args.events.split(","):
        walls, cpus, last = [], [], None
        for k in range(args.repeat):
            out = tmp / f"{name}-{k}.json"
            cmd = [runze, "dispatch", "whatif", inp, *EVENTS[name], "--start", "22:00", "--hours", "13",
                   "--json", str(out)] + (["--html", str(tmp / f"{name}-{k}.html")] if args.html else [])
            t0 = time.perf_counter()
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run(cmd, capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
            if r.returncode != 0:
                print(f"{name}: exit {r.returncode}\n{r.stderr[-2000:]}")
                break
            last = json.loads(out.read_text(encoding="utf-8"))
        if last is None:
            continue
        na, pl = last["no_action"], last["plan"]
        med = statistics.median(walls)
        print(f"{name:<11} {med:6.1f} ({min(walls):.1f}-{max(walls):.1f}){'':<12} "
              f"{na['unmet_demand_m3']:9.0f} -> {pl['unmet_demand_m3']:<9.0f}{'':<9} "
              f"{na['customer_hours_below_service']:11.0f} -> {pl['customer_hours_below_service']:<11.0f}{'':<11} "
              f"{len(pl['actions']):3d}     {','.join(last['solver'])}  "
              f"[{'OK' if max(walls) < 60 else 'OVER 60 s'}; search {pl.get('search', {}).get('evaluations')} runs]")
        print(f"            cpu s (user+sys) median {statistics.median(cpus):.1f} ({min(cpus):.1f}-{max(cpus):.1f}); "
              f"timing inside: {last['timing']}")
        print(f"            verdict: {last['verdict']['en']}")


if __name__ == "__main__":
    main()
