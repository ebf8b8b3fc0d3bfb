"""The pupils of one synthetic school, followed term by term, and their latent predictors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lmp_analytics.synth import names
from lmp_analytics.synth.ids import SERIALS_PER_SCHOOL
from lmp_analytics.synth.model import School, World
from lmp_analytics.synth.responses import logistic_normal_mean


@dataclass
class TermLatent:
    """Latent predictors of every enrolled pupil of one school in one term."""

    trinn: np.ndarray
    eta: np.ndarray
    """Victimisation logit including the programme effect: P(mobbet >= 3) = expit(eta)."""
    eta_perp: np.ndarray
    zeta: np.ndarray
    p_school: np.ndarray
    """P(mobbet >= 3) integrated over class and pupil effects (given school, term, trinn)."""
    p_school0: np.ndarray
    delta: float
    rel_delta: float
    level: int


class Population:
    """The enrolled pupils of one school, advanced term by term.

    Each autumn every class moves up one trinn, the top trinn leaves and a new entry trinn
    arrives; every term a share ``p_move`` of pupils is replaced by newcomers (new ids).
    """

    def __init__(self, world: World, school: School, rng: np.random.Generator) -> None:
        self.world, self.school, self.rng, self.params = world, school, rng, world.params
        self.serial = 0
        self.cls_trinn: list[int] = []
        self.cls_letter: list[str] = []
        self.cls_v: list[float] = []
        self.cls_h: list[float] = []
        self.pid = np.zeros(0, dtype=np.int64)
        self.cls = np.zeros(0, dtype=np.int32)
        self.b = np.zeros(0)
        self.e = np.zeros(0)
        self.c = np.zeros(0)
        self.kjonn = np.zeros(0, dtype=np.int8)
        self.first = np.zeros(0, dtype=np.int16)
        self.last = np.zeros(0, dtype=np.int16)
        n_trinn = school.trinn_hi - school.trinn_lo + 1
        self.cohort_mean = school.size / n_trinn
        self.cohort_max = self.params.school_size[2] // n_trinn
        for trinn in range(school.trinn_lo, school.trinn_hi + 1):
            self._new_cohort(trinn)

    # -- structure
    def _new_cohort(self, trinn: int) -> None:
        lo, hi = self.params.class_size
        n = round(self.cohort_mean * self.rng.lognormal(0.0, self.params.cohort_size_cv))
        n = max(lo, min(n, self.cohort_max))  # the school stays within school_size
        n_classes = math.ceil(n / hi)
        n = max(n, n_classes * lo)
        q, r = divmod(n, n_classes)
        for j in range(n_classes):
            index = len(self.cls_trinn)
            self.cls_trinn.append(trinn)
            self.cls_letter.append("ABCDEFGH"[j])
            self.cls_v.append(float(self.rng.normal(0.0, self.params.sd_class)))
            self.cls_h.append(float(self.rng.normal(0.0, self.params.climate_sd_class)))
            self._add_pupils(q + (1 if j < r else 0), np.full(q + 1, index, dtype=np.int32))

    def _new_ids(self, k: int) -> np.ndarray:
        if self.serial + k >= SERIALS_PER_SCHOOL:
            raise RuntimeError("too many pupils for one school's id range")
        raw = self.school.candidate * SERIALS_PER_SCHOOL + self.serial + np.arange(k)
        self.serial += k
        return raw

    def _draw_pupils(self, k: int) -> tuple[np.ndarray, ...]:
        p = self.params
        b = self.rng.normal(0.0, p.sd_pupil, k)
        r = p.corr_mobber_andre
        e = r * b + math.sqrt(1 - r**2) * self.rng.normal(0.0, p.sd_pupil, k)
        c = self.rng.normal(0.0, p.climate_sd_pupil, k)
        kjonn = self.rng.choice(4, size=k, p=p.gender_shares).astype(np.int8)
        girl = kjonn == 0
        first = np.where(
            girl,
            self.rng.integers(0, len(names.GIRL_NAMES), k),
            self.rng.integers(0, len(names.BOY_NAMES), k),
        ).astype(np.int16)
        last = self.rng.integers(0, len(names.SURNAME_FIRST) * len(names.SURNAME_LAST), k)
        return self._new_ids(k), b, e, c, kjonn, first, last.astype(np.int16)

    def _add_pupils(self, k: int, cls: np.ndarray) -> None:
        pid, b, e, c, kjonn, first, last = self._draw_pupils(k)
        self.pid = np.concatenate([self.pid, pid])
        self.cls = np.concatenate([self.cls, cls[:k]])
        self.b = np.concatenate([self.b, b])
        self.e = np.concatenate([self.e, e])
        self.c = np.concatenate([self.c, c])
        self.kjonn = np.concatenate([self.kjonn, kjonn])
        self.first = np.concatenate([self.first, first])
        self.last = np.concatenate([self.last, last])

    def _keep(self, mask: np.ndarray) -> None:
        for name in ("pid", "cls", "b", "e", "c", "kjonn", "first", "last"):
            setattr(self, name, getattr(self, name)[mask])

    def advance(self, first_term: bool, autumn: bool) -> None:
        """Move to the next term: promotion each autumn, movers every term."""
        if first_term:
            return
        if autumn:
            self.cls_trinn = [t + 1 for t in self.cls_trinn]
            trinn = np.asarray(self.cls_trinn)[self.cls]
            self._keep(trinn <= self.school.trinn_hi)
            self._new_cohort(self.school.trinn_lo)
        moving = self.rng.random(self.pid.shape[0]) < self.params.p_move
        k = int(moving.sum())
        if k:
            pid, b, e, c, kjonn, first, last = self._draw_pupils(k)
            self.pid[moving], self.b[moving], self.e[moving], self.c[moving] = pid, b, e, c
            self.kjonn[moving], self.first[moving], self.last[moving] = kjonn, first, last

    # -- views
    @property
    def trinn(self) -> np.ndarray:
        return np.asarray(self.cls_trinn, dtype=np.int16)[self.cls]

    def gruppe(self, rows: np.ndarray) -> list[str]:
        labels = [f"{t}{letter}" for t, letter in zip(self.cls_trinn, self.cls_letter, strict=True)]
        return [labels[i] for i in self.cls[rows]]

    def latent(self, term: str) -> TermLatent:
        """Latent predictors of every enrolled pupil in ``term``."""
        w, p, s = self.world, self.params, self.school
        pos = w.term_pos(term)
        level = s.exposure_level(term) if s.participant else 0
        delta = p.bully_log_or(level)
        rel_delta = p.relation_log_or(level)
        trinn = self.trinn
        v = np.asarray(self.cls_v)[self.cls]
        h = np.asarray(self.cls_h)[self.cls]
        school_part = w.beta0 + w.trend[term] + s.u + s.shock[pos]
        grade = p.grade_slope * (trinn - 7)
        eta0 = school_part + grade + v + self.b
        eta_perp = school_part + p.offset_mobber_andre + grade + v + self.e + delta
        zeta = s.climate + h + self.c - p.climate_bully_loading * (s.u + v + self.b)
        sd_within = math.sqrt(p.sd_class**2 + p.sd_pupil**2)
        levels = np.unique(trinn)
        by_trinn0 = logistic_normal_mean(school_part + p.grade_slope * (levels - 7), sd_within)
        by_trinn1 = logistic_normal_mean(
            school_part + p.grade_slope * (levels - 7) + delta, sd_within
        )
        where = np.searchsorted(levels, trinn)
        return TermLatent(
            trinn=trinn,
            eta=eta0 + delta,
            eta_perp=eta_perp,
            zeta=zeta,
            p_school=by_trinn1[where],
            p_school0=by_trinn0[where],
            delta=delta,
            rel_delta=rel_delta,
            level=level,
        )
