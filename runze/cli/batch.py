"""`runze batch NET.inp --leaks-at all|J1,J2 --emitter C [--time H] [--workers N] -o leaks.parquet|csv`.

One single-emitter leak scenario per listed junction (`all`: every junction), solved with batch mode.  Writes a
long table: scenario (the leaking junction), time s, node, pressure m, head m, leak m³/s (only where > 0), and
prints scenarios/s.  Exit status 1 when a scenario did not converge (its rows are still written, flagged).
"""

from __future__ import annotations

from pathlib import Path

import typer

from runze.cli.common import NETWORK_ARGUMENT, output_option

MESSAGES = {
    "done": "完成 / done: {n} 个场景 scenarios, {rows} 行 rows → {path} ({secs:.2f} s, {rate:.0f} 场景/s scenarios/s)",
    "bad_scenario": "场景无效 / invalid scenario: {error}",
    "bad_emitter": "--emitter 须 > 0 / --emitter must be > 0 (m³/s per m^0.5), got {value}",
    "unconverged": "{n} 个场景未收敛 / {n} scenarios did not converge: {first}",
}


def register(app: typer.Typer) -> None:
    @app.command("batch")
    def batch_cmd(
        network: Path = NETWORK_ARGUMENT,
        output: Path = output_option("leaks"),
        leaks_at: str = typer.Option("all", "--leaks-at", help="'all' or comma-separated junction ids"),
        emitter: float = typer.Option(1e-3, "--emitter", help="emitter coefficient, m³/s per m^γ (SI)"),
        at_time: float = typer.Option(0.0, "--time", help="pattern time in hours (snapshot)"),
        workers: int = typer.Option(1, "--workers", help="local worker processes"),
    ) -> None:
        """Leak scenarios, one per junction, on one shared hydraulic kernel (批量漏损场景)."""
        import time

        import numpy as np
        import pandas as pd
        from rich.console import Console

        from runze.cli.common import load_network, table_suffix, write_table
        from runze.hydraulics.batch import BatchError, Scenario, solve_batch
        from runze.hydraulics.compile import CompileError

        console = Console(stderr=True)
        table_suffix(output, console)
        if not emitter > 0:
            console.print(MESSAGES["bad_emitter"].format(value=emitter))
            raise typer.Exit(2)
        net = load_network(network, console)
        nodes = list(net.junctions) if leaks_at.strip().lower() == "all" else [
            s.strip() for s in leaks_at.split(",") if s.strip()]
        scenarios = [Scenario(emitters={j: emitter}, name=j) for j in nodes]
        t0 = time.perf_counter()
        try:
            res = solve_batch(net, scenarios, times=[at_time * 3600.0], workers=workers)
        except (BatchError, CompileError) as exc:
            console.print(MESSAGES["bad_scenario"].format(error=exc))
            raise typer.Exit(2) from None
        secs = time.perf_counter() - t0
        s, t, n = res.pressure.shape
        table = pd.DataFrame({
            "scenario": np.repeat(res.scenario_names, t * n), "time": np.tile(np.repeat(res.times, n), s),
            "node": np.tile(np.asarray(res.node_ids, dtype=object), s * t), "pressure": res.pressure.ravel(),
            "head": res.head.ravel(), "leak": res.leak.ravel(),
            "converged": np.repeat(res.converged.ravel(), n),
        })
        write_table(table, output)
        console.print(MESSAGES["done"].format(n=s, rows=len(table), path=output, secs=secs, rate=s / max(secs, 1e-9)))
        bad = [res.scenario_names[i] for i in np.flatnonzero(~res.converged.all(axis=1))]
        if bad:
            console.print(MESSAGES["unconverged"].format(n=len(bad), first=", ".join(bad[:5])))
            raise typer.Exit(1)
