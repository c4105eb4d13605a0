"""Spiders: only one, driven by a source declaration."""
