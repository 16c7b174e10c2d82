"""Shared fixtures: real PostgreSQL and Redis servers started by the harness in tests/services.py."""

pytest_plugins = ["tests.services"]
