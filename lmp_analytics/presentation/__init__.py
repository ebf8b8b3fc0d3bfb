"""How numbers and names look to a reader, for every surface (reports, dashboards, CLI).

- :mod:`.strings`: user-facing texts as data, one TOML file per language under ``strings/``
  (``nb.toml``, ``nn.toml``, ``en.toml``, all with the same keys);
- :mod:`.fmt`: numbers, percentages, percentage points, intervals, p-values, hidden marks;
- :mod:`.labels`: names of statistical tests and verdicts.

Nothing here imports Streamlit, the warehouse or polars.
"""
