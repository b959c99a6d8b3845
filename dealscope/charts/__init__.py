"""Altair chart builders: they take small, aggregated frames and return charts (no st calls)."""
