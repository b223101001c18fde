"""The `renda` command (see main.py); its sub-commands live beside it."""

from renda.web.cli.main import app

__all__ = ["app"]
