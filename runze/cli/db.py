"""`runze init` (create or upgrade the database, optionally with demo data) and `runze users create`.

    runze init [--demo] [--db URL]
    runze users create NAME --role ROLE [--display-name TEXT] [--db URL]   (password: prompt or RUNZE_PASSWORD)

The database is RUNZE_DATABASE_URL, else ./runze-data/runze.db (SQLite); PostgreSQL by URL,
e.g. postgresql+psycopg://postgres@127.0.0.1:5432/runze.  Errors end with a message and exit code 2.
"""

from __future__ import annotations

import os

import typer

MESSAGES = {
    "error": "错误 / error",
    "migrated": "数据库已就绪 / database ready",
    "demo": "演示数据已装入 / demo data loaded",
    "stand_in": "演示城市管网尚未提供，暂用 WNTR Net3 代替 / demo city not available: WNTR Net3 stands in",
    "next_user": "下一步：创建管理员 / next: create an administrator: runze users create admin --role admin",
    "demo_login": "演示账号 / demo logins",
    "user_created": "用户已创建 / user created",
    "password": "密码 / password",
}

users_app = typer.Typer(help="用户管理 Users: create accounts (roles: admin, dispatcher, ...).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(users_app, name="users")


def _fail(message: str) -> None:
    typer.echo(f"{MESSAGES['error']}: {message}", err=True)
    raise typer.Exit(code=2)


def _open(db_url: str | None):  # noqa: ANN202  (heavy imports stay inside commands)
    from runze.ops.database import open_database
    from runze.settings import get_settings

    settings = get_settings()
    try:
        return settings, open_database(settings, db_url)
    except Exception as exc:  # bad URL, missing driver: a message, not a traceback
        _fail(f"cannot open the database {db_url or settings.database_url!r}: {exc}")
        raise


def init(
    demo: bool = typer.Option(False, "--demo", help="load the demo city and a year of demo records"),
    db: str | None = typer.Option(None, "--db", help="database URL (default: RUNZE_DATABASE_URL or SQLite file)"),
    seed: int = typer.Option(7, "--seed", help="random seed of the demo records"),
) -> None:
    """创建/升级数据库 Create or upgrade the database (idempotent); --demo loads demo data into an empty one."""
    from runze.ops import database as db_ops
    from runze.ops.errors import OpsError

    settings, database = _open(db)
    try:
        revision = db_ops.migrate(database)
        typer.echo(f"{MESSAGES['migrated']}: {database.engine.url.render_as_string(hide_password=True)} "
                   f"(schema {revision})")
        if demo:
            from runze.ops.demo import DEMO_PASSWORD, DEMO_USERS, load_demo

            with database.session() as session:
                report = load_demo(session, settings, seed=seed)
            if report.stand_in:
                typer.echo(MESSAGES["stand_in"])
            typer.echo(f"{MESSAGES['demo']}: network {report.network_name} (version id {report.network_version_id}), "
                       f"{report.users} users, {report.crews} crews, {report.work_orders} work orders, "
                       f"{report.incidents} incidents")
            typer.echo(f"{MESSAGES['demo_login']}: " + ", ".join(f"{u} ({r})" for u, r, _ in DEMO_USERS)
                       + f"; {MESSAGES['password']}: {DEMO_PASSWORD}")
        else:
            with database.session() as session:
                if not db_ops.has_users(session):
                    typer.echo(MESSAGES["next_user"])
    except OpsError as exc:
        _fail(f"{exc.message_zh} / {exc.message}" if exc.message_zh else exc.message)
    except Exception as exc:  # unreachable server, permissions: say so plainly
        _fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    finally:
        database.dispose()


@users_app.command("create")
def create_user(
    name: str = typer.Argument(..., help="user name (login)"),
    role: str = typer.Option(..., "--role", help="admin, dispatcher, network_engineer, crew, customer_service, "
                             "party_secretary or viewer"),
    display_name: str = typer.Option("", "--display-name", help="name shown in the UI"),
    db: str | None = typer.Option(None, "--db", help="database URL"),
) -> None:
    """创建用户 Create a user; the password comes from RUNZE_PASSWORD or a prompt."""
    from runze.ops import database as db_ops
    from runze.ops import users as user_ops
    from runze.ops.auth import ROLES, SYSTEM
    from runze.ops.errors import OpsError

    if role not in ROLES:
        _fail(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    password = os.environ.get("RUNZE_PASSWORD") or typer.prompt(
        MESSAGES["password"], hide_input=True, confirmation_prompt=True)
    settings, database = _open(db)
    try:
        current, head = db_ops.schema_state(database)
        if current != head:
            _fail("the database is not initialised or is out of date: run `runze init` first")
        with database.session() as session:
            user = user_ops.create_user(session, SYSTEM, username=name, password=password, role=role,
                                        display_name=display_name, settings=settings)
        typer.echo(f"{MESSAGES['user_created']}: {user.username} ({user.role}), id {user.id}")
    except OpsError as exc:
        _fail(f"{exc.message_zh} / {exc.message}" if exc.message_zh else exc.message)
    finally:
        database.dispose()
