"""Tests of nmfedu.constraints: exact zeros, activation regions, labels, errors."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import constraints as C
from nmfedu.spectrogram import HOP_LENGTH, N_FFT, SR, pitch_to_hz

K = N_FFT // 2 + 1
DF = SR / N_FFT
FR = HOP_LENGTH / SR


def notes_table(rows):
    return pd.DataFrame(rows, columns=["Start", "Duration", "Pitch", "Velocity", "Instrument"])


@settings(max_examples=60, deadline=None)
@given(pitch=st.integers(21, 108), tol=st.floats(0.0, 1.5), n_harm=st.integers(1, 30),
       min_width=st.sampled_from([0.0, 1.0, 2.5]))
def test_harmonic_template_nonzero_only_near_harmonics(pitch, tol, n_harm, min_width):
    w = C.harmonic_template(pitch, K=K, freq_res=DF, n_harmonics=n_harm, tolerance=tol,
                            min_width=min_width)
    f0 = float(pitch_to_hz(pitch))
    nz = np.flatnonzero(w)
    assert nz.size > 0 and w.max() == 1.0
    for k in nz:
        ok = False
        for h in range(1, n_harm + 1):
            centre = int(np.rint(h * f0 / DF))
            if k == centre or abs(k * DF - h * f0) <= min_width * DF + 1e-9:
                ok = True
            elif k > 0 and abs(12 * np.log2(k * DF / (h * f0))) <= tol + 1e-9:
                ok = True
        assert ok, f"bin {k} is not near a harmonic of pitch {pitch}"
    # every harmonic below the last bin is present
    for h in range(1, n_harm + 1):
        centre = int(np.rint(h * f0 / DF))
        if centre <= K - 1:
            assert w[centre] > 0
    # zeros are exact zeros, not small numbers
    assert set(np.unique(w[w < 1e-300])) <= {0.0}


def test_harmonic_template_amplitudes_and_cutoff():
    w = C.harmonic_template(69, K=K, freq_res=DF, n_harmonics=4, tolerance=0.0, decay=1.0,
                            min_width=0)
    assert np.count_nonzero(w) == 4
    assert w[41] == 1.0 and w[82] == 0.5
    # a pitch whose harmonics pass Nyquist keeps only those below it
    w = C.harmonic_template(100, K=K, freq_res=DF, n_harmonics=50, tolerance=0.0, min_width=0)
    assert np.count_nonzero(w) == int((SR / 2) // pitch_to_hz(100))


def test_wider_tolerance_gives_superset():
    narrow = C.harmonic_template(60, tolerance=0.2, min_width=0) > 0
    wide = C.harmonic_template(60, tolerance=0.8, min_width=0) > 0
    assert np.all(wide[narrow]) and wide.sum() > narrow.sum()
    # min_width widens the bands of low pitches to the window's main lobe (the
    # first 25 harmonics of C2 lie below ~1.6 kHz, where a 0.2-semitone band is < 1 bin)
    low = C.harmonic_template(36, tolerance=0.2, min_width=0, n_harmonics=25) > 0
    low_wide = C.harmonic_template(36, tolerance=0.2, min_width=2, n_harmonics=25) > 0
    assert np.all(low_wide[low]) and low_wide.sum() >= 4 * low.sum() // 2


def test_activation_region_frames():
    notes = notes_table([[1.0, 0.5, 60, 80, "r"]])
    H = C.activation_constraints(notes, [60, 62], N=100, frame_res=FR, onset_tol=0.1,
                                 offset_tol=0.2)
    lo, hi = int(np.ceil(0.9 / FR)), int(np.floor(1.7 / FR))
    assert np.flatnonzero(H[0]).tolist() == list(range(lo, hi + 1))
    assert not H[1].any()
    assert set(np.unique(H)) <= {0.0, 1.0}


def test_onset_region_only_near_onsets():
    notes = notes_table([[1.0, 2.0, 60, 80, "r"]])
    H = C.onset_constraints(notes, [60], N=200, frame_res=FR, before=0.05, after=0.1)
    frames = np.flatnonzero(H[0]) * FR
    assert frames.min() >= 0.95 - 1e-9 and frames.max() <= 1.1 + 1e-9 and frames.size >= 1


def test_build_labels_and_shared_pitch_gets_one_column_per_group():
    notes = notes_table([[0.0, 1.0, 60, 80, "right"], [0.2, 1.0, 60, 80, "left"],
                         [0.5, 0.5, 43, 80, "left"], [0.5, 0.5, 72, 80, "right"]])
    W0, H0, labels = C.build_constraints(notes, K, 80, onset_templates=True)
    assert list(labels.columns) == ["pitch", "kind", "group"]
    assert W0.shape == (K, len(labels)) and H0.shape == (len(labels), 80)
    pitch_rows = labels[labels.kind == "pitch"]
    assert sorted(map(tuple, pitch_rows[["group", "pitch"]].values.tolist())) == [
        ("left", 43), ("left", 60), ("right", 60), ("right", 72)]
    assert (labels.kind == "onset").sum() == 4
    # the two columns of pitch 60 start with the same template
    r1 = labels.index[(labels.pitch == 60) & (labels.kind == "pitch") & (labels.group == "left")][0]
    r2 = labels.index[(labels.pitch == 60) & (labels.kind == "pitch") & (labels.group == "right")][0]
    np.testing.assert_array_equal(W0[:, r1], W0[:, r2])
    assert not np.array_equal(H0[r1], H0[r2])
    # onset templates are flat
    assert np.all(W0[:, labels.index[labels.kind == "onset"]] == 1.0)
    # no onset templates when switched off; by=None gives a single group
    _, _, lab2 = C.build_constraints(notes, K, 80, onset_templates=False, by=None)
    assert set(lab2.kind) == {"pitch"} and set(lab2.group) == {"all"} and len(lab2) == 3
    # harmonic onset templates share the zeros of the pitch template
    W3, _, lab3 = C.build_constraints(notes, K, 80, onset_templates=True, onset_shape="harmonic")
    for p in (43, 60, 72):
        rows = lab3.index[(lab3.pitch == p) & (lab3.group == lab3.group[lab3.pitch == p].iloc[0])]
        np.testing.assert_array_equal(W3[:, rows[0]] > 0, W3[:, rows[1]] > 0)
    with pytest.raises(ValueError, match="onset_shape"):
        C.build_constraints(notes, K, 80, onset_shape="click")


@pytest.mark.parametrize("beta, method", [("frobenius", "mu"), ("kl", "mu"),
                                          ("frobenius", "accelerated")])
def test_zeros_stay_zero_under_multiplicative_updates(beta, method):
    """The constraints work only because nmfedu.nmf keeps exact zeros: test nmfedu's updates."""
    import nmfedu

    notes = notes_table([[0.0, 0.5, 48, 80, "left"], [0.3, 0.6, 67, 80, "right"]])
    rng = np.random.default_rng(0)
    N = 50
    W0, H0, _ = C.build_constraints(notes, K, N, onset_templates=True)
    V = rng.random((K, N))
    res = nmfedu.nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=30, tol=0, beta=beta, method=method)
    W, H = res.W, res.H
    assert np.all(W[W0 == 0] == 0) and np.all(H[H0 == 0] == 0)
    assert np.all(W >= 0) and np.all(H >= 0)
    assert np.count_nonzero(W) > 0 and np.count_nonzero(H) > 0  # not trivially all zero
    assert res.loss[-1] < res.initial_loss


