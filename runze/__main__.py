"""`python -m runze` runs the command line."""

from runze.cli.main import app

app()
