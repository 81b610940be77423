"""`runze outage ...`: repair plans, best windows and segment criticality (零点维修).

    runze outage plan NET.inp --pipe ID [--valves VALVES.csv] [--broken V1,V2] [--start ISO] [--hours H] --json FILE
    runze outage window NET.inp --pipe ID --hours H [--days N]
    runze outage criticality NET.inp -o FILE.csv|FILE.geojson
    runze outage conflicts PLAN1.json PLAN2.json ...

Valves come from VALVES.csv (columns valve,link,node) or, without it, from the network's sidecar (utility
attributes).  Bad input (unknown pipe, duration 0 or over 7 days, unreadable files, a segment bigger than
--max-share of the network without --allow-large) ends with a message and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

MESSAGES = {
    "error": {"zh": "错误", "en": "error"},
    "large": {"zh": "停水范围过大", "en": "outage too large"},
    "written": {"zh": "已写入", "en": "written"},
}

outage_app = typer.Typer(help="停水/零点维修计划 Outage planning: valves to shut, best window, criticality.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(outage_app, name="outage")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']['zh']} / {MESSAGES['error']['en']}: {message}", err=True)
    raise typer.Exit(code=2)


def load_network(path: Path):
    """Read the .inp file with its sidecar of utility attributes (valves, customers, DMAs)."""
    from runze.network.inp import read_inp

    if not path.exists():
        _fail(f"{path}: no such file")
    return read_inp(path)


def _planner(net_path: Path, valves: Path | None, max_share: float = 0.10):
    from runze.analysis.isolation.plan import OutagePlanner
    from runze.analysis.isolation.segments import read_valve_csv

    network = load_network(net_path)
    rows = read_valve_csv(valves) if valves is not None else None
    source = str(valves) if valves is not None else f"{net_path} sidecar valves"
    return OutagePlanner(network, rows, inp_path=net_path, max_share=max_share, valve_source=source)


def _parse_start(start: str | None) -> datetime | None:
    if start is None:
        return None
    try:
        return datetime.fromisoformat(start)
    except ValueError:
        _fail(f"--start {start!r}: not an ISO date-time (e.g. 2026-11-26T00:30 or 2026-11-26T00:30+08:00)")
    return None


def _read_records(path: Path) -> list[dict[str, str]]:
    import csv

    from runze.network.errors import NetworkError

    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if "node" not in [f.strip().lower() for f in (reader.fieldnames or [])]:
            raise NetworkError(f"{path}: line 1: no 'node' column in the customer records")
        return [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def _broken(broken: str) -> list[str]:
    return [b.strip() for b in broken.split(",") if b.strip()]


def _guard(func, *args: Any, **kwargs: Any) -> Any:
    """Run `func`, turning input problems into a message and exit code 2."""
    from runze.network.errors import NetworkError

    try:
        return func(*args, **kwargs)
    except typer.Exit:
        raise
    except (NetworkError, ValueError, KeyError, OSError) as exc:
        _fail(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))


@outage_app.command("plan")
def plan_cmd(
    network: Path = typer.Argument(..., help="EPANET .inp file"),
    pipe: str = typer.Option(..., "--pipe", help="pipe to repair"),
    at: float | None = typer.Option(None, "--at", help="point on the pipe, 0..1 from its first node"),
    valves: Path | None = typer.Option(None, "--valves", help="CSV with columns valve,link,node"),
    broken: str = typer.Option("", "--broken", help="broken/inaccessible valves, comma-separated"),
    customers: Path | None = typer.Option(None, "--customers",
                                          help="customer records CSV (node column required; id,name,... kept)"),
    start: str | None = typer.Option(None, "--start", help="start, ISO (local China time if no offset)"),
    hours: float = typer.Option(4.0, "--hours", help="duration of the repair in hours"),
    json_out: Path | None = typer.Option(None, "--json", help="write the plan here"),
    solver: str = typer.Option("auto", "--solver", help="pressure run: auto, runze, epanet or none"),
    threshold: float = typer.Option(14.0, "--threshold", help="service pressure, m"),
    notice_hours: float = typer.Option(24.0, "--notice-hours", help="notice planned work needs, h"),
    max_share: float = typer.Option(0.10, "--max-share", help="largest acceptable share of the network"),
    allow_large: bool = typer.Option(False, "--allow-large", help="write the plan even if the outage is large"),
    backfeed: bool = typer.Option(False, "--backfeed",
                                  help="open normally closed (DMA boundary) valves to keep others supplied"),
) -> None:
    """Valves to close and what the outage does, for a repair on PIPE."""
    from runze.analysis.isolation.notices import affected_customers, notice

    planner = _guard(_planner, network, valves, max_share)
    when = _parse_start(start)
    records = _guard(_read_records, customers) if customers is not None else None
    result = _guard(planner.plan, pipe=pipe, start=when, hours=hours, broken=_broken(broken), solver=solver,
                    threshold_m=threshold, notice_hours=notice_hours, position=at, backfeed=backfeed)
    data = result.to_dict()
    data["notice"] = notice(result, notice_hours=notice_hours, tz=planner.tz)
    data["affected_customers"] = affected_customers(result, records)
    large = result.share_of_network > max_share
    typer.echo(f"pipe {pipe}: close {', '.join(result.valves_to_close) or '-'}"
               + (f"; stop pumps {', '.join(result.pumps_to_stop)}" if result.pumps_to_stop else ""))
    if result.valves_to_open:
        typer.echo(f"  open to back-feed: {', '.join(result.valves_to_open)} ({len(result.backfed_nodes)} nodes)")
    typer.echo(f"  isolated: {len(result.isolated_nodes)} nodes, {result.pipes['count']} pipes "
               f"({result.pipes['length_m']:.0f} m, {result.pipes['volume_m3']:.1f} m³ to drain); "
               f"unintended: {len(result.unintended_nodes)} nodes")
    typer.echo(f"  demand lost: {result.demand_lost_m3h:.2f} m³/h at start, {result.demand_lost_m3:.1f} m³ "
               f"over {hours:g} h; customers {sum(result.customers.values())}; "
               f"pressure ({result.pressure['solver']}): {result.pressure['n_low_pressure_nodes']} node(s) "
               f"below {threshold:g} m")
    for w in result.warnings:
        typer.echo(f"  ! {w}", err=True)
    if large and not allow_large:
        _fail(f"{MESSAGES['large']['zh']} / {MESSAGES['large']['en']}: {result.share_of_network:.0%} of the "
              f"network's pipe length, above --max-share {max_share:g}; check the valves around {pipe!r} "
              "or pass --allow-large to write the plan anyway")
    if json_out is not None:
        _guard(json_out.write_text, json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        typer.echo(f"{MESSAGES['written']['en']}: {json_out}")


@outage_app.command("window")
def window_cmd(
    network: Path = typer.Argument(..., help="EPANET .inp file"),
    pipe: str = typer.Option(..., "--pipe", help="pipe to repair"),
    hours: float = typer.Option(..., "--hours", help="duration of the repair in hours"),
    days: int = typer.Option(7, "--days", help="search the next N days"),
    earliest: str = typer.Option("00:00", "--earliest", help="earliest local start time"),
    latest: str = typer.Option("06:00", "--latest", help="latest local start time"),
    valves: Path | None = typer.Option(None, "--valves", help="CSV with columns valve,link,node"),
    broken: str = typer.Option("", "--broken", help="broken valves, comma-separated"),
    notice_hours: float = typer.Option(24.0, "--notice-hours", help="notice planned work needs, h"),
    json_out: Path | None = typer.Option(None, "--json", help="write the windows here"),
) -> None:
    """The best three start times (least demand cut off) for a repair on PIPE."""
    from datetime import time

    from runze.analysis.isolation.window import best_windows

    def clock(text: str, name: str) -> time:
        try:
            return time.fromisoformat(text)
        except ValueError:
            _fail(f"{name} {text!r}: expected HH:MM")
        raise AssertionError

    planner = _guard(_planner, network, valves)
    result = _guard(best_windows, planner, pipe=pipe, hours=hours, days=days, earliest=clock(earliest, "--earliest"),
                    latest=clock(latest, "--latest"), broken=_broken(broken), notice_hours=notice_hours)
    typer.echo(f"pipe {pipe}, {hours:g} h, {result['candidates']} candidate starts, "
               f"{len(result['affected_nodes'])} nodes affected")
    for i, w in enumerate(result["windows"], start=1):
        typer.echo(f"  {i}. {w['start']} → {w['end']}: {w['volume_m3']:.2f} m³ not supplied")
    if json_out is not None:
        _guard(json_out.write_text, json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


@outage_app.command("criticality")
def criticality_cmd(
    network: Path = typer.Argument(..., help="EPANET .inp file"),
    output: Path = typer.Option(..., "-o", "--output", help="FILE.csv or FILE.geojson"),
    valves: Path | None = typer.Option(None, "--valves", help="CSV with columns valve,link,node"),
    broken: str = typer.Option("", "--broken", help="broken valves, comma-separated"),
    backfeed: bool = typer.Option(False, "--backfeed", help="count DMA boundary valves as openable"),
) -> None:
    """Rank every valve segment by customers and demand cut off if it is isolated."""
    import time as clock

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from runze.analysis.isolation.criticality import criticality, export

    if output.suffix.lower() not in (".csv", ".geojson", ".json"):
        _fail(f"{output}: output must end in .csv or .geojson")
    t0 = clock.perf_counter()
    planner = _guard(_planner, network, valves)
    seg = _guard(planner.segmentation, planner.check_broken(_broken(broken)))
    with Progress(TextColumn("segments 分段"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=not sys.stderr.isatty()) as bar:
        task = bar.add_task("criticality", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        frame = _guard(criticality, planner, tuple(_broken(broken)), tick, backfeed)
    _guard(export, planner, frame, output, tuple(_broken(broken)))
    top = frame.head(5)
    typer.echo(f"{seg.n_segments} segments, {len(planner.valves)} valves; {MESSAGES['written']['en']}: {output} "
               f"({clock.perf_counter() - t0:.2f} s)")
    for row in top.itertuples():
        typer.echo(f"  #{row.rank} segment {row.segment}: {row.customers} customers, {row.demand_m3h:.1f} m³/h, "
                   f"{row.unintended_nodes} nodes cut off, valves {row.valves}")


@outage_app.command("conflicts")
def conflicts_cmd(
    plans: list[Path] = typer.Argument(..., help="plan JSON files written by `runze outage plan --json`"),
) -> None:
    """Flag planned outages that overlap in time and place (exit code 1 when any do)."""
    from runze.analysis.isolation.plan import find_conflicts

    def load(path: Path) -> dict:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            datetime.fromisoformat(data["start"])
            datetime.fromisoformat(data["end"])
            return data
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _fail(f"{path}: not a plan file from `runze outage plan --json` ({exc})")
        raise AssertionError

    found = find_conflicts([load(p) for p in plans])
    for c in found:
        a, b = (plans[i].name for i in c["plans"])
        typer.echo(f"conflict 冲突: {a} ({c['targets'][0]}) and {b} ({c['targets'][1]}) overlap "
                   f"{c['overlap_start']} → {c['overlap_end']}: {len(c['shared_nodes'])} shared nodes, "
                   f"{len(c['shared_links'])} pipes, valves {', '.join(c['shared_valves']) or '-'}")
    if not found:
        typer.echo(f"no conflicts among {len(plans)} plan(s) 无冲突")
    raise typer.Exit(code=1 if found else 0)
