"""The exact audit: interval propagation and a rank test over the rationals find hidden numbers
that combinations of the declared sums still pin, and hide one more cell beside each."""

from __future__ import annotations

from collections.abc import Iterable

from lmp_analytics.privacy.declarations import COMPLEMENTARY, INF, PRIMARY
from lmp_analytics.privacy.equations import Eq, State
from lmp_analytics.privacy.propagation import propagate, reduce_row, row_reduce

_TRIALS = 4
_TRIAL_EQS = 300


class Audit:
    """Exact checks over the sums that hold a hidden number, group by group of linked hidden
    numbers: interval propagation for n, and (when that finds nothing) a rank test over the
    rationals for every additive number; hides one more cell beside each leak.

    Variables are cell indices; an unpublished residual of sum ``e`` is variable ``base + e``.
    """

    def __init__(
        self, eqs: dict[int, Eq], pairs: list[tuple[int, int, int]], st: State,
        eqs_of_cell: dict[int, list[int]] | None = None,
    ):
        self.eqs, self.pairs, self.st = eqs, pairs, st
        self.base = len(st.hidden)
        self.safe: set[tuple] = set()
        self._nh: dict[int, int] = {}
        # for a number pinned by the rank test: the sums (and factors) that add up to it
        self.certificates: dict[int, dict[int, int]] = {}
        # the sums that hold each cell (in no particular order: every use sorts or sums)
        if eqs_of_cell is None:
            eqs_of_cell = {}
            for e, eq in eqs.items():
                for c, _ in eq.members:
                    eqs_of_cell.setdefault(c, []).append(e)
        self.eqs_of_cell = eqs_of_cell

    def run(self, open_ids: list[int]) -> list[int]:
        """Hide one more cell beside each leaking number; returns the cells hidden (the caller
        repeats the quick rule and this audit until nothing changes)."""
        hidden_now: list[int] = []
        self._nh: dict[int, int] = {}  # hidden members per sum, as at the start of this pass
        for comp in self._components(open_ids):
            # a group found safe before, with the same sums and the same hidden cells, still is
            key = (tuple(comp), tuple(v for e in comp for v, _ in self._terms(e, False)))
            if key in self.safe:
                continue
            leaks = self._real(self.leaks(comp), comp)
            if not leaks:
                self.safe.add(key)
            picks = []
            for v in sorted(leaks, key=self._order):
                cell = self._fix(v, comp)
                if cell is None:
                    self.st.unresolved.add(v)
                else:
                    picks.append(cell)
            for cell in picks:
                self._hide(cell)
            hidden_now += picks
        return hidden_now

    def _hide(self, cell: int) -> None:
        self.st.hidden[cell], self.st.reason[cell] = True, COMPLEMENTARY

    def _real(self, leaks: set[int], eq_ids: Iterable[int]) -> set[int]:
        """Leaks that more hiding can cure (those pinned by the labels alone are recorded)."""
        if leaks:
            inherent = self.leaks(eq_ids, label_only=True)
            self.st.inherent |= leaks & inherent
            leaks = leaks - inherent
        return leaks

    def _around(self, cells: Iterable[int]) -> list[int]:
        """The sums that hold any of ``cells``."""
        return sorted({e for c in cells for e in self.eqs_of_cell.get(c, [])})

    def _eqs_of_var(self, v: int) -> list[int]:
        return self.eqs_of_cell.get(v, []) if v < self.base else [v - self.base]

    def _order(self, v: int) -> tuple[int, int]:
        return (self.st.order[v] if v < self.base else -1, v)

    def _terms(self, e: int, label_only: bool) -> list[tuple[int, int]]:
        eq = self.eqs[e]
        terms = [(c, 1 if tot else -1) for c, tot in eq.members if label_only or self.st.hidden[c]]
        if eq.residual:
            terms.append((self.base + e, -1))
        return terms

    def _components(self, open_ids: list[int]) -> list[list[int]]:
        parent: dict[int, int] = {}

        def find(v: int) -> int:
            while parent.setdefault(v, v) != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        first = {}
        for e in open_ids:
            terms = self._terms(e, False)
            first[e] = terms[0][0]
            for v, _ in terms[1:]:
                parent[find(v)] = find(first[e])
        comps: dict[int, list[int]] = {}
        for e in open_ids:
            comps.setdefault(find(first[e]), []).append(e)
        return sorted(comps.values(), key=lambda c: c[0])

    def _bounds(self, v: int) -> tuple[float, float]:
        """What anybody can know about an n without its number: a hidden cell's mark is the same
        whether it is small or protects another (n >= 1 where the row exists for pupils; 0 for
        an empty cell, or a cell hidden upstream, whose n nobody has)."""
        if v >= self.base:  # an unpublished residual; granted: whether it is below the threshold
            eq = self.eqs[v - self.base]
            if not eq.residual_known:
                return 0, INF
            return (1, eq.threshold - 1) if eq.sensitive else (eq.threshold, INF)
        st = self.st
        n = st.n[v]
        if not st.hidden[v]:
            return st.threshold[v], INF  # visible cells in the labels-only test: not small
        return (1 if n else 0), INF

    def leaks(
        self, eq_ids: Iterable[int], label_only: bool = False, rank: bool = True
    ) -> set[int]:
        """Hidden cells and small residuals that the sums ``eq_ids`` pin down: by interval
        propagation first, and only when that finds nothing (and ``rank``), by the dearer rank
        test. With ``label_only`` every number is treated as hidden: what is pinned then is
        pinned without any number published, and no further hiding can help."""
        st = self.st
        terms = {e: self._terms(e, label_only) for e in eq_ids}
        eqs_of: dict[int, list[int]] = {}
        for e, tt in terms.items():
            for v, _ in tt:
                eqs_of.setdefault(v, []).append(e)
        bounds = {v: self._bounds(v) for v in eqs_of}
        # a visible cell or a large residual may be known; a point known from the label alone
        # ("< 2" means 1) is no leak; any other pinned number is
        exempt = {
            v for v, (lo, hi) in bounds.items()
            if (v >= self.base and not self.eqs[v - self.base].sensitive)
            or (v < self.base and not st.hidden[v])
            or (lo == hi and (v >= self.base or st.reason[v] == PRIMARY))
        }
        rows = []
        for e, tt in terms.items():
            rhs = 0 if label_only else -sum(
                (st.n[c] if tot else -st.n[c])
                for c, tot in self.eqs[e].members if not st.hidden[c]
            )
            rows.append((tt, rhs))
        lo = {v: b[0] for v, b in bounds.items()}
        hi = {v: b[1] for v, b in bounds.items()}
        propagate(rows, lo, hi)
        found = {v for v in lo if lo[v] == hi[v]} - exempt
        if found or label_only or not rank:
            return found
        order = list(terms)
        rows_ = [dict(terms[e]) for e in order]
        basis, combo = row_reduce(rows_, track=False)
        if any(len(row) == 1 for row in basis.values()):  # pinned: again, with certificates
            basis, combo = row_reduce(rows_, track=True)
        for p, row in basis.items():
            if len(row) == 1:
                found.add(p)
                self.certificates[p] = {order[k]: f for k, f in combo[p].items()}
        for _, before, after in self.pairs:
            if (
                before in eqs_of and after in eqs_of
                and st.hidden[before] and st.hidden[after]
                and not reduce_row({after: 1, before: -1}, {}, basis, combo)[0]
            ):
                found.add(after)
        return found - exempt

    def _score(self, c: int) -> int:
        """Sums that hiding ``c`` would open (no unknown yet) minus those it would close."""
        total = 0
        for e in self.eqs_of_cell.get(c, []):
            nh = self._nh.get(e)
            if nh is None:
                nh = self._nh[e] = sum(self.st.hidden[x] for x, _ in self.eqs[e].members)
            eq = self.eqs[e]
            u = nh + eq.residual
            total += (u == 0) - (u == 1 and (nh == 1 or eq.sensitive))
        return total

    def _candidates(self, v: int) -> list[int]:
        """Visible cells in the sums that hold ``v``: parts first (its siblings before its
        children), each by the same order as the quick rule; totals last."""
        st = self.st
        own = sorted(
            self._eqs_of_var(v),
            key=lambda e: (any(c == v and t for c, t in self.eqs[e].members), e),
        )
        score = {}
        picks: list[int] = []
        totals: list[int] = []
        for e in own:
            members = self.eqs[e].members
            parts = [c for c, tot in members if not tot and st.free(c)]
            for c in parts:
                if c not in score:
                    score[c] = self._score(c)
            picks += sorted(parts, key=lambda c: (score[c], st.n[c], st.order[c]))
            totals += [c for c, tot in members if tot and st.free(c)]
        return list(dict.fromkeys(picks + totals))

    def _fix(self, v: int, comp: list[int]) -> int | None:
        """A cell to hide so that ``v`` is free: for a rank-test pin, the smallest visible cell
        that breaks its certificate; otherwise the first candidate after which ``v`` is free by
        propagation on the sums around both (tried only in groups of moderate size), else the
        first candidate."""
        st = self.st
        cert = self.certificates.pop(v, None)
        if cert:
            # a visible cell whose column does not cancel in the pinning combination breaks it
            weight: dict[int, int] = {}
            for e, f in cert.items():
                for c, tot in self.eqs[e].members:
                    if not st.hidden[c]:
                        weight[c] = weight.get(c, 0) + (f if tot else -f)
            breaking = [c for c, w in weight.items() if w and not st.locked[c]]
            if breaking:
                return min(breaking, key=lambda c: (self._score(c), st.n[c], st.order[c]))
        picks = self._candidates(v)
        if not picks:  # nothing visible beside v: widen to any visible cell of its group
            picks = [c for e in sorted(comp) for c, _ in self.eqs[e].members if st.free(c)]
        for cell in picks[:_TRIALS] if len(comp) <= _TRIAL_EQS else ():
            local = self._around([cell, v] if v < self.base else [cell])
            self._hide(cell)
            free = v not in self.leaks(local, rank=False)
            st.hidden[cell], st.reason[cell] = False, None
            if free:
                return cell
        return picks[0] if picks else None
