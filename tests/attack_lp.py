"""An attacker's integer program over published shareable output (issue 9, item 5).

The attacker holds only what a clinic publishes: the shareable ``results.json`` (and the tables
of the shareable HTML pages, which carry the same frames plus Table 1 and the load counts), the
policy it names, and the structure of the package (which it can read: it is open source). From
these it writes every linear relation between published figures:

- identities: a figure published in two places is one quantity (cohort counts = flow steps =
  response denominators = strata totals; the minoxidil "no" stratum = the mesotherapy-alone
  group; a practitioner's funnel row = their stratum row; AE denominators = treated);
- sums: flow (registered = treated + not treated; due = assessed + lost), strata levels sum to
  the total, AE timing rows sum to the term's events, quarters of the p-chart sum to the total;
- orders: k <= n, marked <= improved, density thresholds are nested, comparable <= all, AE
  patients <= events, screening patients <= sessions;
- ratios: a published rate, funnel centre or p-chart centre gives ``k - rate * n = 0`` (linear
  in the unknown counts); a published Wilson interval, logit ``yi``/``vi`` or meta weight is
  inverted by enumerating the (k, n) pairs that reproduce it;
- across reports: the same export at two cut-offs (cumulative counts do not fall), the same
  cut-off under two definitions (every quantity outside the changed strata is the same; the
  age bands split into atoms shared by both reports), and a pooled file against one
  participant's own exact file (pooled = sum of clinics).

Each distinct count (after merging identities) is an integer variable bounded by what its
published value allows under the named policy (``"<5"`` -> 1..4; a count rounded to base 5 ->
+-2). :func:`bounds` minimises and maximises each target with ``scipy.optimize.milp``; a target
whose minimum equals its maximum is *pinned* (recovered exactly).

The true values (from the exact, internal output) are used only to choose the targets (counts of
1-4, changes of 1-4) and to check that every relation written here holds for the truth (so the
program never pins something by a wrong relation): :meth:`Program.check_truth`.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import numpy as np

# scipy (sparse, optimize, stats: ~0.6-1 s of imports) is imported where the program is compiled
# and solved, not here: every pytest process that collects the suite imports this module

BIG = 10**6

#: row key columns and count columns of each results-file frame
FRAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "flow": (("step",), ("n",)),
    "response": (("family", "group", "outcome"), ("k", "n")),
    "density_sensitivity": (("threshold",), ("k", "n")),
    "density_change": (("measure",), ("n",)),
    "adverse_events": (("term",), ("k", "n", "events", "sessions", "compared_k", "compared_n",
                                   "excluded", "excluded_recent", "excluded_stopped")),
    "ae_timing": (("term", "session_number"), ("events",)),
    "ae_duration": (("term",), ("events",)),
    "protocol": (("measure",), ("k", "n")),
    "screening": (("deviation",), ("sessions", "patients")),
    "strata": (("family", "outcome", "stratum", "level"), ("k", "n")),
    "funnel": (("practitioner_id",), ("k", "n")),
    "quarterly": (("family", "quarter"), ("k", "n")),
    "table_one": (("characteristic", "level"), ("n",)),
    "photographic_sensitivity": (("threshold",), ("k", "n")),
    "ae_followup": (("term",), ("k", "n", "treated", "excluded", "excluded_recent",
                                "excluded_stopped", "events", "sessions", "km_at_risk",
                                "km_events")),
    "periods": (("period", "first_quarter", "last_quarter", "measure"), ("k", "n")),
    "load": (("table",), ("read", "accepted", "quarantined")),
}
COHORT_TO_FLOW = {"patients": "registered", "treated": "treated", "due_12m": "due_12m",
                  "assessed_photographic": "assessed_photographic",
                  "assessed_density": "assessed_density"}


# ---------------------------------------------------------------------------------------------
# reading published values
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    """How a published count maps back to the interval of true counts it allows."""

    min_cell: int = 5
    round_base: int = 1  # 1: counts >= min_cell published exactly
    small_lo: int = 1  # "<5" means small_lo..4: 1 when zeros are always shown as 0
    half: int | None = None  # a published v means v-half..v+half (default round_base // 2)

    @classmethod
    def of(cls, published: dict) -> Policy:
        """Read the policy the output names; failing that, infer it from the counts."""
        defs = published.get("definitions") or {}
        min_cell = int(defs.get("min_cell", 5) or 5)
        text = " ".join(str(published.get(k, "")) for k in
                        ("policy", "disclosure", "disclosure_policy", "disclosure_control"))
        m = re.search(r"base[ _-]?(\d+)|nearest (\d+)|round(?:ed|ing)?[^0-9]{0,20}(\d+)", text)
        # a named policy may hide a zero too (complementary suppression): "<5" is 0..4 then
        small_lo = 0 if text.strip() else 1
        # keyed random rounding (outcomes-sdc-1): "a published v means v-4 to v+4"
        h = re.search(r"v-(\d+) to v\+(\d+)", text)
        if m:
            return cls(min_cell, int(next(g for g in m.groups() if g)), small_lo,
                       int(h[1]) if h else None)
        counts = [v for v in iter_counts(published) if isinstance(v, int) and v >= min_cell]
        if counts and all(v % 5 == 0 for v in counts) and len(counts) >= 10:
            return cls(min_cell, 5, 0)
        return cls(min_cell, 1, small_lo)

    def interval(self, value) -> tuple[int, int] | None:
        """[lo, hi] of the true count behind a published value; None when it says nothing."""
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, (int, float)) and not (isinstance(value, float) and
                                                     not value.is_integer()):
            v = int(value)
            if v == 0:
                return (0, 0)
            if self.round_base > 1:
                half = self.half if self.half is not None else self.round_base // 2
                return (max(v - half, self.min_cell), v + half)
            return (v, v)
        s = str(value).strip().replace(",", "")
        m = re.fullmatch(r"[<≤]\s*(\d+)", s)
        if m:
            return (self.small_lo, int(m[1]) - (s[0] == "<"))
        m = re.fullmatch(r"(\d+)\s*(?:-|–|to)\s*(\d+)", s)
        if m:
            return (int(m[1]), int(m[2]))
        m = re.fullmatch(r"(\d+)(?:\s*\(.*\))?", s)
        if m:
            return self.interval(int(m[1]))
        return None


def iter_counts(published: dict):
    for frame, (_, cols) in FRAMES.items():
        for row in published.get(frame) or []:
            for c in cols:
                if c in row:
                    yield row[c]


def _num(v):
    if v is None or isinstance(v, (bool, str)):
        return None
    v = float(v)
    return None if math.isnan(v) else v


# ---------------------------------------------------------------------------------------------
# the program
# ---------------------------------------------------------------------------------------------
@dataclass
class Program:
    """Integer variables keyed by tuples, merged by identities; linear rows; observations."""

    parent: dict = field(default_factory=dict)
    lo: dict = field(default_factory=dict)
    hi: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)  # (coefs {key: float}, lo, hi, why)
    truth: dict = field(default_factory=dict)  # key -> true value (never used by the solver)
    observed: dict = field(default_factory=dict)  # key -> list of published values
    #: unions and bounds so far (with the numbers of keys and rows: the state compile() read)
    _changes: int = field(default=0, repr=False)
    _compiled: tuple | None = field(default=None, repr=False)

    # union-find over keys: identities make one variable
    def find(self, key):
        parent = self.parent
        root = parent.setdefault(key, key)
        if root is key or root == key:   # a root (most keys): nothing to walk
            return key
        while True:
            up = parent[root]
            if up is root or up == root:
                break
            root = up
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    def same(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self._changes += 1

    def has(self, key) -> bool:
        return key in self.parent

    def bound(self, key, lo, hi) -> None:
        self.find(key)
        self._changes += 1
        self.lo.setdefault(key, []).append(lo)
        self.hi.setdefault(key, []).append(hi)

    def observe(self, key, value, policy: Policy) -> None:
        self.find(key)
        self.observed.setdefault(key, []).append(value)
        iv = policy.interval(value)
        if iv is not None:
            self.bound(key, *iv)

    def add(self, coefs: dict, lo: float, hi: float, why: str) -> None:
        coefs = {k: v for k, v in coefs.items() if v}
        if not coefs:
            return
        for k in coefs:
            self.find(k)
        self.rows.append((coefs, lo, hi, why))

    def eq(self, coefs, rhs=0.0, why=""):
        self.add(coefs, rhs, rhs, why)

    def le(self, a, b, why=""):
        """a <= b for two keys."""
        if self.has(a) and self.has(b):
            self.add({a: 1.0, b: -1.0}, -np.inf, 0.0, why)

    def total(self, total, parts, why=""):
        if self.has(total) and parts:
            c = defaultdict(float)
            c[total] -= 1.0
            for p in parts:
                c[p] += 1.0
            self.eq(dict(c), 0.0, why)

    # -----------------------------------------------------------------------------------------
    def compile(self):
        """(roots, index, lo, hi, A, row lo, row hi): the program as arrays; computed again
        only when a key, a row, an identity or a bound was added since the last call."""
        state = (len(self.parent), len(self.rows), self._changes)
        if self._compiled is None or self._compiled[0] != state:
            self._compiled = (state, self._compile())
        return self._compiled[1]

    def _compile(self):
        keys = list(self.parent)
        roots = sorted({self.find(k) for k in keys}, key=repr)
        index = {r: i for i, r in enumerate(roots)}
        lo = np.zeros(len(roots))
        hi = np.full(len(roots), float(BIG))
        for k, vals in self.lo.items():
            i = index[self.find(k)]
            lo[i] = max(lo[i], max(vals))
        for k, vals in self.hi.items():
            i = index[self.find(k)]
            hi[i] = min(hi[i], min(vals))
        data, ri, ci, rlo, rhi = [], [], [], [], []
        for r, (coefs, a, b, _) in enumerate(self.rows):
            merged = defaultdict(float)
            for k, v in coefs.items():
                merged[index[self.find(k)]] += v
            for j, v in merged.items():
                ri.append(r)
                ci.append(j)
                data.append(v)
            rlo.append(a)
            rhi.append(b)
        from scipy import sparse

        A = sparse.csr_array((data, (ri, ci)), shape=(len(self.rows), len(roots)))
        return roots, index, lo, hi, A, np.array(rlo, float), np.array(rhi, float)

    def truth_vector(self, roots):
        t = {}
        for k, v in self.truth.items():
            if k in self.parent:
                r = self.find(k)
                if r in t and t[r] != v:
                    raise AssertionError(f"identity {k} ~ {r} is false for the truth "
                                         f"({v} != {t[r]})")
                t[r] = v
        return t

    def check_truth(self) -> None:
        """Every bound and relation holds for the true counts (a wrong relation is a bug here,
        not a leak)."""
        roots, index, lo, hi, _A, _rlo, _rhi = self.compile()
        t = self.truth_vector(roots)
        bad = []
        for r, v in t.items():
            i = index[r]
            if not lo[i] <= v <= hi[i]:
                bad.append(f"bound {r}: {v} not in [{lo[i]}, {hi[i]}] "
                           f"(published {self.observed.get(r)})")
        for coefs, a, b, why in self.rows:
            if all(self.find(k) in t for k in coefs):
                s = sum(v * t[self.find(k)] for k, v in coefs.items())
                tol = 1e-6 * (1 + sum(abs(v) for v in coefs.values()))
                if not a - tol <= s <= b + tol:
                    bad.append(f"relation {why}: {s} not in [{a}, {b}] ({coefs})")
        if bad:
            raise AssertionError("the attack's model is wrong for the truth:\n" +
                                 "\n".join(bad[:20]))


@dataclass
class Result:
    targets: list  # (label, true value)
    pinned: list  # labels pinned
    published_exact: list  # labels whose own published value is exact (no solving needed)

    def summary(self) -> str:
        return f"{len(self.pinned)} of {len(self.targets)} pinned"


def bounds(prog: Program, targets: dict, *, time_limit: float = 20.0) -> Result:
    """Which targets the program pins.

    Parameters
    ----------
    prog : Program
    targets : dict
        label -> (coefs {key: coef}, true value): a linear expression of counts (a count, a
        change between quarters, an age atom) whose true value is 1-4.

    Returns
    -------
    Result
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    roots, index, lo, hi, A, rlo, rhi = prog.compile()
    n = len(roots)
    integrality = np.ones(n)
    cons = [LinearConstraint(A, rlo, rhi)] if A.shape[0] else []
    bnds = Bounds(lo, hi)
    vecs = {}
    for label, (coefs, true) in targets.items():
        c = np.zeros(n)
        for k, v in coefs.items():
            c[index[prog.find(k)]] += v
        vecs[label] = (c, true)
    open_ = dict(vecs)
    opts = {"time_limit": time_limit, "presolve": True}

    def solve(c):
        res = milp(c, integrality=integrality, bounds=bnds, constraints=cons, options=opts)
        if res.x is None:
            raise AssertionError(f"attack program infeasible or failed: {res.message}")
        return res.x

    # a target on variables whose bounds are equal (lo = hi: published exactly) takes one
    # value at every feasible point: pinned, without solving for its minimum and maximum,
    # when the program is feasible (one solve below) and that value is its truth
    fixed_var = lo == hi
    fixed = {lab for lab, (c, _) in vecs.items() if fixed_var[np.flatnonzero(c)].all()}
    open_ = {lab: ct for lab, ct in open_.items() if lab not in fixed}
    # a few feasible points with mixed objectives rule out most targets at once
    rng = np.random.default_rng(0)
    x = None
    for sign in (1, -1, 0, 0):
        if not open_:
            break
        obj = np.zeros(n)
        for c, _ in open_.values():
            obj += (sign if sign else rng.choice([-1, 1])) * c
        x = solve(obj)
        open_ = {lab: ct for lab, ct in open_.items() if abs(ct[0] @ x - ct[1]) < 0.5}
    if fixed:
        x = solve(np.zeros(n)) if x is None else x
        fixed = {lab for lab in fixed if abs(vecs[lab][0] @ x - vecs[lab][1]) < 0.5}
    pinned, done = [], set()
    for label, (c, _true) in vecs.items():
        if label in fixed:
            pinned.append(label)
            continue
        if label not in open_ or label in done:
            continue
        hit = True
        for sgn in (1, -1):
            x = solve(sgn * c)
            # every feasible point also clears the other targets it moves off their truth
            for lab, (c2, t2) in open_.items():
                if abs(c2 @ x - t2) > 0.5:
                    done.add(lab)
            if label in done:
                hit = False
                break
        if hit:
            pinned.append(label)
    exact = [lab for lab, (coefs, _) in targets.items()
             if len(coefs) == 1 and any(isinstance(v, int) and not isinstance(v, bool)
                                        for v in prog.observed.get(next(iter(coefs)), []))]
    return Result(targets=[(lab, t) for lab, (_, t) in targets.items()], pinned=pinned,
                  published_exact=exact)


