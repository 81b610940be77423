"""The dashboard (调度中心大屏): `/` serves the single-page app, `/static/...` its files (no CDN, works offline).

The app is plain ES modules in runze/web/static (no build step), with ECharts vendored under static/vendor.
These routes are outside /api and outside the OpenAPI spec: they serve files only, and every figure the page
shows comes from the /api routes with the user's token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI) -> None:
    """Mount the static files and the index page on `app`."""
    if not (STATIC_DIR / "index.html").is_file():  # a build without the front end still serves the API
        return
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        # no-cache: a new release's index must not be served stale from the browser's cache
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg")
