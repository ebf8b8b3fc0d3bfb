"""Prevalence per (group, term) as a world is written: what the files show and what the planted
truth expects, accumulated round by round for ``truth.json``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from lmp_analytics.synth.exports import RoundTable
from lmp_analytics.synth.pupils import Population, TermLatent
from lmp_analytics.synth.responses import MISSING

PREVALENCE_NOTE = (
    "Per group (rolle) and term, over the rows of regular rounds (versjon != "
    "spekter-2022-mistanke) in clean files that answered `mobbet`, leaving out planted bad rows. "
    "n_mobbet_ge3/n_answered is the observed share. expected = mean over those rows of "
    "P(mobbet >= 3 | all random effects) = expit(eta); its sampling variance is "
    "var_sum / n_answered**2 (exact, Bernoulli). expected_given_schools integrates class and "
    "pupil effects out (conditional on the realised school effects and shocks); test it with a "
    "design effect for classes. *_no_programme: the same without the planted effect, so "
    "expected - expected_no_programme is the realised effect on the share (ATT on rows)."
)



@dataclass
class PrevalenceCell:
    """Prevalence accumulator for one (group, term)."""

    n_rows: int = 0
    n_answered: int = 0
    n_ge3: int = 0
    sum_p: float = 0.0
    var_sum: float = 0.0
    sum_p0: float = 0.0
    sum_p_school: float = 0.0
    sum_p_school0: float = 0.0
    n_classes: int = 0
    sum_class_sq: int = 0

    def as_dict(self, group: str, term: str) -> dict:
        n = max(self.n_answered, 1)
        return {
            "group": group,
            "term": term,
            "n_rows": self.n_rows,
            "n_answered": self.n_answered,
            "n_mobbet_ge3": self.n_ge3,
            "observed": self.n_ge3 / n,
            "expected": self.sum_p / n,
            "var_sum": self.var_sum,
            "expected_given_schools": self.sum_p_school / n,
            "expected_no_programme": self.sum_p0 / n,
            "expected_no_programme_given_schools": self.sum_p_school0 / n,
            "n_classes": self.n_classes,
            "class_size_weighted": self.sum_class_sq / n,
        }



def accumulate(
    cell: PrevalenceCell, table: RoundTable, lat: TermLatent, pop: Population, excluded: np.ndarray
) -> None:
    answered = (table.answers["mobbet"] != MISSING) & ~excluded
    rows = table.rows[answered]
    p = expit(lat.eta[rows])
    p0 = expit(lat.eta[rows] - lat.delta)
    cell.n_rows += int((~excluded).sum())
    cell.n_answered += int(rows.shape[0])
    cell.n_ge3 += int((table.answers["mobbet"][answered] >= 3).sum())
    cell.sum_p += float(p.sum())
    cell.var_sum += float((p * (1 - p)).sum())
    cell.sum_p0 += float(p0.sum())
    cell.sum_p_school += float(lat.p_school[rows].sum())
    cell.sum_p_school0 += float(lat.p_school0[rows].sum())
    _, sizes = np.unique(pop.cls[rows], return_counts=True)
    cell.n_classes += int(sizes.shape[0])
    cell.sum_class_sq += int((sizes.astype(np.int64) ** 2).sum())
