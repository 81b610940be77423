"""Sparse LDLᵀ with the symbolic analysis done once and a compiled numeric refactorisation (numba).

The junction matrix of the gradient method is symmetric positive definite with a fixed pattern, so the
elimination tree and the column counts of L are computed once (`Symbolic`), after a fill-reducing ordering
(our compiled minimum degree, `runze.hydraulics.ordering`; SuperLU's MMD from one `splu` call as the fallback;
kept per topology).  Each trial then
runs the up-looking numeric factorisation (T. Davis, "Direct Methods for Sparse Linear Systems", ch. 4) and two
triangular solves, all compiled; there is no per-call conversion or allocation.  Like EPANET's linsolve, a
non-positive pivot reports the row that failed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from runze.hydraulics.ordering import minimum_degree_order

# RUNZE_NO_JIT=1 skips numba (first use compiles for ~20-60 s, then loads from __pycache__): the numpy
# kernels and qdldl/scipy factorisations give the same results, slower on large networks.
try:
    import numba
except ImportError:  # pragma: no cover - the module is only used when numba is present
    numba = None
if os.environ.get("RUNZE_NO_JIT", "").lower() in ("1", "true", "yes"):
    numba = None

AVAILABLE = numba is not None


def _njit(f):
    # error_model="numpy": a division by zero gives inf/nan as in C (EPANET relies on it), not an exception
    return numba.njit(cache=True, nogil=True, error_model="numpy")(f) if numba is not None else f


@_njit
def _etree(n, ap, ai, parent, lnz, flag):
    for k in range(n):
        parent[k] = -1
        flag[k] = k
        lnz[k] = 0
        for p in range(ap[k], ap[k + 1]):
            i = ai[p]
            if i < k:
                while flag[i] != k:
                    if parent[i] == -1:
                        parent[i] = k
                    lnz[i] += 1
                    flag[i] = k
                    i = parent[i]


@_njit
def ldl_numeric(n, ap, ai, ax, lp, parent, li, lx, d, y, pattern, flag, lnz):
    """Numeric LDLᵀ of the upper-CSC matrix (ap, ai, ax).  Returns -1, or the column with a bad pivot."""
    for k in range(n):
        y[k] = 0.0
        top = n
        flag[k] = k
        lnz[k] = 0
        for p in range(ap[k], ap[k + 1]):
            i = ai[p]
            y[i] += ax[p]
            ln = 0
            while flag[i] != k:
                pattern[ln] = i
                ln += 1
                flag[i] = k
                i = parent[i]
            while ln > 0:
                top -= 1
                ln -= 1
                pattern[top] = pattern[ln]
        dk = y[k]
        y[k] = 0.0
        for t in range(top, n):
            i = pattern[t]
            yi = y[i]
            y[i] = 0.0
            p2 = lp[i] + lnz[i]
            for p in range(lp[i], p2):
                y[li[p]] -= lx[p] * yi
            lki = yi / d[i]
            dk -= lki * yi
            li[p2] = k
            lx[p2] = lki
            lnz[i] += 1
        if not dk > 0.0:
            return k
        d[k] = dk
    return -1


@_njit
def _row_patterns(n, ap, ai, parent, lp, rp, rj, rpos, li, flag, lnz, pattern):
    """Record, once, the row pattern of L (in the order the up-looking algorithm visits it) and where each
    entry L[k, i] lives in column i, so that the numeric phase needs no tree walks."""
    t_out = 0
    for k in range(n):
        top = n
        flag[k] = k
        lnz[k] = 0
        for p in range(ap[k], ap[k + 1]):
            i = ai[p]
            ln = 0
            while flag[i] != k:
                pattern[ln] = i
                ln += 1
                flag[i] = k
                i = parent[i]
            while ln > 0:
                top -= 1
                ln -= 1
                pattern[top] = pattern[ln]
        rp[k] = t_out
        for t in range(top, n):
            i = pattern[t]
            pos = lp[i] + lnz[i]
            rj[t_out] = i
            rpos[t_out] = pos
            li[pos] = k
            lnz[i] += 1
            t_out += 1
    rp[n] = t_out


@_njit
def ldl_numeric_rows(n, ap, ai, ax, lp, rp, rj, rpos, li, lx, d, y):
    """Numeric LDLᵀ with precomputed row patterns.  Returns -1, or the column with a non-positive pivot."""
    for k in range(n):
        for p in range(ap[k], ap[k + 1]):
            y[ai[p]] += ax[p]
        dk = y[k]
        y[k] = 0.0
        for t in range(rp[k], rp[k + 1]):
            i = rj[t]
            yi = y[i]
            y[i] = 0.0
            end = rpos[t]
            for p in range(lp[i], end):
                y[li[p]] -= lx[p] * yi
            lki = yi / d[i]
            dk -= lki * yi
            lx[end] = lki
        if not dk > 0.0:
            for t in range(k + 1, n):  # leave the work vector clean for the next call
                y[t] = 0.0
            return k
        d[k] = dk
    return -1


@_njit
def ldl_solve(n, lp, li, lx, d, perm, b, x):
    """Solve with the factors; b in original order, x returned in original order (perm: new -> old)."""
    for j in range(n):
        x[j] = b[perm[j]]
    for j in range(n):
        xj = x[j]
        for p in range(lp[j], lp[j + 1]):
            x[li[p]] -= lx[p] * xj
    for j in range(n):
        x[j] /= d[j]
    for j in range(n - 1, -1, -1):
        s = x[j]
        for p in range(lp[j], lp[j + 1]):
            s -= lx[p] * x[li[p]]
        x[j] = s


# Orderings of the topologies seen in this process (key: a digest of the pattern): the same network is often
# simulated again (what-if runs, twin updates, the leak tools' scenarios), and SuperLU's ordering is the largest
# part of building a Kernel (Net6: ~4 of ~7 ms).  The cached ordering is the one SuperLU would return, so
# results are unchanged.
_ORDER_CACHE: OrderedDict[bytes, np.ndarray] = OrderedDict()
ORDER_CACHE_SIZE = 32
_ORDER_LOCK = threading.Lock()


def fill_reducing_order(nj: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Minimum-degree ordering of the symmetric pattern (new position -> old row); SuperLU's MMD as fallback."""
    if nj == 0:
        return np.zeros(0, np.int64)
    h = hashlib.blake2b(np.int64(nj).tobytes(), digest_size=20)
    h.update(np.ascontiguousarray(rows, np.int64).tobytes())
    h.update(np.ascontiguousarray(cols, np.int64).tobytes())
    key = h.digest()
    with _ORDER_LOCK:
        hit = _ORDER_CACHE.get(key)
        if hit is not None:
            _ORDER_CACHE.move_to_end(key)
            return hit.copy()
    perm = minimum_degree_order(nj, rows, cols)  # compiled, ~10x quicker than SuperLU's (runze.hydraulics.ordering)
    if perm is None:
        perm = _mmd_order(nj, rows, cols)
    with _ORDER_LOCK:
        _ORDER_CACHE[key] = perm.copy()
        while len(_ORDER_CACHE) > ORDER_CACHE_SIZE:
            _ORDER_CACHE.popitem(last=False)
    return perm


