"""Entry point of the `runze` command.

Every module in `runze.cli` that defines `register(app: typer.Typer)` adds its commands; modules are found
at start-up so that a new capability adds a file here and touches nothing else.  Heavy imports (numpy,
the solver, the database) belong inside the command functions, so `runze --help` stays quick.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import runze.cli

app = typer.Typer(
    name="runze",
    help="Runze (润泽) — operations platform and digital twin for a water-supply utility.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Runze (润泽) — operations platform and digital twin for a water-supply utility."""


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(runze.cli.__path__), key=lambda m: m.name):
        if info.name in {"main"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"runze.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()

if __name__ == "__main__":
    app()
