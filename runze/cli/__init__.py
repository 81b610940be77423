"""The `runze` command line: one module per command group, discovered by `runze.cli.main`."""
