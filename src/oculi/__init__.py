"""Oculi: an open, offline-first agent OS for AI glasses."""

__version__ = "0.1.0"