# ---------------------------------------------------------------------------------------------
# one report's relations
# ---------------------------------------------------------------------------------------------
def _rows(published, frame):
    keycols, _ = FRAMES[frame]
    for row in published.get(frame) or []:
        yield tuple(str(row.get(k)) for k in keycols), row


def key(prefix, frame, rk, col):
    return (prefix, frame, rk, col)


@cache
def _z(conf: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + conf / 2))


def wilson(k, n, conf=0.95):
    if n == 0:
        return (math.nan, math.nan)
    z = _z(conf)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, centre - half), min(1.0, centre + half))


def _close(a, b, tol=1e-6):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def candidates(row, klo, khi, nlo, nhi, conf=0.95, nmax=400):
    """(k, n) pairs within bounds that reproduce the row's published rate / interval / yi / vi."""
    rate, cl, ch = _num(row.get("rate")), _num(row.get("ci_low")), _num(row.get("ci_high"))
    yi, vi = _num(row.get("yi")), _num(row.get("vi"))
    if rate is None and cl is None and yi is None and vi is None:
        return None
    out = []
    for nn in range(max(nlo, 1), min(nhi, nmax) + 1):
        for kk in range(klo, min(khi, nn) + 1):
            if rate is not None and not _close(kk / nn, rate, 1e-9):
                continue
            if cl is not None and ch is not None:
                wl, wh = wilson(kk, nn, conf)
                if not (_close(wl, cl, 1e-7) and _close(wh, ch, 1e-7)):
                    continue
            if yi is not None or vi is not None:
                a, b = (kk + .5, nn - kk + .5) if kk in (0, nn) else (kk, nn - kk)
                if yi is not None and not _close(math.log(a / b), yi, 1e-7):
                    continue
                if vi is not None and not _close(1 / a + 1 / b, vi, 1e-7):
                    continue
            out.append((kk, nn))
    return out


