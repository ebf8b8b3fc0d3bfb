"""Evaluation: before/after each phase per school, municipality and programme comparisons.

Builds on the marts (``lmp_analytics.metrics``) and the estimators (``lmp_analytics.stats``).
Returns polars frames with documented columns; privacy (role scope and suppression) is applied by
``lmp_analytics.api`` before anything is shown.
"""
