"""An attacker that sees what a viewer sees and tries to work out hidden numbers.

Written apart from the engine (own equation builder, own elimination, own propagation), so the
property tests do not check the engine against itself. Knowledge granted to the attacker:

* every visible cell's n and count; the key of every hidden cell, whose mark (one for every
  hidden cell) tells only that it holds at least one pupil (a level row exists for pupils);
* every sum of the cube: each margin over any subset of (kommune, skole, trinn, kjonn), in each
  term; each change row = after − before; and "change of the total − changes of the parts" when
  both terms have the same parts ("term-2 total − term-1 total − visible per-unit changes");
* unpublished residuals (the ``ukjent`` gender, total minus published parts): unknowns, with
  whether they are below t granted (1 <= n <= t-1, which must then stay hidden, or n >= t);
  a zero residual is granted as exactly zero.

Attacks:
1. ``subtraction``: any sum with exactly one unknown is solved, repeated to a fixed point;
2. ``linear``: exact rational Gaussian elimination of the whole system, n and count at once; a
   variable is recovered when every null-space vector is zero in its place;
3. ``intervals``: integer interval propagation on n using the bounds above, to a fixed point;
4. ``remainders``: for every line (a total and its parts) whose total is visible, the total
   minus its visible parts is the number of pupils in its hidden parts and its residual
   together; a hidden part may in turn be opened by one of its own lines (its total minus its
   visible parts), to any depth. Every such group must hold 0 or at least t pupils.
Left out of the verdict: respondent counts pinned by the "< t" labels alone (propagation with no
number published pins them too, so no suppression could help; the engine warns), and changes
of two numbers the attacker already has. Not covered: LP/integer-programming bounds beyond
propagation, re-running the engine on candidate data sets, and 0 %/100 % group disclosure (a
visible share of 0 tells the same about every part, by design of a threshold rule).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import polars as pl

INF = math.inf


@dataclass
class System:
    """Sums Σ coef·var = 0 over variables; a variable is a row index or ('res', label)."""

    rows: list[list[tuple[object, int]]] = field(default_factory=list)
    known_n: dict[object, int] = field(default_factory=dict)
    known_c: dict[object, int] = field(default_factory=dict)
    true_n: dict[object, int] = field(default_factory=dict)
    true_c: dict[object, int] = field(default_factory=dict)
    bounds: dict[object, tuple[float, float]] = field(default_factory=dict)
    sensitive: set[object] = field(default_factory=set)
    label_point: set[object] = field(default_factory=set)
    change_levels: dict[int, tuple[int, int]] = field(default_factory=dict)
    # (total, parts, residual n) of every level line
    lines: list[tuple[int, list[int], int]] = field(default_factory=list)


def build_system(
    original: pl.DataFrame,
    published: pl.DataFrame,
    *,
    keys: tuple[str, ...],
    dims: tuple[str, ...],
    terms: tuple[str, str],
    change_label: str,
    t: int,
) -> System:
    """The attacker's equations and knowledge, from the published frame (truth only for checks
    and for the residuals the attacker is granted)."""
    orig = original.to_dicts()
    pub = published.to_dicts()
    index = {tuple(r[k] for k in keys): i for i, r in enumerate(orig)}
    sys_ = System()
    for i, (o, p) in enumerate(zip(orig, pub, strict=True)):
        sys_.true_n[i], sys_.true_c[i] = o["n"], o["count"]
        if not p["suppressed"]:
            sys_.known_n[i], sys_.known_c[i] = p["n"], p["count"]
            continue
        sys_.sensitive.add(i)
        assert p["n_display"] == "*", "every hidden cell wears the same mark"
        # a level row exists for pupils: n >= 1; a change may be anything
        sys_.bounds[i] = (-INF, INF) if o["term"] == change_label else (1, INF)

    level_eqs: dict[tuple, tuple[int, list[int]]] = {}
    for size in range(1, len(dims) + 1):
        for sub in itertools.combinations(dims, size):
            rest = [k for k in keys if k not in sub]
            groups: dict[tuple, dict] = {}
            for i, r in enumerate(orig):
                g = groups.setdefault(tuple(r[k] for k in rest), {"total": None, "parts": []})
                if all(r[d] is None for d in sub):
                    g["total"] = i
                elif all(r[d] is not None for d in sub):
                    g["parts"].append(i)
            for g in groups.values():
                if g["total"] is None or not g["parts"]:
                    continue
                total, parts = g["total"], g["parts"]
                if orig[total]["term"] == change_label:
                    continue
                res = ("res", sub, total)
                r_n = orig[total]["n"] - sum(orig[q]["n"] for q in parts)
                r_c = orig[total]["count"] - sum(orig[q]["count"] for q in parts)
                row = [(total, 1)] + [(q, -1) for q in parts]
                if r_n > 0:
                    row.append((res, -1))
                    sys_.true_n[res], sys_.true_c[res] = r_n, r_c
                    if r_n >= t:
                        sys_.bounds[res] = (t, INF)
                    else:
                        sys_.sensitive.add(res)
                        sys_.bounds[res] = (1, t - 1)
                sys_.rows.append(row)
                sys_.lines.append((total, parts, r_n))
                level_eqs[(sub, total)] = (r_n, parts)
    # change rows: definition, and total change − part changes when nothing else moves
    for i, r in enumerate(orig):
        if r["term"] != change_label:
            continue
        before = index[tuple(terms[0] if k == "term" else r[k] for k in keys)]
        after = index[tuple(terms[1] if k == "term" else r[k] for k in keys)]
        sys_.rows.append([(i, 1), (after, -1), (before, 1)])
        sys_.change_levels[i] = (before, after)
    for (sub, total), (r_n, parts) in list(level_eqs.items()):
        if orig[total]["term"] != terms[1] or r_n:
            continue
        key = {k: orig[total][k] for k in keys}
        earlier = index.get(tuple(terms[0] if k == "term" else key[k] for k in keys))
        if earlier is None or (sub, earlier) not in level_eqs or level_eqs[(sub, earlier)][0]:
            continue
        def unit(q: int) -> tuple:
            return tuple(orig[q][k] for k in keys if k != "term")
        if sorted(map(unit, parts)) != sorted(map(unit, level_eqs[(sub, earlier)][1])):
            continue
        change_of = {
            unit(q): q for q, rr in enumerate(orig) if rr["term"] == change_label
        }
        row = [(change_of[unit(total)], 1)] + [(change_of[unit(q)], -1) for q in parts]
        sys_.rows.append(row)
    sys_.label_point = {v for v, (lo, hi) in sys_.bounds.items()
                        if lo == hi and not isinstance(v, int)}
    return sys_


def subtraction(sys_: System) -> dict[object, tuple[int, int]]:
    """Solve every sum with one unknown, again and again; returns recovered (n, count)."""
    n, c = dict(sys_.known_n), dict(sys_.known_c)
    recovered: dict[object, tuple[int, int]] = {}
    progress = True
    while progress:
        progress = False
        for row in sys_.rows:
            unknown = [(v, k) for v, k in row if v not in n]
            if len(unknown) != 1:
                continue
            v, k = unknown[0]
            n[v] = -k * sum(kk * n[vv] for vv, kk in row if vv != v)
            c[v] = -k * sum(kk * c[vv] for vv, kk in row if vv != v)
            recovered[v] = (n[v], c[v])
            progress = True
    return recovered


def linear(sys_: System) -> dict[object, tuple[Fraction, Fraction]]:
    """Variables fixed by the linear system, with their values (n, count).

    Gauss-Jordan elimination column by column over sparse rows of exact fractions; a variable
    is fixed when its reduced row has no other (free) variable left.
    """
    rows: list[list] = []  # [coefficients {var: Fraction}, rhs_n, rhs_count]
    for row in sys_.rows:
        coef: dict[object, Fraction] = {}
        rn = rc = Fraction(0)
        for v, k in row:
            if v in sys_.known_n:
                rn -= k * sys_.known_n[v]
                rc -= k * sys_.known_c[v]
            else:
                coef[v] = coef.get(v, Fraction(0)) + k
        coef = {v: k for v, k in coef.items() if k}
        if coef:
            rows.append([coef, rn, rc])
    holding: dict[object, set[int]] = {}
    for i, (coef, _, _) in enumerate(rows):
        for v in coef:
            holding.setdefault(v, set()).add(i)
    pivot_of: dict[object, int] = {}
    for v in sorted(holding, key=repr):
        free_rows = [i for i in holding[v] if i not in pivot_of.values()]
        if not free_rows:
            continue
        p = min(free_rows, key=lambda i: (len(rows[i][0]), i))
        coef, rn, rc = rows[p]
        lead = coef[v]
        rows[p] = [{u: k / lead for u, k in coef.items()}, rn / lead, rc / lead]
        pivot_of[v] = p
        for i in list(holding[v]):
            if i == p:
                continue
            f = rows[i][0][v]
            for u, k in rows[p][0].items():
                x = rows[i][0].get(u, Fraction(0)) - f * k
                if x:
                    rows[i][0][u] = x
                    holding.setdefault(u, set()).add(i)
                else:
                    rows[i][0].pop(u, None)
                    holding[u].discard(i)
            rows[i][1] -= f * rows[p][1]
            rows[i][2] -= f * rows[p][2]
    return {
        v: (rows[p][1], rows[p][2]) for v, p in pivot_of.items() if len(rows[p][0]) == 1
    }


def intervals(
    sys_: System, *, labels_only: bool = False, t: int = 0
) -> dict[object, tuple[float, float]]:
    """Integer interval propagation of n over every sum; returns the final bounds. With
    ``labels_only`` no number is published (visible cells count as n >= t): whatever is pinned
    then is pinned by the "< t" labels alone, which no suppression can undo."""
    lo = {v: b[0] for v, b in sys_.bounds.items()}
    hi = {v: b[1] for v, b in sys_.bounds.items()}
    for row in sys_.rows:
        for v, _ in row:
            if labels_only and (v in sys_.known_n or sys_.bounds.get(v, (0, 0))[0] == t):
                lo[v], hi[v] = (t, INF) if sys_.true_n[v] >= t else (-INF, INF)
            elif v in sys_.known_n:
                lo[v] = hi[v] = sys_.known_n[v]
            else:
                lo.setdefault(v, -INF)
                hi.setdefault(v, INF)
    for _ in range(200):
        changed = False
        for row in sys_.rows:
            for v, k in row:
                others_lo = others_hi = 0.0
                for vv, kk in row:
                    if vv == v:
                        continue
                    a, b = (kk * lo[vv], kk * hi[vv]) if kk > 0 else (kk * hi[vv], kk * lo[vv])
                    others_lo += a
                    others_hi += b
                # k·v = −others
                a, b = -others_hi, -others_lo
                new_lo, new_hi = (a, b) if k > 0 else (-b, -a)
                if not math.isnan(new_lo) and new_lo > lo[v]:
                    lo[v], changed = math.ceil(new_lo), True
                if not math.isnan(new_hi) and new_hi < hi[v]:
                    hi[v], changed = math.floor(new_hi), True
        if not changed:
            break
    return {v: (lo[v], hi[v]) for v in lo}


def remainders(sys_: System, t: int) -> list[str]:
    """Lines whose visible total minus visible parts (opening hidden parts by their own lines,
    to any depth) leaves a group of 1 to t-1 pupils. Values of t or more are never tracked:
    a group that holds such a part is large enough."""
    lines_of: dict[int, list[tuple[list[int], int]]] = {}
    for total, parts, r_n in sys_.lines:
        lines_of.setdefault(total, []).append((parts, r_n))

    def plus(a: set[int], b: set[int]) -> set[int]:
        return {x + y for x in a for y in b if x + y < t}

    memo: dict[int, set[int]] = {}

    def small(v: int) -> set[int]:
        """The values below t that the pupils of hidden cell ``v`` can be found to number."""
        if v not in memo:
            memo[v] = set()  # the cube is nested: no line leads back to v
            values = {sys_.true_n[v]} if sys_.true_n[v] < t else set()
            for parts, r_n in lines_of.get(v, []):
                values |= opened(parts, r_n)
            memo[v] = values
        return memo[v]

    def opened(parts: list[int], r_n: int) -> set[int]:
        acc = {r_n} if r_n < t else set()
        for q in parts:
            if q not in sys_.known_n:
                acc = plus(acc, small(q))
        return acc

    found = []
    for total, parts, r_n in sys_.lines:
        if total not in sys_.known_n:
            continue
        bad = sorted(x for x in opened(parts, r_n) if 0 < x < t)
        if bad:
            found.append(f"total {total} minus visible parts leaves {bad} pupils")
    return found


def attack(sys_: System, t: int) -> list[str]:
    """Every way the attacker recovered a hidden number; empty when the publication is safe.
    Respondent counts pinned by the labels alone are left out (see :func:`intervals`)."""
    found = remainders(sys_, t)
    by_labels = intervals(sys_, labels_only=True, t=t)
    inherent = {v for v, (lo, hi) in by_labels.items() if lo == hi}
    for v, (n, c) in subtraction(sys_).items():
        if v in sys_.sensitive:
            found.append(f"subtraction recovers {v}: n={n}, count={c}")
    for v, (n, c) in linear(sys_).items():
        assert (n, c) == (sys_.true_n[v], sys_.true_c[v]), f"attacker algebra wrong at {v}"
        if v in sys_.sensitive:
            found.append(f"linear algebra recovers {v}: n={n}, count={c}")
    bounds = intervals(sys_)
    pinned = {v for v, (lo, hi) in bounds.items() if lo == hi}
    for v, (lo, hi) in bounds.items():
        if v not in sys_.true_n:
            continue
        assert lo <= sys_.true_n[v] <= hi, f"attacker bounds wrong at {v}: {lo}..{hi}"
        if v in sys_.change_levels and set(sys_.change_levels[v]) <= pinned:
            continue  # a change of two numbers already known (or reported) tells nothing new
        if v in sys_.sensitive and lo == hi and v not in sys_.label_point | inherent:
            found.append(f"intervals pin {v}: n={lo}")
    return found
