"""`runze report monthly --month YYYY-MM [--db URL] -o FILE.(pdf|html|json)`: the monthly evaluation report.

The format follows the output file's extension.  Warnings (a water balance that does not close, figures from a
simulation rather than measurements) are printed as well as written into the report.  Errors end with a message
and exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

MESSAGES = {
    "error": "错误 / error",
    "written": "报告已生成 / report written",
    "bad_ext": "输出文件须为 .pdf、.html 或 .json / the output file must end in .pdf, .html or .json",
    "not_ready": "数据库未初始化或版本过旧，请先运行 runze init / the database is not initialised or out of date: "
                 "run `runze init` first",
}

report_app = typer.Typer(help="报告 Reports: the monthly evaluation report (PDF, HTML, JSON).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']}: {message}", err=True)
    raise typer.Exit(code=2)


@report_app.command("monthly")
def monthly(
    month: str = typer.Option(..., "--month", help="YYYY-MM, local time (Asia/Shanghai)"),
    output: Path = typer.Option(..., "-o", "--output", help="FILE.pdf, FILE.html or FILE.json"),
    db: str | None = typer.Option(None, "--db", help="database URL (default: RUNZE_DATABASE_URL or SQLite file)"),
) -> None:
    """月度考核报告 Monthly evaluation report: KPIs, 获得用水, 党建+业务."""
    from runze.ops import database as db_ops
    from runze.ops import report_render, reports
    from runze.ops.errors import OpsError
    from runze.ops.months import parse_month
    from runze.settings import get_settings

    ext = output.suffix.lower()
    if ext not in (".pdf", ".html", ".json"):
        _fail(MESSAGES["bad_ext"])
    try:
        parse_month(month)
    except OpsError as exc:
        _fail(f"{exc.message_zh} / {exc.message}")
    settings = get_settings()
    try:
        database = db_ops.open_database(settings, db)
    except Exception as exc:  # bad URL, missing driver: a message, not a traceback
        _fail(f"cannot open the database {db or settings.database_url!r}: {exc}")
        raise
    try:
        current, head = db_ops.schema_state(database)
        if current != head:
            _fail(MESSAGES["not_ready"])
        with database.session() as session:
            report = reports.monthly_report(session, month)
        if ext == ".pdf":
            content: bytes = report_render.render_pdf(report)
        elif ext == ".html":
            content = report_render.render_html(report).encode("utf-8")
        else:
            content = json.dumps(reports.jsonable(report), ensure_ascii=False, indent=2).encode("utf-8")
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(content)
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    except OpsError as exc:
        _fail(f"{exc.message_zh} / {exc.message}" if exc.message_zh else exc.message)
    finally:
        database.dispose()
    for warning in report["warnings"]:
        if warning.get("severity") in ("error", "warning"):
            typer.echo(f"[{warning['severity']}] {warning['message']['zh']} / {warning['message']['en']}", err=True)
    h = report["headline"]
    typer.echo(f"{MESSAGES['written']}: {output} ({len(content):,} bytes); NRW {_fmt(h['nrw_percent'])} %, "
               f"ILI {_fmt(h['ili'], 2)}, pressure compliance {_fmt(h['pressure_compliance_percent'])} % "
               f"({h['pressure_source']}), connections completed {h['connections_completed']}")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
