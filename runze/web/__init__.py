"""The HTTP API (FastAPI): `create_app(settings)` builds the application; routes are thin calls into runze.ops."""

from runze.web.app import create_app

__all__ = ["create_app"]