def clear_order_cache() -> None:
    """Forget cached orderings (benchmarks time a cold build with it)."""
    with _ORDER_LOCK:
        _ORDER_CACHE.clear()


def _mmd_order(nj: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    r = np.concatenate([rows, cols, np.arange(nj)])
    c = np.concatenate([cols, rows, np.arange(nj)])
    vals = np.where(r == c, 4.0, -1.0)
    a = sp.csc_matrix((vals, (r, c)), shape=(nj, nj))
    a = a + sp.identity(nj, format="csc") * nj  # diagonally dominant: SuperLU keeps its ordering, no pivoting
    lu = sla.splu(a, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    # SuperLU's perm_c maps an original column to its position in the factored matrix
    perm_c = np.asarray(lu.perm_c, dtype=np.int64)
    new_to_old = np.empty_like(perm_c)
    new_to_old[perm_c] = np.arange(perm_c.size)
    return new_to_old


class Symbolic:
    """Elimination tree, column pointers and work arrays for a fixed upper-CSC pattern."""

    def __init__(self, n: int, indptr: np.ndarray, indices: np.ndarray, perm: np.ndarray) -> None:
        self.n = n
        self.ap = indptr.astype(np.int64)
        self.ai = indices.astype(np.int64)
        self.perm = perm.astype(np.int64)
        self.parent = np.empty(n, np.int64)
        self.lnz = np.empty(n, np.int64)
        self.flag = np.empty(n, np.int64)
        _etree(n, self.ap, self.ai, self.parent, self.lnz, self.flag)
        self.lp = np.concatenate([[0], np.cumsum(self.lnz)]).astype(np.int64)
        nnz_l = int(self.lp[-1])
        self.li = np.empty(max(nnz_l, 1), np.int64)
        self.lx = np.empty(max(nnz_l, 1))
        self.d = np.empty(n)
        self.y = np.zeros(n)
        self.pattern = np.empty(n, np.int64)
        self.x = np.empty(n)
        self.rp = np.empty(n + 1, np.int64)
        self.rj = np.empty(max(nnz_l, 1), np.int64)
        self.rpos = np.empty(max(nnz_l, 1), np.int64)
        _row_patterns(n, self.ap, self.ai, self.parent, self.lp, self.rp, self.rj, self.rpos, self.li, self.flag,
                      self.lnz, self.pattern)

    def factor_solve(self, ax: np.ndarray, b: np.ndarray) -> tuple[np.ndarray | None, int]:
        bad = ldl_numeric_rows(self.n, self.ap, self.ai, ax, self.lp, self.rp, self.rj, self.rpos, self.li, self.lx,
                               self.d, self.y)
        if bad >= 0:
            return None, int(self.perm[bad])
        ldl_solve(self.n, self.lp, self.li, self.lx, self.d, self.perm, b, self.x)
        out = np.empty(self.n)
        out[self.perm] = self.x
        return out, -1
