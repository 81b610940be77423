"""Leak detection and localisation, judged like BattLeDIM 2020 (issue 5).

Modules: `layout` (sensors and DMAs), `data` (SCADA directories: BattLeDIM or tidy CSV), `simulate` with
`epanet_run` (synthetic year of 5-minute data with leaks and ground truth), `nightflow` (minimum night flow per
DMA), `detect` (DMA inflow residuals + CUSUM), `localise` (pressure-residual signatures against EPANET
sensitivities), `pipeline` (detect → localise → rows), `score` (BattLeDIM scoring).  CLI: `runze leaks ...`.
"""
