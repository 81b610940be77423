"""Public `.inp` input/output: `read_inp` and `write_inp`, with the utility-attribute sidecar beside the file.

`read_inp("city.inp")` reads the EPANET file and, when `city.json` lies beside it, the utility attributes
(plants, DMAs, zones, customers, critical users, isolation valves, sensors).  `write_inp` writes both.
"""

from __future__ import annotations

from pathlib import Path

from runze.network.errors import InpError, InpErrors
from runze.network.inp_reader import parse_inp, read_inp_file
from runze.network.inp_writer import format_inp, write_inp_file
from runze.network.model import Network
from runze.network.sidecar import read_sidecar, sidecar_path, write_sidecar

__all__ = ["InpError", "InpErrors", "format_inp", "parse_inp", "read_inp", "write_inp"]


def read_inp(path: str | Path, *, sidecar: bool = True) -> Network:
    """Read an EPANET `.inp` file (SI units inside); load `X.json` beside `X.inp` when present."""
    net = read_inp_file(path)
    if sidecar:
        side = sidecar_path(path)
        if side.exists():
            net.utility = read_sidecar(side, net)
    return net


def write_inp(network: Network, path: str | Path, *, sidecar: bool = True) -> None:
    """Write `network` as an EPANET `.inp` file in its own flow units, and its sidecar `X.json`."""
    write_inp_file(network, path)
    if sidecar:
        write_sidecar(network, sidecar_path(path))
