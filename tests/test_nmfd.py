"""NMFD (nmfedu.nmfd): the model, the updates and the score-informed start, checked against
an independent element-wise implementation written here, hand-checked cases and properties."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import nmfd as m


def ref_model(W, H):
    """Λ[k, n] = Σ_τ Σ_r W[τ, k, r] H[r, n − τ] by explicit loops (no shifting helpers)."""
    T, K, R = W.shape
    N = H.shape[1]
    L = np.zeros((K, N))
    for k in range(K):
        for n in range(N):
            for tau in range(T):
                if n - tau >= 0:
                    L[k, n] += sum(W[tau, k, r] * H[r, n - tau] for r in range(R))
    return L


def ref_kl_step(V, W, H):
    """One KL update of H then W, from the gradient of D(V|Λ) written element-wise."""
    T, K, R = W.shape
    N = H.shape[1]
    L = ref_model(W, H)
    Q = V / L
    Hn = H.copy()
    for r in range(R):
        for n in range(N):
            num = sum(W[tau, k, r] * Q[k, n + tau] for tau in range(T) for k in range(K)
                      if n + tau < N)
            den = sum(W[tau, k, r] for tau in range(T) for k in range(K) if n + tau < N)
            Hn[r, n] = H[r, n] * num / den
    L = ref_model(W, Hn)
    Q = V / L
    Wn = W.copy()
    for tau in range(T):
        for k in range(K):
            for r in range(R):
                num = sum(Q[k, n] * Hn[r, n - tau] for n in range(tau, N))
                den = sum(Hn[r, n - tau] for n in range(tau, N))
                Wn[tau, k, r] = W[tau, k, r] * num / den
    return Wn, Hn


def ref_frob_step(V, W, H):
    T, K, R = W.shape
    N = H.shape[1]
    L = ref_model(W, H)
    Hn = H.copy()
    for r in range(R):
        for n in range(N):
            num = sum(W[tau, k, r] * V[k, n + tau] for tau in range(T) for k in range(K) if n + tau < N)
            den = sum(W[tau, k, r] * L[k, n + tau] for tau in range(T) for k in range(K) if n + tau < N)
            Hn[r, n] = H[r, n] * num / den
    L = ref_model(W, Hn)
    Wn = W.copy()
    for tau in range(T):
        for k in range(K):
            for r in range(R):
                num = sum(V[k, n] * Hn[r, n - tau] for n in range(tau, N))
                den = sum(L[k, n] * Hn[r, n - tau] for n in range(tau, N))
                Wn[tau, k, r] = W[tau, k, r] * num / den
    return Wn, Hn


def _rand(seed, T=3, K=4, R=2, N=7):
    rng = np.random.default_rng(seed)
    return rng.random((T, K, R)) + 0.1, rng.random((R, N)) + 0.1, rng.random((K, N)) + 0.1


@pytest.mark.parametrize("seed", range(3))
def test_model_matches_elementwise_reference(seed):
    W, H, _ = _rand(seed)
    assert np.allclose(m.model(W, H), ref_model(W, H))
    assert np.allclose(m.model(W, H, order="loop"), ref_model(W, H))


def test_model_hand_checked():
    # one component, template [1, 0.5] over time at a single bin, impulses at 0 and 2
    W = np.zeros((2, 1, 1)); W[:, 0, 0] = [1.0, 0.5]
    assert m.model(W, np.array([[1.0, 0.0, 2.0, 0.0]])).tolist() == [[1.0, 0.5, 2.0, 1.0]]


@pytest.mark.parametrize("beta,ref", [("kl", ref_kl_step), ("frobenius", ref_frob_step)])
@pytest.mark.parametrize("seed", range(2))
def test_one_step_matches_reference(beta, ref, seed):
    W, H, V = _rand(seed)
    res = m.nmfd(V, W0=W, H0=H, n_iter=1, beta=beta)
    Wr, Hr = ref(V, W, H)
    assert np.allclose(res.H, Hr)
    assert np.allclose(res.W, Wr)


def test_T1_is_nmf():
    """With T = 1 the updates are those of plain NMF (nmfedu.factorization, KL)."""
    from nmfedu.factorization import nmf

    rng = np.random.default_rng(0)
    V = rng.random((6, 9)) + 0.1
    W0 = rng.random((6, 2)) + 0.1
    H0 = rng.random((2, 9)) + 0.1
    a = m.nmfd(V, W0=W0[None], H0=H0, n_iter=1, beta="kl")
    b = nmf(V, 2, W0=W0, H0=H0, n_iter=1, beta="kl", tol=0)
    # both update H first, then W
    assert np.allclose(a.H, b.H, rtol=1e-6) and np.allclose(a.W[0], b.W, rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 5), beta=st.sampled_from(["kl", "frobenius"]))
def test_loss_never_increases_and_orders_agree(seed, T, beta):
    rng = np.random.default_rng(seed)
    V = rng.random((8, 12))
    a = m.nmfd(V, R=2, T=T, n_iter=8, beta=beta, seed=seed)
    b = m.nmfd(V, R=2, T=T, n_iter=8, beta=beta, seed=seed, order="loop")
    assert all(y <= x * (1 + 1e-9) + 1e-12 for x, y in zip(a.loss, a.loss[1:]))
    assert np.allclose(a.W, b.W) and np.allclose(a.H, b.H)
    assert np.all(a.W >= 0) and np.all(a.H >= 0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_zeros_of_H0_stay_zero(seed):
    rng = np.random.default_rng(seed)
    V = rng.random((5, 15)) + 0.01
    H0 = rng.random((2, 15)) * (rng.random((2, 15)) < 0.3)
    H0[:, 0] = 1.0
    res = m.nmfd(V, R=2, T=3, H0=H0, n_iter=10, seed=seed)
    assert np.all(res.H[H0 == 0] == 0)


def test_fix_W_and_fix_H():
    W, H, V = _rand(1)
    a = m.nmfd(V, W0=W, H0=H, n_iter=3, fix_W=True)
    b = m.nmfd(V, W0=W, H0=H, n_iter=3, fix_H=True)
    assert np.array_equal(a.W, W) and np.array_equal(b.H, H)


def test_shift():
    H = np.arange(1.0, 5.0)[None]
    assert m.shift(H, 2).tolist() == [[0, 0, 1, 2]]
    assert m.shift(H, -3).tolist() == [[4, 0, 0, 0]]
    assert m.shift(H, 9).tolist() == [[0, 0, 0, 0]]


def test_drum_activations_zero_away_from_hits():
    hits = pd.DataFrame({"Start": [0.0, 1.0, 0.5], "Velocity": [127, 64, 100],
                         "Instrument": ["kick", "kick", "snare"]})
    H0 = m.drum_activations(hits, 60, ["kick", "snare"], sr=22050, hop_length=512)
    n1 = round(1.0 * 22050 / 512)
    n2 = round(0.5 * 22050 / 512)
    assert np.flatnonzero(H0[0]).tolist() == [0, 1, n1 - 1, n1, n1 + 1]
    assert np.flatnonzero(H0[1]).tolist() == [n2 - 1, n2, n2 + 1]
    assert H0[0, n1] == pytest.approx(64 / 127)


def test_drum_templates_use_isolated_hits():
    V = np.zeros((2, 40))
    V[0, 10:12] = [2.0, 1.0]          # kick alone at frame 10
    V[:, 20] = [5.0, 5.0]             # kick together with snare at frame 20
    fr = 512 / 22050
    hits = pd.DataFrame({"Start": [10 * fr, 20 * fr, 20 * fr], "Instrument": ["kick", "kick", "snare"]})
    W = m.drum_templates(V, hits, ["kick", "snare"], T=2, floor=0.0)
    assert W[:, :, 0].tolist() == [[1.0, 0.0], [0.5, 0.0]]


@pytest.mark.parametrize("T", [0, -1, 1.5, True])
def test_bad_T(T):
    with pytest.raises(ValueError, match="T must be an integer >= 1"):
        m.nmfd(np.ones((3, 4)), R=1, T=T)


def test_bad_inputs():
    with pytest.raises(ValueError, match="beta"):
        m.nmfd(np.ones((3, 4)), R=1, beta="is")
    with pytest.raises(ValueError, match="W must have shape"):
        m.model(np.ones((3, 4)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="Pitch must be a General MIDI drum note"):
        m.drum_class(60)
