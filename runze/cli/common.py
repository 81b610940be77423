"""Arguments and steps shared by the commands that run the hydraulic engine on an .inp file (`simulate`, `batch`).

The network argument, the ``-o/--output`` option (a ``.parquet`` or ``.csv`` table), ``--duration`` and
``--pda``; checking the output's format and loading the network before any work (both exit with status 2 and a
message on the console when they fail); and writing the result table atomically.  Imports stay light: the CLI
imports every module of this package at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from runze.i18n import bilingual

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from runze.network.model import Network

TABLE_SUFFIXES = (".parquet", ".csv")

NETWORK_ARGUMENT = typer.Argument(..., exists=True, dir_okay=False, help="EPANET .inp file")
DURATION_OPTION = typer.Option(None, "--duration", help="duration in hours (default: the file's)")
PDA_OPTION = typer.Option(False, "--pda", help="pressure-driven demands (EPANET 2.2 formula)")


def output_option(example: str) -> Any:
    """The ``-o/--output`` option, e.g. ``output_option("results")`` -> help "results.parquet or results.csv"."""
    return typer.Option(..., "-o", "--output", help=f"{example}.parquet or {example}.csv")


def table_suffix(output: Path, console: Console) -> str:
    """The output's format (".parquet" or ".csv"); any other ending: a message and exit status 2."""
    suffix = output.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        console.print(bilingual("cli.bad_table_output", path=output))
        raise typer.Exit(2)
    return suffix


def load_network(path: Path, console: Console) -> Network:
    """The network of an .inp file; a file that cannot be read: a message and exit status 2."""
    import runze.hydraulics as rh
    from runze.network.errors import NetworkError

    try:
        return rh.load_network(path)
    except (NetworkError, OSError, ValueError) as exc:
        console.print(bilingual("cli.bad_network", error=exc))
        raise typer.Exit(2) from None


def write_table(table: pd.DataFrame, output: Path) -> None:
    """Write `table` as Parquet or CSV (by the output's ending) under a temporary name, then rename it, so that a
    failed write never leaves a half-written file under the final name."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    if output.suffix.lower() == ".parquet":
        table.to_parquet(tmp, index=False)
    else:
        table.to_csv(tmp, index=False)
    tmp.replace(output)
