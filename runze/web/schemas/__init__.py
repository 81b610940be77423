"""Pydantic schemas of the API: one module per resource, separate create / update / read models."""
