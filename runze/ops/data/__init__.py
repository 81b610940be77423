"""Packaged data of runze.ops (holiday calendar); a package so that setuptools ships its JSON files."""