def add_report(prog: Program, prefix, pub: dict, policy: Policy, *, exact=False,
               observe=True) -> None:
    """Variables, published bounds and every within-report relation of one results dict.

    ``exact``: the dict is an exact file the attacker owns (counts are known as they are).
    ``observe=False``: the structure only (a clinic whose file the attacker does not see).
    """
    pol = Policy(policy.min_cell, 1, 1) if exact else policy
    defs = pub.get("definitions") or {}
    conf = float(defs.get("confidence", 0.95) or 0.95)
    def K(f, rk, c):
        return key(prefix, f, rk, c)
    present = defaultdict(list)
    for frame, (_, cols) in FRAMES.items():
        for rk, row in _rows(pub, frame):
            present[frame].append(rk)
            for c in cols:
                if c in row:
                    k = K(frame, rk, c)
                    prog.find(k)
                    if observe:
                        prog.observe(k, row[c], pol)
    cohort = pub.get("cohort") or {}
    for ck, step in COHORT_TO_FLOW.items():
        if ck in cohort:
            k = K("cohort", (ck,), "n")
            if observe:
                prog.observe(k, cohort[ck], pol)
            prog.same(K("flow", (step,), "n"), k)
    def F(step):
        return K("flow", (step,), "n")
    # flow
    prog.total(F("registered"), [F("treated"), F("not_treated")], "registered = treated + not")
    prog.total(F("due_12m"), [F("assessed_photographic"), F("lost_photographic")], "due ph")
    prog.total(F("due_12m"), [F("assessed_density"), F("lost_density")], "due density")
    for a, b in (("due_12m", "treated"), ("comparable_treated", "treated"),
                 ("minoxidil_not_recorded", "treated"), ("comparable_due_12m", "due_12m"),
                 ("comparable_due_12m", "comparable_treated"),
                 ("comparable_assessed_photographic", "comparable_due_12m"),
                 ("comparable_assessed_photographic", "assessed_photographic")):
        prog.le(F(a), F(b), f"{a} <= {b}")
    if prog.has(F("comparable_treated")) and prog.has(F("minoxidil_not_recorded")):
        prog.add({F("comparable_treated"): 1, F("minoxidil_not_recorded"): 1,
                  F("treated"): -1}, -np.inf, 0, "comparable + not recorded <= treated")
    # response
    def R(fam, grp, out, c):
        return K("response", (fam, grp, out), c)
    for fam in ("photographic", "density"):
        for grp in ("all", "comparable"):
            if not prog.has(R(fam, grp, "improved", "n")):
                continue
            prog.same(R(fam, grp, "dramatic", "n"), R(fam, grp, "improved", "n"))
            prog.same(R(fam, grp, "worst_case_improved", "k"), R(fam, grp, "improved", "k"))
            prog.le(R(fam, grp, "dramatic", "k"), R(fam, grp, "improved", "k"), "marked<=impr")
            prog.le(R(fam, grp, "improved", "n"), R(fam, grp, "worst_case_improved", "n"),
                    "assessed <= due")
            prog.same(R(fam, grp, "worst_case_improved", "n"),
                      F("due_12m" if grp == "all" else "comparable_due_12m"))
            for out in ("improved", "dramatic"):
                prog.le(R(fam, "comparable", out, "k"), R(fam, "all", out, "k"), "comp<=all")
            prog.le(R(fam, "comparable", "improved", "n"), R(fam, "all", "improved", "n"),
                    "comp n <= all n")
        prog.same(R("photographic", "all", "improved", "n"), F("assessed_photographic"))
        prog.same(R("photographic", "comparable", "improved", "n"),
                  F("comparable_assessed_photographic"))
        prog.same(R("density", "all", "improved", "n"), F("assessed_density"))
    # density sensitivity and change
    for rk in present["density_sensitivity"]:
        prog.same(K("density_sensitivity", rk, "n"), F("assessed_density"))
        t = float(rk[0])
        for out, thr in (("improved", defs.get("density_improved")),
                         ("dramatic", defs.get("density_dramatic"))):
            if thr is not None and abs(t - float(thr)) < 1e-9:
                prog.same(K("density_sensitivity", rk, "k"), R("density", "all", out, "k"))
    ts = sorted(present["density_sensitivity"], key=lambda r: float(r[0]))
    for a, b in zip(ts[1:], ts[:-1]):
        prog.le(K("density_sensitivity", a, "k"), K("density_sensitivity", b, "k"), "nested")
    for rk in present["density_change"]:
        prog.same(K("density_change", rk, "n"), F("assessed_density"))
    # adverse events
    terms = present["adverse_events"]
    for rk in terms:
        prog.same(K("adverse_events", rk, "n"), F("treated"))
        if terms:
            prog.same(K("adverse_events", rk, "sessions"), K("adverse_events", terms[0],
                                                             "sessions"))
        ke, kk = K("adverse_events", rk, "events"), K("adverse_events", rk, "k")
        prog.le(kk, ke, "AE patients <= events")
        prog.le(kk, F("treated"), "AE k <= treated")
        if prog.has(ke):
            prog.add({ke: 1, kk: -60}, -np.inf, 0, "events <= 60 per patient")
        parts = [K("ae_timing", t, "events") for t in present["ae_timing"] if t[0] == rk[0]]
        prog.total(ke, parts, f"AE timing rows sum to {rk[0]} events")
        dk = K("ae_duration", rk, "events")
        if prog.has(dk):
            prog.le(dk, ke, "events with a duration <= events")
    # protocol, screening
    for rk in present["protocol"]:
        prog.le(K("protocol", rk, "k"), K("protocol", rk, "n"), "k<=n")
    for rk in present["screening"]:
        s, p = K("screening", rk, "sessions"), K("screening", rk, "patients")
        prog.le(p, s, "patients <= sessions")
        prog.add({s: 1, p: -60}, -np.inf, 0, "sessions <= 60 per patient")
    # strata: levels sum to the total, minoxidil no = comparable
    groups = defaultdict(list)
    for rk in present["strata"]:
        fam, out, stratum, level = rk
        groups[(fam, out, stratum)].append(rk)
        prog.le(K("strata", rk, "k"), K("strata", rk, "n"), "k<=n")
        if out == "dramatic":
            prog.same(K("strata", rk, "n"), K("strata", (fam, "improved", stratum, level), "n"))
            prog.le(K("strata", rk, "k"), K("strata", (fam, "improved", stratum, level), "k"),
                    "marked <= improved")
        if stratum == "minoxidil" and level == "no":
            for c in ("k", "n"):
                prog.same(K("strata", rk, c), R(fam, "comparable", out, c))
    for (fam, out, stratum), rks in groups.items():
        for c in ("k", "n"):
            prog.total(R(fam, "all", out, c), [K("strata", rk, c) for rk in rks],
                       f"{fam} {out} {stratum} levels sum to the total {c}")
    # funnel = practitioner strata (photographic improved); quarters sum to the total
    for rk in present["funnel"]:
        for c in ("k", "n"):
            prog.same(K("funnel", rk, c), K("strata", ("photographic", "improved",
                                                       "practitioner", rk[0]), c))
    qs = defaultdict(list)
    for rk in present["quarterly"]:
        qs[rk[0]].append(rk)
        prog.le(K("quarterly", rk, "k"), K("quarterly", rk, "n"), "k<=n")
    for fam, rks in qs.items():
        for c in ("k", "n"):
            prog.total(R(fam, "all", "improved", c), [K("quarterly", rk, c) for rk in rks],
                       f"quarters sum to the {fam} total {c}")
    # the photographic sensitivity table: nested thresholds, ends = improved / marked
    ps = sorted(present["photographic_sensitivity"], key=lambda r: float(r[0]))
    for rk in ps:
        prog.same(K("photographic_sensitivity", rk, "n"), F("assessed_photographic"))
        for out, thr in (("improved", defs.get("gpa_improved")),
                         ("dramatic", defs.get("gpa_dramatic"))):
            if thr is not None and abs(float(rk[0]) - float(thr)) < 1e-9:
                prog.same(K("photographic_sensitivity", rk, "k"),
                          R("photographic", "all", out, "k"))
    for a, b in zip(ps[1:], ps[:-1]):
        prog.le(K("photographic_sensitivity", a, "k"), K("photographic_sensitivity", b, "k"),
                "nested GPA thresholds")
    # AE incidence among patients followed long enough
    for rk in present["ae_followup"]:
        A_ = lambda c, rk=rk: K("ae_followup", rk, c)  # noqa: E731
        prog.same(A_("treated"), F("treated"))
        if rk in present["adverse_events"]:
            # adverse_events carries the followed counts its benchmark tests rest on (ae-followup)
            for a_col, f_col in (("compared_k", "k"), ("compared_n", "n"),
                                 ("excluded", "excluded"),
                                 ("excluded_recent", "excluded_recent"),
                                 ("excluded_stopped", "excluded_stopped")):
                prog.same(K("adverse_events", rk, a_col), A_(f_col))
            prog.same(A_("sessions"), K("adverse_events", rk, "sessions"))
            prog.same(A_("events"), K("adverse_events", rk, "events"))
            prog.le(A_("k"), K("adverse_events", rk, "k"), "followed-up k <= all treated k")
        prog.total(A_("treated"), [A_("n"), A_("excluded")], "followed + excluded = treated")
        prog.total(A_("excluded"), [A_("excluded_recent"), A_("excluded_stopped")],
                   "excluded = recent + stopped")
        prog.le(A_("k"), A_("n"), "k<=n")
        prog.le(A_("k"), A_("events"), "k<=events")
        prog.le(A_("km_events"), A_("events"), "KM events <= events")
        prog.le(A_("km_at_risk"), A_("treated"), "at risk <= treated")
    # audit periods: the cumulative rows are the report's own totals
    cum = {rk[3]: rk for rk in present["periods"] if rk[0] == "cumulative"}
    for rk in present["periods"]:
        prog.le(K("periods", rk, "k"), K("periods", rk, "n"), "k<=n")
        if rk[0] != "cumulative":
            if rk[3] in cum:  # a quarter or a year is part of the whole
                for c in ("k", "n"):
                    prog.le(K("periods", rk, c), K("periods", cum[rk[3]], c),
                            f"{rk[0]} {rk[3]} {c} <= cumulative")
            continue
        m = rk[3]
        ident = {"followed_up_photographic": (F("assessed_photographic"), F("due_12m")),
                 "photographic_improved_all": ("photographic", "all", "improved"),
                 "photographic_improved_comparable": ("photographic", "comparable", "improved"),
                 "photographic_dramatic_comparable": ("photographic", "comparable", "dramatic"),
                 "photographic_improved_worst_case": ("photographic", "all",
                                                      "worst_case_improved"),
                 "density_improved_all": ("density", "all", "improved")}.get(m)
        if ident and isinstance(ident[0], tuple):
            prog.same(K("periods", rk, "k"), ident[0])
            prog.same(K("periods", rk, "n"), ident[1])
        elif ident:
            for c in ("k", "n"):
                prog.same(K("periods", rk, c), R(*ident, c))
        elif m in ("patients_treated", "new_patients"):
            prog.same(K("periods", rk, "k"), F("treated"))
        elif m == "sessions_given" and present["adverse_events"]:
            prog.same(K("periods", rk, "k"), K("adverse_events", present["adverse_events"][0],
                                               "sessions"))
        elif m in ("pain_patients", "serious_event_patients"):
            term = ("injection_site_pain" if m == "pain_patients" else "serious",)
            if term in present["adverse_events"]:
                for c in ("k", "n"):
                    prog.same(K("periods", rk, c), K("adverse_events", term, c))
        elif m in ("no_positive_test_session", "no_hypersensitivity_session"):
            dev = ("positive_pregnancy_test" if m == "no_positive_test_session"
                   else "hypersensitivity_5ari",)
            if present["adverse_events"]:
                prog.same(K("periods", rk, "n"), K("adverse_events", present["adverse_events"][0],
                                                   "sessions"))
            if dev in present["screening"]:
                prog.total(K("periods", rk, "n"), [K("periods", rk, "k"),
                                                   K("screening", dev, "sessions")],
                           f"{m}: sessions = without + with the deviation")
    # Table 1 and load counts (from the HTML pages, when given)
    t1 = defaultdict(list)
    for rk in present["table_one"]:
        t1[rk[0]].append(rk)
    for a, b in ((("Topical minoxidil", "No"), "comparable_treated"),
                 (("Topical minoxidil", "Not recorded"), "minoxidil_not_recorded")):
        if a in present["table_one"]:
            prog.same(K("table_one", a, "n"), F(b))
    for ch, rks in t1.items():
        if ch == "Patients treated":
            prog.same(K("table_one", rks[0], "n"), F("treated"))
        else:
            prog.total(F("treated"), [K("table_one", rk, "n") for rk in rks],
                       f"Table 1 {ch} levels sum to treated")
    for rk in present["load"]:
        prog.total(K("load", rk, "read"), [K("load", rk, "accepted"),
                                           K("load", rk, "quarantined")], "read = acc + q")
        if rk[0] == "patients":
            prog.le(F("registered"), K("load", rk, "accepted"), "registered <= accepted")
    if observe and not exact:
        _ratios(prog, prefix, pub, policy, conf)
        add_percentages(prog, prefix, pub, policy)


