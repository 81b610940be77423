"""`runze demo-city` (generate the demo city's files) and `print_city` (its summary and 24 h EPANET 2.3 check).

`runze demo-city --out DIR [--seed N] [--scale X]` writes DIR/demo-city.inp and DIR/demo-city.json.
`runze demo` (runze/cli/demo.py) is the dashboard + replay; `runze demo --summary-only` builds the scale-1 city
into ./runze-data/ and prints `print_city`; the figures come from `runze.network.demo_city.city_summary`.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

TEXT = {
    "help_city": "生成示范城市管网 (.inp + .json) / Generate the demo city's network files",
    "help_demo": "生成示范城市并做24小时水力校核 / Build the demo city and run a 24 h hydraulic check",
    "out": "输出目录 / output folder",
    "seed": "随机种子 / random seed",
    "scale": "规模倍数 (1 = 约400公里管网) / scale (1 = about 400 km of mains)",
    "bad_scale": "规模须在 0.05 到 50 之间 / scale must be between 0.05 and 50",
    "cannot_write": "无法写入 {path}: {err} / cannot write {path}: {err}",
    "written": "已生成 / written: {inp} + {json}  ({sec:.1f} s)",
    "summary_title": "示范城市概况 / Demo city",
    "plants_title": "水厂 / Plants",
    "check_title": "24小时水力校核 (EPANET 2.3) / 24 h hydraulic check (EPANET 2.3)",
    "warnings": "EPANET 警告 / warnings: {n}",
    "no_warnings": "EPANET 无警告 / no EPANET warnings",
    "fallback": "./runze-data 不可写, 改用临时目录 / ./runze-data not writable, using {path}",
}

STAGES = ("streets", "plants and zones", "customers", "pipe sizes", "network", "commissioning", "write")
STAGE_ZH = {"streets": "街道", "plants and zones": "水厂与分区", "customers": "用户", "pipe sizes": "管径",
            "network": "管网", "commissioning": "水厂调试", "write": "写文件"}


def _generate(out: Path, seed: int, scale: float):
    """Write the city with a progress bar; returns (inp, json, seconds)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from runze.network.demo_city import write_demo_city

    start = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task("示范城市 / demo city", total=len(STAGES))

        def step(msg: str) -> None:
            stage = "commissioning" if msg.startswith("commissioning") else msg
            if stage in STAGES:
                bar.update(task, completed=STAGES.index(stage), description=f"{STAGE_ZH[stage]} / {msg}")

        inp, side = write_demo_city(out, seed, scale, progress=step)
        bar.update(task, completed=len(STAGES), description="完成 / done")
    return inp, side, time.perf_counter() - start


def _check_scale(scale: float) -> None:
    if not (0.05 <= scale <= 50.0):
        typer.echo(TEXT["bad_scale"], err=True)
        raise typer.Exit(2)


def print_city(inp: Path) -> None:
    """The summary tables and the EPANET check of a written demo city."""
    from rich.console import Console
    from rich.table import Table

    from runze.network.demo_city import city_summary
    from runze.network.demo_city.check import epanet_check
    from runze.network.inp import read_inp
    from runze.network.units import head_to_mpa

    console = Console()
    net = read_inp(inp)
    s = city_summary(net)
    t = Table(title=TEXT["summary_title"])
    t.add_column("项目 / item")
    t.add_column("数值 / value", justify="right")
    t.add_row("水厂 / plants", str(len(s["plants"])))
    t.add_row("设计规模 / capacity (m³/d)", f"{s['capacity_m3d']:,.0f}")
    t.add_row("平均日需水 / average demand (m³/d)", f"{s['average_demand_m3d']:,.0f}")
    t.add_row("管网总长 / mains (km)", f"{s['mains_km']:.1f}")
    for band, km in s["mains_km_by_dn"].items():
        if km > 0:
            t.add_row(f"  {band} (km)", f"{km:.1f}")
    t.add_row("计量分区 / DMAs", str(s["dmas"]))
    t.add_row("用户 / service connections", f"{s['customers']:,}")
    for cat, n in s["customers_by_category"].items():
        t.add_row(f"  {cat}", f"{n:,}")
    t.add_row("重点用户 / critical users", str(s["critical_users"]))
    for tank in s["tanks"]:
        t.add_row(f"水池 / tank {tank['id']} {tank['name']}", f"{tank['volume_m3']:,.0f} m³")
    t.add_row("检修阀 / isolation valves", f"{s['isolation_valves']:,}")
    t.add_row("监测点 / sensors", str(s["sensors"]))
    console.print(t)

    links = {p["id"]: p["outlet_link"] for p in net.utility.plants}
    r = epanet_check(inp, links)
    c = Table(title=TEXT["check_title"])
    c.add_column("项目 / item")
    c.add_column("数值 / value", justify="right")
    c.add_row("高峰时刻 / peak hour", f"{r.peak_hour:02.0f}:00")
    c.add_row("高峰最低压力 / min pressure at peak (m)",
              f"{r.peak_min_pressure:.1f}  ({head_to_mpa(r.peak_min_pressure):.3f} MPa)")
    c.add_row("高峰最高压力 / max pressure at peak (m)", f"{r.peak_max_pressure:.1f}")
    c.add_row("全天最低压力 / min pressure, all day (m)", f"{float(r.min_pressure.min()):.1f}")
    c.add_row("高峰最大流速 / max velocity at peak (m/s)", f"{r.peak_max_velocity:.2f} ({r.peak_max_velocity_pipe})")
    c.add_row("日供水量 / daily volume (m³)", f"{r.daily_volume_m3:,.0f}")
    for tid, (lo, hi) in r.tank_levels.items():
        c.add_row(f"水位 / tank {tid} level (m)", f"{lo:.2f} - {hi:.2f}")
    console.print(c)
    p = Table(title=TEXT["plants_title"])
    for col in ("水厂 / plant", "水源 / raw water", "规模 / capacity m³/d", "日供水 / m³", "占比 / share",
                "高峰负荷 / peak load"):
        p.add_column(col, justify="right")
    share = r.plant_share
    for plant in net.utility.plants:
        pid = plant["id"]
        peak_ratio = r.plant_peak_m3s[pid] * 86400.0 / plant["capacity_m3d"]
        p.add_row(f"{plant['name']} {pid}", plant["raw_water"], f"{plant['capacity_m3d']:,.0f}",
                  f"{r.plant_volume_m3[pid]:,.0f}", f"{share[pid]:.1%}", f"{peak_ratio:.0%}")
    console.print(p)
    console.print(TEXT["warnings"].format(n=len(r.warnings)) if r.warnings else TEXT["no_warnings"])
    for w in r.warnings[:10]:
        console.print(f"  {w}")


def register(app: typer.Typer) -> None:
    @app.command("demo-city", help=TEXT["help_city"])
    def demo_city(out: Path = typer.Option(..., "--out", help=TEXT["out"]),
                  seed: int = typer.Option(2026, "--seed", help=TEXT["seed"]),
                  scale: float = typer.Option(1.0, "--scale", help=TEXT["scale"])) -> None:
        _check_scale(scale)
        try:
            inp, side, sec = _generate(out, seed, scale)
        except OSError as err:
            typer.echo(TEXT["cannot_write"].format(path=out, err=err), err=True)
            raise typer.Exit(1) from None
        typer.echo(TEXT["written"].format(inp=inp, json=side, sec=sec))
