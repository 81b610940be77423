"""`runze batch NET.inp --leaks-at all|J1,J2 --emitter C [--time H] [--workers N] -o leaks.parquet|csv`.

One single-emitter leak scenario per listed junction (`all`: every junction), solved with batch mode.  Writes a
long table: scenario (the leaking junction), time s, node, pressure m, head m, leak m³/s (only where > 0), and
prints scenarios/s.  Exit status 1 when a scenario did not converge (its rows are still written, flagged).
"""

from __future__ import annotations

from pathlib import Path

import typer

MESSAGES = {
    "done": "完成 / done: {n} 个场景 scenarios, {rows} 行 rows → {path} ({secs:.2f} s, {rate:.0f} 场景/s scenarios/s)",
    "bad_ext": "输出文件须为 .parquet 或 .csv / output must end in .parquet or .csv: {path}",
    "bad_input": "无法读取管网 / cannot read network: {error}",
    "bad_scenario": "场景无效 / invalid scenario: {error}",
    "bad_emitter": "--emitter 须 > 0 / --emitter must be > 0 (m³/s per m^0.5), got {value}",
    "unconverged": "{n} 个场景未收敛 / {n} scenarios did not converge: {first}",
}


def register(app: typer.Typer) -> None:
    @app.command("batch")
    def batch_cmd(
        network: Path = typer.Argument(..., exists=True, dir_okay=False, help="EPANET .inp file"),
        output: Path = typer.Option(..., "-o", "--output", help="leaks.parquet or leaks.csv"),
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

        import runze.hydraulics as rh
        from runze.hydraulics.batch import BatchError, Scenario, solve_batch
        from runze.hydraulics.compile import CompileError
        from runze.network.errors import NetworkError

        console = Console(stderr=True)
        suffix = output.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            console.print(MESSAGES["bad_ext"].format(path=output))
            raise typer.Exit(2)
        if not emitter > 0:
            console.print(MESSAGES["bad_emitter"].format(value=emitter))
            raise typer.Exit(2)
        try:
            net = rh.load_network(network)
        except (NetworkError, OSError, ValueError) as exc:
            console.print(MESSAGES["bad_input"].format(error=exc))
            raise typer.Exit(2) from None
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
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".part")
        if suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)
        tmp.replace(output)  # never leave a half-written file under the final name
        console.print(MESSAGES["done"].format(n=s, rows=len(table), path=output, secs=secs, rate=s / max(secs, 1e-9)))
        bad = [res.scenario_names[i] for i in np.flatnonzero(~res.converged.all(axis=1))]
        if bad:
            console.print(MESSAGES["unconverged"].format(n=len(bad), first=", ".join(bad[:5])))
            raise typer.Exit(1)
