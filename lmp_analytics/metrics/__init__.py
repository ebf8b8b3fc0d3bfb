"""Metrics: indicator counts per unit and round (marts), the phase calendar and round selection.

Counts are kept as numerators and denominators (and n, sum, sum of squares for scales); every
share, mean and interval is computed from them at read time, never by averaging percentages.
"""
