"""Evaluation: before/after each phase per school, municipality and programme comparisons.

Builds on the marts (``lmp_analytics.metrics``) and the estimators (``lmp_analytics.stats``).
Returns polars frames with documented columns; privacy (role scope and suppression) is applied by
``lmp_analytics.api`` before anything is shown.

The national school panel (:mod:`~lmp_analytics.evaluation.national_panel`, Elevundersøkelsen's
published school results) and its comparison designs
(:mod:`~lmp_analytics.evaluation.national_designs`: ``national_evaluation``,
``evaluate_national``) use public, Udir-suppressed cells and return programme-level estimates.
"""
