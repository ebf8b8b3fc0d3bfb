"""Benchmarks (not tests): ``python -m benchmarks`` or ``make bench``. See README.md here."""
