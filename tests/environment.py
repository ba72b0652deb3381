"""Loaded before Django's settings (pyproject.toml: `-p tests.environment`).

The suite runs with DEBUG off, as Django's test runner does, and with DEBUG
off Lineage refuses to start without a SECRET_KEY: the suite makes one up
for its run unless one is set.
"""
import os
import secrets

os.environ.setdefault("SECRET_KEY", "tests-" + secrets.token_urlsafe(50))
