"""Emergency dispatch (应急调度): supply events as what-ifs, source tracing, a re-dispatch plan, reports.

events.py (what goes wrong, as a modified network copy), simrun.py (one PDA run: our engine, EPANET 2.3 as a
fallback), whatif.py (the event window from the current state, per-hour metrics), trace.py (which plant's
water reaches each node), optimise.py (the re-dispatch plan found by a search that runs the solver),
service.py (the whole analysis, as the CLI and the API call it), report.py (JSON and a self-contained HTML).
"""
