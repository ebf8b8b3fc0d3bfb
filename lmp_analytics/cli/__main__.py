"""``python -m lmp_analytics.cli``: the same as the ``lmp`` console script."""

from lmp_analytics.cli import main

main()
