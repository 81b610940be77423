"""`runze leaks ...`: leak data generation, detection/localisation, BattLeDIM scoring, night-flow analysis.

    runze leaks simulate NET.inp --sensors SENSORS.json|sidecar --days 365 --leaks 20 --seed 1 -o DIR
    runze leaks detect NET.inp --scada DIR -o detections.csv [--history DIR --history-leaks FILE]
    runze leaks score --truth leaks.csv --detections detections.csv --net NET.inp
    runze leaks nightflow NET.inp --scada DIR

Sensors: --sensors FILE, or "sidecar" (the network's own), or by default DIR/sensors.json when the SCADA
directory has one, else the sidecar.  Bad input ends with a bilingual message and exit code 2.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

MESSAGES = {
    "error": {"zh": "错误", "en": "error"},
    "written": {"zh": "已写入", "en": "written"},
    "detections": {"zh": "检测到漏损事件", "en": "leak events detected"},
    "flagged": {"zh": "夜间流量异常的分区", "en": "DMAs flagged by night flow"},
}

leaks_app = typer.Typer(help="漏损检测与定位 Leak detection and localisation (BattLeDIM style).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(leaks_app, name="leaks")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']['zh']} / {MESSAGES['error']['en']}: {message}", err=True)
    raise typer.Exit(code=2)


def _say(key: str, extra: str = "") -> None:
    typer.echo(f"{MESSAGES[key]['zh']} / {MESSAGES[key]['en']}{extra}")


def _network(path: Path):
    from runze.network.errors import InpError, InpErrors
    from runze.network.inp import read_inp

    if not path.exists():
        _fail(f"{path}: no such file / 文件不存在")
    try:
        return read_inp(path)
    except (InpError, InpErrors) as exc:
        _fail(str(exc))


def _layout(net, sensors: str | None, scada: Path | None):
    from runze.analysis.leaks.layout import LayoutError, layout_from_network, read_layout

    try:
        if sensors and sensors != "sidecar":
            return read_layout(sensors, net)
        if sensors is None and scada is not None and (scada / "sensors.json").exists():
            return read_layout(scada / "sensors.json", net)
        lay = layout_from_network(net)
        lay.validate(net, "sidecar")
        return lay
    except LayoutError as exc:
        _fail(str(exc))


def _scada(directory: Path, layout, net):
    from runze.analysis.leaks.data import ScadaError, read_scada

    try:
        data = read_scada(directory, layout, net)
    except ScadaError as exc:
        _fail(str(exc))
    for line in data.issues[:20]:
        typer.echo(f"  ! {line}", err=True)
    return data


@leaks_app.command("simulate")
def simulate_cmd(
    network: Path = typer.Argument(..., help="NET.inp"),
    out: Path = typer.Option(..., "-o", "--out", help="output directory"),
    sensors: str = typer.Option("sidecar", help="SENSORS.json or 'sidecar'"),
    days: int = typer.Option(365, min=1, max=3660),
    leaks: int = typer.Option(20, min=0),
    seed: int = typer.Option(0),
    loggers_per_dma: int = typer.Option(0, help="extra pressure loggers placed in each DMA"),
    clean_days: int = typer.Option(14, help="days without leaks at the start (training)"),
) -> None:
    """生成带漏损的 SCADA 数据 Generate 5-minute SCADA data with leaks and the ground truth leaks.csv."""
    from runze.analysis.leaks.layout import place_loggers
    from runze.analysis.leaks.simulate import GeneratorConfig, generate, write_generated

    net = _network(network)
    lay = _layout(net, sensors, None)
    if loggers_per_dma > 0:
        lay = place_loggers(net, lay, loggers_per_dma)
    if not (lay.pressure or lay.flow):
        _fail("no pressure or flow sensors in the layout / 传感器布置中没有压力或流量计")
    if clean_days >= days:
        _fail("--clean-days must be shorter than --days / 训练天数须小于总天数")
    cfg = GeneratorConfig(days=days, n_leaks=leaks, seed=seed, clean_days=clean_days)
    t0 = time.perf_counter()
    data = generate(net, lay, cfg)
    write_generated(data, lay, cfg, out)
    _say("written", f": {out} ({len(data.leaks)} leaks, {time.perf_counter() - t0:.1f} s)")


@leaks_app.command("detect")
def detect_cmd(
    network: Path = typer.Argument(..., help="NET.inp"),
    scada: Path = typer.Option(..., help="SCADA directory"),
    out: Path = typer.Option(..., "-o", "--out", help="detections.csv (pipe_id,detected_at)"),
    sensors: str | None = typer.Option(None, help="SENSORS.json or 'sidecar'"),
    history: Path | None = typer.Option(None, help="history SCADA directory for training"),
    history_leaks: Path | None = typer.Option(None, help="known leaks of the history (left out of training)"),
    details: Path | None = typer.Option(None, help="CSV with DMA, start, size, growth, kind, candidates"),
    train_days: float = typer.Option(14.0, help="training days at the start when no history is given"),
    cusum_h: float = typer.Option(None, help="slow CUSUM alarm level (log-likelihood ratio, default 11)"),
    localise_hours: float = typer.Option(None, help="hours of data after a leak's start before it is reported"),
) -> None:
    """检测并定位漏损 Detect and localise leaks; writes pipe_id,detected_at per leak."""
    import pandas as pd

    from runze.analysis.leaks.detect import DetectConfig
    from runze.analysis.leaks.pipeline import detect_and_localise, events_frame

    net = _network(network)
    lay = _layout(net, sensors, scada)
    data = _scada(scada, lay, net)
    hist = None
    if history is not None:
        hist = _scada(history, lay, net).frames
        if history_leaks is not None:
            try:
                known = pd.read_csv(history_leaks)
                spans = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in zip(known["start"], known["end"],
                                                                             strict=True)]
            except (OSError, KeyError, ValueError) as exc:
                _fail(f"{history_leaks}: {exc} (expected columns start,end)")
            for kind, frame in hist.items():
                mask = pd.Series(False, index=frame.index)
                for a, b in spans:
                    mask |= (frame.index >= a) & (frame.index <= b)
                hist[kind] = frame[~mask.to_numpy()]
    cfg = DetectConfig(train_days=train_days)
    if cusum_h is not None:
        cfg.slow_h = cusum_h
    if localise_hours is not None:
        cfg.localise_hours = localise_hours
    t0 = time.perf_counter()
    events = detect_and_localise(data.frames, lay, net, cfg, history=hist)
    frame = events_frame(events)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame[["pipe_id", "detected_at"]].dropna().to_csv(out, index=False)
    if details is not None:
        frame.to_csv(details, index=False)
    _say("detections", f": {len(frame)} ({time.perf_counter() - t0:.1f} s) → {out}")


@leaks_app.command("score")
def score_cmd(
    truth: Path = typer.Option(..., help="leaks.csv (pipe,start,end,kind,peak_m3h)"),
    detections: Path = typer.Option(..., help="detections.csv (pipe_id,detected_at)"),
    net: Path = typer.Option(..., "--net", help="NET.inp"),
    json_out: Path | None = typer.Option(None, "--json", help="write the summary as JSON"),
) -> None:
    """BattLeDIM 评分 Score detections as BattLeDIM 2020 did."""
    import pandas as pd

    from runze.analysis.leaks.score import ScoreInputError, score

    network = _network(net)
    try:
        summary, table = score(pd.read_csv(truth), pd.read_csv(detections), network)
    except (OSError, ScoreInputError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(table.to_string(index=False))
    typer.echo(json.dumps(summary, indent=1, ensure_ascii=False))
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=1), encoding="utf-8")


@leaks_app.command("nightflow")
def nightflow_cmd(
    network: Path = typer.Argument(..., help="NET.inp"),
    scada: Path = typer.Option(..., help="SCADA directory"),
    sensors: str | None = typer.Option(None, help="SENSORS.json or 'sidecar'"),
    out: Path | None = typer.Option(None, "-o", "--out", help="per-DMA summary CSV"),
) -> None:
    """最小夜间流量分析 Minimum night flow per DMA against legitimate night use."""
    from runze.analysis.leaks.detect import dma_inflows
    from runze.analysis.leaks.nightflow import night_flow_report

    net = _network(network)
    lay = _layout(net, sensors, scada)
    if not lay.dmas:
        _fail("no DMAs in the sensor layout or sidecar / 没有分区 (DMA) 定义")
    data = _scada(scada, lay, net)
    summary, _ = night_flow_report(dma_inflows(data.frames, lay, net), net, lay.dmas)
    typer.echo(summary.to_string())
    _say("flagged", f": {', '.join(summary.index[summary['flagged']]) or '-'}")
    if out is not None:
        summary.to_csv(out)
