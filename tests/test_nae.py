"""Tests of nmfedu.nae: gradients against finite differences, the two training rules,
template and activation constraints, reproducibility, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import nae
from nmfedu.demos import nb08 as demo08


def _data(K=12, N=15, R=4, seed=0, rank=None):
    rng = np.random.default_rng(seed)
    if rank is None:
        V = rng.random((K, N))
    else:
        V = rng.random((K, rank)) @ rng.random((rank, N))
    return V


def _fd_grad(f, W, idx, h=1e-6):
    Wp, Wm = W.copy(), W.copy()
    Wp[idx] += h
    Wm[idx] -= h
    return (f(Wp) - f(Wm)) / (2 * h)


def _check_fd(V, W_E, W_D, M, relu, n_check=25, seed=1):
    L, gE, gD = nae.gradients(V, W_E, W_D, M_H=M, relu=relu)
    assert L == pytest.approx(nae.loss(V, W_E, W_D, M_H=M, relu=relu))
    rng = np.random.default_rng(seed)
    for _ in range(n_check):
        i = (rng.integers(W_E.shape[0]), rng.integers(W_E.shape[1]))
        fd = _fd_grad(lambda X: nae.loss(V, X, W_D, M_H=M, relu=relu), W_E, i)
        assert gE[i] == pytest.approx(fd, rel=1e-5, abs=1e-6 * (1 + abs(fd)))
        j = (rng.integers(W_D.shape[0]), rng.integers(W_D.shape[1]))
        fd = _fd_grad(lambda X: nae.loss(V, W_E, X, M_H=M, relu=relu), W_D, j)
        assert gD[j] == pytest.approx(fd, rel=1e-5, abs=1e-6 * (1 + abs(fd)))


def _signed(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _mask(R, N, seed, p=0.6):
    return (np.random.default_rng(seed).random((R, N)) < p).astype(float)


# ----------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("masked", [False, True])
def test_gradients_match_fd_all_active(masked):
    """Nonnegative weights: every ReLU is in its active (identity) part."""
    K, N, R = 10, 14, 3
    V = _data(K, N)
    rng = np.random.default_rng(2)
    W_E, W_D = rng.random((R, K)) + 0.1, rng.random((K, R)) + 0.1
    M = _mask(R, N, 3) if masked else None
    _check_fd(V, W_E, W_D, M, relu=True)


@pytest.mark.parametrize("masked", [False, True])
def test_gradients_match_fd_with_active_sets(masked):
    """Weights of both signs: both ReLUs clip some entries, the indicators matter."""
    K, N, R = 10, 14, 4
    V = _data(K, N)
    W_E, W_D = _signed((R, K), 4), _signed((K, R), 5)
    M = _mask(R, N, 6) if masked else None
    Z = W_E @ V
    H = np.maximum(Z, 0) * (1 if M is None else M)
    Y = W_D @ H
    # the example exercises both sides of both kinks, away from them
    assert (Z < 0).any() and (Z > 0).any() and (Y < 0).any() and (Y > 0).any()
    assert np.abs(Z).min() > 1e-4 and np.abs(Y[np.abs(Y) > 0]).min() > 1e-4
    _check_fd(V, W_E, W_D, M, relu=True)


@pytest.mark.parametrize("masked", [False, True])
def test_gradients_match_fd_without_relu(masked):
    K, N, R = 9, 11, 3
    V = _data(K, N)
    W_E, W_D = _signed((R, K), 7), _signed((K, R), 8)
    M = _mask(R, N, 9) if masked else None
    _check_fd(V, W_E, W_D, M, relu=False)


def test_multiplicative_rule_is_gradient_split():
    """Without ReLUs: −½ ∂L/∂W = num − den of the seeds' multiplicative rules."""
    K, N, R = 8, 10, 3
    V = _data(K, N)
    rng = np.random.default_rng(10)
    W_E, W_D, M = rng.random((R, K)), rng.random((K, R)), _mask(R, N, 11)
    _, gE, gD = nae.gradients(V, W_E, W_D, M_H=M, relu=False)
    Hp = (W_E @ V) * M
    num_E = ((W_D.T @ V) * M) @ V.T
    den_E = ((W_D.T @ W_D @ Hp) * M) @ V.T
    num_D, den_D = V @ Hp.T, W_D @ Hp @ Hp.T
    np.testing.assert_allclose(-gE / 2, num_E - den_E, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(-gD / 2, num_D - den_D, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- masking

def _block_example():
    """V's frames 0..5 use bins 0..5, frames 6..11 use bins 6..11; code row 0 is
    masked in frames 6..11, so W_E[0, 6:] only reaches masked code entries."""
    rng = np.random.default_rng(12)
    K, N, R = 12, 12, 3
    V = np.zeros((K, N))
    V[:6, :6] = rng.random((6, 6)) + 0.1
    V[6:, 6:] = rng.random((6, 6)) + 0.1
    M = np.ones((R, N))
    M[0, 6:] = 0
    W_E = rng.random((R, K)) + 0.1
    W_D = rng.random((K, R)) + 0.1
    return V, W_E, W_D, M


@pytest.mark.parametrize("relu", [True, False])
def test_masked_code_entries_do_not_influence_output_or_gradients(relu):
    V, W_E, W_D, M = _block_example()
    L1, gE1, gD1 = nae.gradients(V, W_E, W_D, M_H=M, relu=relu)
    W_E2 = W_E.copy()
    W_E2[0, 6:] = 50.0          # changes only the masked entries H[0, 6:]
    L2, gE2, gD2 = nae.gradients(V, W_E2, W_D, M_H=M, relu=relu)
    assert L1 == L2
    np.testing.assert_array_equal(gD1, gD2)
    np.testing.assert_array_equal(gE1, gE2)
    np.testing.assert_array_equal(gE1[0, 6:], 0.0)
    # the same without the mask: they do influence
    L3 = nae.loss(V, W_E2, W_D, relu=relu)
    assert L3 != nae.loss(V, W_E, W_D, relu=relu)


def test_decode_ignores_masked_entries():
    rng = np.random.default_rng(13)
    H, W_D, M = rng.random((4, 9)), rng.random((7, 4)), _mask(4, 9, 14)
    H2 = np.where(M > 0, H, 1e6)
    np.testing.assert_array_equal(nae.decode(H, W_D, M_H=M), nae.decode(H2, W_D, M_H=M))
    H3 = np.where(M > 0, H, np.nan)
    np.testing.assert_array_equal(nae.decode(np.nan_to_num(H3), W_D, M_H=M),
                                  nae.decode(H, W_D, M_H=M))


@pytest.mark.parametrize("rule", nae.RULES)
def test_training_ignores_masked_entries(rule):
    """Encoder weights that reach only masked code entries never move the other weights."""
    V, W_E, W_D, M = _block_example()
    W_E2 = W_E.copy()
    W_E2[0, 6:] = 3.0
    kw = dict(rule=rule, n_epochs=20, lr=1e-3, M_H=M)
    a = nae.fit(V, 3, W_D0=W_D, W_E0=W_E, **kw)
    b = nae.fit(V, 3, W_D0=W_D, W_E0=W_E2, **kw)
    np.testing.assert_array_equal(a.W_D, b.W_D)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.H, b.H)
    np.testing.assert_array_equal(a.W_E[:, :6], b.W_E[:, :6])
    np.testing.assert_array_equal(a.W_E[1:], b.W_E[1:])
    # zero gradient (or 0/0) leaves those weights where they started
    np.testing.assert_array_equal(b.W_E[0, 6:], 3.0)


# ----------------------------------------------------------------------------- training rules

@settings(max_examples=15, deadline=None)
@given(K=st.integers(2, 10), N=st.integers(2, 10), R=st.integers(1, 5),
       seed=st.integers(0, 2**16), rule=st.sampled_from(nae.RULES),
       lr=st.sampled_from(["lipschitz", 1e-2, 1.0]), masked=st.booleans())
def test_weights_stay_nonnegative_and_template_zeros_stay_zero(K, N, R, seed, rule, lr, masked):
    rng = np.random.default_rng(seed)
    V = rng.random((K, N)) * rng.integers(0, 2, (K, N))
    W_D0 = rng.random((K, R)) * (rng.random((K, R)) < 0.6)
    W_E0 = rng.random((R, K))
    M = (rng.random((R, N)) < 0.7) if masked else None
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = nae.fit(V, R, rule=rule, n_epochs=15, lr=lr, W_D0=W_D0, W_E0=W_E0, M_H=M)
    assert np.all(res.W_E >= 0) and np.all(res.W_D >= 0)
    assert np.all(res.W_D[W_D0 == 0] == 0)
    assert np.all(res.H >= 0)
    if rule == "multiplicative":
        assert np.all(res.W_E[W_E0 == 0] == 0)
        assert np.all(np.isfinite(res.W_E)) and np.all(np.isfinite(res.W_D))


def test_multiplicative_one_epoch_matches_formulas():
    """Encoder first (old H', old W_D), then H' recomputed, then the decoder."""
    K, N, R = 9, 13, 3
    V = _data(K, N, seed=15)
    rng = np.random.default_rng(16)
    W_E, W_D, M = rng.random((R, K)), rng.random((K, R)), _mask(R, N, 17)
    Hp = (W_E @ V) * M
    W_E1 = W_E * (((W_D.T @ V) * M) @ V.T) / (((W_D.T @ W_D @ Hp) * M) @ V.T)
    Hp1 = (W_E1 @ V) * M
    W_D1 = W_D * (V @ Hp1.T) / (W_D @ Hp1 @ Hp1.T)
    res = nae.fit(V, R, rule="multiplicative", n_epochs=1, W_D0=W_D, W_E0=W_E, M_H=M)
    np.testing.assert_allclose(res.W_E, W_E1, rtol=1e-12)
    np.testing.assert_allclose(res.W_D, W_D1, rtol=1e-12)
    np.testing.assert_allclose(res.H, Hp1, rtol=1e-12)
    assert res.loss[0] == pytest.approx(np.sum((V - W_D1 @ Hp1) ** 2), rel=1e-10)
    assert res.initial_loss == pytest.approx(np.sum((V - W_D @ Hp) ** 2), rel=1e-10)


def test_additive_one_epoch_matches_projected_step():
    K, N, R = 9, 13, 3
    V = _data(K, N, seed=18)
    rng = np.random.default_rng(19)
    W_E, W_D, M = rng.random((R, K)), rng.random((K, R)), _mask(R, N, 20)
    W_D[0, 0] = 0.0
    lr = 1e-3
    _, gE, gD = nae.gradients(V, W_E, W_D, M_H=M)
    W_E1 = np.maximum(W_E - lr * gE, 0)
    W_D1 = np.maximum(W_D - lr * gD, 0)
    W_D1[0, 0] = 0.0
    res = nae.fit(V, R, rule="additive", n_epochs=1, lr=lr, W_D0=W_D, W_E0=W_E, M_H=M)
    np.testing.assert_allclose(res.W_E, W_E1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.W_D, W_D1, rtol=1e-12, atol=1e-15)
    assert res.loss[0] == pytest.approx(nae.loss(V, W_E1, W_D1, M_H=M), rel=1e-12)


@pytest.mark.parametrize("masked", [False, True])
def test_multiplicative_loss_never_increases(masked):
    V = _data(30, 40, seed=21, rank=5)
    M = _mask(6, 40, 22, p=0.8) if masked else None
    res = nae.fit(V, 6, rule="multiplicative", n_epochs=200, M_H=M, seed=3)
    curve = res.curve
    assert np.all(np.diff(curve) <= 1e-9 * curve[:-1])
    assert curve[-1] < 0.5 * curve[0]


def test_additive_lipschitz_decreases_loss():
    V = _data(30, 40, seed=23, rank=5)
    res = nae.fit(V, 6, rule="additive", n_epochs=200, seed=3)
    assert res.loss[-1] < res.initial_loss
    assert res.lr.shape == (200, 2) and np.all(res.lr > 0)


@pytest.mark.parametrize("rule", nae.RULES)
def test_reported_loss_is_the_model_loss(rule):
    V = _data(20, 25, seed=24)
    M = _mask(4, 25, 25)
    res = nae.fit(V, 4, rule=rule, n_epochs=30, M_H=M, seed=5)
    assert res.loss.shape == (30,) and res.times.shape == (30,)
    assert res.loss[-1] == pytest.approx(nae.loss(V, res.W_E, res.W_D, M_H=M), rel=1e-9)
    np.testing.assert_allclose(res.H, nae.encode(V, res, M_H=M))
    np.testing.assert_allclose(nae.decode(res.H, res.W_D), nae.reconstruct(V, res, M_H=M))


@pytest.mark.parametrize("rule", nae.RULES)
def test_seeded_runs_are_bit_for_bit_reproducible(rule):
    V = _data(25, 30, seed=26)
    a = nae.fit(V, 5, rule=rule, n_epochs=40, seed=7)
    b = nae.fit(V, 5, rule=rule, n_epochs=40, seed=7)
    c = nae.fit(V, 5, rule=rule, n_epochs=40, seed=8)
    for name in ("W_E", "W_D", "H", "loss", "W_E0", "W_D0"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.W_D0, c.W_D0)


def test_encode_decode_new_frames():
    V = _data(20, 30, seed=27, rank=3)
    res = nae.fit(V, 3, rule="multiplicative", n_epochs=300, seed=0)
    V_new = _data(20, 30, seed=27, rank=3)[:, :5] * 2.0   # same subspace, new scale
    H = res.encode(V_new)
    assert H.shape == (3, 5)
    err = np.sum((V_new - res.decode(H)) ** 2) / np.sum(V_new ** 2)
    assert err < 0.05


def test_callback_stops_early_and_sees_read_only_weights():
    V = _data(10, 12, seed=28)
    seen = []

    def cb(epoch, W_E, W_D, loss):
        seen.append((epoch, loss))
        with pytest.raises(ValueError):
            W_E[0, 0] = 1.0
        return epoch == 4

    res = nae.fit(V, 2, n_epochs=20, seed=0, callback=cb)
    assert res.n_epochs == 4 and len(res.loss) == 4 and [e for e, _ in seen] == [1, 2, 3, 4]
    assert [l for _, l in seen] == list(res.loss)


def test_zero_epochs_returns_initialisation():
    V = _data(10, 12, seed=29)
    res = nae.fit(V, 2, n_epochs=0, seed=0)
    np.testing.assert_array_equal(res.W_E, res.W_E0)
    assert res.loss.shape == (0,) and res.initial_loss > 0


def test_too_large_fixed_lr_keeps_weights_nonnegative():
    """A far too large step overshoots; the projection still keeps every weight >= 0."""
    import warnings
    V = _data(10, 12, seed=30) * 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = nae.fit(V, 2, n_epochs=5, lr=10.0, seed=0)
    assert np.all(res.W_E >= 0) and np.all(res.W_D >= 0)
    assert res.loss[-1] > res.initial_loss


def test_float32():
    V = _data(20, 25, seed=31)
    for rule in nae.RULES:
        res = nae.fit(V, 3, rule=rule, n_epochs=20, seed=0, dtype=np.float32)
        assert res.W_E.dtype == np.float32 and res.W_D.dtype == np.float32
        assert res.loss[-1] < res.initial_loss


# ----------------------------------------------------------------------------- initialisation

def test_init_random_is_scaled_to_the_data():
    V = _data(30, 40, seed=32) * 100
    W_E, W_D = nae.init_random(V, 5, seed=0)
    Vh = W_D @ (W_E @ V)
    assert np.all(W_E > 0) and np.all(W_D > 0)
    # least-squares optimal scale: <V - Vh, Vh> = 0
    assert abs(np.vdot(V - Vh, Vh)) < 1e-9 * np.vdot(Vh, Vh)


def test_init_from_nmf_uses_templates_and_clipped_pinv():
    V = _data(15, 20, seed=33, rank=3)
    W = np.random.default_rng(34).random((15, 3))
    W_E, W_D = nae.init_from_nmf(V, W)
    np.testing.assert_array_equal(W_D, W)
    P = np.maximum(np.linalg.pinv(W), 0)
    c = W_E[P > 0] / P[P > 0]
    np.testing.assert_allclose(c, c[0])
    assert np.all(W_E[P == 0] == 0)


def test_fit_with_decoder_only_uses_pinv_encoder():
    V = _data(15, 20, seed=35)
    W = np.random.default_rng(36).random((15, 3))
    res = nae.fit(V, None, n_epochs=0, W_D0=W)
    W_E, _ = nae.init_from_nmf(V, W)
    np.testing.assert_array_equal(res.W_E0, W_E)


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, match", [
    (dict(V=np.ones(5)), "V"),
    (dict(V=-np.ones((4, 5))), "V must be nonnegative"),
    (dict(V=np.full((4, 5), np.nan)), "V must contain only finite values, got NaN"),
    (dict(V=np.zeros((0, 5))), "V must be nonempty"),
    (dict(R=0), "R"),
    (dict(R=2.5), "R"),
    (dict(rule="adam"), "rule"),
    (dict(lr=0.0), "lr"),
    (dict(lr=-1.0), "lr"),
    (dict(lr=np.nan), "lr"),
    (dict(lr="fast"), "lr"),
    (dict(n_epochs=-1), "n_epochs"),
    (dict(M_H=np.ones((3, 5))), "M_H must have shape"),
    (dict(M_H=np.full((2, 5), 0.5)), "M_H must be binary"),
    (dict(W_D0=np.ones((3, 2))), "W_D0"),
    (dict(W_D0=-np.ones((4, 2))), "W_D0 must be nonnegative"),
    (dict(W_E0=np.ones((2, 3))), "W_E0"),
    (dict(W_E0=np.full((2, 4), np.inf)), "W_E0 must contain only finite values, got inf"),
    (dict(W_D0=np.ones((4, 3))), "W_D0 has R = 3"),
    (dict(callback=3), "callback"),
    (dict(seed="x"), "seed"),
])
def test_bad_input_raises_value_error_naming_parameter(kwargs, match):
    args = dict(V=np.ones((4, 5)), R=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        nae.fit(args.pop("V"), args.pop("R"), n_epochs=args.pop("n_epochs", 2), **args)


def test_bad_input_of_helpers():
    V = np.ones((4, 5))
    with pytest.raises(ValueError, match="W_E"):
        nae.gradients(V, np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="M_H"):
        nae.gradients(V, np.ones((2, 4)), np.ones((4, 2)), M_H=np.ones((2, 4)))
    with pytest.raises(ValueError, match="V must have K"):
        nae.encode(np.ones((3, 5)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="H must have R"):
        nae.decode(np.ones((3, 5)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="n_epochs"):
        demo08.compare(V, 2, n_epochs=0)


def test_crossing_epoch():
    assert demo08.crossing_epoch([4.0, 3.0, 1.0], 3.0) == 1
    assert demo08.crossing_epoch([4.0, 3.0], 1.0) is None


def test_additive_epoch_with_kinks_matches_generic_gradients():
    """Zero frames (Z = 0), template zeros and masks that make Y = 0 exactly: the
    training's shortcut forward pass gives the same step as gradients()."""
    rng = np.random.default_rng(40)
    K, N, R = 10, 12, 4
    V = rng.random((K, N))
    V[:, 3] = 0.0
    W_E = rng.random((R, K))
    W_D = rng.random((K, R)) * (rng.random((K, R)) < 0.5)
    W_D[2] = 0.0
    M = _mask(R, N, 41, p=0.5)
    lr = 1e-3
    _, gE, gD = nae.gradients(V, W_E, W_D, M_H=M)
    Y = W_D @ ((W_E @ V) * M)
    assert (Y == 0).any()
    res = nae.fit(V, R, rule="additive", n_epochs=1, lr=lr, W_D0=W_D, W_E0=W_E, M_H=M)
    np.testing.assert_allclose(res.W_E, np.maximum(W_E - lr * gE, 0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res.W_D, np.maximum(W_D - lr * gD, 0) * (W_D > 0),
                               rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- comparison, separation

def test_compare_same_start_and_shapes():
    V = _data(20, 30, seed=42, rank=4)
    cmp = demo08.compare(V, 4, n_epochs=30, seed=1)
    assert list(cmp.curves) == list(demo08.CURVES)
    starts = [c[0] for c in cmp.curves.values()]
    np.testing.assert_allclose(starts, starts[0], rtol=1e-9)
    for name, c in cmp.curves.items():
        assert c.shape == (31,) and np.all(np.isfinite(c))
        assert cmp.times[name] >= 0
    np.testing.assert_array_equal(cmp.epochs, np.arange(31))
    # NMF starts from W0 = W_D0, H0 = max(W_E0 V, 0): same output as the NAEs
    res = cmp.results["NAE (multiplicative)"]
    np.testing.assert_allclose(cmp.curves["NAE (multiplicative)"][1:], res.loss)
    assert cmp.loss_at(30)["NMF (multiplicative)"] < cmp.loss_at(0)["NMF (multiplicative)"]
    e = cmp.crossing()
    assert e is None or cmp.curves["NAE (multiplicative)"][e] <= cmp.curves["NAE (additive)"][-1]


def test_init_score_informed_and_separate_on_toy():
    pytest.importorskip("librosa")
    from nmfedu import data, spectrogram
    piece = data.load(data.TOY)
    V = spectrogram.magnitude(piece.x)
    W_E0, W_D0, M, labels = nae.init_score_informed(V, piece.notes, sr=piece.sr)
    assert W_D0.shape == (V.shape[0], len(labels)) and M.shape == (len(labels), V.shape[1])
    assert set(np.unique(M)) <= {0.0, 1.0} and (W_D0 == 0).any()
    from nmfedu import separation
    details = separation.separate(piece.x, piece.sr, piece.notes, factorization="nae", n_iter=5,
                                  return_details=True)
    assert set(details.signals) == set(piece.notes["Instrument"].astype(str))
    total = sum(details.signals.values())
    np.testing.assert_allclose(total, piece.x, atol=1e-5 * max(1.0, np.abs(piece.x).max()))
    # template zeros kept, masked code entries zero
    assert np.all(details.result.W_D[details.W0 == 0] == 0)
    assert np.all(details.result.H[details.H0 == 0] == 0)
    assert details.loss.shape == (5,)


def test_lipschitz_steps_against_independent_constants():
    """γ_D = 1/(2 λmax(H'H'ᵀ)) and γ_E = 1/(2 λmax(W_DᵀW_D) σmax(V)²), computed here with
    numpy's SVD; a step below them decreases the loss, and fit(lr="lipschitz") records them."""
    rng = np.random.default_rng(3)
    V = rng.random((15, 20))
    W_E, W_D = nae.init_random(V, 3, seed=4)
    M = (rng.random((3, 20)) < 0.7).astype(float)
    g_E, g_D = nae.lipschitz_steps(V, W_E, W_D, M_H=M)
    Hp = np.maximum(W_E @ V, 0) * M
    assert g_D == pytest.approx(1 / (2 * np.linalg.svd(Hp, compute_uv=False)[0] ** 2), rel=1e-9)
    sigma = np.linalg.svd(V, compute_uv=False)[0]
    lam_D = np.linalg.svd(W_D, compute_uv=False)[0] ** 2
    assert g_E == pytest.approx(1 / (2 * lam_D * sigma ** 2), rel=1e-6)
    res = nae.fit(V, rule="additive", n_epochs=1, lr="lipschitz", W_E0=W_E, W_D0=W_D, M_H=M)
    np.testing.assert_allclose(res.lr[0], (g_E, g_D), rtol=1e-6)
    assert res.loss[0] < res.initial_loss
    with pytest.raises(ValueError, match="W_D must be nonnegative"):
        nae.lipschitz_steps(V, W_E, -W_D)
