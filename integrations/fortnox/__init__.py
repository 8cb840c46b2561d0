"""Fortnox: the only package that talks to Fortnox (OAuth and the REST API, over requests)."""
