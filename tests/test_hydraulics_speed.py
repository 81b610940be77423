"""Speed-work pieces of the solver: the vectorised pipe powers (default; RUNZE_FAST_POW=0 for libm's pow), the
fill-reducing ordering (compiled minimum degree) and its per-topology cache.

pow_pos is checked against libm's pow over the range of flows that occur (and beyond); the EPANET comparisons
of test_hydraulics_epanet run with it, and Net6 over 24 h must meet the same tolerances with libm's pow too.
The ordering cache must return exactly what the ordering computes, and a second run of a network must give
bit-identical results.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_hydraulics_epanet import DAY, NETS, check, compare

import runze.hydraulics as rh
from runze.hydraulics import fastkernel, ldl
from runze.hydraulics.ordering import minimum_degree_order

needs_jit = pytest.mark.skipif(not fastkernel.AVAILABLE, reason="needs numba")


@needs_jit
@pytest.mark.parametrize("a", [0.852, 1.0, 0.5, -0.5])
def test_pow_pos_matches_libm_pow(a):
    rng = np.random.default_rng(7)
    x = np.exp(rng.uniform(np.log(1e-12), np.log(1e6), 200_000))
    x = np.concatenate([x, [1.0, 2.0, 0.5, np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2.0)]])
    out = np.empty_like(x)
    fastkernel.pow_pos(x, a, out, np.empty(x.size, np.int64))
    rel = np.abs(out / x**a - 1.0)
    assert rel.max() < 5e-15, rel.max()
    # at the ends of its range the error grows with |a·ln x| (the rounding of the exponent): still ~1e-13
    x = np.array([1.0001e-300, 1e-290, 1e290, 0.9999e300])
    out = np.empty_like(x)
    fastkernel.pow_pos(x, a, out, np.empty(x.size, np.int64))
    assert np.abs(out / x**a - 1.0).max() < 2e-13


@needs_jit
def test_fast_pipe_coeffs_match_libm_version():
    rng = np.random.default_rng(3)
    n = 5000
    q = rng.normal(0.0, 1.0, n) * 10.0 ** rng.uniform(-9, 2, n)
    q[:5] = [0.0, 1e-320, -1e-310, np.nan, 1e305]
    status = np.where(rng.random(n) < 0.1, 2, 3).astype(np.int8)
    r = rng.uniform(0.1, 1e4, n)
    km = np.where(rng.random(n) < 0.3, rng.uniform(0.0, 5.0, n), 0.0)
    p1, y1, p2, y2 = (np.empty(n) for _ in range(4))
    fastkernel.pipe_coeffs_power(q, status, r, km, 1.852, p1, y1)
    fastkernel.pipe_coeffs_fastpow(q, status, r, km, 1.852, p2, y2)
    np.testing.assert_allclose(p2, p1, rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(y2, y1, rtol=1e-13, equal_nan=True)


@needs_jit
def test_libm_pow_net6_also_matches_epanet(monkeypatch):
    monkeypatch.setenv("RUNZE_FAST_POW", "0")
    ref, res, h, q, st = compare(NETS / "Net6.inp", duration=DAY)
    check(ref, res, h, q, st, flow_abs=3e-5)


def test_ordering_cache_returns_the_minimum_degree_ordering():
    net = rh.load_network(NETS / "Net3.inp")
    c = rh.compile_network(net)
    jj = np.flatnonzero((c.n1 < c.nj) & (c.n2 < c.nj) & (c.n1 != c.n2))
    ldl.clear_order_cache()
    cold = ldl.fill_reducing_order(c.nj, c.n1[jj], c.n2[jj])
    warm = ldl.fill_reducing_order(c.nj, c.n1[jj], c.n2[jj])
    np.testing.assert_array_equal(cold, minimum_degree_order(c.nj, c.n1[jj], c.n2[jj]))
    np.testing.assert_array_equal(warm, cold)
    warm[:] = 0  # callers get a copy: the cached ordering cannot be changed through it
    np.testing.assert_array_equal(ldl.fill_reducing_order(c.nj, c.n1[jj], c.n2[jj]), cold)
    other = ldl.fill_reducing_order(c.nj, c.n1[jj][::-1].copy(), c.n2[jj][::-1].copy())
    assert other.shape == cold.shape  # a different pattern is a different key (computed, not looked up)


def test_second_run_is_bit_identical():
    ldl.clear_order_cache()
    a = rh.simulate(NETS / "Net3.inp")
    b = rh.simulate(NETS / "Net3.inp")
    for key in a.node:
        np.testing.assert_array_equal(a.node[key].to_numpy(), b.node[key].to_numpy())
    for key in a.link:
        np.testing.assert_array_equal(a.link[key].to_numpy(), b.link[key].to_numpy())


def _fill(nj: int, rows: np.ndarray, cols: np.ndarray, perm: np.ndarray) -> int:
    """Entries of L for the junction pattern under `perm` (from the engine's own symbolic analysis)."""
    import scipy.sparse as sp

    inv = np.empty_like(perm)
    inv[perm] = np.arange(nj)
    r = inv[np.concatenate([rows, np.arange(nj)])]
    k = inv[np.concatenate([cols, np.arange(nj)])]
    up = sp.csc_matrix((np.ones(r.size), (np.minimum(r, k), np.maximum(r, k))), shape=(nj, nj))
    up.sum_duplicates()
    up.sort_indices()
    return int(ldl.Symbolic(nj, up.indptr, up.indices, perm).lp[-1])


@pytest.mark.parametrize("name", ["Net3.inp", "Net6.inp", "ky10.inp"])
def test_minimum_degree_is_a_permutation_with_fill_close_to_superlu_mmd(name):
    c = rh.compile_network(rh.load_network(NETS / name))
    jj = np.flatnonzero((c.n1 < c.nj) & (c.n2 < c.nj) & (c.n1 != c.n2))
    rows, cols = c.n1[jj], c.n2[jj]
    md = minimum_degree_order(c.nj, rows, cols)
    assert np.array_equal(np.sort(md), np.arange(c.nj))
    mmd = ldl._mmd_order(c.nj, rows, cols)
    # measured: Net3 173 vs 181, Net6 6,858 vs 6,932, ky10 1,622 vs 1,663, demo city 7,722 vs 7,581 (+1.9 %)
    assert _fill(c.nj, rows, cols, md) <= 1.05 * _fill(c.nj, rows, cols, mmd)


def test_minimum_degree_widens_its_rows_or_gives_up_on_dense_graphs():
    n = 200  # a clique: every elimination-graph row holds n - 1 neighbours (> the first width of 64)
    a, b = np.triu_indices(n, 1)
    order = minimum_degree_order(n, a, b)
    assert order is not None and np.array_equal(np.sort(order), np.arange(n))

def test_fill_reducing_order_falls_back_to_superlu_when_minimum_degree_gives_up(monkeypatch):
    n = 1500  # a star: node 0 has 1,499 neighbours, wider than the widest row tried (1,024)
    rows, cols = np.zeros(n - 1, np.int64), np.arange(1, n)
    assert minimum_degree_order(n, rows, cols) is None
    calls = []
    real = ldl._mmd_order
    monkeypatch.setattr(ldl, "_mmd_order", lambda *a: calls.append(1) or real(*a))
    ldl.clear_order_cache()
    star = ldl.fill_reducing_order(n, rows, cols)
    assert calls and np.array_equal(np.sort(star), np.arange(n))
    star = ldl.fill_reducing_order(n, np.zeros(n - 1, np.int64), np.arange(1, n))
    assert np.array_equal(np.sort(star), np.arange(n))
