"""Pure statistics for lmp_analytics: numbers and frames in, small frozen records out.

No I/O, no warehouse, no Streamlit. Every estimator is the one fixed by the methods note and is
tested against a named reference (statsmodels, scipy, published tables, R ``did`` golden values).

- ``proportions``: Wilson / Clopper–Pearson intervals (scalar, numpy, polars expressions).
- ``unlinked``: Newcombe hybrid interval, pooled score z, Boschloo (independent rounds).
- ``paired``: McNemar exact / mid-p, Newcombe paired interval (same pupils).
- ``change``: the headline all-pupil change (MOVER + overlap score z) and the same-pupils view.
- ``scales``: t interval, Wilcoxon / Mann–Whitney with effect sizes, Cronbach's α (Feldt).
- ``cluster``: pooled shares with school-cluster-robust variance; 2×2 DiD of ratio estimators.
- ``did``: Callaway & Sant'Anna staggered DiD (via ``differences``), pre-trend F test, TWFE.
- ``multiplicity``: Benjamini–Hochberg / Yekutieli with untested cells left out of m.
- ``verdict``: plain-language verdict labels and caveats (bokmål / English).
- ``simulation``: the planted-effect data-generating process for acceptance tests.
"""

from lmp_analytics.stats._common import StatsInputError
from lmp_analytics.stats.change import (
    OverlapCounts,
    RiskDifferenceChange,
    change_from_rounds,
    linked_change,
    overlap_counts,
    risk_difference_change,
)
from lmp_analytics.stats.cluster import (
    ClusterDiD,
    ClusterPrevalence,
    cluster_did,
    cluster_prevalence,
)
from lmp_analytics.stats.multiplicity import FdrAdjustment, benjamini_hochberg
from lmp_analytics.stats.paired import PairedTable, mcnemar_test, newcombe_paired_ci
from lmp_analytics.stats.proportions import (
    ProportionInterval,
    clopper_pearson_bounds,
    clopper_pearson_interval,
    wilson_bounds,
    wilson_exprs,
    wilson_interval,
)
from lmp_analytics.stats.scales import (
    cronbach_alpha,
    mean_t_interval,
    paired_scale_change,
    unpaired_scale_change,
)
from lmp_analytics.stats.unlinked import newcombe_hybrid_ci, score_z_test, unlinked_test
from lmp_analytics.stats.verdict import Verdict, verdict_from_interval

__all__ = [
    "ClusterDiD",
    "ClusterPrevalence",
    "FdrAdjustment",
    "OverlapCounts",
    "PairedTable",
    "ProportionInterval",
    "RiskDifferenceChange",
    "StatsInputError",
    "Verdict",
    "benjamini_hochberg",
    "change_from_rounds",
    "clopper_pearson_bounds",
    "clopper_pearson_interval",
    "cluster_did",
    "cluster_prevalence",
    "cronbach_alpha",
    "linked_change",
    "mcnemar_test",
    "mean_t_interval",
    "newcombe_hybrid_ci",
    "newcombe_paired_ci",
    "overlap_counts",
    "paired_scale_change",
    "risk_difference_change",
    "score_z_test",
    "unlinked_test",
    "unpaired_scale_change",
    "verdict_from_interval",
    "wilson_bounds",
    "wilson_exprs",
    "wilson_interval",
]
