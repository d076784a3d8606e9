"""Tests of nmfedu.synchronization (issue 14): recovered warps, fit check, refusals, CLI.

The performed material is made here from the bundled stems (time-warped with a known tempo
curve by nmfedu.synchronization.warp_audio), so these tests need no synthesiser and are never
skipped; benchmarks/bench_sync.py measures on FluidSynth renditions with another soundfont.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from hypothesis import given, settings, strategies as st

from nmfedu import data, score, separation
from nmfedu import synchronization as sync

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = [n for n in data.names() if n != data.TOY]


@pytest.fixture(scope="module")
def pieces():
    return {n: data.load(n) for n in data.names()}


@pytest.fixture(scope="module")
def performed(pieces):
    """Performed versions (vocoder-warped stems, known warp) of two bundled pieces."""
    return {n: sync.performed_version(pieces[n], rubato=0.15, slow=1.2, seed=3)
            for n in ("mozart_sonata", "schumann_polonaise")}


# --------------------------------------------------------------------------- DTW on features
def smooth_features(n, seed):
    rng = np.random.default_rng(seed)
    F = np.abs(rng.standard_normal((12, n // 10 + 2)))
    F = np.repeat(F, 10, axis=1)[:, :n] + 0.05 * rng.random((12, n))
    return F / np.linalg.norm(F, axis=0)


@settings(max_examples=12, deadline=None)
@given(slow=st.floats(0.7, 1.3), rubato=st.floats(0.0, 0.3), phase=st.floats(0, 6.28),
       seed=st.integers(0, 1000))
def test_known_tempo_curve_is_recovered_from_synthetic_features(slow, rubato, phase, seed):
    n = 600                                          # 12 s at 50 Hz
    A = smooth_features(n, seed)
    u = np.arange(n)
    rate = slow * (1 + rubato * np.sin(2 * np.pi * u / 200 + phase))   # recording frames per score frame
    t = np.concatenate([[0.0], np.cumsum(rate[:-1])])
    m = int(t[-1]) + 1
    src = np.clip(np.interp(np.arange(m), t, u), 0, n - 1).round().astype(int)   # inverse warp
    B = A[:, src]
    path, levels = sync.dtw_multiscale(A, B, A * 0, B * 0)
    assert path[:, 0].tolist() == [0, 0] and path[:, -1].tolist() == [n - 1, m - 1]
    err = np.abs(path[1] - np.interp(path[0], u, t))
    assert np.median(err) <= 1.5 and np.percentile(err, 95) <= 4, (np.median(err), err.max())
    assert len(levels) == 3 and levels[-1]["cells"] < 0.2 * n * m      # banded, not full


def test_banded_dtw_equals_full_dtw_when_the_band_is_everything():
    import libfmp.c3

    rng = np.random.default_rng(0)
    A = rng.random((12, 40)); A /= np.linalg.norm(A, axis=0)
    B = rng.random((12, 55)); B /= np.linalg.norm(B, axis=0)
    path, cost = sync.dtw_banded(A, B, step_weights=(1, 1, 1))
    C = 1 - A.T @ B                                     # independent reference: FMP's DTW
    D = libfmp.c3.compute_accumulated_cost_matrix(C)
    assert cost == pytest.approx(D[-1, -1])
    ref = libfmp.c3.compute_optimal_warping_path(D).T
    assert sum(C[i, j] for i, j in path.T) == pytest.approx(sum(C[i, j] for i, j in ref.T))


def test_warp_times_is_monotone_and_skips_a_pause():
    path = np.array([[0, 1, 2, 2, 2, 2, 3], [0, 1, 2, 3, 4, 5, 6]])
    t = sync.warp_times(path, np.linspace(0, 0.06, 13), rate=50)
    assert np.all(np.diff(t) >= 0)
    cost = [0, 0, 1, 1, 1, 0.1, 0]
    assert sync.warp_times(path, [0.04], rate=50, cost=cost)[0] == pytest.approx(0.1)


# --------------------------------------------------------------------------- recovered timing
# p95 limit per case: the reverberant bundled mazurka's last chord (4 of its 101 notes) is
# placed 0.4 s late since the score onsets use partial templates (onset_templates), which
# made 20 performed renditions better (mean p95 25.4 -> 19.7 ms, SDR within 0.5 dB of true
# timing on 20 of 20, was 19); its x1.25 stretch went from 1.2 s to 50 ms at the same time.
@pytest.mark.parametrize("name,stretch,shift,p95", [("mozart_sonata", 1.25, 0.6, 0.045),
                                                    ("schumann_polonaise", 0.8, 0.0, 0.045),
                                                    ("chopin_mazurka", 1.1, 0.3, 0.06),
                                                    ("chopin_mazurka", 1.25, 0.5, 0.06)])
def test_shifted_or_stretched_score_comes_back(pieces, name, stretch, shift, p95):
    p = pieces[name]
    moved = p.notes.assign(Start=p.notes["Start"] * stretch + shift,
                           Duration=p.notes["Duration"] * stretch)
    assert not sync.fit(p.x, p.sr, moved).fits
    a = sync.align(p.x, p.sr, moved)
    err = sync.onset_errors(a.notes, p.notes)
    assert np.median(err) < 0.015 and np.percentile(err, 95) < p95, (np.median(err),
                                                                       np.percentile(err, 95))
    assert len(a.notes) == len(p.notes) and list(a.notes.columns) == list(p.notes.columns)
    assert a.fit_after.fits and 0 <= a.confidence.min() and a.confidence.max() <= 1


def test_fit_accepts_every_bundled_piece(pieces):
    for name, p in pieces.items():
        f = sync.fit(p.x, p.sr, p.notes)
        assert f.fits, (name, f)


def _hall(sr, t60=1.2, drr_db=3.0, seed=0):
    """Direct sound plus exponentially decaying noise: a hall like the evaluation set's."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(t60 * sr)) / sr
    h = rng.standard_normal(t.size) * np.exp(-6.91 * t / t60)
    h *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(h ** 2))
    h[0] = 1.0
    return h


