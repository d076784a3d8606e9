"""Tests of nmfedu.factorization: properties of the multiplicative updates,
agreement with libfmp and scikit-learn, gradients, gradient descent, input checks."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import nmfedu
from nmfedu import factorization as F

SETTINGS = settings(max_examples=40, deadline=None)


# --------------------------------------------------------------------------- #
# strategies
# --------------------------------------------------------------------------- #
entries = st.one_of(st.just(0.0), st.floats(1e-3, 10.0, allow_nan=False, allow_infinity=False))


@st.composite
def problems(draw, max_dim=7, zeros=True):
    """(V, W0, H0): small nonnegative matrices, with exact zeros in W0/H0."""
    K = draw(st.integers(1, max_dim))
    N = draw(st.integers(1, max_dim))
    R = draw(st.integers(1, 4))
    V = draw(hnp.arrays(np.float64, (K, N), elements=entries))
    W0 = draw(hnp.arrays(np.float64, (K, R), elements=st.floats(1e-2, 2.0)))
    H0 = draw(hnp.arrays(np.float64, (R, N), elements=st.floats(1e-2, 2.0)))
    if zeros:
        W0 = W0 * draw(hnp.arrays(np.bool_, (K, R)))
        H0 = H0 * draw(hnp.arrays(np.bool_, (R, N)))
    return V, W0, H0


def random_problem(K=12, N=15, R=3, seed=0, scale=10.0):
    rng = np.random.default_rng(seed)
    V = rng.random((K, N)) * scale
    W0, H0 = F.init_random(V, R, seed=seed + 1, scale=float(V.mean()))
    return V, W0, H0


# --------------------------------------------------------------------------- #
# properties of the multiplicative updates
# --------------------------------------------------------------------------- #
@SETTINGS
@given(problems(), st.sampled_from(["frobenius", "kl"]), st.sampled_from(["mu", "accelerated"]))
def test_mu_keeps_nonnegativity_and_exact_zeros(prob, beta, method):
    V, W0, H0 = prob
    if beta == "kl" and method == "accelerated":
        method = "mu"
    res = nmfedu.nmf(V, W0.shape[1], W0, H0, n_iter=30, tol=0, beta=beta, method=method)
    assert np.all(np.isfinite(res.W)) and np.all(np.isfinite(res.H))
    assert res.W.min() >= 0 and res.H.min() >= 0
    assert np.all(res.W[W0 == 0] == 0)
    assert np.all(res.H[H0 == 0] == 0)


@SETTINGS
@given(problems(), st.sampled_from(["frobenius", "kl"]))
def test_loss_never_increases(prob, beta):
    V, W0, H0 = prob
    res = nmfedu.nmf(V, W0.shape[1], W0, H0, n_iter=40, tol=0, beta=beta, loss_every=1)
    values = np.concatenate([[res.initial_loss], res.loss])
    assert np.all(np.isfinite(values))
    # float tolerance: the history is obtained from sums of size ~ ||V||^2 (Frobenius)
    # or ~ sum V (KL), so it is exact up to a few ulps of those
    scale = float((V ** 2).sum() + res.initial_loss) if beta == "frobenius" \
        else float(V.sum() + (W0 @ H0).sum() + res.initial_loss)
    assert np.all(np.diff(values) <= 1e-10 * scale + 1e-12)


@SETTINGS
@given(problems(zeros=False))
def test_accelerated_loss_never_increases(prob):
    V, W0, H0 = prob
    res = nmfedu.nmf(V, W0.shape[1], W0, H0, n_iter=20, tol=0, method="accelerated", inner=5)
    values = np.concatenate([[res.initial_loss], res.loss])
    scale = float((V ** 2).sum() + res.initial_loss)
    assert np.all(np.diff(values) <= 1e-10 * scale + 1e-12)


@pytest.mark.parametrize("beta", ["frobenius", "kl"])
def test_loss_history_is_the_loss_of_the_iterates(beta):
    V, W0, H0 = random_problem()
    seen = []
    res = nmfedu.nmf(V, 3, W0, H0, n_iter=15, tol=0, beta=beta,
                     callback=lambda it, W, H, value: seen.append((it, W.copy(), H.copy(), value)))
    assert [s[0] for s in seen] == list(range(1, 16))
    np.testing.assert_array_equal(res.loss, [s[3] for s in seen])
    np.testing.assert_array_equal(res.loss_iterations, np.arange(1, 16))
    for _, W, H, value in seen:
        assert value == pytest.approx(nmfedu.loss(V, W, H, beta=beta), rel=1e-9)
    assert res.initial_loss == pytest.approx(nmfedu.loss(V, W0, H0, beta=beta), rel=1e-9)


# --------------------------------------------------------------------------- #
# references
# --------------------------------------------------------------------------- #
def test_matches_libfmp():
    libfmp_c8 = pytest.importorskip("libfmp.c8")
    # V of a realistic level: libfmp adds float32's eps to every denominator, nmfedu
    # clamps at float64's eps; with denominators >> 1e-7 the two agree to rounding.
    V, W0, H0 = random_problem(K=40, N=60, R=5, seed=3, scale=100.0)
    # libfmp's nmf is numba-jitted; its pure-Python original (same code) skips the
    # compilation, which takes tens of seconds
    fmp_nmf = getattr(libfmp_c8.nmf, "py_func", libfmp_c8.nmf)
    Wl, Hl, *_ = fmp_nmf(V, 5, thresh=0.0, L=100, W=W0.copy(), H=H0.copy())
    res = nmfedu.nmf(V, 5, W0, H0, n_iter=100, tol=0)
    np.testing.assert_allclose(res.W, Wl, rtol=1e-7, atol=1e-10 * Wl.max())
    np.testing.assert_allclose(res.H, Hl, rtol=1e-7, atol=1e-10 * Hl.max())


def _sklearn_beta_divergence():
    mod = pytest.importorskip("sklearn.decomposition._nmf")
    if not hasattr(mod, "_beta_divergence"):
        pytest.skip("scikit-learn without _beta_divergence")
    return mod._beta_divergence


@pytest.mark.parametrize("beta,skl_beta,factor", [("frobenius", 2, 2.0), ("kl", 1, 1.0)])
def test_loss_matches_sklearn_objective(beta, skl_beta, factor):
    # scikit-learn's Frobenius objective is 1/2 ||V - WH||^2; nmfedu's is ||V - WH||^2
    bd = _sklearn_beta_divergence()
    V, W0, H0 = random_problem(K=30, N=25, R=4, seed=5)
    V[0, :3] = 0.0                                            # exercise 0 log 0
    res = nmfedu.nmf(V, 4, W0, H0, n_iter=25, tol=0, beta=beta, loss_every=1)
    expected = factor * bd(V, res.W, res.H, skl_beta)
    assert res.loss[-1] == pytest.approx(expected, rel=1e-9)
    assert nmfedu.loss(V, res.W, res.H, beta=beta) == pytest.approx(expected, rel=1e-12)
    assert res.initial_loss == pytest.approx(factor * bd(V, W0, H0, skl_beta), rel=1e-9)


def test_kl_update_formula():
    # one KL update of H (W fixed) is H * W^T (V / WH) / W^T 1, as in Lee & Seung
    V, W0, H0 = random_problem(K=20, N=18, R=3, seed=7)
    res = nmfedu.nmf(V, 3, W0, H0, n_iter=1, tol=0, beta="kl", fix_W=True)
    expected = H0 * (W0.T @ (V / (W0 @ H0))) / W0.sum(axis=0)[:, None]
    np.testing.assert_allclose(res.H, expected, rtol=1e-12)


# --------------------------------------------------------------------------- #
# gradients and gradient descent
# --------------------------------------------------------------------------- #
def _finite_difference(f, X, h=1e-6):
    G = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        Xp = X.copy()
        Xm = X.copy()
        Xp[idx] += h
        Xm[idx] -= h
        G[idx] = (f(Xp) - f(Xm)) / (2 * h)
    return G


@SETTINGS
@given(problems(max_dim=5, zeros=False))
def test_gradients_match_finite_differences(prob):
    V, W, H = prob
    gH = nmfedu.gradient_H(V, W, H)
    gW = nmfedu.gradient_W(V, W, H)
    fdH = _finite_difference(lambda X: nmfedu.loss(V, W, X), H)
    fdW = _finite_difference(lambda X: nmfedu.loss(V, X, H), W)
    scale = 1.0 + np.abs(V).sum() + (W @ H).sum()
    np.testing.assert_allclose(gH, fdH, rtol=1e-5, atol=1e-6 * scale)
    np.testing.assert_allclose(gW, fdW, rtol=1e-5, atol=1e-6 * scale)


def test_gradient_formula_of_the_seeds():
    V, W, H = random_problem(seed=11)
    np.testing.assert_allclose(nmfedu.gradient_H(V, W, H), 2 * (W.T @ W @ H - W.T @ V), rtol=1e-12)
    np.testing.assert_allclose(nmfedu.gradient_W(V, W, H), 2 * (W @ H @ H.T - V @ H.T), rtol=1e-12)


def test_adaptive_learning_rate_gives_the_multiplicative_update():
    # the seeds' derivation: with gamma = H / (W^T W H) the gradient step
    # H - gamma * (W^T W H - W^T V) is H * (W^T V) / (W^T W H)
    V, W, H = random_problem(seed=13)
    H[0, :4] = 0.0
    gamma = F.mu_learning_rate_H(W, H)
    step = H - gamma * (nmfedu.gradient_H(V, W, H) / 2)
    mu = H * (W.T @ V) / (W.T @ W @ H)
    np.testing.assert_allclose(step, mu, rtol=1e-12, atol=0)
    assert np.all(step[H == 0] == 0)
    # and whole runs agree: nmf_gd with the adaptive rates is nmf
    W0, H0 = W.copy(), H.copy()
    W0[3, 1] = 0.0
    gd = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=20, lr_H=F.mu_learning_rate_H, lr_W=F.mu_learning_rate_W,
                       project=False)
    mu_run = nmfedu.nmf(V, 3, W0, H0, n_iter=20, tol=0)
    np.testing.assert_allclose(gd.H, mu_run.H, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gd.W, mu_run.W, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gd.loss, mu_run.loss, rtol=1e-10)
    assert np.all(gd.n_negative == 0)
    assert np.all(gd.H[H0 == 0] == 0) and np.all(gd.W[W0 == 0] == 0)


def test_gd_divergence_negative_entries_and_projection():
    V, W0, H0 = random_problem(seed=17)
    big = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=200, lr_H=1.0, project=False)
    assert big.diverged and big.stop_reason == "diverged" and big.n_iter < 200
    small = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=50, lr_H=1e-4, lr_W=1e-4, project=False, fix_W=True)
    assert not small.diverged and len(small.loss) == 50
    assert small.loss[-1] < small.initial_loss
    free = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=50, lr_H=0.02, lr_W=0.02, project=False)
    proj = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=50, lr_H=0.02, lr_W=0.02, project=True)
    assert free.n_negative.shape == (50, 2)
    assert free.n_negative.sum() > 0
    assert proj.W.min() >= 0 and proj.H.min() >= 0
    # a per-entry learning rate array
    arr = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=5, lr_H=np.full(H0.shape, 1e-3), fix_W=True)
    ref = nmfedu.nmf_gd(V, 3, W0, H0, n_iter=5, lr_H=1e-3, fix_W=True)
    np.testing.assert_allclose(arr.H, ref.H, rtol=1e-13)
    np.testing.assert_array_equal(arr.W, W0)


# --------------------------------------------------------------------------- #
# stop rule, callback, options
# --------------------------------------------------------------------------- #
def test_tol_zero_runs_exactly_n_iter():
    V, W0, H0 = random_problem(seed=19)
    res = nmfedu.nmf(V, 3, W0, H0, n_iter=37, tol=0)
    assert res.n_iter == 37 and len(res.loss) == 37 and not res.converged
    assert res.changes is None and res.stop_reason == "n_iter"
    assert nmfedu.nmf(V, 3, W0, H0, n_iter=0).n_iter == 0


@pytest.mark.parametrize("beta", ["frobenius", "kl"])
def test_stop_rule_on_frobenius_norm_of_changes(beta):
    V, W0, H0 = random_problem(seed=23)
    seen = []
    res = nmfedu.nmf(V, 3, W0, H0, n_iter=5000, tol=1e-3, beta=beta,
                     callback=lambda it, W, H, v: seen.append((W.copy(), H.copy())))
    assert res.converged and res.stop_reason == "tol" and res.n_iter < 5000
    dW, dH = res.changes[-1]
    assert dW <= 1e-3 and dH <= 1e-3
    assert np.all(np.max(res.changes[:-1], axis=1) > 1e-3)
    # the recorded changes are the Frobenius norms of W and H differences
    (W1, H1), (W2, H2) = seen[-2], seen[-1]
    assert dW == pytest.approx(np.linalg.norm(W2 - W1), rel=1e-6, abs=1e-15)
    assert dH == pytest.approx(np.linalg.norm(H2 - H1), rel=1e-6, abs=1e-15)
    rel = nmfedu.nmf(V, 3, W0, H0, n_iter=5000, tol=1e-4, beta=beta, relative_tol=True)
    assert rel.converged


def test_callback_can_stop_and_inputs_are_not_modified():
    V, W0, H0 = random_problem(seed=29)
    W_copy, H_copy = W0.copy(), H0.copy()
    res = nmfedu.nmf(V, 3, W0, H0, n_iter=100, callback=lambda it, W, H, v: it == 7)
    assert res.n_iter == 7 and res.stop_reason == "callback" and len(res.loss) == 7
    np.testing.assert_array_equal(W0, W_copy)
    np.testing.assert_array_equal(H0, H_copy)


@pytest.mark.parametrize("beta", ["frobenius", "kl"])
def test_fix_W_and_fix_H(beta):
    V, W0, H0 = random_problem(seed=31)
    a = nmfedu.nmf(V, 3, W0, H0, n_iter=20, beta=beta, fix_W=True, loss_every=1)
    np.testing.assert_array_equal(a.W, W0)
    assert not np.array_equal(a.H, H0)
    assert a.loss[-1] == pytest.approx(nmfedu.loss(V, a.W, a.H, beta=beta), rel=1e-9)
    b = nmfedu.nmf(V, 3, W0, H0, n_iter=20, beta=beta, fix_H=True, loss_every=1)
    np.testing.assert_array_equal(b.H, H0)
    assert b.loss[-1] == pytest.approx(nmfedu.loss(V, b.W, b.H, beta=beta), rel=1e-9)
    assert np.all(np.diff(b.loss) <= 1e-10 * b.loss[0])


def test_kl_loss_every_thins_the_history():
    V, W0, H0 = random_problem(seed=37)
    res = nmfedu.nmf(V, 3, W0, H0, n_iter=25, tol=0, beta="kl")
    np.testing.assert_array_equal(res.loss_iterations, [10, 20, 25])
    assert len(res.loss) == 3
    full = nmfedu.nmf(V, 3, W0, H0, n_iter=25, tol=0, beta="kl", loss_every=1)
    np.testing.assert_allclose(res.loss, full.loss[[9, 19, 24]], rtol=1e-12)
    np.testing.assert_array_equal(res.W, full.W)


@pytest.mark.parametrize("beta", ["frobenius", "kl"])
def test_float32(beta):
    V, W0, H0 = random_problem(K=60, N=80, R=5, seed=41)
    a = nmfedu.nmf(V, 5, W0, H0, n_iter=100, tol=0, beta=beta)
    b = nmfedu.nmf(V, 5, W0, H0, n_iter=100, tol=0, beta=beta, dtype=np.float32)
    assert b.W.dtype == np.float32 and b.H.dtype == np.float32 and a.W.dtype == np.float64
    la = nmfedu.loss(V, a.W, a.H, beta=beta)
    lb = nmfedu.loss(V, b.W.astype(np.float64), b.H.astype(np.float64), beta=beta)
    assert abs(la - lb) / la < 1e-3
    assert b.loss[-1] == pytest.approx(lb, rel=1e-3)


def test_accelerated_beats_plain_mu_per_outer_iteration():
    V, W0, H0 = random_problem(K=50, N=70, R=6, seed=43)
    W0[:5, 0] = 0.0
    plain = nmfedu.nmf(V, 6, W0, H0, n_iter=30, tol=0)
    acc = nmfedu.nmf(V, 6, W0, H0, n_iter=30, tol=0, method="accelerated")
    assert acc.loss[-1] < plain.loss[-1]
    assert np.all(acc.W[:5, 0] == 0)
    assert F.inner_iterations(1025, 2900, 88) == (7, 19)
    with pytest.raises(ValueError, match="beta"):
        nmfedu.nmf(V, 6, method="accelerated", beta="kl")


def test_default_init_and_seed():
    V, _, _ = random_problem(seed=47)
    a = nmfedu.nmf(V, 3, n_iter=5, seed=0)
    b = nmfedu.nmf(V, 3, n_iter=5, seed=0)
    np.testing.assert_array_equal(a.W, b.W)
    W0, H0 = F.init_random(np.ones((200, 300)), 10, seed=1, scale=4.0)
    assert (W0 @ H0).mean() == pytest.approx(4.0, rel=0.05)
    assert W0.min() >= 0 and H0.min() >= 0
    W32, _ = F.init_random(np.ones((3, 4)), 2, seed=1, dtype="float32")
    assert W32.dtype == np.float32
    assert "NMFResult" in repr(a)


def test_loss_function():
    V = np.array([[1.0, 0.0], [2.0, 3.0]])
    W = np.array([[1.0], [1.0]])
    H = np.array([[1.0, 2.0]])
    assert nmfedu.loss(V, W, H) == pytest.approx(0 + 4 + 1 + 1)
    kl = 1 * np.log(1 / 1) - 1 + 1 + (0 - 0 + 2) + (2 * np.log(2) - 2 + 1) + (3 * np.log(1.5) - 3 + 2)
    assert nmfedu.loss(V, W, H, beta="kl") == pytest.approx(kl)
    assert nmfedu.loss(V, W, np.array([[1.0, 0.0]]), beta="kl") == np.inf


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
GOOD = np.ones((4, 5))


@pytest.mark.parametrize("V,match", [
    (-GOOD, "V must be nonnegative"),
    (np.where(np.eye(4, 5) > 0, np.nan, 1.0), "V must contain only finite"),
    (np.where(np.eye(4, 5) > 0, np.inf, 1.0), "V must contain only finite"),
    (np.ones(5), "V must be a 2-D"),
    (np.ones((2, 2, 2)), "V must be a 2-D"),
    (np.ones((0, 5)), "V must be nonempty"),
    (np.array([["a", "b"]]), "V must be a 2-D array of real"),
])
def test_bad_V(V, match):
    with pytest.raises(ValueError, match=match):
        nmfedu.nmf(V, 2)


@pytest.mark.parametrize("R", [0, -1, 2.5, 2.0, True, "3", None])
def test_bad_R(R):
    with pytest.raises(ValueError, match="R must be an integer >= 1"):
        nmfedu.nmf(GOOD, R)


@pytest.mark.parametrize("kw,match", [
    (dict(W0=np.ones((4, 3))), r"W0 must have shape \(4, 2\)"),
    (dict(H0=np.ones((3, 5))), r"H0 must have shape \(2, 5\)"),
    (dict(W0=-np.ones((4, 2))), "W0 must be nonnegative"),
    (dict(H0=-np.ones((2, 5))), "H0 must be nonnegative"),
    (dict(H0=np.full((2, 5), np.nan)), "H0 must contain only finite"),
    (dict(tol=-1e-3), "tol must be a finite number >= 0"),
    (dict(n_iter=-1), "n_iter must be an integer >= 0"),
    (dict(n_iter=2.5), "n_iter must be an integer"),
    (dict(beta="itakura"), "beta must be 'frobenius' or 'kl'"),
    (dict(method="als"), "method must be"),
    (dict(dtype=np.int32), "dtype must be"),
    (dict(loss_every=0), "loss_every must be an integer >= 1"),
    (dict(callback=3), "callback must be callable"),
    (dict(eps=0.0), "eps must be"),
    (dict(method="accelerated", inner=0), "inner must be"),
])
def test_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        nmfedu.nmf(GOOD, 2, **kw)


def test_bad_input_gradients_and_gd():
    with pytest.raises(ValueError, match="W must"):
        nmfedu.gradient_H(GOOD, np.ones((3, 2)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="H must"):
        nmfedu.gradient_W(GOOD, np.ones((4, 2)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="V must be nonnegative"):
        nmfedu.loss(-GOOD, np.ones((4, 2)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="lr_H must"):
        nmfedu.nmf_gd(GOOD, 2, lr_H=np.ones((3, 3)), lr_W=0.1)
    with pytest.raises(ValueError, match="lr_H must be >= 0"):
        nmfedu.nmf_gd(GOOD, 2, lr_H=-1.0)
    with pytest.raises(ValueError, match="lr_W must be given"):
        nmfedu.nmf_gd(GOOD, 2, lr_H=np.ones((2, 5)))


def test_frobenius_forms_no_K_by_N_temporary():
    # the updates and the loss history need only K x R, R x R and R x N arrays
    import tracemalloc
    rng = np.random.default_rng(53)
    K, N, R = 300, 400, 4
    V = rng.random((K, N))
    W0, H0 = F.init_random(V, R, seed=1, scale=1.0)
    tracemalloc.start()
    try:
        nmfedu.nmf(V, R, W0, H0, n_iter=5)
        nmfedu.nmf(V, R, W0, H0, n_iter=5, method="accelerated")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * V.nbytes