def _ratios(prog, prefix, pub, policy, conf):
    """Published rates and intervals against hidden or rounded counts."""
    for frame in ("response", "density_sensitivity", "adverse_events", "protocol", "strata",
                  "funnel", "quarterly"):
        for rk, row in _rows(pub, frame):
            kk, nk = key(prefix, frame, rk, "k"), key(prefix, frame, rk, "n")
            ki, ni = policy.interval(row.get("k")), policy.interval(row.get("n"))
            if ki is None or ni is None or (ki[0] == ki[1] and ni[0] == ni[1]):
                continue
            pk, pn = row.get("k"), row.get("n")
            if (isinstance(pk, int) and isinstance(pn, int)
                    and candidates(row, pk, pk, pn, pn, conf)):
                continue  # computed from the published counts: says nothing more
            cand = candidates(row, ki[0], ki[1], ni[0], ni[1], conf)
            if cand:  # none: the figures were not computed from the true counts
                prog.bound(kk, min(k for k, _ in cand), max(k for k, _ in cand))
                prog.bound(nk, min(n for _, n in cand), max(n for _, n in cand))
                if len({k - n for k, n in cand}) == 1 and len(cand) > 1:
                    d = cand[0][0] - cand[0][1]
                    prog.eq({kk: 1, nk: -1}, d, "rate/interval give n - k")
    # centre lines: sum k / sum n over all rows (funnel p0, p-chart centre per family)
    for frame, col, by in (("funnel", "p0", None), ("quarterly", "centre", 0)):
        groups = defaultdict(list)
        for rk, row in _rows(pub, frame):
            groups[rk[by] if by is not None else ""].append((rk, row))
        for rows in groups.values():
            vals = {_num(r.get(col)) for _, r in rows} - {None}
            if len(vals) != 1:
                continue
            p = vals.pop()
            if policy.round_base > 1 and _ratio_of_rounded(p, policy.round_base):
                continue  # computed from published (rounded) totals: says nothing more
            coefs = defaultdict(float)
            for rk, _ in rows:
                coefs[key(prefix, frame, rk, "k")] += 1
                coefs[key(prefix, frame, rk, "n")] -= p
            prog.add(dict(coefs), -1e-6, 1e-6, f"{frame} {col} = sum k / sum n")