def test_fit_accepts_bundled_pieces_in_a_hall(pieces):
    from scipy.signal import fftconvolve

    for name in ("mozart_sonata", "schumann_polonaise", "joplin_rag"):
        p = pieces[name]
        wet = fftconvolve(p.x, _hall(p.sr))[:p.x.size]
        f = sync.fit(wet, p.sr, p.notes)
        assert f.fits, (name, f)


def test_fit_refuses_a_wrong_score_on_the_right_beats(pieces):
    """A tritone-transposed score has every onset where the recording has one: the onset test
    alone can pass (the hammer's attack raises every band); the harmony test refuses it."""
    onsets_alone = []
    for name, p in pieces.items():
        f = sync.fit(p.x, p.sr, p.notes.assign(Pitch=p.notes["Pitch"] + 6))
        assert not f.fits and f.harmony > sync.HARMONY_THRESHOLD, (name, f)
        assert "harmony" in f.reason()
        onsets_alone.append(f.fit >= sync.FIT_THRESHOLD)
    assert any(onsets_alone)


def test_fit_rejects_performed_versions_until_aligned(pieces, performed):
    for name, (mix, stems, true, warp) in performed.items():
        p = pieces[name]
        assert not sync.fit(mix, p.sr, p.notes).fits, name
        assert sync.fit(mix, p.sr, true).fits, name
        a = sync.align(mix, p.sr, p.notes)
        assert sync.fit(mix, p.sr, a.notes).fits, name
        err = sync.onset_errors(a.notes, true)
        assert np.median(err) < 0.03, (name, np.median(err))
        assert a.trim["audio"][0] > 0.7                  # the lead-in was found


def synth(notes, sr=22050, tail=1.0):
    """Independent little renderer: 6 harmonics, 5 ms attack, exponential decay."""
    end = float((notes["Start"] + notes["Duration"]).max()) + tail
    x = np.zeros(int(end * sr))
    for s, d, p in zip(notes["Start"], notes["Duration"], notes["Pitch"]):
        t = np.arange(int((d + 0.3) * sr)) / sr
        f0 = 440.0 * 2 ** ((p - 69) / 12)
        env = np.minimum(t / 0.005, 1) * np.exp(-t / 0.4) * np.where(t < d, 1.0, np.exp(-(t - d) / 0.05))
        tone = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, 7) if h * f0 < sr / 2)
        i = int(round(s * sr))
        x[i:i + t.size] += (0.05 * env * tone)[: x.size - i]
    return x


