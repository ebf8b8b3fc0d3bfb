"""Every realism parameter of the synthetic world, in one documented dataclass.

The data-generating process (DGP) follows the planted-effect recipe used for the estimator checks
(schools, classes and pupils with persistent random effects, a national secular trend, AR(1)
transient school shocks and selection of participants on a noisy screening score) and adds what
real files carry: municipalities, school types, phases, rounds, item non-response, modules, forms,
file formats.

Latent model for the bullying items of pupil *i* in class *c* of school *s* in term *t*::

    eta = beta0 + trend(t) + grade_slope * (trinn - 7) + u_s + w_st + v_c + b_i + delta(s, t)
    P(mobbet >= k) = expit(eta + hyppighet_cuts[k - 2]),   k = 2..5 (cut for k = 3 is 0)

so ``P(mobbet >= 3) = expit(eta)`` and ``delta`` is a conditional log odds ratio.
``mobbet_digitalt`` and ``mobbet_voksen`` use ``eta + offset``; ``mobber_andre`` uses its own
pupil effect, correlated with ``b_i``. ``beta0`` and ``trend`` are not parameters: they are
calibrated so that the population share bullied on the Elevundersøkelsen composite (peers,
digital or adults >= 3, mean of 7th and 10th grade) equals ``national_series`` (the 7th/10th
grade series, not the all-grades one) in every autumn.

Relation/climate items (``enighet``) use a second latent ``zeta`` per pupil (school, class and
pupil effects, loading negatively on the stable bullying effects) and
``P(Y >= k) = expit(zeta + location + enighet_cuts[k - 2] + rel_delta)``; ``brak_timer`` (higher is
worse) uses ``-zeta`` and ``-rel_delta``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

SCALES = ("demo", "kommune", "national")

FORMAT_CSV_SEMICOLON_CP1252 = "csv;cp1252"
FORMAT_CSV_COMMA_UTF8_BOM = "csv,utf-8-sig"
FORMAT_XLSX = "xlsx"


@dataclass(frozen=True)
class Params:
    """Realism parameters of a synthetic LMP world (defaults: the ``demo`` scale).

    Use :meth:`for_scale` for the ``kommune`` and ``national`` presets and
    ``dataclasses.replace`` for single overrides. All values are recorded in ``truth.json``.
    """

    # --- scale and calendar ---------------------------------------------------------------
    scale: str = "demo"
    n_kommuner: int = 3
    """Municipalities; schools are spread over them (participants and comparisons in each)."""
    puljer: tuple[tuple[str, int], ...] = (("2023H", 6), ("2024V", 6), ("2024H", 6))
    """(oppstart = term of phase 1, number of schools) per pulje, numbered 1, 2, 3..."""
    n_comparison: int = 18
    """Comparison schools (rolle ``sammenligning``): never join LMP; in Elevundersøkelsen like
    every school, in Spekter only when ``comparison_spekter`` asks for it."""
    comparison_spekter: bool = False
    """Comparison schools run Spekter too (rounds from ``first_term``). Off by default, as in
    reality: Spekter is introduced by the programme (phase 1), so a supervisor has no Spekter files
    of schools outside it and the programme's effect is estimated on Elevundersøkelsen (``lmp
    evaluate national``). ``True`` gives a world for the Spekter comparison-school estimators."""
    first_term: str = "2021H"
    last_term: str = "2026H"
    version_switch_term: str = "2022H"
    """``spekter-2018`` before this term, ``spekter-2022-forebyggende`` from it."""
    latest_date: str = "2026-10-31"
    """No Spekter date after this day (the world is observed on 2026-11-26)."""

    # --- schools and pupils ---------------------------------------------------------------
    school_type_shares: tuple[float, float, float] = (0.55, 0.20, 0.25)
    """Shares of barneskole (trinn 1-7), ungdomsskole (8-10) and 1-10 skole."""
    school_size: tuple[int, int, int] = (100, 290, 300)
    """Triangular (low, mode, high) enrolment over all trinn; mean 230 (≈ 620,000 / 2,700). A trinn
    never exceeds high / number of trinn; small schools grow to the minimum class size."""
    class_size: tuple[int, int] = (15, 28)
    """Class (gruppe) size bounds; a trinn is split into ceil(n / max) classes."""
    cohort_size_cv: float = 0.12
    """Between-trinn variation of cohort size within a school (lognormal sd)."""
    first_spekter_trinn: int = 3
    p_move: float = 0.03
    """Per term, a pupil leaves the school and is replaced in the class by a new pupil (new id)."""
    p_respond: float = 0.90
    """A pupil present on the day of the round (else absent: no row)."""
    p_item_missing: float = 0.07
    """Each item skipped independently (empty cell); forms too when asked."""
    gender_shares: tuple[float, float, float, float] = (0.49, 0.49, 0.01, 0.01)
    """jente, gutt, annet, empty."""

    # --- rounds -----------------------------------------------------------------------------
    autumn_school_start: tuple[int, int] = (8, 17)
    """(month, day) of the first school day in August; each municipality shifts it 0-4 days."""
    autumn_round_weeks: tuple[int, int] = (4, 6)
    """The autumn round falls 4-6 weeks after school start (mid September - early October)."""
    spring_round_days: tuple[int, int] = (19, 31)
    """Spring round: a day in late January."""
    class_date_jitter_days: int = 3
    """Classes of one school answer within a few days of the school's round date."""
    p_skip_round: float = 0.06
    """A school skips a round (never the round in its phase-1 term)."""
    p_spekter_from_phase1: float = 1.0
    """Share of participants whose first Spekter round is in their phase-1 term, as in LMP, where
    Spekter is introduced in phase 1; the others run Spekter from ``first_term`` (rounds before
    the programme). Set it below 1 for worlds with earlier rounds."""
    school_modules: bool = False
    """Schools choose modules (digital bullying, bullying by adults) with the probabilities below.
    Off by default: Spekter's questions are fixed (UiS: "ikke mulig med egne tilpasninger"), so
    every school's 2022 export carries every item; files with chosen modules stay supported."""
    p_module_digital: float = 0.6
    p_module_voksen: float = 0.35
    """Module choice per school when ``school_modules`` (columns only in 2022 versions, absent
    when not chosen)."""
    p_nominations_2018: float = 0.12
    """A ``spekter-2018`` round dated before 1 August 2021 exported with the negative-nomination
    columns (from that day they are lawful only in concrete-suspicion rounds)."""
    friend_nomination_rate: float = 1.8
    """Mean number of classmates a pupil names as break-time friends (Poisson, at most 3)."""
    share_mistanke_schools: float = 0.05
    """Schools (at least one) that run one extra ``spekter-2022-mistanke`` round for one class."""
    nomination_rate: float = 0.35
    """Mean number of classmates a pupil names per nomination question (Poisson)."""
    n_phase_adaptations: int = 2
    """Participants (pulje 1-2) with a local adaptation: phases 3 and 4 delayed by one term."""

    # --- file formats -----------------------------------------------------------------------
    format_cycle: tuple[str, ...] = (
        FORMAT_CSV_SEMICOLON_CP1252,
        FORMAT_CSV_COMMA_UTF8_BOM,
        FORMAT_XLSX,
    )
    """Export format by school (school number modulo the cycle)."""
    p_numeric_answers_csv: float = 0.15
    """CSV schools whose export carries numeric answer codes (XLSX always does)."""
    p_elev_navn: float = 0.5
    p_fritekst: float = 0.3
    p_runde_column: float = 0.5
    p_formal_column: float = 0.7
    p_kjonn_column: float = 0.9
    p_fritekst_answer: float = 0.12
    """A pupil writes free text (when the column exists)."""

    # --- latent bullying model (logit scale) -------------------------------------------------
    sd_school: float = 0.54
    sd_class: float = 0.45
    sd_pupil: float = 1.40
    """Latent ICC of the stable school effect: 0.54² / (0.54² + 0.45² + 1.40² + π²/3) ≈ 0.05."""
    shock_sd: float = 0.35
    shock_rho: float = 0.6
    """Transient school shock w_st: stationary AR(1) per term (sd, autocorrelation)."""
    candidates_per_participant: int = 4
    """The candidate pool (the synthetic country) has at least this many schools per participant
    (and at least ``country_schools``); comparison schools are a random draw from the candidates
    not selected."""
    grade_slope: float = -0.06
    """Log-odds change per trinn (younger pupils report more bullying), centred at trinn 7."""
    hyppighet_cuts: tuple[float, float, float, float] = (2.2, 0.0, -0.9, -1.8)
    """Offsets on eta for P(Y >= 2..5); the one for >= 3 is 0, so P(mobbet >= 3) = expit(eta)."""
    offset_digital: float = -0.9
    offset_voksen: float = -2.3
    offset_mobber_andre: float = -0.9
    offset_brak_selv: float = -1.5
    """``brak_selv`` ("how often do you make noise in lessons", hyppighet) is drawn on
    ``-zeta + offset_brak_selv``: pupils in a poorer climate make more noise."""
    corr_mobber_andre: float = 0.4
    """Correlation of the perpetration pupil effect with the victimisation pupil effect."""

    # --- national series (Elevundersøkelsen "Mobbing på skolen", autumn, percent) -----------
    national_series: tuple[tuple[int, float], ...] = (
        (2021, 6.8),
        (2022, 8.65),
        (2023, 12.0),
        (2024, 11.5),
        (2025, 11.5),
        (2026, 11.5),
    )
    """The composite on 7th and 10th grade (``eus_trinn``), mean of the two grades' published
    shares: 2021 7.9 / 5.7, 2022 9.9 / 7.4, 2023 13 / 11, 2024 12 / 11 (Udir via the press; see
    ``national_series_by_trinn``); 2025- are assumptions of this synthetic world (2024's level).
    Not the all-grades series (5th grade to Vg3: 5.9, 7.3, 10.0), which is lower: the
    synthetic 7th/10th grade is calibrated to the 7th/10th series."""
    national_series_by_trinn: tuple[tuple[int, float, float], ...] = (
        (2021, 7.9, 5.7),
        (2022, 9.9, 7.4),
        (2023, 13.0, 11.0),
        (2024, 12.0, 11.0),
    )
    """(year, 7th grade, 10th grade) published composite shares (percent) behind
    ``national_series``; documentation, and checked against it by a test."""
    eus_trinn: tuple[int, ...] = (7, 10)
    eus_last_year: int = 2025
    """Last autumn with published results (2026 results appear in spring 2027)."""
    eus_p_respond: float = 0.90
    eus_min_n: int = 20
    """School/kommune cells with fewer answers are suppressed (``*``)."""
    eus_national_cohort: int = 63_000
    """Pupils per trinn nationally (for the national ``Antall besvart``)."""
    eus_layout: str = "statistikkbank"
    """Layout of ``elevundersokelsen.csv``: ``statistikkbank`` (Udir's statistics-bank export,
    report 150 columns) or ``lmp`` (the package's own simplified layout)."""

    # --- the whole country in Elevundersøkelsen and the programme's selection rule ----------
    country_schools: int = 300
    """Grunnskoler of the synthetic country (the candidate pool): every school of the world and
    non-participating schools outside it; their school-level results are written to
    ``elevundersokelsen_skoler.csv``."""
    country_first_year: int = 2016
    """First autumn of the country file (2016: the bullying composite's series starts)."""
    country_national_series: tuple[tuple[int, float], ...] = (
        (2016, 7.2),
        (2017, 7.6),
        (2018, 6.85),
        (2019, 6.8),
        (2020, 6.6),
    )
    """National composite on 7th/10th grade (percent) for autumns before ``national_series``:
    2017 (7.2 / 8.0) and 2018 (7.0 / 6.7) are the published grade means; 2016, 2019 and 2020 are
    the all-grades figures (6.3, 6.0, 5.8) times 1.14, the 7th/10th-to-all-grades ratio of
    2017-2018 (assumptions: no published 7th/10th figure was found for those years)."""
    country_min_n: int = 10
    """Udir's suppression in the country file: a cell with fewer answers is published as ``*``."""
    selection_years: tuple[int, int] = (2020, 2022)
    """First and last autumn whose published school shares the selection rule averages."""
    selection_thresholds: tuple[tuple[int, float], ...] = ((7, 0.15), (10, 0.10))
    """(trinn, share): a school is eligible when its mean published share over the selection
    years exceeds the threshold on any trinn (the published rule of pulje 1: 15 % on 7th grade,
    10 % on 10th grade). Each pulje is a random draw among eligible schools not yet chosen;
    only when too few are eligible, the highest mean relative to its threshold fills it."""

    # --- planted programme effects -------------------------------------------------------
    bully_or_by_phase: tuple[float, float, float, float] = (0.85, 0.70, 0.70, 0.70)
    """Cumulative conditional OR on all bullying items after phases 1, 2, 3, 4 (and later)."""
    relation_or_by_phase: tuple[float, float, float, float] = (1.0, 1.15, 1.15, 1.15)
    """Cumulative OR (cumulative logit, towards better) for ``relation_items``."""
    relation_items: tuple[str, ...] = (
        "laerer_bryr",
        "laerer_respekt",
        "laerer_hjelp",
        "elever_greie",
        "venner",
        "regler",
        "brak_timer",
    )

    # --- climate latent for the enighet items ---------------------------------------------
    climate_sd_school: float = 0.3
    climate_sd_class: float = 0.3
    climate_sd_pupil: float = 1.0
    climate_bully_loading: float = 0.3
    """zeta = g_s + h_c + c_i - loading × (u_s + v_c + b_i)."""
    enighet_cuts: tuple[float, float, float, float] = (3.2, 2.2, 0.9, -0.6)
    enighet_location: tuple[tuple[str, float], ...] = (
        ("trivsel", 0.3),
        ("trygg", 0.5),
        ("venner", 0.6),
        ("laerer_bryr", 0.2),
        ("laerer_respekt", 0.4),
        ("laerer_hjelp", 0.3),
        ("elever_greie", -0.7),
        ("regler", -0.2),
        ("brak_timer", -1.5),
        ("brak_andre", -1.2),
    )
    reversed_items: tuple[str, ...] = ("brak_timer", "brak_andre")
    """Items where a higher answer is worse: they load on -zeta."""

    # --- forms of bullying (asked when mobbet >= 2) ---------------------------------------
    form_intercept: tuple[tuple[str, float], ...] = (
        ("form_verbal", 0.8),
        ("form_utestenging", 0.2),
        ("form_fysisk", -0.7),
        ("form_digital", -1.2),
    )
    form_slope: float = 0.5
    """Log-odds of Ja per mobbet level above 2."""
    form_digital_boost: float = 1.5
    """Added for form_digital when mobbet_digitalt >= 3."""

    # --- planted data errors (with_errors) --------------------------------------------------
    n_bad_rows_per_kind: int = 2
    future_date: str = "2062-09-24"
    """A typo (2026 -> 2062) that puts a row in the future."""

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {self.scale!r}")
        if self.hyppighet_cuts[1] != 0.0:
            raise ValueError("hyppighet_cuts[1] (P(Y >= 3)) must be 0")
        if list(self.hyppighet_cuts) != sorted(self.hyppighet_cuts, reverse=True):
            raise ValueError("hyppighet_cuts must decrease")
        if abs(sum(self.school_type_shares) - 1) > 1e-9 or abs(sum(self.gender_shares) - 1) > 1e-9:
            raise ValueError("school_type_shares and gender_shares must each sum to 1")
        if not self.puljer:
            raise ValueError("at least one pulje is needed")
        if self.selection_years[0] > self.selection_years[1]:
            raise ValueError("selection_years must be (first, last)")
        if not set(dict(self.selection_thresholds)) <= set(self.eus_trinn):
            raise ValueError("selection_thresholds must name trinn of eus_trinn")

    @classmethod
    def for_scale(cls, scale: str) -> Params:
        """Preset for ``demo`` (3 kommuner, 36 schools), ``kommune`` (one kommune, 60 schools) or
        ``national`` (356 kommuner, 2,700 schools, ≈ 620,000 pupils)."""
        if scale == "demo":
            return cls()
        if scale == "kommune":
            return cls(
                scale="kommune",
                n_kommuner=1,
                puljer=(("2023H", 5), ("2024V", 5), ("2024H", 5)),
                n_comparison=45,
            )
        if scale == "national":
            return cls(
                scale="national",
                n_kommuner=356,
                puljer=(("2023H", 40), ("2024V", 40), ("2024H", 40)),
                n_comparison=2_580,
                share_mistanke_schools=0.01,
                country_schools=2_700,
            )
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")

    # --- derived views ------------------------------------------------------------------
    @property
    def n_participants(self) -> int:
        return sum(n for _, n in self.puljer)

    @property
    def n_schools(self) -> int:
        return self.n_participants + self.n_comparison

    @property
    def latent_school_icc(self) -> float:
        """Latent-scale ICC of the stable school effect."""
        var = self.sd_school**2 + self.sd_class**2 + self.sd_pupil**2 + math.pi**2 / 3
        return self.sd_school**2 / var

    def bully_log_or(self, level: int) -> float:
        """Planted log-OR for bullying items after ``level`` completed phases (0 = none)."""
        if level <= 0:
            return 0.0
        return math.log(self.bully_or_by_phase[min(level, len(self.bully_or_by_phase)) - 1])

    def relation_log_or(self, level: int) -> float:
        """Planted cumulative log-OR for relation items after ``level`` completed phases."""
        if level <= 0:
            return 0.0
        return math.log(self.relation_or_by_phase[min(level, len(self.relation_or_by_phase)) - 1])

    def to_dict(self) -> dict:
        """All parameters as JSON-ready values."""
        return dataclasses.asdict(self)