def _ratio_of_rounded(p: float, base: int, most: int = 5000) -> bool:
    """Whether ``p`` is a/b for two multiples of ``base`` (b up to ``most``)."""
    b = np.arange(base, most + 1, base, dtype=float)
    a = p * b
    return bool(np.any(np.abs(a / base - np.round(a / base)) < 1e-7 * b))


def hidden_targets(prog: Program, prefixes=None) -> dict:
    """Every distinct count (after identities) whose true value is 1-4."""
    seen, out = set(), {}
    for k, v in prog.truth.items():
        if prefixes is not None and k[0] not in prefixes:
            continue
        if not prog.has(k) or not 1 <= v <= 4:
            continue
        r = prog.find(k)
        if r in seen:
            continue
        seen.add(r)
        out[k] = ({k: 1.0}, v)
    return out


def truth_of(prog: Program, prefix, exact: dict) -> None:
    """Record the true counts of an exact results dict under ``prefix`` (not used to solve)."""
    for frame, (_, cols) in FRAMES.items():
        for rk, row in _rows(exact, frame):
            for c in cols:
                v = row.get(c)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    prog.truth[key(prefix, frame, rk, c)] = int(v)
    for ck, v in (exact.get("cohort") or {}).items():
        if isinstance(v, int):
            prog.truth[key(prefix, "cohort", (ck,), "n")] = v


