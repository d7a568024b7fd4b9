"""dbksvd models in plain Python: load a model directory and code embeddings as `dbksvd encode` does, numpy only.

    import dbksvd_model                       # python/ on sys.path (or copy this one file)
    model = dbksvd_model.load("demo-output/model")
    codes = model.encode(Y)                   # Y: (n, d), any float dtype (coded as float32, as dbksvd reads it)
    codes.atoms, codes.values                 # (n, k): atom ids (-1: empty slot) and coefficients, selection order
    X = codes.dense()                         # (n, m) float32
    Y_hat = model.decode(codes)               # (n, d) float32 reconstructions, X D
    codes.residual                            # (n, d) float32, Y - X D as the Java encoder computes it

A model directory (see README "Output layout") holds dictionary.npy, float32 (m, d) with atom j in row j, and
model.json: params.encoder ("mp", "mp-refit" or "omp"), params.k, params.rtol and the atom groups (groups.start, groups.budget;
one group [0, m) with budget k unless the model is Matryoshka).

The encoders follow the Java code step for step (src/main/java/dbksvd/encode/):
  EncodedBlock.encode    groups in order; group g is coded against the residual of the groups before it, with its
                         own budget; after each group the residual is recomputed exactly, target - sum of value * atom
                         over the group's slots in selection order (float32, a product then a sum per atom), and its
                         squared norm summed in float64 in coordinate order.
  MatchingPursuit        P = D_g Y (correlations); per step: j = the first index of the largest |P| (Simd.argmaxAbs),
                         a = P[j]; stop when the tracked ||r||^2 <= rtol^2 ||target||^2 or a == 0; x_j += a;
                         P -= a G[:, j] then P[j] = 0 (float32, a product then a difference); ||r||^2 -= a^2 (float64).
  RefitMatchingPursuit   the MatchingPursuit steps, up to 4k of them, an atom picked again accumulating (float32),
                         until k + 1 distinct atoms: the one of smallest |x| (the first on ties) is dropped; then
                         G_OO x = P0_O on that support O with the original correlations P0, by Cholesky in float64
                         (G_OO from its lower triangle; a ridge of 1e-6 max diag when a pivot^2 <= 1e-10 max diag; the
                         MP coefficients if that fails too), the coefficients rounded to float32.
  OrthogonalMatchingPursuit  Batch-OMP: the Cholesky factor of G_II in float64, the correlation update
                         alpha = alpha0 - sum_r gamma_r G[:, I_r] in float32 (gamma rounded to float32, columns in
                         support order), the tracked error eps -= delta - delta_prev; stop at k atoms, eps <= rtol^2
                         ||target||^2, or an atom whose Cholesky pivot is <= 1e-10.
  SparseCodes.accumulate an atom picked again adds to its slot (float32); codes keep the order atoms were first picked.

What cannot match bit for bit: P = D Y and G = D D^T are float32 matrix products, computed by OpenBLAS SGEMM in
Java and by numpy's BLAS here, whose summation orders differ in the last bits. A near tie in |P| can then go the
other way; SaelensExportTest/PythonModelTest measure how often (the README gives the figures).
"""

import json
import os

import numpy as np

FORMAT = "dbksvd-model"
VERSION = 1


def load(model_dir):
    """The model in a dbksvd model directory."""
    return Model.load(model_dir)


def _sq_norms(x):
    """Squared norm of each row in float64, summed in coordinate order (Blas.sqNorm): cumsum is sequential."""
    x64 = x.astype(np.float64)
    if x.shape[1] == 0:
        return np.zeros(x.shape[0])
    return np.cumsum(x64 * x64, axis=1)[:, -1]


