"""Alembic migrations of Runze's database, packaged so that `runze init` works from an installed package."""