# ---------------------------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------------------------
def single(pub: dict, exact: dict) -> tuple[Program, dict]:
    """One shareable report."""
    prog = Program()
    add_report(prog, "r", pub, Policy.of(pub))
    truth_of(prog, "r", exact)
    return prog, hidden_targets(prog)


_MONOTONE = {"flow": {"registered", "treated", "due_12m", "assessed_photographic",
                      "lost_photographic", "assessed_density", "lost_density",
                      "comparable_treated", "comparable_due_12m",
                      "comparable_assessed_photographic"},
             "adverse_events": None, "ae_timing": None}


def quarters(pub_a: dict, exact_a: dict, pub_b: dict, exact_b: dict) -> tuple[Program, dict]:
    """Two consecutive quarters of the same clinic: targets are the changes of 1-4."""
    prog = Program()
    add_report(prog, "a", pub_a, Policy.of(pub_a))
    add_report(prog, "b", pub_b, Policy.of(pub_b))
    truth_of(prog, "a", exact_a)
    truth_of(prog, "b", exact_b)
    # cumulative counts of one export do not fall from one cut-off to the next
    for frame, steps in _MONOTONE.items():
        for rk, _ in _rows(pub_a, frame):
            if steps is not None and rk[0] not in steps:
                continue
            for c in FRAMES[frame][1]:
                a, b = key("a", frame, rk, c), key("b", frame, rk, c)
                # treated patients excluded from the followed comparison (too recent / stopped)
                # can fall as patients become followed: not cumulative (ae-followup)
                if prog.has(a) and prog.has(b) and not (
                        frame == "adverse_events" and c in ("n", "excluded", "excluded_recent",
                                                            "excluded_stopped")):
                    prog.le(a, b, f"{frame} {rk} {c} cumulative")
    targets: dict = {}
    sigs: set = set()
    for k, va in prog.truth.items():
        if k[0] != "a":
            continue
        kb = ("b",) + k[1:]
        vb = prog.truth.get(kb)
        if vb is None or not prog.has(kb) or not 1 <= vb - va <= 4:
            continue
        sig = (prog.find(k), prog.find(kb))
        if sig in sigs:   # (no identity is added meanwhile: the targets' roots stay)
            continue
        sigs.add(sig)
        targets[k] = ({kb: 1.0, k: -1.0}, vb - va)
    return prog, targets


def _band(level: str):
    m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", str(level))
    if m:
        return int(m[1]), int(m[2])
    m = re.fullmatch(r"(\d+)\+", str(level))
    return (int(m[1]), 200) if m else None


