"""The cetk command line: `cli:main` is the console script; verb families live in one module each."""

from __future__ import annotations

from cli.app import app, main

__all__ = ["app", "main"]