def test_hands_not_together_are_refined_separately(pieces):
    """Rendered with the right hand 30 ms ahead: the per-note refinement finds it."""
    p = pieces["mozart_sonata"]
    right = (p.notes["Instrument"] == "right").to_numpy()
    true = p.notes.assign(Start=0.7 + 1.15 * p.notes["Start"] - 0.03 * right,
                          Duration=1.15 * p.notes["Duration"])
    mix = synth(true)
    a = sync.align(mix, p.sr, p.notes)
    gl = a.notes.assign(Start=a.global_onsets)

    def hand_offsets(table):
        """Median signed onset error (s) of each hand."""
        return {h: np.median(signed_errors(table[table["Instrument"] == h],
                                           true[true["Instrument"] == h])) for h in ("left", "right")}
    ref, glob = hand_offsets(a.notes), hand_offsets(gl)
    assert abs(ref["right"] - ref["left"]) < 0.008, ref          # the 30 ms lead is found
    assert abs(glob["right"] - glob["left"]) > abs(ref["right"] - ref["left"]), (glob, ref)
    assert np.median(sync.onset_errors(a.notes, true)) < 0.015


def test_the_other_hands_octave_attack_is_not_taken_for_this_notes_onset():
    """Left hand C3, right hand C4 + E4 (the left note's 2nd harmonic and near its 5th),
    played 25 ms ahead: the bands the right hand shares with the left note rise at the right
    hand's attack. With the other hand's harmonics left out of its bands the left note is found
    at its own attack (measured without: median −32 ms)."""
    rng = np.random.default_rng(0)
    rows, t = [], 0.0
    for _ in range(24):
        lp = int(rng.choice([48, 50, 52, 53, 55]))
        rows += [(t, 0.4, lp, "left"), (t, 0.4, lp + 12, "right"), (t, 0.4, lp + 16, "right")]
        t += 0.45
    notes = pd.DataFrame(rows, columns=["Start", "Duration", "Pitch", "Instrument"]).assign(Velocity=80)
    right = (notes["Instrument"] == "right").to_numpy()
    true = notes.assign(Start=0.6 + 1.1 * notes["Start"] - 0.025 * right, Duration=1.1 * notes["Duration"])
    a = sync.align(synth(true), 22050, notes)
    e = signed_errors(a.notes[a.notes["Instrument"] == "left"], true[true["Instrument"] == "left"])
    assert abs(np.median(e)) < 0.015, np.median(e)
    assert np.percentile(np.abs(e), 95) < 0.02


def signed_errors(a, b):
    def keyed(df):
        d = df.sort_values(["Start", "Pitch"], kind="mergesort").copy()
        d["_rank"] = d.groupby(["Instrument", "Pitch"]).cumcount()
        return d.set_index(["Instrument", "Pitch", "_rank"])["Start"]
    x, y = keyed(a).align(keyed(b), join="inner")
    return (x - y).to_numpy()


def test_a_one_chord_score_is_tested_by_its_chroma_cost():
    """A score that is one chord throughout fits every timing equally well (cost ratio ≈ 1), so
    its harmony test is the chroma cost itself: C major fits a held C-major recording, F♯ major
    (every pitch a tritone away) does not."""
    chord = pd.DataFrame({"Start": [0.2] * 3, "Duration": [2.0] * 3, "Pitch": [48, 52, 55],
                          "Velocity": [80] * 3, "Instrument": ["left"] * 3})
    x = synth(chord)
    right, one = sync._harmony(x, chord)
    wrong, _ = sync._harmony(x, chord.assign(Pitch=chord["Pitch"] + 6))
    assert one and right <= sync.HARMONY_ONE_CHORD < wrong, (right, wrong)
    assert sync.fit(x, 22050, chord).fits
    f = sync.fit(x, 22050, chord.assign(Pitch=chord["Pitch"] + 6))
    assert not f.fits and f.one_chord


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), lag=st.integers(1, 12), a=st.integers(0, 300), width=st.integers(1, 60))
def test_window_rises_equal_the_whole_recording_rises(seed, lag, a, width):
    """The refinement and the fit check compute rises in each note's window only (memory);
    they must equal the rows of the whole-recording computation."""
    rng = np.random.default_rng(seed)
    E = (rng.random((88, 400)) ** 4).astype(np.float32)
    b = min(a + width, E.shape[1])
    full = sync._log_rise(E, lag)[17, a:b]
    s0 = max(a - lag, 0)
    log = np.log10(E[17, s0:b] + sync._log_floor(E)[17], dtype=np.float32)
    np.testing.assert_allclose(sync._window_diff(log, a - s0, b - s0, lag, s0), full, atol=1e-6)