def definitions_pair(pub_a: dict, exact_a: dict, pub_b: dict, exact_b: dict):
    """The same cut-off under two definitions differing in age bands: the atoms of age between
    the two sets of cut-points are shared unknowns; targets are atoms of 1-4 patients."""
    prog = Program()
    add_report(prog, "a", pub_a, Policy.of(pub_a))
    add_report(prog, "b", pub_b, Policy.of(pub_b))
    truth_of(prog, "a", exact_a)
    truth_of(prog, "b", exact_b)
    # everything outside the age-band strata is the same quantity in both reports
    for frame in FRAMES:
        for rk, _ in _rows(pub_a, frame):
            if frame == "strata" and rk[2] == "age_band":
                continue
            for c in FRAMES[frame][1]:
                a, b = key("a", frame, rk, c), key("b", frame, rk, c)
                if prog.has(a) and prog.has(b):
                    prog.same(a, b)
    for ck in COHORT_TO_FLOW:
        a, b = key("a", "cohort", (ck,), "n"), key("b", "cohort", (ck,), "n")
        if prog.has(a) and prog.has(b):
            prog.same(a, b)
    # age atoms
    targets = {}
    cuts = set()
    levels = defaultdict(dict)  # (fam, out) -> {(prefix, level): band}
    for p, pub in (("a", pub_a), ("b", pub_b)):
        for rk, _ in _rows(pub, "strata"):
            if rk[2] == "age_band" and _band(rk[3]):
                lo, hi = _band(rk[3])
                cuts |= {lo, hi + 1}
                levels[(rk[0], rk[1])][(p, rk)] = (lo, hi)
    for _p, ex in (("a", exact_a), ("b", exact_b)):
        for bands in (ex.get("definitions") or {}).get("age_bands", []), :
            cuts |= {int(x) for x in bands}
    cuts = sorted(cuts)
    atoms = list(zip(cuts[:-1], [c - 1 for c in cuts[1:]]))
    for (fam, out), lv in levels.items():
        for c in ("k", "n"):
            avars = {atom: ("atom", fam, out, atom, c) for atom in atoms}
            for (p, rk), (lo, hi) in lv.items():
                parts = [avars[a] for a in atoms if lo <= a[0] and a[1] <= hi]
                for v in parts:
                    prog.find(v)
                prog.total(key(p, "strata", rk, c), parts, f"age band {rk[3]} = atoms")
            # true atom values from the exact outputs (least squares on both reports' bands)
            rows, rhs = [], []
            for _p, ex in (("a", exact_a), ("b", exact_b)):
                for rk, row in _rows(ex, "strata"):
                    if rk[:3] == (fam, out, "age_band") and _band(rk[3]):
                        lo, hi = _band(rk[3])
                        rows.append([1.0 if lo <= a[0] and a[1] <= hi else 0.0 for a in atoms])
                        rhs.append(float(row[c]))
            if not rows:
                continue
            sol, *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
            for atom, v in zip(atoms, sol):
                prog.truth[avars[atom]] = round(v)
                if 1 <= round(v) <= 4 and abs(v - round(v)) < 1e-6:
                    targets[avars[atom]] = ({avars[atom]: 1.0}, round(v))
    return prog, targets


POOL_ADDITIVE = ("flow", "response", "density_sensitivity", "adverse_events", "ae_timing",
                 "protocol", "screening", "quarterly", "ae_duration", "density_change")


def pooled(pub_pool: dict, own_label: str, own_exact: dict,
           others: dict[str, dict]) -> tuple[Program, dict]:
    """A pooled shareable output plus one participant's own exact file.

    ``others``: label -> exact results of the other clinics (truth only: never observed).
    Targets: the other clinics' counts of 1-4 (and the pooled counts of 1-4).
    """
    prog = Program()
    pol = Policy.of(pub_pool)
    add_report(prog, "pool", pub_pool, pol)
    add_report(prog, own_label, own_exact, pol, exact=True)
    truth_of(prog, own_label, own_exact)
    for lab, ex in others.items():
        add_report(prog, lab, ex, pol, observe=False)
        truth_of(prog, lab, ex)
    labels = [own_label, *others]
    dicts = {own_label: own_exact, **others}
    # pooled = sum over clinics, frame by frame
    for frame in POOL_ADDITIVE:
        for rk, _ in _rows(pub_pool, frame):
            for c in FRAMES[frame][1]:
                pk = key("pool", frame, rk, c)
                parts = [key(lab, frame, rk, c) for lab in labels
                         if prog.has(key(lab, frame, rk, c))]
                if prog.has(pk):
                    prog.total(pk, parts, f"pooled {frame} {rk} {c}")
    for ck in COHORT_TO_FLOW:
        pk = key("pool", "cohort", (ck,), "n")
        parts = [key(lab, "cohort", (ck,), "n") for lab in labels]
        prog.total(pk, [p for p in parts if prog.has(p)], f"pooled cohort {ck}")
    for rk, _ in _rows(pub_pool, "strata"):
        fam, out, stratum, level = rk
        for c in ("k", "n"):
            pk = key("pool", "strata", rk, c)
            if stratum == "practitioner" and ":" in level:
                lab, prac = level.split(":", 1)
                prog.same(pk, key(lab, "strata", (fam, out, stratum, prac), c))
            else:
                parts = [key(lab, "strata", rk, c) for lab in labels]
                prog.total(pk, [p for p in parts if prog.has(p)], f"pooled strata {rk} {c}")
    for rk, _ in _rows(pub_pool, "funnel"):
        lab, prac = rk[0].split(":", 1) if ":" in rk[0] else (None, None)
        if lab:
            for c in ("k", "n"):
                prog.same(key("pool", "funnel", rk, c), key(lab, "funnel", (prac,), c))
    # the meta-analysis: per-clinic rows, weights and logit estimates
    meta = pub_pool.get("meta") or {}
    conf = float((pub_pool.get("definitions") or {}).get("confidence", 0.95) or 0.95)
    tau = {}
    for row in meta.get("summary") or []:
        if row.get("method") == "DerSimonian-Laird":
            tau[(row["family"], row["group"], row["outcome"])] = _num(row.get("tau2"))
    blocks = defaultdict(list)
    for row in meta.get("studies") or []:
        blk = (row["family"], row["group"], row["outcome"])
        blocks[blk].append(row)
        lab = row["label"]
        for c in ("k", "n"):
            mk = key("pool", "meta", blk + (lab,), c)
            prog.observe(mk, row.get(c), pol)
            if lab in dicts:
                prog.same(mk, key(lab, "response", blk, c))
    for blk, rows in blocks.items():
        t2 = tau.get(blk)
        known = [r for r in rows if _num(r.get("vi")) is not None and _num(r.get("weight_dl"))]
        for row in rows:
            ki, ni = pol.interval(row.get("k")), pol.interval(row.get("n"))
            if ki is None or ni is None or (ki[0] == ki[1] and ni[0] == ni[1]):
                continue
            pk, pn = row.get("k"), row.get("n")
            if (isinstance(pk, int) and isinstance(pn, int)
                    and candidates(row, pk, pk, pn, pn, conf)):
                continue  # computed from the published counts: says nothing more
            r2 = dict(row)
            w = _num(row.get("weight_dl"))
            ref = known[0] if known else None
            if ref is not None and pol.round_base > 1 and isinstance(ref.get("k"), int) and \
                    candidates(ref, ref["k"], ref["k"], ref["n"], ref["n"], conf):
                ref = None  # weights from published (rounded) counts
            if r2.get("vi") is None and ref is not None and w and t2 is not None:
                r2["vi"] = (_num(ref["vi"]) + t2) * _num(ref["weight_dl"]) / w - t2
            cand = candidates(r2, ki[0], ki[1], ni[0], ni[1], conf) if (
                r2.get("vi") is not None or r2.get("rate") is not None) else None
            if cand:
                mk = key("pool", "meta", blk + (row["label"],), "k")
                mn = key("pool", "meta", blk + (row["label"],), "n")
                prog.bound(mk, min(k for k, _ in cand), max(k for k, _ in cand))
                prog.bound(mn, min(n for _, n in cand), max(n for _, n in cand))
    targets = {k: v for k, v in hidden_targets(prog).items() if k[0] != own_label}
    return prog, targets


