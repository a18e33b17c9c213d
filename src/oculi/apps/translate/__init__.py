"""Translate: text the wearer says or sees, through the configured language model."""
