"""The demo city that ships with Runze: a deterministic county-level city in a Hunan river valley.

`build_demo_city(seed, scale)` returns a `Network` (four plants, two pressure zones, ~400 km of mains, ~20
DMAs, ~100,000 service connections at scale 1); `write_demo_city(out_dir, seed, scale)` writes it as
`demo-city.inp` plus its sidecar `demo-city.json`; `city_summary(network)` gives the figures a dashboard
shows.  The same seed gives byte-identical files.
"""

from runze.network.demo_city.build import build_demo_city, write_demo_city
from runze.network.demo_city.summary import city_summary

__all__ = ["build_demo_city", "city_summary", "write_demo_city"]
