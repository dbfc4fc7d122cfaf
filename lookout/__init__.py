"""Lookout composition root: CLI, config loading, wiring, audit log. Nothing imports this package."""

__version__ = "0.1.0"