def test_already_synchronised_pieces_are_left_exactly_as_they_are(pieces):
    p = pieces[data.TOY]
    notes, info = sync.prepare_score(p.x, p.sr, p.notes, align="auto")
    assert notes is p.notes and info["aligned"] is False and info["fit"] >= sync.FIT_THRESHOLD
    a = separation.separate(p.x, p.sr, p.notes, n_iter=20)
    b = separation.separate(p.x, p.sr, p.notes, n_iter=20, align="never")
    for g in a:
        np.testing.assert_array_equal(a[g], b[g])


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_one_clear_line(pieces):
    p = pieces["mozart_sonata"]
    other = pieces["joplin_rag"].notes

    def one_line(fn, match):
        with pytest.raises(ValueError, match=match) as info:
            fn()
        assert "\n" not in str(info.value)

    one_line(lambda: sync.align(p.x, p.sr, other), "another piece|does not fit")
    one_line(lambda: sync.align(np.zeros(5 * p.sr), p.sr, p.notes), "silent")
    one_line(lambda: sync.align(p.x[: p.sr // 2], p.sr, p.notes), "at least")
    one_line(lambda: sync.align(p.x, p.sr, p.notes.assign(Pitch=5)), "pitch range")
    one_line(lambda: sync.align(p.x, p.sr, score.empty()), "no notes")
    far = p.notes.assign(Start=p.notes["Start"] * 6, Duration=p.notes["Duration"] * 6)
    one_line(lambda: sync.align(p.x, p.sr, far), "span")
    one_line(lambda: sync.prepare_score(p.x, p.sr, p.notes, align="sometimes"), "align must")
    late = p.notes.assign(Start=p.notes["Start"] + 0.3)
    one_line(lambda: sync.prepare_score(p.x, p.sr, late, align="never"), "does not fit")
    one_line(lambda: separation.separate(p.x, p.sr, other, n_iter=5), "another piece|does not fit")


# --------------------------------------------------------------------------- CLI
def run(*args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "nmfedu", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=600)


def one_error_line(proc):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("nmfedu: error: "), proc.stderr
    return lines[0]


def test_cli_refuses_a_wrong_piece_score(tmp_path):
    d = data.data_dir()
    out = tmp_path / "sep"
    line = one_error_line(run("separate", d / "mozart_sonata" / "mix.wav",
                              d / "joplin_rag" / "score.csv", "--out", out))
    assert "another piece" in line or "does not fit" in line
    assert not out.exists() or not any(out.iterdir())
    line = one_error_line(run("align", d / "mozart_sonata" / "mix.wav",
                              d / "chopin_mazurka" / "score.csv", "--out", tmp_path / "a.csv"))
    assert not (tmp_path / "a.csv").exists()


def test_cli_align_writes_csv_and_midi_and_refuses_to_overwrite(performed, pieces, tmp_path):
    mix, stems, true, warp = performed["mozart_sonata"]
    sf.write(tmp_path / "mix.wav", mix.astype(np.float32), pieces["mozart_sonata"].sr,
             subtype="FLOAT")
    notated = data.data_dir() / "mozart_sonata" / "score.csv"
    proc = run("align", tmp_path / "mix.wav", notated, "--out", tmp_path / "aligned.csv")
    assert proc.returncode == 0, proc.stderr
    aligned = score.read_csv(tmp_path / "aligned.csv")
    assert np.median(sync.onset_errors(aligned, true)) < 0.03
    one_error_line(run("align", tmp_path / "mix.wav", notated, "--out", tmp_path / "aligned.csv"))
    proc = run("align", tmp_path / "mix.wav", notated, "--out", tmp_path / "aligned.mid")
    assert proc.returncode == 0, proc.stderr
    back = score.read_midi(tmp_path / "aligned.mid")
    assert len(back) == len(aligned)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".part")]
    one_error_line(run("align", tmp_path / "mix.wav", notated, "--out", tmp_path / "x.txt"))


def test_cli_align_on_a_midi_file_without_notes(tmp_path):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    pm.instruments.append(pretty_midi.Instrument(program=0, name="right"))
    pm.write(str(tmp_path / "empty.mid"))
    d = data.data_dir()
    line = one_error_line(run("align", d / "toy" / "mix.wav", tmp_path / "empty.mid",
                              "--out", tmp_path / "a.csv"))
    assert "no notes" in line and not (tmp_path / "a.csv").exists()


def test_performance_model_is_deterministic(pieces):
    n = pieces["chopin_mazurka"].notes
    w1 = sync.performance_warp(n, seed=5)
    w2 = sync.performance_warp(n, seed=5)
    np.testing.assert_array_equal(w1[1], w2[1])
    p1, p2 = sync.perform_notes(n, w1, seed=5), sync.perform_notes(n, w2, seed=5)
    pd.testing.assert_frame_equal(p1, p2)
    assert np.all(np.diff(w1[1]) > 0)
    slow = np.diff(w1[1])[:-100].sum() / np.diff(w1[0])[:-100].sum()
    assert 1.1 < slow < 1.4


# --------------------------------------------------------------------------- notebook 05
def test_notebook05_skipped_passage_exercise_and_rubato_widget():
    from nmfedu.demos import nb05 as demo
    from nmfedu.exercises import nb05

    out = nb05.skipped_bar()
    assert np.median(out["after"]) < 0.02            # the notes after the cut are found again
    fig = demo.rubato_widget(rubato=0.0)
    before = fig.png()
    fig.update(rubato=0.3)
    assert fig.png() != before
    assert fig.data["sdr"]["aligned"] > fig.data["sdr"]["notated"] + 5


def test_score_onset_matches_a_note_attack_better_than_its_pitch_class_alone():
    # a harmonic tone's attack raises the onset chroma of its partials' classes too; the
    # score's onset must be clearly nearer to it than an onset on its pitch class alone (on
    # a performed Joplin that was farther from the attack than no onset at all, 1.1 against
    # 1.0, and in a pause the path slid onsets by 0.6 s)
    import pandas as pd

    for pitch in (39, 51, 63, 75):
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        t = np.arange(int(1.0 * sync.SR)) / sync.SR
        tone = sum(np.sin(2 * np.pi * h * f0 * t) / h ** 1.5 for h in range(1, 9))
        tone *= np.exp(-t / 0.4) * np.minimum(t / 0.01, 1.0) * np.minimum((t[-1] - t) / 0.05, 1.0)
        x = np.concatenate([np.zeros(sync.SR // 2), tone, np.zeros(sync.SR // 2)])
        x = x + 1e-4 * np.random.default_rng(pitch).standard_normal(x.size)
        _, Bo = sync.audio_features(x, sync.SR)
        n = pd.DataFrame({"Start": [0.5], "Duration": [1.0], "Pitch": [pitch], "Velocity": [80],
                          "Instrument": ["left"]})
        _, Ao = sync.score_features(n, 0.0, 2.0)
        # the attack (0.5 s): the first frame of its tail (the frames are normalised, so the
        # tail's frames all have norm 1 and the largest one is a matter of rounding)
        k = 20 + int(np.argmax(np.linalg.norm(Bo[:, 20:35], axis=0) > 0.99))
        assert abs(k - 25) <= 2 and np.linalg.norm(Bo[:, k]) > 0.5
        d_attack = np.linalg.norm(Ao[:, 25] - Bo[:, k])
        own = np.eye(12)[pitch % 12]                  # an onset on its pitch class alone
        assert d_attack < np.linalg.norm(own - Bo[:, k]) - 0.1, (pitch, d_attack)


def test_a_score_an_octave_off_is_refused_by_its_pitches_after_alignment():
    """Chroma folds octaves, so a score an octave below the recording matches it in chroma
    and in onsets (its harmonic bands hold the played notes); only its own fundamentals are
    silent. Such a score is refused after alignment by the pitch-salience test alone; the
    right score passes it."""
    rng = np.random.default_rng(3)
    scale = [64, 65, 67, 69, 71, 72, 74, 76, 77, 79]
    rows, t = [], 0.0
    for _ in range(40):
        rows.append((t, 0.35, int(rng.choice(scale)), "right"))
        t += float(rng.choice([0.25, 0.4]))
    notes = pd.DataFrame(rows, columns=["Start", "Duration", "Pitch", "Instrument"]).assign(Velocity=80)
    x = synth(notes.assign(Start=0.6 + 1.1 * notes["Start"], Duration=1.1 * notes["Duration"]))
    right = sync.align(x, 22050, notes)
    assert right.info["salience_after"] >= 0.9, right.info["salience_after"]
    low = notes.assign(Pitch=notes["Pitch"] - 12)
    wrong = sync.align(x, 22050, low, check=False)
    assert wrong.info["salience_after"] < sync.ALIGNED_SALIENCE, wrong.info["salience_after"]
    assert len(wrong.info["faults"]) == 1 and "own pitches" in wrong.info["faults"][0], wrong.info["faults"]
    with pytest.raises(ValueError, match="own pitches sound"):
        sync.align(x, 22050, low)


def test_a_recording_tuned_off_a440_keeps_its_pitch_salience(pieces):
    """A recording 40 cents sharp (played back faster): the salience bands follow its
    estimated tuning, so its own score still passes after alignment (with bands at A = 440 Hz
    it measured 21 %)."""
    import scipy.signal

    p = pieces["mozart_sonata"]
    r = 2 ** (40 / 1200)
    x = scipy.signal.resample(p.x, int(round(p.x.size / r)))
    assert abs(sync._tuning(sync._prepare_audio(x, p.sr)) - 0.4) < 0.05
    late = p.notes.assign(Start=p.notes["Start"] / r * 1.25 + 0.5, Duration=p.notes["Duration"] / r * 1.25)
    a = sync.align(x, p.sr, late)
    assert a.info["salience_after"] >= 0.9 and not a.info["faults"], a.info


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 40))
def test_onsets_from_chord_moves_only_unsure_notes_onto_their_chord(seed, n):
    """Confident notes never move; an unsure one keeps its onset or takes the median of the
    confident notes of its chord (its own hand first)."""
    rng = np.random.default_rng(seed)
    notes = pd.DataFrame({"Start": rng.integers(0, 6, n) * 0.5, "Pitch": rng.integers(40, 90, n),
                          "Instrument": rng.choice(["left", "right"], n)})
    on = notes["Start"].to_numpy() * 1.2 + 0.3 + rng.normal(0, 0.02, n)
    conf = rng.choice([0.0, 0.2, 0.5, 0.9], n)
    out = sync.onsets_from_chord(notes, on, conf)
    sure = conf >= sync.CHORD_LOW
    assert np.array_equal(out[sure], on[sure])
    st_, grp = notes["Start"].to_numpy(), notes["Instrument"].to_numpy()
    for k in np.flatnonzero(~sure):
        same = (np.abs(st_ - st_[k]) < 0.01) & (conf >= sync.CHORD_HIGH) & (grp == grp[k])
        if same.any():
            assert out[k] == pytest.approx(np.median(on[same]))
        elif not ((np.abs(st_ - st_[k]) < 0.01) & (conf >= sync.CHORD_HIGH)).any():
            assert out[k] == on[k]


def test_onsets_from_chord_keeps_the_melody_lead_of_the_performance():
    """The right hand plays 20 ms ahead; a left note without an attack of its own and alone in
    its hand takes the right hand's onset plus the hands' measured offset (+20 ms)."""
    starts = np.arange(8) * 0.5
    notes = pd.DataFrame({"Start": np.r_[starts, starts], "Pitch": [72] * 8 + [48] * 8,
                          "Instrument": ["right"] * 8 + ["left"] * 8})
    on = np.r_[starts - 0.02, starts] + 1.0
    conf = np.r_[np.full(8, 0.9), np.full(8, 0.9)]
    conf[12] = 0.0
    moved = sync.onsets_from_chord(notes, np.where(conf > 0, on, on + 0.05), conf)
    assert moved[12] == pytest.approx(on[12])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 30))
