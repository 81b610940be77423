"""`runze dispatch ...`: emergency dispatch what-ifs, re-dispatch plans, planning scenarios, source tracing.

    runze dispatch whatif NET.inp --plant P --capacity C --start HH:MM --hours H --json FILE [--html FILE]
        (or --main LINK, --station ID, --source river|reservoir; they combine)
    runze dispatch scenario NET.inp --kind commission-plant4|maintenance|hot-day [--plant P] [--start] [--hours]
    runze dispatch trace NET.inp [--hour H] [--check-epanet]

The sidecar (NET.json beside NET.inp) must list the plants.  Impossible requests (unknown plant, link or
station, capacity outside 0-1, a start before the data begins, an event longer than the 48 h horizon, bad
options) end with a message and exit code 2, never a traceback; reports are written atomically.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

_T0 = time.perf_counter()  # the CLI modules are imported at start-up: the answer is due 60 s from here
ANSWER_WITHIN_S = 55.0
HTML_RESERVE_S = 4.0

MESSAGES = {
    "error": "错误 / error",
    "read": "无法读取管网 / cannot read network",
    "written": "已写入 / written",
    "no_plan": "仅模拟，不搜索方案 / what-if only, no plan search",
    "summary": "{label}: 缺水 unmet {u:,.0f} m³, 低压户时 customer-hours<14 m {c:,.0f}, 停水户时 <3 m {d:,.0f}",
    "levels": "--levels 格式应为 T1=3.2,T2=4 / --levels must look like T1=3.2,T2=4",
}

dispatch_app = typer.Typer(help="应急调度 Emergency dispatch: what-if, re-dispatch plan, scenarios, source tracing.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(dispatch_app, name="dispatch")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']}: {message}", err=True)
    raise typer.Exit(code=2)


def _load(path: Path):
    from runze.network.errors import NetworkError
    from runze.network.inp import read_inp

    if not path.exists():
        _fail(f"{path}: no such file")
    try:
        net = read_inp(path)
    except (NetworkError, OSError, ValueError) as exc:
        _fail(f"{MESSAGES['read']}: {exc}")
    return net


def _levels(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            _fail(MESSAGES["levels"])
        if not sep:
            _fail(MESSAGES["levels"])
    return out


def _run_with_progress(func, *args, **kwargs) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("应急调度 dispatch", total=1.0)

        def progress(msg: str, frac: float) -> None:
            bar.update(task, completed=frac, description=msg[:60])

        return func(*args, progress=progress, **kwargs)


def _write(result: dict[str, Any], net, json_path: Path | None, html_path: Path | None) -> None:
    from rich.console import Console

    from runze.analysis.dispatch.report import write_html, write_json

    console = Console(stderr=True)
    for key, label in (("normal", "正常 normal"), ("no_action", "无措施 no action"), ("plan", "方案 plan")):
        m = result[key]
        console.print(MESSAGES["summary"].format(label=label, u=m["unmet_demand_m3"],
                                                 c=m["customer_hours_below_service"], d=m["customer_hours_no_water"]))
    for a in result["plan"].get("actions", []):
        console.print(f"  {a['time']}  {a['element']}  {a['setting']}  {a['text']}")
    chk = result.get("epanet_check") or {}
    for key in ("no_action", "plan"):
        if key in chk:
            m = chk[key]
            console.print(f"  EPANET 2.3 复核 check {key}: unmet {m['unmet_demand_m3']:,.0f} m³, "
                          f"customer-hours<14 m {m['customer_hours_below_service']:,.0f}")
    console.print(f"{result['verdict']['zh']}\n{result['verdict']['en']}")
    for n in result.get("notes", []):
        console.print(f"[yellow]{n}[/yellow]")
    try:
        if json_path is not None:
            write_json(result, json_path)
            console.print(f"{MESSAGES['written']}: {json_path}")
        if html_path is not None:
            write_html(result, net, html_path)
            console.print(f"{MESSAGES['written']}: {html_path}")
    except OSError as exc:
        _fail(f"{exc}")
    console.print(f"用时 time: {result['timing']['total_s']:.1f} s (solver {', '.join(result['solver'])})")


def _common_checks(start: str, hours: float, net, max_evals: int, budget: float, blocks: int) -> tuple[int, int]:
    from runze.analysis.dispatch.events import EventError
    from runze.analysis.dispatch.whatif import check_hours, parse_start

    if max_evals < 1 or budget <= 0 or not (1 <= blocks <= 12):
        _fail("--max-evals ≥ 1, --budget > 0 and 1 ≤ --blocks ≤ 12")
    try:
        return parse_start(start, net), check_hours(hours)
    except EventError as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable


@dispatch_app.command("whatif")
def whatif_cmd(
    network: Path = typer.Argument(..., help="EPANET .inp (sidecar .json beside it)"),
    plant: str | None = typer.Option(None, "--plant", help="水厂 plant id, number 1-4 or name"),
    capacity: float | None = typer.Option(None, "--capacity", help="可用产能比例 0-1 (0: plant out)"),
    main: list[str] = typer.Option([], "--main", help="停用的输水干管 transmission main out (repeatable)"),
    station: list[str] = typer.Option([], "--station", help="停运泵站 pump station out: plant id or BS1"),
    source: list[str] = typer.Option([], "--source", help="失去的水源 source lost: river | reservoir"),
    start: str = typer.Option("22:00", "--start", help="开始 HH:MM or 'Nd HH:MM' from the data's start"),
    hours: float = typer.Option(13, "--hours", help="事件时长 hours (1-48)"),
    json_out: Path | None = typer.Option(None, "--json", help="JSON report"),
    html_out: Path | None = typer.Option(None, "--html", help="HTML report"),
    levels: str | None = typer.Option(None, "--levels", help="实测水位 measured tank levels T1=3.2,T2=4"),
    no_plan: bool = typer.Option(False, "--no-plan", help="只模拟 what-if only"),
    max_evals: int = typer.Option(120, "--max-evals", help="方案搜索的最多水力计算次数"),
    budget: float = typer.Option(30.0, "--budget", help="方案搜索时间上限 search time budget, s"),
    blocks: int = typer.Option(3, "--blocks", help="调度分段数 time blocks of the plan"),
    solver: str = typer.Option("auto", "--solver", help="auto | runze | epanet"),
    epanet_check: bool = typer.Option(True, "--epanet-check/--no-epanet-check",
                                      help="无措施与方案再用 EPANET 2.3 复核 re-run both through EPANET 2.3"),
) -> None:
    """事件推演与调度方案 What-if of a supply event and the re-dispatch plan."""
    from runze.analysis.dispatch.events import EventError, build_event
    from runze.analysis.dispatch.service import analyse

    net = _load(network)
    if solver not in ("auto", "runze", "epanet"):
        _fail(f"--solver {solver!r}: auto | runze | epanet")
    start_s, n_hours = _common_checks(start, hours, net, max_evals, budget, blocks)
    try:
        event = build_event(net, plant=plant, capacity=capacity, mains=main, stations=station, sources=source)
        lv = _levels(levels)
        deadline = ANSWER_WITHIN_S - (time.perf_counter() - _T0) - (HTML_RESERVE_S if html_out else 0.0)
        result = _run_with_progress(analyse, net, event, start_s, n_hours, optimise=not no_plan,
                                    n_blocks=blocks, max_evals=max_evals, time_budget_s=budget, solver=solver,
                                    levels=lv, epanet_check=epanet_check, deadline_s=deadline)
    except EventError as exc:
        _fail(str(exc))
    _write(result, net, json_out, html_out)


@dispatch_app.command("scenario")
def scenario_cmd(
    network: Path = typer.Argument(..., help="EPANET .inp (sidecar .json beside it)"),
    kind: str = typer.Option(..., "--kind", help="commission-plant4 | maintenance | hot-day"),
    plant: str | None = typer.Option(None, "--plant", help="水厂 (maintenance; commission: default 4)"),
    start: str = typer.Option("00:00", "--start", help="开始 HH:MM"),
    hours: float = typer.Option(24, "--hours", help="时长 hours (1-48)"),
    json_out: Path | None = typer.Option(None, "--json"),
    html_out: Path | None = typer.Option(None, "--html"),
    max_evals: int = typer.Option(120, "--max-evals"),
    budget: float = typer.Option(30.0, "--budget"),
    blocks: int = typer.Option(3, "--blocks"),
) -> None:
    """规划情景 Planning what-ifs: commissioning plant 4, a plant closed for maintenance, a hot day (+30 %)."""
    from runze.analysis.dispatch.events import EventError
    from runze.analysis.dispatch.service import SCENARIOS, scenario

    if kind not in SCENARIOS:
        _fail(f"--kind {kind!r}: {' | '.join(SCENARIOS)}")
    net = _load(network)
    start_s, n_hours = _common_checks(start, hours, net, max_evals, budget, blocks)
    try:
        kwargs: dict[str, Any] = {"n_blocks": blocks}
        if kind != "commission-plant4":
            kwargs.update(max_evals=max_evals, time_budget_s=budget)
        result = _run_with_progress(scenario, net, kind, plant=plant, start_s=start_s, hours=n_hours, **kwargs)
    except EventError as exc:
        _fail(str(exc))
    _write(result, net, json_out, html_out)


@dispatch_app.command("trace")
def trace_cmd(
    network: Path = typer.Argument(..., help="EPANET .inp (sidecar .json beside it)"),
    hour: int = typer.Option(3, "--hour", help="正常运行的第几小时 hour of normal operation to freeze"),
    check_epanet: bool = typer.Option(False, "--check-epanet", help="与 EPANET 2.3 TRACE 对比 compare"),
) -> None:
    """水源追踪 Source shares at a steady hour of normal operation (optionally checked against EPANET)."""
    import numpy as np
    from rich.console import Console

    from runze.analysis.dispatch.trace import steady_check

    net = _load(network)
    if not (0 <= hour <= 47):
        _fail("--hour must be 0-47")
    if not net.utility.plants:
        _fail("sidecar lists no plants")
    res = steady_check(net, hour, epanet=check_epanet)
    console = Console()
    for z in res["zones"]:
        shares = " ".join(f"{k} {v:.0%}" for k, v in z["shares"].items() if v and v >= 0.005)
        console.print(f"{z['id']:>12} {z['name']}: {shares}{'  ★ single' if z['single_source'] else ''}")
    if check_epanet:
        for src, d in res["max_diff_pp"].items():
            console.print(f"EPANET TRACE {src}: max |Δ| {d:.3f} pp over {res['compared_nodes']} nodes")
        if max(res["max_diff_pp"].values(), default=0.0) > 2.0 or not np.isfinite(res["compared_nodes"]):
            raise typer.Exit(1)
