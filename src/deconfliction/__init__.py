"""Deconfliction: air safety between parties who share an airspace but not a command."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