def matryoshka_groups(L, m, k, budgets=()):
    """AtomGroups.matryoshka: groups [0, 2^L), [2^L, 2^(L+1)), ... cut at m; budgets split k evenly, earlier groups
    first, unless given. Returns (start, budget): start has one entry more than budget, ending at m."""
    if L < 0:
        return [0, m], [k]
    if L > 30 or (1 << L) >= m:
        raise ValueError(f"matryoshka L = {L} needs 2^L < m = {m}")
    start = [0]
    end = 1 << L
    while True:
        start.append(min(end, m))
        if end >= m:
            break
        end *= 2
    groups = len(start) - 1
    if budgets:
        if len(budgets) != groups:
            raise ValueError(f"matryoshka L = {L}, m = {m} makes {groups} groups but {len(budgets)} budgets were given")
        return start, list(budgets)
    if k < groups:
        raise ValueError(f"k = {k} cannot give each of the {groups} matryoshka groups one atom")
    return start, [k // groups + (1 if i < k % groups else 0) for i in range(groups)]


class Codes:
    """The k-sparse codes of n samples in fixed-width slots, as SparseCodes holds them.

    Example, n = 2, capacity 3: sample 0 = 0.8 d7 - 0.1 d2, sample 1 = 1.2 d4 gives atoms = [[7, 2, -1], [4, -1, -1]],
    values = [[0.8, -0.1, 0], [1.2, 0, 0]], count = [2, 1].
    """

    def __init__(self, atoms, values, count, m, residual=None, residual_sq=None):
        self.atoms = atoms
        self.values = values
        self.count = count
        self.m = m
        self.residual = residual
        self.residual_sq = residual_sq

    def __len__(self):
        return self.atoms.shape[0]

    def dense(self):
        """(n, m) float32: X with row s holding sample s's coefficients."""
        n, cap = self.atoms.shape
        X = np.zeros((n, self.m), dtype=np.float32)
        rows = np.repeat(np.arange(n), cap)
        used = self.atoms.ravel() >= 0
        np.add.at(X, (rows[used], self.atoms.ravel()[used]), self.values.ravel()[used])
        return X

    def support(self, s):
        """Sorted atom ids of sample s with a non-zero coefficient."""
        c = self.count[s]
        a, v = self.atoms[s, :c], self.values[s, :c]
        return np.sort(a[v != 0])

    def _accumulate(self, rows, atom, a):
        """SparseCodes.accumulate for one (atom, a) per listed row."""
        slots = self.atoms[rows]
        hit = slots == atom[:, None]
        has = hit.any(axis=1)
        pos = np.where(has, hit.argmax(axis=1), self.count[rows])
        if (pos >= self.atoms.shape[1]).any():
            raise AssertionError("a sample holds more atoms than its capacity")
        self.values[rows, pos] = np.where(has, self.values[rows, pos] + a, a)
        self.atoms[rows, pos] = atom
        self.count[rows] += ~has


class Model:
    """A dbksvd dictionary with the settings that code with it."""

    def __init__(self, D, encoder="mp", k=None, rtol=0.0, group_start=None, group_budget=None, info=None):
        D = np.asarray(D)
        if D.ndim != 2 or D.dtype != np.float32:
            raise ValueError(f"the dictionary must be a float32 (m, d) array, got {D.dtype} {D.shape}")
        if not np.isfinite(D).all():
            raise ValueError("the dictionary has a NaN or infinite value")
        self.D = np.ascontiguousarray(D)
        self.m, self.d = D.shape
        if encoder not in ("mp", "mp-refit", "omp"):
            raise ValueError(f"unknown encoder {encoder!r}; expected mp, mp-refit or omp")
        self.encoder = encoder
        if group_start is None:
            group_start, group_budget = [0, self.m], [k]
        self.group_start = [int(s) for s in group_start]
        self.group_budget = [int(b) for b in group_budget]
        if (len(self.group_start) != len(self.group_budget) + 1 or self.group_start[0] != 0
                or self.group_start[-1] != self.m
                or any(b <= a for a, b in zip(self.group_start, self.group_start[1:]))
                or any(b < 1 for b in self.group_budget)):
            raise ValueError(f"bad atom groups: start {self.group_start}, budget {self.group_budget} for m = {self.m}")
        self.k = sum(self.group_budget) if k is None else int(k)
        if not 0 <= rtol < 1:
            raise ValueError(f"rtol must be in [0, 1), got {rtol}")
        self.rtol = float(rtol)
        self.info = info or {}
        self._GT = None

    @classmethod
    def load(cls, model_dir):
        json_path = os.path.join(model_dir, "model.json")
        npy_path = os.path.join(model_dir, "dictionary.npy")
        for p in (json_path, npy_path):
            if not os.path.exists(p):
                raise FileNotFoundError(f"model directory {model_dir} is incomplete: {os.path.basename(p)} is missing")
        with open(json_path) as f:
            info = json.load(f)
        if info.get("format") != FORMAT or info.get("version") != VERSION:
            raise ValueError(f"{json_path} is not a {FORMAT} version {VERSION} model (format {info.get('format')!r}, "
                             f"version {info.get('version')!r})")
        D = np.load(npy_path)
        if D.shape != (info["m"], info["d"]):
            raise ValueError(f"{npy_path} has shape {D.shape} but model.json says m = {info['m']}, d = {info['d']}")
        p = info.get("params", {})
        groups = info.get("groups")
        if groups:
            start, budget = groups["start"], groups["budget"]
        else:  # older files: the groups follow from the parameters, as FitParams.groups() derives them
            start, budget = matryoshka_groups(p.get("matryoshka", -1), info["m"], p["k"], p.get("budgets", []))
        return cls(D.astype(np.float32, copy=False), p.get("encoder", "mp"), p.get("k"), p.get("rtol", 0.0),
                   start, budget, info)

    @property
    def groups(self):
        """[(first atom, end, budget)] per group."""
        return [(self.group_start[g], self.group_start[g + 1], self.group_budget[g])
                for g in range(len(self.group_budget))]

    def gram_columns(self):
        """G = D D^T (float32); row j of the returned array is column j of G, the one the encoders subtract."""
        if self._GT is None:
            self._GT = np.ascontiguousarray((self.D @ self.D.T).T)
        return self._GT

    def encode(self, Y, chunk=4096):
        """The codes of the rows of Y (n, d), with the model's encoder, groups, budgets and rtol."""
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[1] != self.d:
            raise ValueError(f"expected an (n, {self.d}) array, got shape {Y.shape}")
        Y = Y.astype(np.float32)
        if not np.isfinite(Y).all():
            bad = np.argwhere(~np.isfinite(Y))[0]
            raise ValueError(f"row {bad[0]} has {Y[bad[0], bad[1]]} at position {bad[1]}")
        n = Y.shape[0]
        cap = sum(self.group_budget)
        out = Codes(np.full((n, cap), -1, dtype=np.int32), np.zeros((n, cap), dtype=np.float32),
                    np.zeros(n, dtype=np.int64), self.m, np.empty_like(Y), np.empty(n))
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            part = self._encode_block(Y[lo:hi])
            out.atoms[lo:hi], out.values[lo:hi], out.count[lo:hi] = part.atoms, part.values, part.count
            out.residual[lo:hi], out.residual_sq[lo:hi] = part.residual, part.residual_sq
        return out

    def decode(self, codes):
        """Reconstructions X D (float32) of Codes or of a dense (n, m) array."""
        X = codes.dense() if isinstance(codes, Codes) else np.asarray(codes, dtype=np.float32)
        return X @ self.D

    def _encode_block(self, Y):
        """EncodedBlock.encode for one block of rows."""
        n = Y.shape[0]
        cap = sum(self.group_budget)
        codes = Codes(np.full((n, cap), -1, dtype=np.int32), np.zeros((n, cap), dtype=np.float32),
                      np.zeros(n, dtype=np.int64), self.m)
        GT = self.gram_columns()
        target = Y
        target_sq = _sq_norms(Y)
        for a0, a1, budget in self.groups:
            first = codes.count.copy()
            P = target @ self.D[a0:a1].T  # (n, m_g) correlations
            Gg = GT[a0:a1, a0:a1]
            if self.encoder == "mp":
                _matching_pursuit(P, Gg, a0, budget, self.rtol, target_sq, codes)
            elif self.encoder == "mp-refit":
                _refit_matching_pursuit(P, Gg, a0, budget, self.rtol, target_sq, codes)
            else:
                _batch_omp(P, Gg, a0, budget, self.rtol, target_sq, codes)
            # residual after this group, exactly: target - sum over the group's slots of value * atom, in slot order
            r = target.copy()
            for t in range(cap):
                rows = np.nonzero((t >= first) & (t < codes.count))[0]
                if rows.size:
                    coef = -codes.values[rows, t]
                    r[rows] += coef[:, None] * self.D[codes.atoms[rows, t]]
            target = r
            target_sq = _sq_norms(r)
        codes.residual = target
        codes.residual_sq = target_sq
        return codes


def _argmax_abs(p):
    """Simd.argmaxAbs with floor -1: the first index of the largest |p| per row."""
    return np.abs(p).argmax(axis=-1)


def _matching_pursuit(P, Gg, a0, k, rtol, target_sq, codes):
    """MatchingPursuit.encode for every row of P at once (P is overwritten)."""
    n = P.shape[0]
    r2 = target_sq.copy()
    stop = rtol * rtol * target_sq
    active = np.ones(n, dtype=bool)
    j = _argmax_abs(P)
    for _ in range(k):
        active &= ~(r2 <= stop)
        rows = np.nonzero(active)[0]
        a = P[rows, j[rows]]
        zero = a == 0
        active[rows[zero]] = False
        rows, a = rows[~zero], a[~zero]
        if rows.size == 0:
            break
        jj = j[rows]
        codes._accumulate(rows, (a0 + jj).astype(np.int32), a)
        P[rows] -= a[:, None] * Gg[jj]  # p -= a G[:, j], a float32 product then a difference
        P[rows, jj] = 0  # exact: the residual is orthogonal to the atom just used
        j[rows] = _argmax_abs(P[rows])
        r2[rows] -= a.astype(np.float64) ** 2


def _refit_matching_pursuit(P, Gg, a0, k, rtol, target_sq, codes):
    """RefitMatchingPursuit.encode for every row of P at once (P is overwritten)."""
    n = P.shape[0]
    P0 = P.copy()
    atoms = np.full((n, k + 1), -1, dtype=np.int64)  # range-relative, in order of first pick
    x = np.zeros((n, k + 1), dtype=np.float32)
    size = np.zeros(n, dtype=np.int64)
    r2 = target_sq.copy()
    stop = rtol * rtol * target_sq
    active = np.ones(n, dtype=bool)
    j = _argmax_abs(P)
    for _ in range(4 * k):
        active &= ~(r2 <= stop)
        rows = np.nonzero(active)[0]
        a = P[rows, j[rows]]
        bad = (a == 0) | np.isnan(a)
        active[rows[bad]] = False
        rows, a = rows[~bad], a[~bad]
        if rows.size == 0:
            break
        jj = j[rows]
        hit = atoms[rows] == jj[:, None]
        has = hit.any(axis=1)
        pos = np.where(has, hit.argmax(axis=1), size[rows])
        x[rows, pos] = np.where(has, x[rows, pos] + a, a)
        atoms[rows, pos] = jj
        size[rows] += ~has
        full = size[rows] > k
        if full.any():  # k + 1 distinct atoms: drop the smallest |x| and stop
            fr = rows[full]
            keep = np.ones((fr.size, k + 1), dtype=bool)
            keep[np.arange(fr.size), np.abs(x[fr]).argmin(axis=1)] = False
            atoms[fr, :k] = atoms[fr][keep].reshape(-1, k)
            x[fr, :k] = x[fr][keep].reshape(-1, k)
            atoms[fr, k], x[fr, k], size[fr] = -1, 0, k
            active[fr] = False
            rows, a, jj = rows[~full], a[~full], jj[~full]
            if rows.size == 0:
                continue
        P[rows] -= a[:, None] * Gg[jj]
        P[rows, jj] = 0
        j[rows] = _argmax_abs(P[rows])
        r2[rows] -= a.astype(np.float64) ** 2
    sol = x[:, :k].copy()
    for s in np.nonzero(size)[0]:
        om = atoms[s, :size[s]]
        sub = Gg[np.ix_(om, om)].astype(np.float64)  # [r, c]: column om[r] of G, entry om[c], as Java reads it
        A = np.tril(sub) + np.tril(sub, -1).T
        b = P0[s, om].astype(np.float64)
        max_diag = float(np.max(np.diag(A)))
        c = _cholesky_solve(A, b, max_diag)
        if c is None:
            c = _cholesky_solve(A + 1e-6 * max_diag * np.eye(len(om)), b, max_diag)
        if c is not None:
            sol[s, :size[s]] = c.astype(np.float32)
    for t in range(k):
        rows = np.nonzero(size > t)[0]
        if rows.size:
            codes._accumulate(rows, (a0 + atoms[rows, t]).astype(np.int32), sol[rows, t])


def _cholesky_solve(A, b, max_diag):
    """A^-1 b by Cholesky, None when a pivot^2 is not above 1e-10 max_diag or the solution is not finite."""
    if not max_diag > 0:
        return None
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None
    if not (np.diag(L) ** 2 > 1e-10 * max_diag).all():
        return None
    c = np.linalg.solve(L.T, np.linalg.solve(L, b))
    return c if np.isfinite(c).all() else None


def _argmax_abs_positive(alpha, exclude=()):
    """The first index of the largest |alpha| > 0 (outside `exclude`), -1 if none (Simd.argmaxAbs, floor 0)."""
    v = np.abs(alpha)
    if len(exclude):
        v = v.copy()
        v[list(exclude)] = 0
    j = int(v.argmax())
    return j if v[j] > 0 else -1


def _batch_omp(P, Gg, a0, k, rtol, target_sq, codes):
    """OrthogonalMatchingPursuit.encode for every row of P at once. Every row still coding at step t has t atoms,
    so the steps run over the rows together; the float64 loops keep the Java order within each row."""
    n, mg = P.shape
    alpha0 = P
    alpha = P.copy()
    I = np.zeros((n, k), dtype=np.int64)
    L = np.zeros((n, k, k))
    gamma = np.zeros((n, k))
    w = np.zeros((n, k))
    stop = rtol * rtol * target_sq
    eps = target_sq.copy()
    delta_prev = np.zeros(n)
    size = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    nxt = _argmax_abs_positive_rows(alpha0)
    for t in range(min(k, mg)):
        active &= eps > stop
        rows = np.nonzero(active)[0]
        j = nxt[rows]
        # largest |alpha| already in the support (alpha there is ~0 in exact arithmetic): search outside it
        again = (j >= 0) & (I[rows, :t] == j[:, None]).any(axis=1)
        for q in np.nonzero(again)[0]:
            j[q] = _argmax_abs_positive(alpha[rows[q]], list(I[rows[q], :t]))
        active[rows[j < 0]] = False
        rows, j = rows[j >= 0], j[j >= 0]
        if rows.size == 0:
            break
        if t == 0:
            L[rows, 0, 0] = 1.0
        else:
            for r in range(t):  # solve L w = G[I, j]
                acc = Gg[j, I[rows, r]].astype(np.float64)
                for c in range(r):
                    acc = acc - L[rows, r, c] * w[rows, c]
                w[rows, r] = acc / L[rows, r, r]
            diag = np.ones(rows.size)
            for r in range(t):
                diag = diag - w[rows, r] * w[rows, r]
            spanned = diag <= 1e-10  # the atom lies in the span of the support: these rows are done
            active[rows[spanned]] = False
            rows, j, diag = rows[~spanned], j[~spanned], diag[~spanned]
            if rows.size == 0:
                break
            L[rows, t, :t] = w[rows, :t]
            L[rows, t, t] = np.sqrt(diag)
        I[rows, t] = j
        size[rows] = t + 1
        for r in range(t + 1):  # gamma = (L L^T)^-1 alpha0_I
            acc = alpha0[rows, I[rows, r]].astype(np.float64)
            for c in range(r):
                acc = acc - L[rows, r, c] * w[rows, c]
            w[rows, r] = acc / L[rows, r, r]
        for r in range(t, -1, -1):
            acc = w[rows, r]
            for c in range(r + 1, t + 1):
                acc = acc - L[rows, c, r] * gamma[rows, c]
            gamma[rows, r] = acc / L[rows, r, r]
        a = alpha0[rows]
        for r in range(t + 1):  # alpha = alpha0 - G[:, I] gamma, column by column, float32
            a = a - gamma[rows, r].astype(np.float32)[:, None] * Gg[I[rows, r]]
        alpha[rows] = a
        nxt[rows] = _argmax_abs_positive_rows(a)
        delta = np.zeros(rows.size)
        for r in range(t + 1):
            Ir = I[rows, r]
            delta = delta + gamma[rows, r] * (alpha0[rows, Ir] - a[np.arange(rows.size), Ir]).astype(np.float64)
        eps[rows] = eps[rows] - delta + delta_prev[rows]
        delta_prev[rows] = delta
    for r in range(k):
        rows = np.nonzero(size > r)[0]
        if rows.size:
            codes._accumulate(rows, (a0 + I[rows, r]).astype(np.int32), gamma[rows, r].astype(np.float32))


def _argmax_abs_positive_rows(alpha):
    """_argmax_abs_positive of every row."""
    v = np.abs(alpha)
    j = v.argmax(axis=1)
    return np.where(v[np.arange(len(v)), j] > 0, j, -1)


def main(argv):
    """python3 dbksvd_model.py MODEL_DIR ROWS.npy OUT_DIR: codes.npy (n, m) and recon.npy (n, d), float32."""
    import sys
    if len(argv) != 4:
        print(main.__doc__, file=sys.stderr)
        return 2
    model = load(argv[1])
    Y = np.load(argv[2])
    codes = model.encode(Y)
    os.makedirs(argv[3], exist_ok=True)
    np.save(os.path.join(argv[3], "codes.npy"), codes.dense())
    np.save(os.path.join(argv[3], "recon.npy"), model.decode(codes))
    print(f"dbksvd_model: {len(codes)} rows, encoder {model.encoder}, groups {model.groups}, "
          f"mean L0 {(codes.dense() != 0).sum(axis=1).mean():.2f}")
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv))