def test_warns_for_notes_after_last_frame():
    notes = notes_table([[0.0, 0.5, 48, 80, "left"], [10.0, 0.5, 67, 80, "right"]])
    with pytest.warns(UserWarning, match="after the last frame"):
        C.build_constraints(notes, K, 20)


@pytest.mark.parametrize("mutate, match", [
    (lambda n: n.drop(columns="Pitch"), "missing column"),
    (lambda n: n.assign(Pitch=[60, np.nan]), "Pitch"),
    (lambda n: n.assign(Pitch=[60, 200]), "Pitch"),
    (lambda n: n.assign(Duration=[0.5, -1.0]), "Duration"),
    (lambda n: n.assign(Start=["a", 0.0]), "Start"),
    (lambda n: n.assign(Instrument=["left", None]), "missing group"),
    (lambda n: n.iloc[:0], "empty"),
    (lambda n: n.to_numpy(), "DataFrame"),
])
def test_bad_notes_raise_clear_errors(mutate, match):
    notes = notes_table([[0.0, 0.5, 48, 80, "left"], [0.3, 0.6, 67, 80, "right"]])
    with pytest.raises(ValueError, match=match):
        C.build_constraints(mutate(notes), K, 20)


def test_unknown_group_column():
    notes = notes_table([[0.0, 0.5, 48, 80, "left"]])
    with pytest.raises(ValueError, match="by='Hand' is not a column"):
        C.build_constraints(notes, K, 20, by="Hand")


@pytest.mark.parametrize("kwargs, match", [
    (dict(K=0), "K must be"), (dict(tolerance=-1), "tolerance"), (dict(n_harmonics=0), "n_harmonics"),
    (dict(freq_res=0), "freq_res"), (dict(pitch="x"), "pitch"), (dict(min_width=-1), "min_width"),
])
def test_bad_template_parameters(kwargs, match):
    args = dict(pitch=60, K=K, freq_res=DF)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        C.harmonic_template(**args)


def test_decay_segments_run_from_after_the_onset_to_before_the_next_one():
    frame_res = HOP_LENGTH / SR
    notes = pd.DataFrame({"Start": [0.25, 1.0, 0.25], "Duration": [0.5, 0.5, 1.0],
                          "Pitch": [60, 60, 60], "Velocity": [80] * 3,
                          "Instrument": ["right", "right", "left"]})
    labels = pd.DataFrame({"pitch": [60, 60, 60], "kind": ["pitch", "onset", "pitch"],
                           "group": ["right", "right", "left"]})
    N = 100
    segs = C.decay_segments(notes, labels, N, after=0.05)
    o1, o2 = round(0.25 / frame_res), round(1.0 / frame_res)
    shift = round(0.05 / frame_res)
    assert segs.tolist() == [[0, o1 + shift, o2 - 1], [0, o2 + shift, N],
                             [1, o1 + shift, o2 - 1], [1, o2 + shift, N], [2, o1 + shift, N]]
    # by=None / group "all": onsets of every group count
    labels_all = pd.DataFrame({"pitch": [60], "kind": ["pitch"], "group": ["all"]})
    assert C.decay_segments(notes, labels_all, N, by=None).tolist() == \
        [[0, o1 + shift, o2 - 1], [0, o2 + shift, N]]


def test_project_decay_makes_segments_non_increasing_and_keeps_zeros():
    rng = np.random.default_rng(0)
    H = rng.random((3, 50))
    H[1, 10:20] = 0.0
    before = H.copy()
    segs = [(0, 5, 30), (1, 0, 50)]
    C.project_decay(H, segs)
    assert np.all(np.diff(H[0, 5:30]) <= 0) and np.all(np.diff(H[1]) <= 0)
    np.testing.assert_array_equal(H[2], before[2])
    np.testing.assert_array_equal(H[0, :5], before[0, :5])
    assert np.all(H[1, 10:] == 0) and np.all(H <= before)
