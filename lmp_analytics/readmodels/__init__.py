"""Read models: one module per question a dashboard, report or notebook asks of the
published warehouse. Each reads through short-lived read-only connections
(:func:`lmp_analytics.warehouse.reading`), sends every new number through the one suppression
engine (:mod:`lmp_analytics.privacy.suppression`; derived numbers through
:mod:`lmp_analytics.privacy.derived`) and cuts the result to the role once, for the surface
that shows it (:func:`lmp_analytics.privacy.scope.scope`). Their SQL is in
``warehouse/sql/read_models.sql``. No Streamlit here.

- :mod:`~lmp_analytics.readmodels.catalogue`: indicators, schools, municipalities, terms,
  rounds (with ``is_primary``), the phase calendar;
- :mod:`~lmp_analytics.readmodels.quality`: response rates, quarantine, item non-response,
  instruments (data quality);
- :mod:`~lmp_analytics.readmodels.comparison`: participants vs comparison, DiD, event study,
  the national benchmark;
- :mod:`~lmp_analytics.readmodels.attention`: the attention list;
- :mod:`~lmp_analytics.readmodels.landing`: *did it work here?* per phase for the role's
  schools, and the alert list;
- :mod:`~lmp_analytics.readmodels.role_picker`: the dashboard's demo role picker.

Every function takes ``role`` (a role string or :class:`~lmp_analytics.privacy.roles.Role`),
``warehouse`` (a path, else ``LMP_WAREHOUSE``, else the default) and, where rows are scoped,
``surface`` (default ``dashboard``), and returns polars frames (or a small dataclass of frames)
whose rows the role may see. Hidden cells keep their keys, have every number empty and
``suppressed`` true.
"""
