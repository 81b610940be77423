"""`runze network info FILE` and `runze network convert IN OUT`.

    runze network info city.inp                 counts, pipe length, units, DMAs, problems found
    runze network convert city.inp city.geojson  writes .inp or .geojson, chosen by OUT's suffix

A broken input file prints the reader's message (file, line, section, field) and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path

import typer

MESSAGES = {
    "error": "错误 / error",
    "title": "管网概况 / network summary",
    "problems": "检查发现的问题 / problems found",
    "no_problems": "未发现问题 / no problems found",
    "written": "已写出 / written",
    "suffix": "输出文件须以 .inp 或 .geojson 结尾 / OUT must end in .inp or .geojson",
    "more": "另有 {n} 条 / {n} more",
}
ROWS = [
    ("name", "名称 / name"), ("junctions", "节点 / junctions"), ("reservoirs", "水库 / reservoirs"),
    ("tanks", "水池 / tanks"), ("pipes", "管段 / pipes"), ("pumps", "水泵 / pumps"), ("valves", "阀门 / valves"),
    ("patterns", "时间模式 / patterns"), ("curves", "曲线 / curves"), ("controls", "简单控制 / controls"),
    ("rules", "规则控制 / rules"), ("pipe_length_km", "管长 km / pipe length km"),
    ("flow_units", "流量单位 / flow units"), ("headloss", "水头损失公式 / head-loss formula"),
    ("demand_model", "需水模型 / demand model"), ("duration_h", "模拟时长 h / duration h"),
    ("dmas", "计量分区 / DMAs"), ("customers", "用户数 / customers"),
]

network_app = typer.Typer(help="管网文件 Network files: summary, checks, conversion.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']}: {message}", err=True)
    raise typer.Exit(code=2)


def _read(path: Path):  # noqa: ANN202  (heavy imports stay inside commands)
    from runze.network.errors import InpError
    from runze.network.inp import read_inp

    try:
        return read_inp(path)
    except InpError as exc:
        _fail(str(exc))
        raise


@network_app.command("info")
def info(
    file: Path = typer.Argument(..., help=".inp file (a sidecar FILE.json is read when present)"),
    lang: str = typer.Option("zh", "--lang", help="language of problem messages: zh or en"),
) -> None:
    """管网概况与检查 Print counts, pipe length, units, DMAs and the problems validation finds."""
    from rich.console import Console
    from rich.table import Table

    from runze.network.validate import validate

    net = _read(file)
    console = Console()
    summary = net.summary()
    table = Table(title=f"{MESSAGES['title']}: {file.name}")
    table.add_column("项目 / item")
    table.add_column("值 / value", justify="right")
    for key, label in ROWS:
        value = summary[key]
        table.add_row(label, f"{value:,.2f}" if isinstance(value, float) else str(value))
    console.print(table)
    if net.utility.dmas:
        dmas = Table(title="DMA")
        for col in ("id", "名称 / name", "节点 / nodes", "入口 / inlets"):
            dmas.add_column(col)
        for dma_id, dma in net.utility.dmas.items():
            dmas.add_row(dma_id, str(dma.get("name", "")), str(len(dma.get("nodes", []))),
                         ", ".join(map(str, dma.get("inlets", []))))
        console.print(dmas)
    problems = validate(net)
    if not problems:
        console.print(MESSAGES["no_problems"])
        return
    found = Table(title=MESSAGES["problems"])
    for col in ("级别 / severity", "元素 / element", "说明 / message"):
        found.add_column(col)
    for problem in problems[:100]:
        found.add_row(problem.severity, problem.element or "", problem.text(lang))
    console.print(found)
    if len(problems) > 100:
        console.print(MESSAGES["more"].format(n=len(problems) - 100))


@network_app.command("convert")
def convert(
    source: Path = typer.Argument(..., help="input .inp file"),
    target: Path = typer.Argument(..., help="output .inp or .geojson file"),
) -> None:
    """格式转换 Write the network as .inp (EPANET 2.3) or .geojson, chosen by the output suffix."""
    suffix = target.suffix.lower()
    if suffix not in (".inp", ".geojson"):
        _fail(MESSAGES["suffix"])
    net = _read(source)
    try:
        if suffix == ".inp":
            from runze.network.inp import write_inp

            write_inp(net, target)
        else:
            from runze.network.geojson import write_geojson

            write_geojson(net, target)
    except OSError as exc:
        _fail(f"{target}: {exc.strerror or exc}")
    typer.echo(f"{MESSAGES['written']}: {target}")
