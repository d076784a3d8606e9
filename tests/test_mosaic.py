"""Let-It-Bee mosaicing (nmfedu.mosaic): restrictions against small references written
here, the KL behaviour, run lengths, resynthesis and the bad-input messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import mosaic as mo
from nmfedu.spectrogram import stft


def ref_continuity(H, c):
    M, N = H.shape
    out = np.zeros_like(H)
    lo = -(c // 2)
    for m in range(M):
        for n in range(N):
            for j in range(lo, lo + c):
                if 0 <= m + j < M and 0 <= n + j < N:
                    out[m, n] += H[m + j, n + j]
    return out


def ref_polyphony(H, p, d):
    out = H * d
    for n in range(H.shape[1]):
        keep = np.argsort(-H[:, n], kind="stable")[:p]
        out[keep, n] = H[keep, n]
    return out


def ref_repetition(H, r, d):
    out = H.copy()
    M, N = H.shape
    for i in range(M):
        for n in range(N):
            if H[i, n] < H[i, max(0, n - r):n + r + 1].max():
                out[i, n] = H[i, n] * d
    return out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), c=st.integers(1, 6))
def test_continuity_matches_reference(seed, c):
    H = np.random.default_rng(seed).random((7, 9))
    assert np.allclose(mo.continuity_enhancement(H, c), ref_continuity(H, c))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 8), d=st.floats(0, 1))
def test_polyphony_matches_reference(seed, p, d):
    H = np.random.default_rng(seed).random((6, 5))       # distinct values almost surely
    assert np.allclose(mo.polyphony_restriction(H, p, d), ref_polyphony(H, p, d))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), r=st.integers(1, 4), d=st.floats(0, 1))
def test_repetition_matches_reference(seed, r, d):
    H = np.random.default_rng(seed).random((4, 10))
    assert np.allclose(mo.repetition_restriction(H, r, d), ref_repetition(H, r, d))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_kl_falls_monotonically_without_restrictions(seed):
    rng = np.random.default_rng(seed)
    W = rng.random((12, 15)); V = rng.random((12, 10))
    r = mo.mosaic(V, W, n_iter=15, repetition=None, polyphony=None, continuity=None, seed=seed)
    assert all(b <= a * (1 + 1e-10) for a, b in zip(r.kl, r.kl[1:]))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_each_kl_update_lowers_the_restricted_divergence(seed):
    rng = np.random.default_rng(seed)
    W = rng.random((12, 15)); V = rng.random((12, 10))
    r = mo.mosaic(V, W, n_iter=10, repetition=2, polyphony=3, continuity=3, seed=seed)
    assert len(r.kl_restricted) == 10
    assert all(b <= a * (1 + 1e-10) for a, b in zip(r.kl_restricted, r.kl[1:]))


def test_exact_source_is_found_without_restrictions():
    """If the target is a stretch of the source, the fixed-W KL fit reconstructs it."""
    rng = np.random.default_rng(0)
    W = rng.random((40, 20)) ** 4
    V = W[:, 4:12]
    r = mo.mosaic(V, W, n_iter=300, repetition=None, polyphony=None, continuity=None)
    assert r.kl[-1] < 1e-3 * r.kl[0]


def test_continuity_lengthens_diagonal_runs():
    rng = np.random.default_rng(1)
    W = rng.random((30, 60)) + 0.05
    V = W[:, 10:40] + 0.2 * rng.random((30, 30))
    off = mo.mosaic(V, W, n_iter=20, continuity=None)
    on = mo.mosaic(V, W, n_iter=20, continuity=5)
    assert mo.diagonal_runs(on.H).mean() > mo.diagonal_runs(off.H).mean()


def test_diagonal_runs_hand_checked():
    H = np.zeros((4, 6))
    for n in range(4):
        H[n, n] = 1.0                      # one run of 4
    H[0, 4] = H[1, 5] = 1.0                # one run of 2
    assert sorted(mo.diagonal_runs(H).tolist()) == [2, 4]


def test_resynthesis_from_source_frames():
    x = np.random.default_rng(2).standard_normal(8192)
    X = stft(x)
    H = np.zeros((X.shape[1], X.shape[1])); H[np.arange(X.shape[1]), np.arange(X.shape[1])] = 2.0
    assert np.allclose(mo.resynthesize_mosaic(X, H, length=x.size), 2 * x)


def test_bad_inputs():
    W = np.ones((5, 3)); V = np.ones((5, 4))
    with pytest.raises(ValueError, match="source has 3 frames, fewer than the continuity length"):
        mo.mosaic(V, W, continuity=5)
    with pytest.raises(ValueError, match="polyphony must be"):
        mo.mosaic(V, W, polyphony=-2, continuity=None)
    with pytest.raises(ValueError, match="W must have as many rows"):
        mo.mosaic(V, np.ones((4, 3)), continuity=None)


def test_bundled_source_loads():
    x, sr, meta = mo.load_source()
    assert sr == 22050 and x.ndim == 1 and x.size > 5 * sr
    assert "Bird" in meta["title"]
