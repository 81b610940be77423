"""`runze simulate NET.inp [--duration H] [--pda] -o results.parquet|csv`: run the hydraulic engine.

Writes one long table (time s, element, id, quantity, value in SI) as Parquet or CSV, prints the warnings
(kind, time, elements) and exits with status 1 when the run could not be solved or did not converge.
"""

from __future__ import annotations

from pathlib import Path

import typer

from runze.cli.common import DURATION_OPTION, NETWORK_ARGUMENT, PDA_OPTION, output_option

MESSAGES = {
    "done": "完成 / done: {rows} 行 rows → {path} ({secs:.2f} s, {iters} 次迭代 iterations)",
    "warn": "警告 / warning [{kind}] t={time}s: {message} ({n} 个元素 elements: {first})",
    "failed": "水力计算失败 / hydraulic run failed: see warnings above",
    "bad_net": "管网无法计算 / network cannot be simulated: {error}",
}


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate_cmd(
        network: Path = NETWORK_ARGUMENT,
        output: Path = output_option("results"),
        duration: float | None = DURATION_OPTION,
        pda: bool = PDA_OPTION,
    ) -> None:
        """Run an extended-period hydraulic simulation (水力模拟)."""
        import time

        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        import runze.hydraulics as rh
        from runze.cli.common import load_network, table_suffix, write_table
        from runze.hydraulics.compile import CompileError

        console = Console(stderr=True)
        table_suffix(output, console)
        net = load_network(network, console)
        t0 = time.perf_counter()
        with Progress(TextColumn("[bold]水力计算 simulating"), BarColumn(), TextColumn("{task.fields[t]}"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("sim", total=1.0, t="")

            def progress(htime: int, dur: int) -> None:
                bar.update(task, completed=htime / dur if dur else 1.0, t=f"{htime / 3600:.1f} h")

            try:
                res = rh.simulate(net, duration=None if duration is None else duration * 3600.0, pda=pda,
                                  progress=progress)
            except CompileError as exc:
                console.print(MESSAGES["bad_net"].format(error=exc))
                raise typer.Exit(2) from None
        secs = time.perf_counter() - t0
        for w in res.warnings:
            console.print(MESSAGES["warn"].format(kind=w.kind, time=w.time, message=w.message, n=len(w.elements),
                                                  first=", ".join(w.elements[:5])), markup=False)
        table = res.to_long()
        write_table(table, output)
        console.print(MESSAGES["done"].format(rows=len(table), path=output, secs=secs,
                                              iters=int(res.iterations.sum())))
        if not res.ok:
            console.print(MESSAGES["failed"])
            raise typer.Exit(1)