# ---------------------------------------------------------------------------------------------
# the HTML pages: Table 1 and the load counts (numbers results.json does not carry)
# ---------------------------------------------------------------------------------------------
def html_tables(text: str) -> tuple[list[list[list[str]]], str]:
    """Every table of an HTML page as rows of cell texts, and the page's other text."""
    from html.parser import HTMLParser

    class _P(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.tables, self.row, self.cell, self.text, self.skip = [], None, None, [], 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.skip += 1
            elif tag == "table":
                self.tables.append([])
            elif tag == "tr" and self.tables:
                self.row = []
                self.tables[-1].append(self.row)
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []
            for name, value in attrs:  # alt text and titles are published too
                if name in ("alt", "title", "aria-label") and value:
                    self.text.append(value)

        def handle_endtag(self, tag):
            if tag in ("script", "style"):
                self.skip -= 1
            elif tag in ("td", "th") and self.cell is not None:
                self.row.append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "table":
                self.row = None

        def handle_data(self, data):
            if self.skip:
                return
            (self.cell if self.cell is not None else self.text).append(data)

    p = _P()
    p.feed(text)
    return p.tables, " ".join(" ".join(p.text).split())


_T1_CATEGORICAL = ("Sex", "Age band (years)", "Baseline scale", "Topical minoxidil")


def html_frames(pages: dict[str, str]) -> dict:
    """``table_one`` and ``load`` records parsed from the shareable HTML pages
    (name -> HTML text), in the results-file shape, to add to the published dict."""
    out = {"table_one": [], "load": []}
    for text in pages.values():
        tables, _ = html_tables(text)
        for t in tables:
            if not t:
                continue
            head = [h.lower() for h in t[0]]
            if head[:2] == ["characteristic", "level"]:
                current = None
                for row in t[1:]:
                    if len(row) < 3:
                        continue
                    current = row[0] or current
                    if current == "Patients treated":
                        out["table_one"].append({"characteristic": current, "level": "",
                                                 "n": _t1_value(row[2])[0], "pct": None})
                    elif current in _T1_CATEGORICAL:
                        n, pct = _t1_value(row[2])
                        out["table_one"].append({"characteristic": current, "level": row[1],
                                                 "n": n, "pct": pct})
            elif head[:1] == ["table"] and any("read" in h for h in head):
                idx = {k: next(i for i, h in enumerate(head) if h.startswith(k))
                       for k in ("read", "accepted", "quarantined")}
                for row in t[1:]:
                    out["load"].append({"table": row[0], **{k: _t1_value(row[i])[0]
                                                            for k, i in idx.items()}})
    return out


def _t1_value(cell: str):
    s = cell.replace(",", "").strip()
    m = re.fullmatch(r"(\d+)\s*\(([\d.]+)%\)", s)
    if m:
        return int(m[1]), float(m[2])
    m = re.fullmatch(r"([<≤]\s*\d+)\s*(?:\(([\d.]+)%\))?", s)
    if m:
        return m[1].replace(" ", ""), (float(m[2]) if m[2] else None)
    if re.fullmatch(r"\d+", s):
        return int(s), None
    return None, None


def add_percentages(prog: Program, prefix, pub: dict, policy: Policy) -> None:
    """Table 1 percentages (one decimal) of treated: |n - p T| <= 0.0005 T, unless they are
    percentages of the published (rounded) counts."""
    T = key(prefix, "flow", ("treated",), "n")
    rows = pub.get("table_one") or []
    total = next((r.get("n") for r in rows if r.get("characteristic") == "Patients treated"),
                 None)
    for row in rows:
        p = row.get("pct")
        if p is None:
            continue
        if isinstance(total, int) and total > 0:
            shown = [row["n"]] if isinstance(row.get("n"), int) else (
                range(0, total + 1, policy.round_base) if policy.round_base > 1 else [])
            if any(abs(100 * m / total - p) <= 0.0501 for m in shown):
                continue  # a percentage of the published counts: says nothing more
        n = key(prefix, "table_one", (str(row["characteristic"]), str(row["level"])), "n")
        p = p / 100
        prog.add({n: 1.0, T: -(p + 0.0005)}, -np.inf, 1e-9, "Table 1 % (upper)")
        prog.add({n: 1.0, T: -(p - 0.0005)}, -1e-9, np.inf, "Table 1 % (lower)")
