"""Analyses built on the network model and the hydraulic engine (outage planning, ...)."""