def test_onsets_from_neighbours_interpolates_only_lone_unsure_notes(seed, n):
    """Confident notes and notes with a confident chord-mate never move; a lone unsure note
    between confident neighbours at most NEIGHBOUR_GAP apart lands on the line through their
    median onsets (checked against this test's own reference)."""
    rng = np.random.default_rng(seed)
    notes = pd.DataFrame({"Start": np.sort(rng.integers(0, 12, n) * 0.25)})
    on = 0.4 + 1.3 * notes["Start"].to_numpy() + rng.normal(0, 0.03, n)
    conf = rng.choice([0.0, 0.05, 0.3, 0.9], n)
    out = sync.onsets_from_neighbours(notes, on, conf)
    st_ = notes["Start"].to_numpy()
    good = conf >= sync.NEIGHBOUR_HIGH
    for k in range(n):
        before = st_[good & (st_ < st_[k])]
        after = st_[good & (st_ > st_[k])]
        lone = conf[k] < sync.NEIGHBOUR_LOW and not (good & (st_ == st_[k])).any()
        if lone and before.size and after.size and after.min() - before.max() <= sync.NEIGHBOUR_GAP:
            a, b = before.max(), after.min()
            ta, tb = np.median(on[good & (st_ == a)]), np.median(on[good & (st_ == b)])
            assert out[k] == pytest.approx(ta + (tb - ta) * (st_[k] - a) / (b - a)), k
        else:
            assert out[k] == on[k], k
