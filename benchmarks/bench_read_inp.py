"""Time reading Net6 (3,323 junctions) with Runze's reader and with WNTR's (`WaterNetworkModel(path)`).

    python benchmarks/bench_read_inp.py [--runs 7] [FILE]

Prints the median, min and max of several runs for both readers (each run reads the file from disk), and
the ratio of the medians.  Both readers get one untimed warm-up run first.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path


def _times(fn, runs: int) -> list[float]:
    fn()  # warm-up: imports, disk cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _line(name: str, times: list[float]) -> str:
    return (f"{name:8s} median {statistics.median(times) * 1000:8.1f} ms   min {min(times) * 1000:8.1f} ms   "
            f"max {max(times) * 1000:8.1f} ms   ({len(times)} runs)")


def main() -> None:
    import wntr

    from runze.network.inp import read_inp

    default = Path(wntr.__file__).parent / "library" / "networks" / "Net6.inp"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(default))
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    net = read_inp(args.file)
    print(f"{Path(args.file).name}: {len(net.junctions)} junctions, {net.n_links} links")
    runze_times = _times(lambda: read_inp(args.file), args.runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wntr_times = _times(lambda: wntr.network.WaterNetworkModel(args.file), args.runs)
    print(_line("runze", runze_times))
    print(_line("wntr", wntr_times))
    print(f"runze is {statistics.median(wntr_times) / statistics.median(runze_times):.1f}x faster (median)")


if __name__ == "__main__":
    main()
