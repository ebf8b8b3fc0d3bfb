"""Privacy layer: the one suppression engine and the role scope, applied to every output.

Order for every output path: aggregate -> :func:`suppress` (all linkages shown together;
numbers derived from published cells through :mod:`lmp_analytics.privacy.derived`) ->
:func:`lmp_analytics.privacy.scope.scope` (the role, once, for the surface) -> show or export.

The engine by job: :mod:`~lmp_analytics.privacy.suppression` (the public call),
:mod:`~lmp_analytics.privacy.declarations` (columns, reasons, Linkage, Change),
:mod:`~lmp_analytics.privacy.equations` (sums, change pairs, the quick rules),
:mod:`~lmp_analytics.privacy.audit` (the exact audit), :mod:`~lmp_analytics.privacy.propagation`
(row reduction, interval propagation), :mod:`~lmp_analytics.privacy.notes` (the rendered
result and its notes).
"""

from lmp_analytics.privacy.roles import (
    ROLE_KINDS,
    Role,
    RoleConfig,
    RoleError,
    default_role,
    load_role_config,
    parse_role,
    role_for_user,
    roles_path,
)
from lmp_analytics.privacy.suppression import (
    COMPLEMENTARY,
    DERIVED,
    HIDDEN_MARK,
    HIERARCHY_DIMENSIONS,
    META_COLUMNS,
    N_DISPLAY,
    NOTE_EN,
    NOTE_NB,
    PRIMARY,
    PRIVACY,
    REASON,
    SOURCE,
    SUPPRESSED,
    Change,
    Linkage,
    SuppressionError,
    SuppressionWarning,
    margins,
    suppress,
    suppress_cube,
)

__all__ = [
    "COMPLEMENTARY",
    "DERIVED",
    "HIDDEN_MARK",
    "HIERARCHY_DIMENSIONS",
    "META_COLUMNS",
    "NOTE_EN",
    "NOTE_NB",
    "N_DISPLAY",
    "PRIMARY",
    "PRIVACY",
    "REASON",
    "ROLE_KINDS",
    "SOURCE",
    "SUPPRESSED",
    "Change",
    "Linkage",
    "Role",
    "RoleConfig",
    "RoleError",
    "SuppressionError",
    "SuppressionWarning",
    "default_role",
    "load_role_config",
    "margins",
    "parse_role",
    "role_for_user",
    "roles_path",
    "suppress",
    "suppress_cube",
]
