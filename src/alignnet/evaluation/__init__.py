"""Evaluation: metrics (eq. 18-20), protocols, the benchmark runner, tables, figures, accounting."""
