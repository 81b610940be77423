"""`runze serve`: run the HTTP API (uvicorn), after bringing the database schema up to date.

    runze serve [--db URL] [--host H] [--port P] [--demo] [--workers N]

--demo loads the demo data first if the database is empty.  Prints the address and the docs URL.
"""

from __future__ import annotations

import os

import typer

MESSAGES = {
    "error": "错误 / error",
    "listening": "Runze 服务地址 / serving at",
    "docs": "接口文档 / API docs",
    "dev_secret": "警告：使用开发用密钥，生产环境请设置 RUNZE_SECRET_KEY / warning: development secret key in use; "
    "set RUNZE_SECRET_KEY in production",
}


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    db: str | None = typer.Option(None, "--db", help="database URL (default: RUNZE_DATABASE_URL or SQLite file)"),
    host: str | None = typer.Option(None, "--host", help="address to listen on (default 127.0.0.1)"),
    port: int | None = typer.Option(None, "--port", help="port (default 8000)"),
    demo: bool = typer.Option(False, "--demo", help="load demo data first if the database is empty"),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level"),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="worker processes (each opens its own pool)"),
) -> None:
    """启动服务 Serve the API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from runze.ops import database as db_ops
    from runze.ops.errors import OpsError
    from runze.settings import get_settings
    from runze.web import create_app

    settings = get_settings()
    updates = {k: v for k, v in {"database_url": db, "host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
    try:
        database = db_ops.open_database(settings)
        db_ops.migrate(database)
        if demo:
            with database.session() as session:
                empty = not db_ops.has_users(session)
            if empty:
                from runze.ops.demo import DEMO_PASSWORD, load_demo

                with database.session() as session:
                    report = load_demo(session, settings)
                typer.echo(f"demo: {report.work_orders} work orders, {report.incidents} incidents; "
                           f"password {DEMO_PASSWORD}")
    except OpsError as exc:
        typer.echo(f"{MESSAGES['error']}: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    except Exception as exc:
        typer.echo(f"{MESSAGES['error']}: cannot open the database: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(code=2) from None
    from runze.settings import DEV_SECRET_KEY

    if settings.secret_key == DEV_SECRET_KEY:
        typer.echo(MESSAGES["dev_secret"], err=True)
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(f"{MESSAGES['listening']}: {url}  ({MESSAGES['docs']}: {url}/docs)")
    if workers > 1:
        # worker processes import the app factory and read the settings from the environment
        database.dispose()
        os.environ["RUNZE_DATABASE_URL"] = database.url
        uvicorn.run("runze.web.app:create_app", factory=True, host=settings.host, port=settings.port,
                    log_level=log_level, workers=workers)
        return
    app = create_app(settings, database=database)
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)
    finally:
        database.dispose()
