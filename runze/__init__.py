"""Runze (润泽): operations platform and digital twin for a city water-supply utility.

Top-level API (imported lazily so that `import runze` stays fast):

- `read_inp(path) -> Network`, `write_inp(network, path)` — EPANET files (`runze.network.inp`)
- `simulate(network_or_path, duration=None, pda=False) -> Results` — our hydraulic engine (`runze.hydraulics`)
- `solve_batch(network, scenarios, ...)` — many variants of one network at once
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Network": ("runze.network.model", "Network"),
    "read_inp": ("runze.network.inp", "read_inp"),
    "write_inp": ("runze.network.inp", "write_inp"),
    "simulate": ("runze.hydraulics", "simulate"),
    "solve_batch": ("runze.hydraulics", "solve_batch"),
    "Results": ("runze.hydraulics", "Results"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'runze' has no attribute {name!r}")


__all__ = list(_LAZY)
