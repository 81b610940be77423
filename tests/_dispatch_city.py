"""The demo city written once per test session for the dispatch tests (generation takes seconds)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path


@functools.cache
def demo_city_inp() -> Path:
    from runze.network.demo_city.build import write_demo_city

    out = Path(tempfile.mkdtemp(prefix="runze-dispatch-city-"))
    inp, _ = write_demo_city(out)
    return inp


@functools.cache
def demo_city():
    from runze.network.inp import read_inp

    return read_inp(demo_city_inp())
