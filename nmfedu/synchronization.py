"""Score–audio synchronisation: time a note table like the recording it belongs to.

Score-informed separation (:mod:`nmfedu.separation`) needs a score that is timed like the
recording. A recording is not: the pianist plays slower or faster than notated, breathes,
starts after some silence, and plays the melody a little ahead of the accompaniment. This
module finds the timing in three steps (Müller, *Fundamentals of Music Processing*, 2nd ed.,
chapter 3, doi:10.1007/978-3-030-69808-9; Ewert, Müller & Grosche, ICASSP 2009,
doi:10.1109/ICASSP.2009.4959972; Müller, Mattes & Kurth, ISMIR 2006 for multiscale DTW):

1. **Features at 50 Hz.** Recording: chroma (:func:`librosa.feature.chroma_stft`, log
   compressed) and *onset chroma* — the half-wave rectified rise of the log energy in every
   note's own harmonic bands, folded to 12 pitch classes and given a decaying tail like the
   DLNCO features of Ewert et al. (0.1 s long: see :func:`_decay_kernel`). Score: the same two features computed from the notes
   (each note contributes its pitch class and that of its 3rd harmonic; onsets are impulses
   on the classes of its first six partials, :func:`onset_templates`, because that is where
   the recording's onset chroma rises).
   Silence before the first and after the last sound is trimmed on both sides first, so the
   warping path may pin its ends.
2. **Multiscale DTW** (:func:`dtw_multiscale`): a full DTW at 2 Hz, then the path is refined
   at 10 Hz and at 50 Hz inside a band around the coarser path. No level builds more than a
   2 Hz full matrix (1 200 × 1 500 cells for 10 minutes) or a band of a few dozen cells per
   frame, so a 10-minute recording needs tens of MB. Step sizes (1,0), (0,1), (1,1) with
   weights 1.5, 1.5, 2, so tempo changes and pauses the score does not have are horizontal
   or vertical runs.
3. **Local onset refinement** (:func:`refine_onsets`): every note's onset is moved to the
   steepest growth of the amplitude in its *own* harmonic bands within ±``window`` of the
   global estimate, measured with a 2.9 ms hop; the harmonics of the other hand's notes
   notated within 0.1 s are left out of its bands (:func:`other_hand_pitches`). Notes of one
   chord or of the two hands are refined independently, so a melody played ahead of the
   bass is found. A note without a clear rise (masked, repeated, soft) gets a low confidence
   and takes the onset of the confident notes notated with it in its hand, or the other
   hand's plus the hands' offset in this performance (:func:`onsets_from_chord`); alone, it
   is interpolated between its confident neighbours (:func:`onsets_from_neighbours`).
   (A second pass that searched such notes again up to ±0.6 s between their confident
   neighbours was measured and dropped: it fixed a Joplin passage after a pause, p95 34 → 25
   ms, but moved as many correct notes onto other notes' attacks, and the separation lost up
   to 1.3 dB with it; ``benchmarks/bench_sync.py --heldout``.)

Measured accuracy (``benchmarks/bench_sync.py --heldout``, 20 performed renditions, four
pieces × five sets of soundfont, seed, tempo and rubato; results/bench_sync_2026-12-03.txt):
median onset error ≤ 5.1 ms on every rendition; p95 ≤ 24.8 ms on all 20 (mean p95 17.4 ms;
before the chord and neighbour steps 19.7 ms, 15 of 20 ≤ 25 ms); separation SDR within 0.3 dB of the true timing on
all 20 (mean −0.05 dB). The worst notes are notes re-struck while they still sound over a
held drone (Chopin) and low octaves struck while their upper octave sounds (Joplin). Two of the
five sets (_v, _w) were not looked at while choosing the parameters of the last two steps.

:func:`fit` is the cheap check "does this score already fit this recording?", with two tests
at the score's own timing: the share of notes whose harmonic bands rise by at least a factor 2
within [Start − 20 ms, Start + 50 ms] must be ≥ :data:`FIT_THRESHOLD` (0.6), and the chroma
cost between score and recording at the same times, relative to random frame pairs, must be
≤ :data:`HARMONY_THRESHOLD` (0.85). After alignment a score of another piece is refused when
the chroma cost along the path is more than :data:`MATCH_THRESHOLD` (0.85) of the cost between
random frames, when fewer than :data:`ALIGNED_FIT_THRESHOLD` (65 %) of the notes rise within
±50 ms of their globally aligned onset, when the harmony at the aligned timing is above
:data:`ALIGNED_HARMONY_THRESHOLD` (0.82), when fewer than :data:`ALIGNED_SALIENCE` (80 %) of the
notes' own fundamentals sound at their aligned onsets (:func:`_pitch_salience`), or when the mean onset confidence of the refinement
is below :data:`ALIGNED_CONFIDENCE` (0.4) (:func:`_after_alignment_faults`).

Measured limits of the fit check (``benchmarks/bench_sync.py --evalset``: the 20 excerpts of the
issue-13 evaluation set and the 5 bundled pieces, synchronised by construction, their 592
wrong-piece cross pairs, and 12 performed renditions): no error with both tests. A score that
is one chord throughout matches any timing equally well, so for it the harmony test is the
chroma cost itself (≤ :data:`HARMONY_ONE_CHORD`); without that, a 4-note chord of another
piece was accepted on the 8-note toy (cost 0.68; synchronised recordings 0.17–0.40). Onsets alone
(the check before 2026-12-02, threshold 0.8) refused a reverberant room (seen_chopin_mazurka_room,
0.70: the room's tail fills a note's bands, so its attack rises less than ×2) and accepted 21
wrong-piece scores: sparse scores whose few onsets fall on the recording's, and denser ones on
the same beat grid. The thresholds were set on these figures (margins: onsets 0.70 against
0.39, harmony 0.77 against 0.92), so a new kind of recording may still fool them. After
alignment DTW can make a wrong-piece score look aligned in chroma (chroma folds octaves, and
pieces in one key share their pitch classes): without the pitch-salience test 17 of the 592
wrong-piece pairs of the evaluation set and 36 of 465 held-out ones (every performed rendition
with every other work's score) passed the tests after alignment; with it none passes, and all
70 right scores that need aligning pass (salience ≥ 0.90 against ≤ 0.68;
``bench_sync.py --evalset --after-alignment``, results/bench_sync_after_alignment_2026-12-03.txt).
The salience bands follow the recording's estimated tuning (:func:`_tuning`).
Also measured: a chromatic piece in a wet hall (the bundled mazurka through a 1.2 s hall,
direct-to-reverberant ratio 3 dB or 0 dB) has harmony 0.91–0.93 and is said not to fit;
``align="auto"`` then aligns it (3 dB: median onset error 14 ms) or refuses it (0 dB: fit
after alignment 0.72; the onset-only check refused it too).

Why not synctoolbox. synctoolbox 1.4.2 (MIT, FMP group: MrMsDTW + DLNCO) is the field's
library. It installs cleanly with our numpy 2.4.6 only if numba is downgraded from 0.68.1 to
0.65.1 (numba 0.65 supports numpy ≤ 2.4) and llvmlite from 0.50 to 0.47 (``pip check`` clean).
Measured on the same 5-minute performed rendition (scripts/make_performed.py --tile 300, same
shared machine, same hour): synctoolbox's IIR pitch filterbank and DLNCO features took 39 s and
MrMsDTW 7 s (46 s, 724 MB peak RSS), with onset errors of median 16 ms / p95 57 ms before any
refinement; this module takes 7 s and 545 MB for median 7 ms / p95 31 ms (benchmarks/results/
bench_sync_2026-12-01.txt). The 15 s / 600 MB budget for 5 minutes rules synctoolbox's features
out, and its path would still need our per-note refinement. So we keep the lock as it is and use
librosa (chroma filterbank), numba (the banded DTW; numba comes with librosa), scipy.fft, and
libfmp.c3's textbook DTW in notebook 05 (and as the independent reference in the tests).

What it does **not** handle: a repeat the performer skips or adds, a cut, another edition
of the piece with different bars (DTW maps every notated note somewhere, so missing or extra
passages give wrong timings there; the cost ratio may or may not catch it), transposition
(and a recording tuned nearly a semitone away from A = 440 Hz: the chroma assumes it; 45
cents flat, the chromatic mazurka failed the harmony test after alignment),
ornaments played differently from the score, and notes that are not played at all.

Notebooks: 05_synchronization (every step and figure), and :func:`prepare_score` is called
by :func:`nmfedu.separation.separate` and the command line (``align`` / ``separate --align``).

This module imports no plotting or widget library.

Examples
--------
>>> import numpy as np
>>> from nmfedu import data, synchronization as sync
>>> piece = data.load("toy")
>>> round(sync.fit(piece.x, piece.sr, piece.notes).fit, 2) >= sync.FIT_THRESHOLD
True
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["FEATURE_RATE", "FIT_THRESHOLD", "HARMONY_THRESHOLD", "HARMONY_ONE_CHORD",
           "ALIGNED_HARMONY_THRESHOLD", "ALIGNED_CONFIDENCE", "ALIGNED_SALIENCE", "ALIGNED_FIT_THRESHOLD", "MATCH_THRESHOLD", "Fit", "Alignment", "fit", "align",
           "prepare_score", "score_features", "onset_templates", "audio_features", "dtw_banded", "dtw_multiscale",
           "refine_onsets", "onsets_from_chord", "onsets_from_neighbours", "other_hand_pitches", "warp_times", "performance_warp", "perform_notes", "warp_audio",
           "performed_version", "name_seed", "onset_errors"]

SR = 22050                 # analysis rate; other rates are resampled
FEATURE_RATE = 50          # Hz: frames of the chroma / onset features
FINE_HOP = 63              # samples at SR: 2.86 ms, 7 fine frames per feature frame
FINE_NFFT = 1024
PITCHES = np.arange(21, 109)   # piano range analysed
FIT_THRESHOLD = 0.6        # share of notes rising at their notated onset (with the harmony test)
HARMONY_THRESHOLD = 0.85   # chroma cost at the score's timing / between random frames: above, unrelated
HARMONY_MIN_VARIETY = 0.05  # below this mean chroma cost between its own frames a score is one chord
HARMONY_ONE_CHORD = 0.5    # a one-chord score: chroma cost (absolute) while it sounds, at most
ALIGNED_FIT_THRESHOLD = 0.65  # share of notes rising within ±50 ms of their globally aligned onset
ALIGNED_HARMONY_THRESHOLD = 0.82  # chroma cost ratio at the aligned timing: above, another piece
ALIGNED_CONFIDENCE = 0.4   # mean refinement confidence below which the alignment is not trusted
FIT_RISE = 0.3             # log10 energy rise (×2) that counts as an onset
FIT_WINDOW = (-0.02, 0.05)
MATCH_THRESHOLD = 0.85     # chroma cost on the path / between random frames: above, another piece
ALIGNED_WINDOW = (-0.05, 0.05)  # fit window around the global (unrefined) onsets after DTW
STEP_WEIGHTS = (1.5, 1.5, 2.0)  # (1,0), (0,1), (1,1)
REFINE_WINDOW = 0.06       # s either side of the global estimate (the global p95 is ~35 ms)
OTHER_HAND_NEAR = 0.1      # s (notated): the other hand's notes this close lend no bands
REFINE_BIAS = 0.016        # s, detected minus true onset (median) on the bundled pieces
ALIGNED_SALIENCE = 0.8     # share of notes whose own pitch sounds after alignment, at least
SALIENCE_MIN_PITCH = 52    # E3: lower semitones are not resolved by a 4096-point frame
SALIENCE_RISE = 0.5        # log10 energy: own fundamental over its louder free neighbour
SALIENCE_WINDOW = (0.02, 0.15)  # s after Start
SALIENCE_MIN_NOTES = 10    # fewer tested notes: the salience test is not applied
CHORD_LOW = 0.3            # refinement confidence below which a note takes its chord's onset
CHORD_HIGH = 0.6           # confidence of the chord notes it may take it from
NEIGHBOUR_LOW = 0.1        # confidence below which a lone note is timed from its neighbours
NEIGHBOUR_HIGH = 0.5       # confidence of the neighbours it is timed from
NEIGHBOUR_GAP = 1.0        # s (notated) between those neighbours, at most
GLOBAL_BIAS = 0.010        # s, the same for the global path (frames are 20 ms long)
ONSET_MIN = 0.15           # log10 rise over 30 ms below which the recording has no onset
SILENCE = 10 ** (-35 / 10)  # chroma energy under -35 dB of the loud frames counts as silence
MIN_DURATION = 1.0         # s of sound a recording must have


# --------------------------------------------------------------------------- input checks
def _prepare_audio(x, sr):
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] <= 8 and x.shape[0] < x.shape[1] else 1)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty mono signal, got shape {np.shape(x)}")
    if not np.isfinite(x).all():
        raise ValueError("x contains NaN or inf samples")
    if not (np.isscalar(sr) and float(sr) > 0):
        raise ValueError(f"sr must be a positive sample rate in Hz, got {sr!r}")
    sr = float(sr)
    if x.size / sr < MIN_DURATION:
        raise ValueError(f"x: the recording lasts {x.size / sr:.2f} s; expected at least "
                         f"{MIN_DURATION:g} s of audio to synchronise a score with")
    if sr != SR:
        import librosa

        x = librosa.resample(x, orig_sr=sr, target_sr=SR)
    peak = np.abs(x).max()
    if peak < 1e-4:
        raise ValueError(f"x: the recording is silent (peak {peak:.1e}); expected audio of the "
                         f"piece the score notates")
    return x


def _prepare_notes(notes, by="Instrument"):
    from .score import validate

    if not isinstance(notes, pd.DataFrame):
        raise ValueError("notes must be a note table (pandas DataFrame, see nmfedu.score)")
    if len(notes) == 0:
        raise ValueError("notes: the score contains no notes; expected at least one note to align")
    df = validate(notes, group=by if by in notes.columns else "Instrument")
    inside = df["Pitch"].between(PITCHES[0], PITCHES[-1])
    if not inside.any():
        raise ValueError(f"notes: no note lies in the analysed pitch range "
                         f"{PITCHES[0]}..{PITCHES[-1]} (MIDI); expected piano notes")
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- fine band energies
def _harmonic_bands(n_fft=FINE_NFFT, sr=SR, n_harmonics=6, tuning=0.0):
    """Sparse-ish matrix (88, n_fft//2+1): per pitch the bins of harmonics 1..n (±½ semitone),
    weight 1/h; ``tuning`` shifts the grid (semitones from A = 440 Hz)."""
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    B = np.zeros((PITCHES.size, freqs.size), dtype=np.float32)
    for i, p in enumerate(PITCHES):
        f0 = 440.0 * 2.0 ** ((p - 69 + tuning) / 12)
        for h in range(1, n_harmonics + 1):
            fh = h * f0
            if fh > 0.45 * sr:
                break
            sel = np.abs(freqs - fh) <= max(fh * (2 ** (0.5 / 12) - 1), 0.5 * sr / n_fft)
            B[i, sel] = 1.0 / h
    return B


def _fine_energy(x, hop=FINE_HOP, n_fft=FINE_NFFT, block=4096):
    """Per-pitch harmonic band energy (88, n_frames) at ``hop`` (centred frames), in blocks
    so that a 10-minute recording never holds its fine STFT."""
    B = _harmonic_bands(n_fft)
    pad = n_fft // 2
    xp = np.pad(x.astype(np.float32), (pad, pad + n_fft))
    n_frames = 1 + x.size // hop
    win = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    import scipy.fft

    out = np.empty((PITCHES.size, n_frames), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(xp, n_fft)[::hop]
    for b0 in range(0, n_frames, block):
        b1 = min(n_frames, b0 + block)
        P = np.abs(scipy.fft.rfft(view[b0:b1] * win, axis=1)) ** 2
        out[:, b0:b1] = (P @ B.T).T
    return out


_BANDS = None


def _private_weights(pitch, exclude):
    """Bin weights of ``pitch``'s harmonic bands without the bins of the pitches in
    ``exclude``; None when that leaves less than 5 % of the weight (keep the full bands)."""
    global _BANDS
    if _BANDS is None:
        _BANDS = _harmonic_bands()
    r = int(np.clip(pitch - PITCHES[0], 0, PITCHES.size - 1))
    w = _BANDS[r].copy()
    rows = [int(q) - PITCHES[0] for q in exclude if PITCHES[0] <= q <= PITCHES[-1]]
    if rows:
        w[(_BANDS[rows] > 0).any(axis=0)] = 0.0
    return w if w.sum() > 0.05 * _BANDS[r].sum() else None


def _local_band_energy(x, weights, f0, f1, hop=FINE_HOP, n_fft=FINE_NFFT):
    """Band energy ``|X|² @ weights`` of the fine frames f0..f1-1 only (centred like
    :func:`_fine_energy`), for one note's own choice of bins."""
    pad = n_fft // 2
    frames = np.zeros((f1 - f0, n_fft), dtype=np.float32)
    for i, st in enumerate(range(f0 * hop - pad, f1 * hop - pad, hop)):
        a, b = max(st, 0), min(st + n_fft, x.size)
        if b > a:
            frames[i, a - st:b - st] = x[a:b]
    import scipy.fft

    P = np.abs(scipy.fft.rfft(frames * np.hanning(n_fft + 1)[:-1].astype(np.float32), axis=1)) ** 2
    return P @ weights


def other_hand_pitches(notes, by: str = "Instrument", near: float = OTHER_HAND_NEAR):
    """For every note, the pitches the *other* groups play within ±``near`` s (notated) of it.

    :func:`refine_onsets` leaves their harmonics out of the note's bands, so that the other
    hand's attack a few ms earlier (the melody leads) does not look like this note's onset.

    Examples
    --------
    >>> import pandas as pd
    >>> n = pd.DataFrame({"Start": [0.0, 0.0, 1.0], "Pitch": [48, 72, 50],
    ...                   "Instrument": ["left", "right", "left"]})
    >>> other_hand_pitches(n)
    [(72,), (48,), ()]

    Notebooks: 05_synchronization.
    """
    st = notes["Start"].to_numpy(float)
    pitch = notes["Pitch"].to_numpy(int)
    grp = notes[by].to_numpy() if by in notes.columns else np.zeros(len(notes))
    order = np.argsort(st, kind="stable")
    s_sorted = st[order]
    out = []
    for k in range(len(st)):
        a, b = np.searchsorted(s_sorted, [st[k] - near, st[k] + near + 1e-9])
        idx = order[a:b]
        out.append(tuple(sorted({int(pitch[i]) for i in idx if grp[i] != grp[k] and pitch[i] != pitch[k]})))
    return out


def _log_floor(E):
    """Per-pitch floor 60 dB under each pitch's maximum (for the log energies)."""
    return (1e-6 * E.max(axis=1) + 1e-12).astype(np.float32)


def _log_rise(E, lag):
    """log10 energy rise over ``lag`` frames, with a floor 60 dB under each pitch's maximum."""
    L = np.log10(E + _log_floor(E)[:, None], dtype=np.float32)
    d = np.zeros_like(L)
    d[:, lag:] = L[:, lag:] - L[:, :-lag]
    return d


def _window_diff(v, a, b, lag, origin=0):
    """``v[f] - v[f - lag]`` for f in [a, b) of a segment ``v`` that starts at frame ``origin``
    of the recording (0 where the recording's frame is < lag), so that a note's window is
    computed without the whole recording (what :func:`_log_rise` gives row by row)."""
    f = np.arange(a, b)
    out = np.zeros(b - a, dtype=np.float32)
    ok = (f + origin >= lag) & (f - lag >= 0)
    out[ok] = v[f[ok]] - v[f[ok] - lag]
    return out


# --------------------------------------------------------------------------- fit check
@dataclass
class Fit:
    """Result of :func:`fit`: ``fit`` (share of notes with an onset where the score says),
    ``threshold``, ``harmony`` (chroma cost at the score's timing relative to unrelated frames,
    or for a score that is one chord throughout (``one_chord``) the chroma cost itself while it
    sounds; None when not measured), ``harmony_threshold``, ``fits`` (bool), ``rise`` (per-note
    rise, log10) and ``n_notes``."""

    fit: float
    threshold: float
    fits: bool
    rise: np.ndarray
    n_notes: int
    harmony: float | None = None
    harmony_threshold: float | None = None
    one_chord: bool = False

    def __repr__(self):
        h = "" if self.harmony is None else f", harmony={self.harmony:.3f}"
        return (f"Fit(fit={self.fit:.3f}, threshold={self.threshold}{h}, fits={self.fits}, "
                f"n_notes={self.n_notes})")

    def reason(self) -> str:
        """Why the score does not fit, in words (empty if it fits)."""
        if self.fits:
            return ""
        why = []
        if self.fit < self.threshold:
            why.append(f"{self.fit:.0%} of its notes start where it says (expected ≥ {self.threshold:.0%})")
        if self.harmony is not None and self.harmony > self.harmony_threshold:
            what = "chroma cost" if self.one_chord else "chroma cost ratio"
            why.append(f"its harmony at its own timing is unrelated to the recording's ({what} "
                       f"{self.harmony:.2f} > {self.harmony_threshold})")
        return "; ".join(why)


def _rise_at(E, notes, window=FIT_WINDOW):
    """Maximum rise (log10 over 30 ms) of every note's own pitch within ``window`` (s) of its
    Start, computed in each note's window only."""
    lag = max(1, int(round(0.03 * SR / FINE_HOP)))
    floor = _log_floor(E)
    starts = notes["Start"].to_numpy(float)
    rows = np.clip(notes["Pitch"].to_numpy(int) - PITCHES[0], 0, PITCHES.size - 1)
    lo = np.clip(np.floor((starts + window[0]) * SR / FINE_HOP).astype(int), 0, E.shape[1] - 1)
    hi = np.clip(np.ceil((starts + window[1]) * SR / FINE_HOP).astype(int), 0, E.shape[1] - 1)
    out = np.full(len(starts), -np.inf)
    for k in range(len(starts)):
        if hi[k] > lo[k]:
            s0 = max(lo[k] - lag, 0)
            log = np.log10(E[rows[k], s0:hi[k] + 1] + floor[rows[k]], dtype=np.float32)
            out[k] = _window_diff(log, lo[k] - s0, hi[k] + 1 - s0, lag, s0).max()
    return out


def fit(x, sr, notes, threshold: float = FIT_THRESHOLD, *, harmony_threshold=HARMONY_THRESHOLD,
        window=FIT_WINDOW, _energy=None) -> Fit:
    """Does this score already fit this recording? A cheap check with documented thresholds.

    Two tests at the score's own timing, both needed:

    * **onsets**: a note *is found* when the energy in its own harmonic bands (harmonics 1–6,
      ±½ semitone, 2.9 ms hop) rises by at least a factor 2 over 30 ms somewhere in
      [Start − 20 ms, Start + 50 ms]; ``fit`` is the share of notes (in the piano range) found,
      and must be ≥ ``threshold``;
    * **harmony**: the chroma cost between the score's and the recording's chroma
      (:func:`score_features`, :func:`audio_features`) frame by frame at the same times, divided
      by the cost between random frame pairs (≈ 1: unrelated), must be ≤ ``harmony_threshold``
      (a score that is one chord throughout matches any timing equally well; for it the
      chroma cost itself while it sounds must be ≤ :data:`HARMONY_ONE_CHORD`, 0.5).

    Onsets alone cannot tell a score of another piece whose onsets fall on the recording's
    (a sparse score, or the same beat grid: a hammer's attack raises every band); harmony alone
    cannot tell a score that is a second late. Measured (``benchmarks/bench_sync.py --evalset``:
    the 25 synchronised recordings of the evaluation set and data/, their 592 wrong-piece cross
    pairs, 12 performed renditions): synchronised fit ≥ 0.70 (a reverberant room; the rest
    ≥ 0.84) and harmony ≤ 0.77 (a score of one chord: chroma cost ≤ 0.40); performed
    renditions with the notated score fit ≤ 0.39, harmony ≥ 0.95; every wrong-piece score with
    fit ≥ 0.6 has harmony ≥ 0.92 (the one-chord one: cost 0.68). The thresholds were set on
    these figures, between the classes.

    Parameters
    ----------
    x : ndarray, shape (L,)
        The recording (mono; stereo is mixed down).
    sr : float
        Its sample rate in Hz.
    notes : DataFrame
        Note table (:mod:`nmfedu.score`).
    threshold : float
        Share of found notes below which the score does not fit (:data:`FIT_THRESHOLD`, 0.6).
    harmony_threshold : float or None
        Harmony cost ratio above which it does not fit (:data:`HARMONY_THRESHOLD`, 0.85);
        None: onsets only (used after alignment, where :func:`align` tests the match itself).
    window : (float, float)
        Where around Start (s) the rise may be.

    Returns
    -------
    Fit

    Examples
    --------
    >>> from nmfedu import data, synchronization as sync
    >>> p = data.load("toy")
    >>> late = p.notes.assign(Start=p.notes["Start"] + 0.3)
    >>> sync.fit(p.x, p.sr, p.notes).fits, sync.fit(p.x, p.sr, late).fits
    (True, False)

    Notebooks: 05_synchronization.
    """
    x = _prepare_audio(x, sr)
    notes = _prepare_notes(notes)
    E = _energy if _energy is not None else _fine_energy(x)
    inside = notes["Pitch"].between(PITCHES[0], PITCHES[-1]).to_numpy()
    rise = _rise_at(E, notes[inside], window=window)
    share = float(np.mean(rise >= FIT_RISE)) if rise.size else 0.0
    fits = share >= threshold
    harmony, one_chord = None, False
    if harmony_threshold is not None:
        harmony, one_chord = _harmony(x, notes)
        if one_chord:
            harmony_threshold = HARMONY_ONE_CHORD
        fits = fits and harmony <= harmony_threshold
    return Fit(fit=share, threshold=float(threshold), fits=bool(fits), rise=rise,
               n_notes=int(inside.sum()), harmony=harmony,
               harmony_threshold=None if harmony_threshold is None else float(harmony_threshold),
               one_chord=one_chord)


def _harmony(x, notes):
    """``(value, one_chord)``: chroma cost of score and recording at the same times divided by
    the cost of random frame pairs.

    A score whose own chroma hardly changes (mean cost between random frames where it sounds
    below :data:`HARMONY_MIN_VARIETY`) matches every timing equally well, so the ratio says nothing
    (≈ 1); for it the value is the chroma cost itself over the frames where it sounds, and
    ``one_chord`` is True. Measured: synchronised recordings 0.17–0.33 (the 25 of the evaluation
    set), the held C3 + C5 sines of the :func:`nmfedu.separation.separate` example 0.40; the
    only one-chord wrong-piece score of the set (a 4-note chord of another piece on the toy)
    0.68. One wrong example is thin evidence for :data:`HARMONY_ONE_CHORD`."""
    T = x.size / SR
    notes = notes[notes["Start"] < T]
    if len(notes) == 0:
        return float("inf"), False
    B = _audio_chroma(x, 0.0, T)
    A, _ = score_features(notes, 0.0, T)
    n = min(A.shape[1], B.shape[1])
    A, B = A[:, :n], B[:, :n]
    rng = np.random.default_rng(0)
    sounding = np.flatnonzero(np.abs(A - 1.0 / np.sqrt(12)).max(axis=0) > 1e-6)
    if sounding.size == 0:
        return float("inf"), False
    i, j = rng.choice(sounding, 4000), rng.choice(sounding, 4000)
    if np.mean(1.0 - np.einsum("ki,ki->i", A[:, i], A[:, j])) < HARMONY_MIN_VARIETY:
        cost = 1.0 - np.einsum("ki,ki->i", A[:, sounding], B[:, sounding])
        return float(cost.mean()), True
    idx = np.arange(n)
    return _match_ratio(A, B, np.vstack([idx, idx]), rng), False


def _tuning(x, chunk: float = 4.0, n_chunks: int = 8):
    """The recording's deviation from A = 440 Hz in semitones (:func:`librosa.estimate_tuning`,
    the field's estimator, on at most ``n_chunks`` pieces of ``chunk`` s spread over the
    recording, so that 10 minutes cost what 32 s cost).

    >>> sr = SR; t = np.arange(sr) / sr
    >>> round(_tuning(np.sin(2 * np.pi * 440 * 2 ** (0.3 / 12) * t)), 1)
    0.3
    """
    import librosa

    n = int(chunk * SR)
    if x.size > n * n_chunks:
        x = np.concatenate([x[s:s + n] for s in np.linspace(0, x.size - n, n_chunks).astype(int)])
    return float(librosa.estimate_tuning(y=x, sr=SR, n_fft=4096))


def _pitch_salience(x, notes, tuning=None):
    """``(share, n_tested)``: the share of notes whose own fundamental sounds right after
    their onset, louder than the semitone next to it.

    A note is tested when its pitch is ≥ :data:`SALIENCE_MIN_PITCH` (below, a 4096-point
    frame cannot tell semitones apart) and at least one of its semitone neighbours is not in
    the score at that time. It *sounds* when the mean log10 energy of its fundamental band
    (±½ semitone) over [Start + 20 ms, Start + min(Duration, 150 ms)] exceeds that of the
    louder free neighbour by :data:`SALIENCE_RISE` (0.5: ×3.2, 5 dB). Chroma folds octaves
    and keys share pitch classes, so after DTW a chorale can look like another chorale in
    chroma (:func:`_harmony`); its notes then lie on the recording's pitch classes but not on
    its pitches. ``share`` is nan when fewer than :data:`SALIENCE_MIN_NOTES` notes are tested.
    The bands follow the recording's ``tuning`` (semitones from A = 440 Hz; None: estimated,
    :func:`_tuning`): measured without it, a recording 25 cents sharp lost a third of its
    notes' salience, since a 4096-point frame leaks that much into the next band.

    Examples
    --------
    >>> from nmfedu import data
    >>> p = data.load("mozart_sonata")
    >>> share, n = _pitch_salience(_prepare_audio(p.x, p.sr), _prepare_notes(p.notes))
    >>> bool(share > ALIGNED_SALIENCE), n > 20
    (True, True)
    """
    n_fft, hop = 4096, SR // FEATURE_RATE
    if tuning is None:
        tuning = _tuning(x)
    fb = _harmonic_bands(n_fft, n_harmonics=1, tuning=tuning)      # the fundamentals' bands
    N = 1 + x.size // hop
    E = _blocked_bands(x, hop, N, fb, n_fft)
    L = np.log10(E + 1e-6 * E.max() + 1e-12)
    on = notes["Start"].to_numpy(float)
    end = on + notes["Duration"].to_numpy(float)
    pitch = notes["Pitch"].to_numpy(int)
    by_pitch = {q: (on[pitch == q], end[pitch == q]) for q in np.unique(pitch)}
    w0, w1 = SALIENCE_WINDOW
    found = []
    for k in np.flatnonzero((pitch >= SALIENCE_MIN_PITCH) & (pitch < PITCHES[-1])):
        a = on[k] + w0
        b = on[k] + min(max(end[k] - on[k], w0 + 0.03), w1)
        f = np.arange(int(np.ceil(a * FEATURE_RATE)), int(np.floor(b * FEATURE_RATE)) + 1)
        f = f[f < N]
        if f.size == 0:
            continue
        free = [q for q in (pitch[k] - 1, pitch[k] + 1)
                if q not in by_pitch or not np.any((by_pitch[q][0] < b) & (by_pitch[q][1] > a))]
        if not free:
            continue
        own = L[pitch[k] - PITCHES[0], f].mean()
        found.append(own - max(L[q - PITCHES[0], f].mean() for q in free) > SALIENCE_RISE)
    n = len(found)
    return (float(np.mean(found)) if n >= SALIENCE_MIN_NOTES else float("nan")), n


# --------------------------------------------------------------------------- features
def _activity(x, rate=FEATURE_RATE, rel_db=-40.0):
    """(first, last) time in s where the frame RMS is within ``rel_db`` of the loudest frame."""
    hop = int(round(SR / rate))
    n = x.size // hop
    rms = np.sqrt(np.mean(x[:n * hop].reshape(n, hop) ** 2, axis=1) + 1e-20)
    db = 20 * np.log10(rms / rms.max())
    on = np.flatnonzero(db > rel_db)
    return on[0] * hop / SR, (on[-1] + 1) * hop / SR


def _normalise(F, eps=1e-3):
    """Columns to unit L2 norm; columns under ``eps`` (silence) become a flat vector."""
    n = np.linalg.norm(F, axis=0, keepdims=True)
    flat = np.full((F.shape[0], 1), 1.0 / np.sqrt(F.shape[0]))
    return np.where(n > eps, F / np.maximum(n, 1e-12), flat)


def _decay_kernel(F, length=5, rate=0.7):
    """Give every impulse a decaying tail (DLNCO-like): F * [1, r, r², …] along time.

    Five frames (0.1 s at 50 Hz). With the earlier ten frames at rate 0.8 (0.2 s) a score
    passage of onsets closer than 0.2 s had no frame free of onset features, so in a pause
    of the performance the path held the score where a longer notated gap happened to be
    free of them and pushed the following onsets into the pause (Joplin, performed: p95
    onset error 149 ms; with 0.1 s tails 27 ms, the other pieces within 2 ms of before;
    benchmarks/results/bench_sync_2026-12-02b.txt)."""
    out = F.copy()
    for k in range(1, length):
        out[:, k:] += (rate ** k) * F[:, :-k]
    return out


def onset_templates(n_harmonics: int = 6):
    """(88, 12): the pitch classes a note's attack raises in :func:`audio_features`.

    The recording's onset features rise in every pitch whose harmonic bands a note's
    partials fall in, and the log rise makes a weak partial rise about as much as the
    fundamental (measured on a performed Joplin rendition: an E-flat octave's attack gave
    E-flat 0.38, G 0.37, B-flat 0.34). A score onset on its own pitch class alone then
    matched the note's own attack (distance 1.1) *worse* than no attack at all (1.0), and
    in a pause the path slid the following onsets by up to 0.6 s. So a score note's onset
    is spread over the classes of its partials 1..``n_harmonics`` (1, 2, 4: its own class;
    3, 6: a fifth up; 5: a major third up), weight 1 each.

    Examples
    --------
    >>> T = onset_templates()
    >>> T.shape, np.flatnonzero(T[60 - 21]).tolist()      # C4: C, E, G
    ((88, 12), [0, 4, 7])
    >>> np.flatnonzero(onset_templates(1)[60 - 21]).tolist()   # its pitch class alone
    [0]

    Notebooks: 05_synchronization.
    """
    out = np.zeros((PITCHES.size, 12))
    for i, p in enumerate(PITCHES):
        for h in range(1, n_harmonics + 1):
            out[i, (p + int(round(12 * np.log2(h)))) % 12] = 1.0
    return out


def _onset_chroma(O, templates):
    """(88, N) onset strengths → (12, N) onset chroma with a decaying tail: ``templates.T @ O``
    (:func:`onset_templates`; ``onset_templates(1)`` folds every pitch to its own class).

    Scaled by the 90th percentile of the frame norms where there is an onset and clipped to
    norm ≤ 1, so that the tail of an onset really decays (a per-frame normalisation would
    make every frame after an onset look like an onset)."""
    C = _decay_kernel(templates.T @ O)
    n = np.linalg.norm(C, axis=0)
    scale = np.percentile(n[n > 0], 90) if (n > 0).any() else 1.0
    C = C / (scale + 1e-12)
    n = np.linalg.norm(C, axis=0, keepdims=True)
    return C / np.maximum(n, 1.0)


def score_features(notes, t0: float = 0.0, t1: float | None = None, rate: int = FEATURE_RATE):
    """Chroma and onset chroma of a note table at ``rate`` Hz, from ``t0`` to ``t1`` (s).

    Each note adds 1 to its pitch class and 0.3 to the class of its third harmonic
    (a fifth up), decaying like exp(−t / 1.5 s) while it sounds; its onset is an impulse on
    the pitch classes of its partials (:func:`onset_templates`), which is how a note's attack
    looks in the recording's onset chroma. Both are normalised like :func:`audio_features`.

    Returns
    -------
    chroma, onsets : ndarray, shape (12, N)

    Examples
    --------
    >>> import pandas as pd
    >>> n = pd.DataFrame({"Start": [0.0], "Duration": [1.0], "Pitch": [60], "Velocity": [80],
    ...                   "Instrument": ["right"]})
    >>> c, o = score_features(n, 0.0, 1.0)
    >>> c.shape, int(c[:, 10].argmax()), int(o[:, 0].argmax())
    ((12, 50), 0, 0)

    Notebooks: 05_synchronization.
    """
    if t1 is None:
        t1 = float((notes["Start"] + notes["Duration"]).max())
    N = max(1, int(np.ceil((t1 - t0) * rate)))
    C = np.zeros((12, N))
    O = np.zeros((PITCHES.size, N))
    for s, d, p in zip(notes["Start"].to_numpy(float), notes["Duration"].to_numpy(float),
                       notes["Pitch"].to_numpy(int)):
        a = int(np.floor((s - t0) * rate))
        b = int(np.ceil((s + d - t0) * rate))
        a0, b0 = max(a, 0), min(b, N)
        if b0 > a0:
            env = np.exp(-(np.arange(a0, b0) - a) / (1.5 * rate))
            C[p % 12, a0:b0] += env
            C[(p + 7) % 12, a0:b0] += 0.3 * env
        k = int(round((s - t0) * rate))          # centred like the recording's frames
        if 0 <= k < N and PITCHES[0] <= p <= PITCHES[-1]:
            O[p - PITCHES[0], k] += 1.0
    chroma = _normalise(np.log1p(10 * C))
    return chroma, _onset_chroma(O, onset_templates())


def _blocked_bands(seg, hop, N, fb, n_fft=4096, block=1024):
    """``fb @ |STFT|²`` of ``seg`` (centred frames, ``hop`` samples) computed block by block,
    so that 10 minutes never hold a 4096-point STFT in memory; ``fb`` is (bands, n_fft//2+1)."""
    pad = n_fft // 2
    xp = np.pad(seg.astype(np.float32), (pad, pad + n_fft))
    win = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    import scipy.fft

    out = np.empty((fb.shape[0], N), dtype=np.float32)
    view = np.lib.stride_tricks.sliding_window_view(xp, n_fft)[::hop]
    for b0 in range(0, N, block):
        b1 = min(N, b0 + block)
        P = np.abs(scipy.fft.rfft(view[b0:b1] * win, axis=1)) ** 2
        out[:, b0:b1] = fb @ P.T
    return out


def _blocked_chroma(seg, hop, N, n_fft=4096):
    """librosa's chroma filterbank on a power STFT (:func:`_blocked_bands`)."""
    import librosa

    fb = librosa.filters.chroma(sr=SR, n_fft=n_fft).astype(np.float32)      # (12, n_fft//2+1)
    return _blocked_bands(seg, hop, N, fb, n_fft)


def _audio_chroma(x, t0, t1, rate=FEATURE_RATE):
    """The chroma half of :func:`audio_features` (x at :data:`SR`)."""
    hop = SR // rate if SR % rate == 0 else int(round(SR / rate))
    a, b = int(round(t0 * SR)), int(round(t1 * SR))
    N = max(1, int(np.ceil((b - a) / hop)))
    chroma = _blocked_chroma(x[a:b], hop, N)
    chroma = chroma / (chroma.max() + 1e-12)
    quiet = chroma.sum(axis=0) < SILENCE * np.percentile(chroma.sum(axis=0), 95)
    chroma = _normalise(np.log1p(100 * chroma))
    chroma[:, quiet] = 1.0 / np.sqrt(12)        # silence looks like the score's silence
    return chroma


def audio_features(x, sr=SR, t0: float = 0.0, t1: float | None = None, rate: int = FEATURE_RATE,
                   _energy=None):
    """Chroma and onset chroma of a recording at ``rate`` Hz, from ``t0`` to ``t1`` (s).

    Chroma: librosa's chroma filterbank (:func:`librosa.filters.chroma`, as in
    :func:`librosa.feature.chroma_stft`; n_fft 4096, computed in blocks, no per-frame norm),
    log compressed ``log(1 + 100 c)``, unit L2 norm. Onset chroma: the positive part of the
    log-energy rise over 30 ms (above 0.15, i.e. ×1.4) in every pitch's harmonic bands (:func:`fit`'s bands), its
    maximum over each feature frame, folded to pitch classes, with a decaying tail.

    Returns
    -------
    chroma, onsets : ndarray, shape (12, N)

    Examples
    --------
    >>> from nmfedu import data
    >>> p = data.load("toy")
    >>> c, o = audio_features(p.x, p.sr)
    >>> c.shape[0], o.shape[0], abs(c.shape[1] - round(p.x.size / p.sr * 50)) <= 1
    (12, 12, True)

    Notebooks: 05_synchronization.
    """
    if sr != SR:
        x = _prepare_audio(x, sr)
    if t1 is None:
        t1 = x.size / SR
    hop = SR // rate if SR % rate == 0 else int(round(SR / rate))
    a, b = int(round(t0 * SR)), int(round(t1 * SR))
    N = max(1, int(np.ceil((b - a) / hop)))
    chroma = _audio_chroma(x, t0, t1, rate)
    E = _energy if _energy is not None else _fine_energy(x)
    lag = max(1, int(round(0.03 * SR / FINE_HOP)))
    per = hop / FINE_HOP
    f0 = int(round(a / FINE_HOP))
    bounds = [(max(f0 + int(round((k - 0.5) * per)), 0), min(f0 + int(round((k + 0.5) * per)), E.shape[1]))
              for k in range(N)]
    O = np.zeros((PITCHES.size, N))
    for r0 in range(0, PITCHES.size, 8):        # 8 pitches at a time: no full-size temporaries
        D = np.maximum(_log_rise(E[r0:r0 + 8], lag=lag), 0.0)
        for k, (s, e) in enumerate(bounds):
            if e > s:
                O[r0:r0 + 8, k] = D[:, s:e].max(axis=1)
    O = np.where(O > ONSET_MIN, O, 0.0)     # beating and decay of held notes are not onsets
    return chroma.astype(float), _onset_chroma(O, onset_templates(1))   # already per pitch


# --------------------------------------------------------------------------- DTW
def _dtw_core(A, B, Ao, Bo, w_onset, lo, hi, wh, wv, wd):
    """Banded DTW (compiled by numba in :func:`_numba_dtw`; see :func:`dtw_banded`)."""
    if True:
        n = lo.size
        off = np.zeros(n + 1, dtype=np.int64)
        for i in range(n):
            off[i + 1] = off[i] + (hi[i] - lo[i] + 1)
        D = np.full(off[n], np.inf)
        S = np.zeros(off[n], dtype=np.int8)
        d = A.shape[0]
        do = Ao.shape[0]
        for i in range(n):
            for j in range(lo[i], hi[i] + 1):
                c = 1.0
                for k in range(d):
                    c -= A[k, i] * B[k, j]
                e = 0.0
                for k in range(do):
                    t = Ao[k, i] - Bo[k, j]
                    e += t * t
                c += w_onset * np.sqrt(e)
                idx = off[i] + j - lo[i]
                if i == 0 and j == 0:
                    D[idx] = c
                    continue
                best = np.inf
                step = 0
                if j > lo[i]:                                  # (i, j-1): audio advances
                    v = D[idx - 1] + wh * c
                    if v < best:
                        best, step = v, 1
                if i > 0:
                    if lo[i - 1] <= j <= hi[i - 1]:            # (i-1, j): score advances
                        v = D[off[i - 1] + j - lo[i - 1]] + wv * c
                        if v < best:
                            best, step = v, 2
                    if lo[i - 1] <= j - 1 <= hi[i - 1]:        # (i-1, j-1): both
                        v = D[off[i - 1] + j - 1 - lo[i - 1]] + wd * c
                        if v < best:
                            best, step = v, 3
                D[idx] = best
                S[idx] = step
        # backtrack from (n-1, hi[n-1])
        i, j = n - 1, hi[n - 1]
        total = D[off[i] + j - lo[i]]
        pi = np.empty(n + hi[n - 1] + 2, dtype=np.int64)
        pj = np.empty(n + hi[n - 1] + 2, dtype=np.int64)
        L = 0
        while True:
            pi[L], pj[L] = i, j
            L += 1
            if i == 0 and j == 0:
                break
            s = S[off[i] + j - lo[i]]
            if s == 1:
                j -= 1
            elif s == 2:
                i -= 1
            elif s == 3:
                i -= 1
                j -= 1
            else:
                break
        return pi[:L][::-1].copy(), pj[:L][::-1].copy(), total


def _numba_dtw():
    from numba import njit

    return njit(cache=True)(_dtw_core)     # cached on disk: compiled once per installation


_DTW = None


def dtw_banded(A, B, Ao=None, Bo=None, lo=None, hi=None, w_onset: float = 1.0,
               step_weights=STEP_WEIGHTS):
    """DTW of feature sequences A (d, n) and B (d, m) inside a band of columns per row.

    The local cost of cell (i, j) is ``1 − ⟨A_i, B_j⟩`` (cosine distance of unit chroma
    vectors) plus ``w_onset · ‖Ao_i − Bo_j‖`` (onset features). Only cells with
    ``lo[i] ≤ j ≤ hi[i]`` are computed and stored (default: every cell, the textbook DTW of
    FMP 3.2 with weighted steps). The path goes from (0, 0) to (n − 1, m − 1).

    Returns
    -------
    path : ndarray (2, L) of int
        Row 0 indexes A (score), row 1 B (recording).
    cost : float
        Accumulated cost at the end.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.random((12, 30)); A /= np.linalg.norm(A, axis=0)
    >>> B = np.repeat(A, 2, axis=1)               # the recording twice as slow
    >>> path, cost = dtw_banded(A, B)
    >>> bool(np.all(np.abs(path[1] // 2 - path[0]) <= 1))
    True

    Notebooks: 05_synchronization.
    """
    global _DTW
    if _DTW is None:
        _DTW = _numba_dtw()
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    n, m = A.shape[1], B.shape[1]
    if Ao is None or Bo is None:
        Ao, Bo = np.zeros((1, n)), np.zeros((1, m))
    if lo is None:
        lo = np.zeros(n, dtype=np.int64)
        hi = np.full(n, m - 1, dtype=np.int64)
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    hi = np.ascontiguousarray(hi, dtype=np.int64)
    wh, wv, wd = (float(w) for w in step_weights)
    pi, pj, total = _DTW(A, B, np.ascontiguousarray(Ao, dtype=np.float64),
                         np.ascontiguousarray(Bo, dtype=np.float64), float(w_onset), lo, hi,
                         wh, wv, wd)
    if pi[0] != 0 or pj[0] != 0:
        raise RuntimeError("dtw_banded: the band does not connect (0, 0) to the end")
    return np.vstack([pi, pj]), float(total)


def _downsample(F, factor):
    n = F.shape[1] // factor * factor
    if n == 0:
        return _normalise(F.mean(axis=1, keepdims=True))
    G = F[:, :n].reshape(F.shape[0], -1, factor).mean(axis=2)
    if F.shape[1] > n:
        G = np.hstack([G, F[:, n:].mean(axis=1, keepdims=True)])
    return G


def _band_from_path(path, factor, n, m, radius):
    """Rows' column ranges at the finer level around a coarser path, dilated by ``radius``."""
    lo = np.full(n, m, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    for ic, jc in path.T:
        r0, r1 = ic * factor - radius, (ic + 1) * factor - 1 + radius
        c0, c1 = jc * factor - radius, (jc + 1) * factor - 1 + radius
        r0, r1 = max(r0, 0), min(r1, n - 1)
        if r1 < r0:
            continue
        lo[r0:r1 + 1] = np.minimum(lo[r0:r1 + 1], max(c0, 0))
        hi[r0:r1 + 1] = np.maximum(hi[r0:r1 + 1], min(c1, m - 1))
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo[0], hi[-1] = 0, m - 1
    hi = np.maximum(hi, lo)
    return lo, hi


def dtw_multiscale(A, B, Ao, Bo, factors=(5, 5), radius=(15, 8), w_onset: float = 1.0):
    """Memory-restricted DTW: full DTW at the coarsest level, banded refinements after.

    The features are averaged over ``prod(factors)`` frames for the coarsest level (2 Hz
    from 50 Hz with the default factors); each finer level computes only the cells within
    ``radius`` frames (of that level; one number per factor, finest first) of the projected
    coarser path: by default 0.3 s at 50 Hz and 0.8 s at 10 Hz.

    Returns
    -------
    path : ndarray (2, L)
        Warping path at the input rate.
    levels : list of dict
        One per level, coarsest first: ``rate_factor``, ``path``, ``lo``, ``hi``, ``cells``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> A = np.abs(rng.standard_normal((12, 400))); A /= np.linalg.norm(A, axis=0)
    >>> B = A[:, np.clip((np.arange(500) * 0.8).astype(int), 0, 399)]
    >>> path, levels = dtw_multiscale(A, B, A * 0, B * 0)
    >>> bool(np.median(np.abs(path[1] * 0.8 - path[0])) <= 1), len(levels)
    (True, 3)

    Notebooks: 05_synchronization.
    """
    total = int(np.prod(factors))
    pyramid = [(A, B, Ao, Bo, 1)]
    f = 1
    for fac in factors:
        f *= fac
        pa, pb = _downsample(A, f), _downsample(B, f)
        pyramid.append((_normalise(pa), _normalise(pb), _downsample(Ao, f), _downsample(Bo, f), f))
    levels = []
    A_c, B_c, Ao_c, Bo_c, f = pyramid[-1]
    path, _ = dtw_banded(A_c, B_c, Ao_c, Bo_c, w_onset=w_onset)
    levels.append(dict(rate_factor=f, path=path, lo=None, hi=None,
                       cells=A_c.shape[1] * B_c.shape[1]))
    for k in range(len(pyramid) - 2, -1, -1):
        A_k, B_k, Ao_k, Bo_k, fk = pyramid[k]
        fac = pyramid[k + 1][4] // fk
        r = radius[k] if np.ndim(radius) else int(radius)
        lo, hi = _band_from_path(path, fac, A_k.shape[1], B_k.shape[1], int(r))
        path, _ = dtw_banded(A_k, B_k, Ao_k, Bo_k, lo, hi, w_onset=w_onset)
        levels.append(dict(rate_factor=fk, path=path, lo=lo, hi=hi, cells=int((hi - lo + 1).sum())))
    del total
    return path, levels


def warp_times(path, t, rate: int = FEATURE_RATE, t0_score: float = 0.0, t0_audio: float = 0.0,
               cost=None):
    """Map score times ``t`` (s) to recording times along a warping path.

    Each score frame is mapped to one recording frame of those the path pairs it with: the
    first one, or (``cost`` given: the local cost of every path cell) the cheapest one, so
    that a note whose onset frame the path holds across a pause lands where its onset is.
    The frames are made non-decreasing and linearly interpolated.

    Examples
    --------
    >>> import numpy as np
    >>> path = np.array([[0, 1, 2, 2, 3], [0, 2, 4, 5, 6]])
    >>> warp_times(path, [0.0, 0.02, 0.04], rate=50).round(3).tolist()
    [0.0, 0.04, 0.08]
    >>> warp_times(path, [0.04], rate=50, cost=[0, 0, 1.0, 0.2, 0]).round(3).tolist()
    [0.1]

    Notebooks: 05_synchronization.
    """
    i, j = np.asarray(path[0]), np.asarray(path[1])
    rows, first = np.unique(i, return_index=True)
    if cost is None:
        cols = j[first].astype(float)
    else:
        cost = np.asarray(cost, dtype=float)
        bounds = np.append(first, i.size)
        cols = np.array([j[a + int(np.argmin(cost[a:b]))] for a, b in zip(bounds[:-1], bounds[1:])],
                        dtype=float)
        cols = np.maximum.accumulate(cols)
    ts = rows / rate + t0_score
    ta = cols / rate + t0_audio
    return np.interp(np.asarray(t, dtype=float), ts, ta, left=np.nan, right=np.nan)


# --------------------------------------------------------------------------- refinement
def refine_onsets(energy, notes, estimates, window: float = REFINE_WINDOW, bias: float = None,
                  min_rise: float = FIT_RISE, audio=None, exclude=None):
    """Move every note's onset to the steepest rise in its own harmonic bands near its estimate.

    The place is where the band *amplitude* (√energy) grows fastest over 10 ms, among the
    frames where the log energy grows too: a note's own attack adds far more amplitude to its
    bands than the other hand's attack a few ms before it, which can give the larger
    *relative* rise when the band was quiet (measured: the log-energy criterion put left-hand
    notes at the right hand's leading attack, 20–40 ms early). The confidence is how much the
    energy rose there (log10 over 30 ms).

    Parameters
    ----------
    energy : ndarray (88, n_fine)
        Fine band energies (harmonics of every piano pitch, 2.9 ms hop).
    notes : DataFrame
        Note table (Pitch is used).
    estimates : array (n_notes,)
        Onsets (s) after the global alignment.
    window : float
        Search ± this many seconds (with a mild preference for the estimate).
    bias : float or None
        Subtracted from the detected time (default :data:`REFINE_BIAS`, measured on the
        bundled, synchronised pieces: ``benchmarks/bench_sync.py --calibrate``).
    audio : ndarray or None
        The recording at :data:`SR`. With ``exclude``, each note's bands are computed from
        it in the note's window, without the bins of the pitches in ``exclude[k]``.
    exclude : list of tuples or None
        Per note, pitches whose harmonics are left out of its bands
        (:func:`other_hand_pitches`). Measured on 12 performed renditions
        (``benchmarks/bench_sync.py --heldout``, with a second pass since dropped): mean p95
        onset error 24.0 → 20.7 ms (Mozart 24.0/18.8/22.9 → 9.4/8.7/9.3 ms); leaving out the *same* hand's pitches too
        was worse (it removes the bands a chord's notes share, which is where their attack
        is).
    min_rise : float
        log10 rise over 30 ms below which a note keeps its estimate.

    Returns
    -------
    onsets, confidence : ndarray (n_notes,)
        Refined onsets (s) and a confidence in [0, 1] (1: rise ≥ 10×, 0: no clear rise).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> E = np.full((88, 400), 1e-4, dtype=np.float32)
    >>> E[60 - 21, 200:] = 1.0                          # C4 starts at frame 200 (0.571 s)
    >>> notes = pd.DataFrame({"Pitch": [60]})
    >>> on, conf = refine_onsets(E, notes, [0.55], bias=0.0)
    >>> round(float(on[0]) * SR / FINE_HOP), float(conf[0])
    (200, 1.0)

    Notebooks: 05_synchronization.
    """
    bias = REFINE_BIAS if bias is None else bias
    fps = SR / FINE_HOP
    lag = max(1, int(round(0.01 * fps)))
    lag3 = max(1, int(round(0.03 * fps)))
    after = int(round(0.02 * fps))
    floor = _log_floor(energy)
    rows = np.clip(notes["Pitch"].to_numpy(int) - PITCHES[0], 0, PITCHES.size - 1)
    est = np.asarray(estimates, dtype=float)
    out = est.copy()
    conf = np.zeros(est.size)
    w = int(round(window * fps))
    n_frames = energy.shape[1]
    for k in range(est.size):
        if not np.isfinite(est[k]):
            continue
        c = int(round(est[k] * fps))
        a, b = max(c - w, 0), min(c + w + 1, n_frames)
        if b <= a:
            continue
        # only this note's band around its estimate: no (88, n_frames) temporaries
        s0 = max(a - lag3, 0)
        seg = energy[rows[k], s0:b]
        if audio is not None and exclude is not None and len(exclude[k]):
            w_k = _private_weights(int(notes["Pitch"].iloc[k]), exclude[k])
            if w_k is not None:
                seg = _local_band_energy(audio, w_k, s0, b)
        log = np.log10(seg + floor[rows[k]], dtype=np.float32)
        s = _window_diff(log, a - s0, b - s0, lag, a)
        r = _window_diff(log, a - s0, b - s0, lag3, a)
        g = _window_diff(np.sqrt(seg, dtype=np.float32), a - s0, b - s0, lag, a)
        prior = 1.0 - 0.3 * (np.abs(np.arange(a, b) - c) / max(w, 1)) ** 2
        score = np.maximum(g, 0) * prior * (s > 0)
        m = int(score.argmax())
        strength = max(r[min(m + after, r.size - 1)], r[m])
        if strength >= min_rise and s[m] > 0:
            out[k] = (a + m) / fps - bias
            conf[k] = float(np.clip((strength - min_rise) / (1.0 - min_rise), 0.0, 1.0))
    return out, conf


def onsets_from_chord(notes, onsets, confidence, by: str = "Instrument", low: float = CHORD_LOW,
                      high: float = CHORD_HIGH, near: float = 0.01):
    """Give a note without a clear attack of its own the onset of the notes struck with it.

    A note whose refinement found no clear rise (``confidence`` < ``low``: re-struck while it
    still sounds, masked by a louder note, soft) would keep the global estimate, whose frames
    are 20 ms long. Notes notated together (within ``near`` s) in one hand are struck together,
    so it takes the median onset of those of its chord whose confidence is ≥ ``high``; when its
    hand has none, that of the other hand's, shifted by the hands' median offset in this
    performance (the melody played ahead), measured on the confident notes notated together.
    Otherwise it keeps its onset. The confidences are not changed.

    ``low`` and ``high`` were chosen on three rendition sets (build/performed, _h, _s2; mean
    p95 onset error 19.3 → 18.0 ms) and checked on the two others (_v, _w), not looked at while
    choosing: Chopin p95 29.5 → 23.8 and 26.2 → 22.1 ms, Joplin 24.4 → 22.2 and 21.4 → 24.4 ms,
    the rest within 0.2 ms or better (``benchmarks/bench_sync.py --heldout``).

    Parameters
    ----------
    notes : DataFrame
        The notated score (Start, group column ``by``), row k for ``onsets[k]``.
    onsets, confidence : array (n_notes,)
        Refined onsets (s) and their confidence (:func:`refine_onsets`).

    Returns
    -------
    ndarray (n_notes,)
        Onsets (s).

    Examples
    --------
    >>> import pandas as pd
    >>> n = pd.DataFrame({"Start": [0.0, 0.0, 0.0, 1.0], "Pitch": [60, 64, 48, 62],
    ...                   "Instrument": ["right", "right", "left", "right"]})
    >>> onsets_from_chord(n, [1.00, 1.09, 1.02, 2.0], [0.9, 0.0, 0.8, 0.0]).round(3).tolist()
    [1.0, 1.0, 1.02, 2.0]

    Notebooks: 05_synchronization.
    """
    st = notes["Start"].to_numpy(float)
    grp = notes[by].to_numpy() if by in notes.columns else np.zeros(len(notes))
    on = np.asarray(onsets, dtype=float)
    conf = np.asarray(confidence, dtype=float)
    good = conf >= high
    out = on.copy()
    order = np.argsort(st, kind="stable")
    s_sorted = st[order]

    def together(k):
        a, b = np.searchsorted(s_sorted, [st[k] - near, st[k] + near + 1e-12])
        return order[a:b]

    offset = {}
    for g in np.unique(grp):
        d = []
        for k in np.flatnonzero(good & (grp == g)):
            idx = together(k)
            other = idx[good[idx] & (grp[idx] != g)]
            if other.size:
                d.append(on[k] - np.median(on[other]))
        offset[g] = float(np.median(d)) if d else 0.0
    for k in np.flatnonzero(conf < low):
        idx = together(k)
        same = idx[good[idx] & (grp[idx] == grp[k])]
        other = idx[good[idx] & (grp[idx] != grp[k])]
        if same.size:
            out[k] = np.median(on[same])
        elif other.size:
            out[k] = np.median(on[other]) + offset[grp[k]]
    return out


def onsets_from_neighbours(notes, onsets, confidence, low: float = NEIGHBOUR_LOW,
                           high: float = NEIGHBOUR_HIGH, max_gap: float = NEIGHBOUR_GAP):
    """Time a note without any attack of its own, and nobody struck with it, from its neighbours.

    A note whose confidence is below ``low`` and with no note of confidence ≥ ``high`` at its
    notated time (else :func:`onsets_from_chord` has placed it) lies between two notated times
    that do have confident notes; when they are at most ``max_gap`` s apart in the score, its
    onset is interpolated linearly between their median onsets (the local tempo). Otherwise,
    and at the ends, it keeps its onset. The confidences are not changed.

    ``low``, ``high`` and ``max_gap`` were chosen on three rendition sets (build/performed, _h,
    _s2: p95 onset error ≤ 24.8 ms on all 12, mean 18.0 → 17.6 ms) and checked on the two
    others (_v, _w), not looked at while choosing: mean p95 18.6 → 17.2 ms, all 8 ≤ 23.8 ms
    (``benchmarks/bench_sync.py --heldout``).

    Parameters
    ----------
    notes : DataFrame
        The notated score (Start), row k for ``onsets[k]``.
    onsets, confidence : array (n_notes,)

    Returns
    -------
    ndarray (n_notes,)

    Examples
    --------
    >>> import pandas as pd
    >>> n = pd.DataFrame({"Start": [0.0, 0.25, 0.5, 3.0]})
    >>> onsets_from_neighbours(n, [1.0, 1.9, 1.6, 5.0], [0.9, 0.0, 0.9, 0.9]).round(3).tolist()
    [1.0, 1.3, 1.6, 5.0]

    Notebooks: 05_synchronization.
    """
    st = notes["Start"].to_numpy(float)
    on = np.asarray(onsets, dtype=float)
    conf = np.asarray(confidence, dtype=float)
    out = on.copy()
    good = conf >= high
    if not good.any():
        return out
    times = np.unique(st[good])
    when = np.array([np.median(on[good & (st == t)]) for t in times])
    for k in np.flatnonzero(conf < low):
        i = int(np.searchsorted(times, st[k]))
        if i == 0 or i >= times.size:
            continue
        a, b = times[i - 1], times[i]
        if np.isclose(a, st[k]) or np.isclose(b, st[k]) or b - a > max_gap:
            continue
        out[k] = when[i - 1] + (when[i] - when[i - 1]) * (st[k] - a) / (b - a)
    return out


# --------------------------------------------------------------------------- alignment
@dataclass
class Alignment:
    """Everything :func:`align` computed, for notebooks and reports.

    Attributes
    ----------
    notes : DataFrame
        The synchronised note table (same rows and order as the input).
    notated : DataFrame
        The input note table.
    global_onsets : ndarray
        Onsets after the global warping path, before the local refinement (s).
    confidence : ndarray
        Per-note confidence of the refinement in [0, 1].
    path : ndarray (2, L)
        Warping path at :data:`FEATURE_RATE` (row 0: score frame, row 1: recording frame,
        both counted from the trimmed starts ``trim['score'][0]`` and ``trim['audio'][0]``).
    levels : list of dict
        The multiscale pieces of :func:`dtw_multiscale`.
    score_chroma, score_onsets, audio_chroma, audio_onsets : ndarray (12, ·)
        The features of both sides (trimmed).
    warp : (ndarray, ndarray)
        Knots (score s, recording s) of the piecewise linear global warp.
    trim : dict
        ``score`` and ``audio``: (start, end) of the sounding part in s.
    match : float
        Mean local cost along the path divided by the mean cost of random frame pairs
        (≈ 1: unrelated; the bundled pieces give ≈ 0.3).
    fit_before, fit_after : Fit
    runtime : float
        Seconds.
    info : dict
        ``rows``: for every row of ``notes`` the row of ``notated`` it comes from.
    """

    notes: pd.DataFrame
    notated: pd.DataFrame
    global_onsets: np.ndarray
    confidence: np.ndarray
    path: np.ndarray
    levels: list
    score_chroma: np.ndarray
    score_onsets: np.ndarray
    audio_chroma: np.ndarray
    audio_onsets: np.ndarray
    warp: tuple
    trim: dict
    match: float
    fit_before: Fit
    fit_after: Fit
    runtime: float = 0.0
    info: dict = field(default_factory=dict)

    def cost_matrix(self, max_frames: int = 1500):
        """The local cost matrix of the (trimmed) features, subsampled to ≤ ``max_frames``
        per side (for figures only). Returns ``(C, step)``."""
        step = max(1, int(np.ceil(max(self.score_chroma.shape[1], self.audio_chroma.shape[1])
                                  / max_frames)))
        A, B = self.score_chroma[:, ::step], self.audio_chroma[:, ::step]
        Ao, Bo = self.score_onsets[:, ::step], self.audio_onsets[:, ::step]
        C = 1.0 - A.T @ B
        C += np.sqrt(np.maximum((Ao ** 2).sum(0)[:, None] + (Bo ** 2).sum(0)[None, :]
                                - 2 * Ao.T @ Bo, 0.0))
        return C, step


def _match_ratio(A, B, path, rng):
    """Mean chroma cost along the path / mean chroma cost of random frame pairs."""
    def cost(i, j):
        return 1.0 - np.einsum("ki,ki->i", A[:, i], B[:, j])
    on_path = cost(path[0], path[1]).mean()
    k = 4000
    rand = cost(rng.integers(0, A.shape[1], k), rng.integers(0, B.shape[1], k)).mean()
    return float(on_path / max(rand, 1e-12))


def align(x, sr, notes, *, by: str = "Instrument", refine: bool = True,
          window: float = REFINE_WINDOW, w_onset: float = 2.0, check: bool = True) -> Alignment:
    """Align a note table to a recording (global multiscale DTW, then per-note refinement).

    Parameters
    ----------
    x : ndarray
        The recording.
    sr : float
        Its sample rate (Hz).
    notes : DataFrame
        Note table (any group labels in column ``by``), e.g. a score in notated tempo.
    by : str
        Group column (kept as it is).
    refine : bool
        Refine every onset locally (:func:`refine_onsets`).
    window : float
        Refinement search half-width (s).
    w_onset : float
        Weight of the onset features in the DTW cost.
    check : bool
        Refuse (ValueError) a score that does not match the recording
        (:data:`MATCH_THRESHOLD`) or does not fit after alignment
        (:func:`_after_alignment_faults`).

    Returns
    -------
    Alignment

    Examples
    --------
    >>> from nmfedu import data, synchronization as sync
    >>> p = data.load("mozart_sonata")
    >>> late = p.notes.assign(Start=p.notes["Start"] * 1.25 + 0.5, Duration=p.notes["Duration"] * 1.25)
    >>> a = sync.align(p.x, p.sr, late)
    >>> bool(abs(a.notes["Start"] - p.notes["Start"]).median() < 0.02)
    True

    Notebooks: 05_synchronization.
    """
    t_start = time.perf_counter()
    x = _prepare_audio(x, sr)
    df = _prepare_notes(notes, by)
    E = _fine_energy(x)
    fit_before = fit(x, SR, df, _energy=E)
    a0, a1 = _activity(x)
    s0 = float(df["Start"].min())
    s1 = float((df["Start"] + df["Duration"]).max())
    if a1 - a0 < 0.5:
        raise ValueError(f"x: only {a1 - a0:.2f} s of the recording is not silent; expected the "
                         f"performance of the score")
    ratio = (a1 - a0) / (s1 - s0)
    if not 0.4 <= ratio <= 2.5:
        raise ValueError(f"notes: the score's notes span {s1 - s0:.1f} s but the recording sounds "
                         f"for {a1 - a0:.1f} s; expected the same piece at a tempo within "
                         f"x0.4..x2.5 of the notated one")
    A, Ao = score_features(df, s0, s1)
    B, Bo = audio_features(x, SR, a0, a1, _energy=E)
    n, m = A.shape[1], B.shape[1]
    factors = tuple(f for f in (5, 5) if min(n, m) >= 25 * f) or (1,)
    if factors == (1,):
        path, _ = dtw_banded(A, B, Ao, Bo, w_onset=w_onset)
        levels = [dict(rate_factor=1, path=path, lo=None, hi=None, cells=n * m)]
    else:
        path, levels = dtw_multiscale(A, B, Ao, Bo, factors=factors, w_onset=w_onset)
    match = _match_ratio(A, B, path, np.random.default_rng(0))
    if check and match > MATCH_THRESHOLD:
        raise ValueError(f"notes: the score does not match the recording (alignment cost ratio "
                         f"{match:.2f} > {MATCH_THRESHOLD}); is it a score of another piece?")
    starts = df["Start"].to_numpy(float)
    ends = starts + df["Duration"].to_numpy(float)
    local = (1.0 - np.einsum("ki,ki->i", A[:, path[0]], B[:, path[1]])
             + w_onset * np.linalg.norm(Ao[:, path[0]] - Bo[:, path[1]], axis=0))
    g_on = warp_times(path, starts, t0_score=s0, t0_audio=a0, cost=local)
    g_end = warp_times(path, np.minimum(ends, s1 - 1e-6), t0_score=s0, t0_audio=a0)
    g_on = np.where(np.isfinite(g_on), g_on, a0) - GLOBAL_BIAS
    g_end = np.where(np.isfinite(g_end), g_end, a1)
    if refine:
        others = other_hand_pitches(df, by)
        on, conf = refine_onsets(E, df, g_on, window=window, audio=x, exclude=others)
        on = onsets_from_neighbours(df, onsets_from_chord(df, on, conf, by), conf)
    else:
        on, conf = g_on.copy(), np.zeros(g_on.size)
    dur = np.maximum(g_end - g_on, 0.03)
    out = df.copy()
    out["Start"] = np.maximum(on, 0.0)
    out["Duration"] = dur
    out = out.sort_values(["Start", "Pitch"], kind="mergesort").reset_index(drop=True)
    order = np.argsort(np.maximum(on, 0.0), kind="stable")
    # the onsets after alignment are tested at the *global* onsets (±50 ms): the refined ones
    # sit on energy rises by construction, whichever piece the score is
    fit_after = fit(x, SR, out.assign(Start=np.maximum(g_on[order], 0.0)), _energy=E,
                    threshold=ALIGNED_FIT_THRESHOLD, harmony_threshold=None, window=ALIGNED_WINDOW)
    h_after, one_chord = _harmony(x, out)
    h_limit = HARMONY_ONE_CHORD if one_chord else ALIGNED_HARMONY_THRESHOLD
    conf_mean = float(conf.mean()) if refine else None
    salience, n_salience = _pitch_salience(x, out)
    why = _after_alignment_faults(fit_after.fit, h_after, h_limit, conf_mean, salience)
    if check and why:
        raise ValueError(f"notes: the score does not fit the recording even after alignment "
                         f"({'; '.join(why)}); is it the same piece and edition?")
    rows, first = np.unique(path[0], return_index=True)
    knots = (rows[::max(1, rows.size // 200)] / FEATURE_RATE + s0,
             path[1][first][::max(1, rows.size // 200)] / FEATURE_RATE + a0)
    return Alignment(notes=out, notated=df, global_onsets=g_on[order], confidence=conf[order],
                     path=path, levels=levels, score_chroma=A, score_onsets=Ao,
                     audio_chroma=B, audio_onsets=Bo, warp=knots,
                     trim=dict(score=(s0, s1), audio=(a0, a1)), match=match,
                     fit_before=fit_before, fit_after=fit_after,
                     runtime=time.perf_counter() - t_start,
                     info=dict(rows=order, harmony_after=h_after, harmony_after_threshold=h_limit,
                               confidence_mean=conf_mean, salience_after=salience,
                               salience_notes=n_salience, faults=why))


def _after_alignment_faults(onsets, harmony, harmony_limit, confidence, salience=float("nan")):
    """What speaks against an alignment, in words (empty: it is trusted).

    Three tests, all measured on the evaluation set (``benchmarks/bench_sync.py --evalset``):
    onsets at the global path (share of notes rising within ±50 ms) ≥
    :data:`ALIGNED_FIT_THRESHOLD`, harmony at the aligned timing ≤
    :data:`ALIGNED_HARMONY_THRESHOLD`, and mean refinement confidence ≥
    :data:`ALIGNED_CONFIDENCE`; and the share of notes whose own fundamental sounds at the aligned
    onset (:func:`_pitch_salience`) ≥ :data:`ALIGNED_SALIENCE` (not applied, nan, when fewer than
    :data:`SALIENCE_MIN_NOTES` notes can be tested). On 70 right scores that needed aligning
    (every synchronised excerpt stretched ×1.25 + 0.5 s and ×0.8 + 0.3 s, 20 performed
    renditions) none is refused (closest: onsets 0.70, harmony 0.74, confidence 0.46, salience
    0.90). The first three tests passed 17 of the 592 wrong-piece scores of the evaluation set
    (chorales on chorales, C-major pieces on each other: DTW can time one homophonic piece like
    another in chroma) and 36 of 465 held-out ones (performed renditions with other works'
    scores, not looked at while choosing the threshold); with the salience test none passes
    (their salience ≤ 0.68; the threshold lies between 0.66, the highest wrong score the
    other tests pass on the evaluation set, and 0.90, the lowest right one).

    >>> _after_alignment_faults(0.9, 0.5, 0.82, 0.7)
    []
    >>> _after_alignment_faults(0.5, 0.9, 0.82, 0.7)[1]
    'harmony at the aligned timing 0.90 > 0.82'
    """
    why = []
    if onsets < ALIGNED_FIT_THRESHOLD:
        why.append(f"{onsets:.0%} of the notes start at an onset of the recording "
                   f"(expected ≥ {ALIGNED_FIT_THRESHOLD:.0%})")
    if harmony > harmony_limit:
        why.append(f"harmony at the aligned timing {harmony:.2f} > {harmony_limit}")
    if confidence is not None and confidence < ALIGNED_CONFIDENCE:
        why.append(f"mean onset confidence {confidence:.2f} < {ALIGNED_CONFIDENCE}")
    if salience < ALIGNED_SALIENCE:      # nan (too few notes tested): not applied
        why.append(f"{salience:.0%} of the notes' own pitches sound at their aligned onset "
                   f"(expected ≥ {ALIGNED_SALIENCE:.0%})")
    return why


def prepare_score(x, sr, notes, align: str = "auto", by: str = "Instrument"):
    """The score to separate with: checked, and aligned when it does not fit (or when asked).

    Parameters
    ----------
    x, sr : the recording and its sample rate.
    notes : DataFrame
        Note table.
    align : "auto", "always", "never" or None
        ``auto``: align only if :func:`fit` says the score does not fit; ``always``;
        ``never``: use the score as it is (a score that does not fit is refused, so that
        no stems of silence are produced); None: use the score as given without any check
        (the behaviour before synchronisation existed; notebook 05 compares with it).
    by : str
        Group column.

    Returns
    -------
    notes : DataFrame
        The score to use.
    info : dict
        ``fit`` (before), ``fit_threshold``, ``harmony``, ``harmony_threshold``, ``aligned``
        (bool), ``fit_after``, ``match``, ``harmony_after``, ``confidence_mean``,
        ``salience_after`` (None: too few notes to test),
        ``lead_in_s``, ``tempo_ratio``, ``warp`` (``score_s`` / ``audio_s`` knots),
        ``align_s`` (time taken).

    Examples
    --------
    >>> from nmfedu import data, synchronization as sync
    >>> p = data.load("toy")
    >>> notes, info = sync.prepare_score(p.x, p.sr, p.notes)
    >>> info["aligned"], notes is p.notes
    (False, True)

    Notebooks: 05_synchronization; used by :func:`nmfedu.separation.separate` and the CLI.
    """
    if align is None:                # the score as given, unchecked (for comparisons)
        return notes, dict(fit=None, aligned=False, checked=False)
    if align not in ("auto", "always", "never"):
        raise ValueError(f"align must be 'auto', 'always', 'never' or None, got {align!r}")
    t0 = time.perf_counter()
    if by is not None and isinstance(notes, pd.DataFrame) and by not in notes.columns:
        return notes, dict(fit=None, aligned=False)      # the caller reports the bad column
    xa = _prepare_audio(x, sr)
    df = _prepare_notes(notes, by)
    inside = df[df["Start"] < xa.size / SR]
    if len(inside) == 0:             # the caller reports a score that misses the recording
        return notes, dict(fit=0.0, fit_threshold=FIT_THRESHOLD, aligned=False)
    f = fit(xa, SR, inside)
    info = dict(fit=round(f.fit, 4), fit_threshold=FIT_THRESHOLD,
                harmony=None if f.harmony is None else round(f.harmony, 4),
                harmony_threshold=f.harmony_threshold, aligned=False)
    if align == "never" or (align == "auto" and f.fits):
        if not f.fits:
            raise ValueError(f"notes: the score does not fit the recording ({f.reason()}); "
                             f"align it first (align='auto')")
        info["align_s"] = round(time.perf_counter() - t0, 3)
        return notes, info
    a = align_fn(xa, SR, df, by=by)
    info.update(aligned=True, fit_after=round(a.fit_after.fit, 4), match=round(a.match, 4),
                harmony_after=round(a.info["harmony_after"], 4),
                confidence_mean=None if a.info["confidence_mean"] is None else round(a.info["confidence_mean"], 4),
                salience_after=None if np.isnan(a.info["salience_after"]) else round(a.info["salience_after"], 4),
                lead_in_s=round(a.trim["audio"][0], 4),
                tempo_ratio=round((a.trim["audio"][1] - a.trim["audio"][0])
                                  / (a.trim["score"][1] - a.trim["score"][0]), 4),
                warp=dict(score_s=[round(float(v), 3) for v in a.warp[0]],
                          audio_s=[round(float(v), 3) for v in a.warp[1]]),
                align_s=round(time.perf_counter() - t0, 3))
    return a.notes, info


align_fn = align


# --------------------------------------------------------------------------- performed material
def name_seed(name: str, seed: int = 0) -> int:
    """A deterministic integer seed from a name (independent of Python's hash salt).

    >>> name_seed("toy") == name_seed("toy"), name_seed("toy") != name_seed("toy", 1)
    (True, True)
    """
    return int(hashlib.sha256(f"{name}:{seed}".encode()).hexdigest()[:8], 16)


def performance_warp(notes, slow: float = 1.2, rubato: float = 0.15, period: float = 4.0,
                     lead_in: tuple = (0.8, 1.5), pause: tuple = (0.4, 0.8), seed: int = 0,
                     step: float = 0.01):
    """A smooth performed tempo curve for a note table: knots (score s, performed s).

    The local slowdown is ``slow · (1 + rubato · sin(2π s / period + φ))``; the performance
    starts after a lead-in drawn from ``lead_in`` and has one pause drawn from ``pause``
    before the note nearest the middle (none if ``pause`` is None).

    Examples
    --------
    >>> from nmfedu import data
    >>> notes = data.load("toy").notes
    >>> s, t = performance_warp(notes, seed=0)
    >>> bool(np.all(np.diff(t) > 0)), bool(np.interp(notes["Start"].min(), s, t) >= 0.8)
    (True, True)

    Notebooks: 05_synchronization (the rubato widget); scripts/make_performed.py.
    """
    rng = np.random.default_rng(seed)
    s0 = float(notes["Start"].min())
    s1 = float((notes["Start"] + notes["Duration"]).max()) + 5.0
    s = np.arange(s0, s1 + step, step)
    phi = rng.uniform(0, 2 * np.pi)
    rate = slow * (1 + rubato * np.sin(2 * np.pi * (s - s0) / period + phi))
    t = np.concatenate([[0.0], np.cumsum(rate[:-1] * step)])
    t += rng.uniform(*lead_in)
    if pause is not None:
        starts = np.sort(notes["Start"].unique())
        sp = starts[np.argmin(np.abs(starts - (s0 + (s1 - 5.0 - s0) / 2)))]
        # the pause starts 60 ms before the note (so a vocoder rendition holds the sound
        # before the note's attack, not the attack), as a steep ramp over one step
        t = t + np.where(s >= sp - 0.06 - 1e-9, rng.uniform(*pause), 0.0)
    s = np.concatenate([[0.0], s]) if s0 > 0 else s
    t = np.concatenate([[t[0] - s0 * slow], t]) if s0 > 0 else t
    keep = np.concatenate([[True], np.diff(t) > 0])
    return s[keep], np.maximum.accumulate(t[keep])


def perform_notes(notes, warp, lead: float = 0.015, jitter: float = 0.006, velocity: float = 0.25,
                  melody: str = "right", seed: int = 0):
    """Play a note table along a warp: performed onsets/offsets, melody lead, jitter, velocities.

    Returns the performed note table (the true timing of a rendition).

    Examples
    --------
    >>> from nmfedu import data
    >>> n = data.load("toy").notes
    >>> p = perform_notes(n, performance_warp(n, seed=1), seed=1)
    >>> len(p) == len(n), bool((p["Start"] > n["Start"]).all())
    (True, True)

    Notebooks: 05_synchronization; scripts/make_performed.py.
    """
    rng = np.random.default_rng(seed + 1)
    s, t = warp
    df = notes.reset_index(drop=True)
    on = np.interp(df["Start"].to_numpy(float), s, t)
    off = np.interp((df["Start"] + df["Duration"]).to_numpy(float), s, t)
    on = on + rng.normal(0.0, jitter, len(df)) - lead * (df["Instrument"] == melody).to_numpy()
    vel = df["Velocity"].to_numpy(float) * (1 + velocity * rng.uniform(-1, 1, len(df)))
    vel = vel + 8 * (df["Instrument"] == melody).to_numpy()
    out = df.copy()
    out["Start"] = np.maximum(on, 0.0)
    out["Duration"] = np.maximum(off - on, 0.05)
    out["Velocity"] = np.clip(np.round(vel), 15, 127)
    return out.sort_values(["Start", "Pitch"], kind="mergesort").reset_index(drop=True)


def warp_audio(x, sr, warp, n_fft: int = 1024, hop: int = 128, length: int | None = None):
    """Time-warp a signal along ``warp`` = (original s, warped s) with a phase vocoder.

    Output frame times are mapped back to original times through the inverse warp;
    magnitudes are interpolated between the neighbouring input frames and phases advance
    by the measured phase differences (the phase vocoder of Flanagan & Golden, with a
    time-varying rate). Before the warp's first knot the output is silent (a lead-in);
    where the warp holds the input (a pause) the held sound decays (time constant 0.3 s).
    The short window (1024 samples, hop 128) keeps the pre-echo of attacks to a few ms.

    Examples
    --------
    >>> import numpy as np
    >>> sr = 22050; x = np.sin(2 * np.pi * 440 * np.arange(sr) / sr)
    >>> y = warp_audio(x, sr, (np.array([0.0, 1.0]), np.array([0.5, 2.0])))
    >>> abs(y.size / sr - 2.0) < 0.05, float(np.abs(y[: sr // 4]).max()) < 1e-3
    (True, True)

    Notebooks: 05_synchronization; tests/test_synchronization.py.
    """
    import librosa

    s_k, t_k = (np.asarray(v, dtype=float) for v in warp)
    X = librosa.stft(np.asarray(x, dtype=float), n_fft=n_fft, hop_length=hop)
    n_in = X.shape[1]
    if length is None:
        length = int(round(np.interp(x.size / sr, s_k, t_k, right=t_k[-1] + x.size / sr - s_k[-1])
                           * sr))
    n_out = 1 + length // hop
    t_out = np.arange(n_out) * hop / sr
    src = np.interp(t_out, t_k, s_k, left=-1.0, right=np.nan)
    tail = ~np.isfinite(src)
    src[tail] = s_k[-1] + (t_out[tail] - t_k[-1])
    q = src * sr / hop
    phase_adv = np.linspace(0, np.pi * hop, X.shape[0])
    Y = np.zeros((X.shape[0], n_out), dtype=complex)
    Xp = np.pad(X, ((0, 0), (0, 2)))
    phase = None
    held = 0.0                               # time spent (almost) frozen: let the sound decay
    for k in range(n_out):
        if q[k] < 0 or q[k] > n_in - 1:
            phase = None
            continue
        i = int(q[k])
        a = q[k] - i
        held = held + hop / sr if k and q[k] - q[k - 1] < 0.2 else 0.0
        mag = ((1 - a) * np.abs(Xp[:, i]) + a * np.abs(Xp[:, i + 1])) * np.exp(-held / 0.3)
        if phase is None:
            phase = np.angle(Xp[:, i])
        Y[:, k] = mag * np.exp(1j * phase)
        dphi = np.angle(Xp[:, i + 1]) - np.angle(Xp[:, i]) - phase_adv
        dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
        phase = phase + phase_adv + dphi
    return librosa.istft(Y, hop_length=hop, n_fft=n_fft, length=length)


def performed_version(piece, rubato: float = 0.15, slow: float = 1.2, seed: int = 0,
                      pause=(0.4, 0.8), lead_in=(0.8, 1.5)):
    """A performed version of a bundled piece made from its own stems (no synthesiser needed).

    The stems are time-warped with :func:`warp_audio` along :func:`performance_warp`; the
    true note table follows the same warp (no jitter or melody lead: a vocoder cannot move
    single notes). Returns ``(mix, stems, true_notes, warp)``.

    Examples
    --------
    >>> from nmfedu import data
    >>> mix, stems, true, warp = performed_version(data.load("toy"), seed=0)
    >>> bool(true["Start"].min() > 0.8), set(stems) == {"left", "right"}
    (True, True)

    Notebooks: 05_synchronization (the rubato widget); tests/test_synchronization.py.
    """
    warp = performance_warp(piece.notes, slow=slow, rubato=rubato, seed=seed, pause=pause,
                            lead_in=lead_in)
    length = int(round(np.interp(piece.x.size / piece.sr, *warp) * piece.sr))
    stems = {g: warp_audio(s, piece.sr, warp, length=length) for g, s in piece.stems.items()}
    mix = sum(stems.values())
    true = perform_notes(piece.notes, warp, lead=0.0, jitter=0.0, velocity=0.0, melody=None,
                         seed=seed)
    return mix, stems, true, warp


def onset_errors(aligned, true):
    """Absolute onset errors (s) between two note tables of the same notes.

    Notes are matched in order of (Instrument, Pitch, rank of the note among that pitch).

    >>> import pandas as pd
    >>> a = pd.DataFrame({"Start": [0.0, 1.0], "Pitch": [60, 62], "Instrument": ["r", "r"]})
    >>> onset_errors(a, a.assign(Start=[0.01, 1.0])).round(3).tolist()
    [0.01, 0.0]
    """
    def keyed(df):
        d = df.sort_values(["Start", "Pitch"], kind="mergesort").copy()
        d["_rank"] = d.groupby(["Instrument", "Pitch"]).cumcount()
        return d.set_index(["Instrument", "Pitch", "_rank"])["Start"]
    a, b = keyed(aligned), keyed(true)
    a, b = a.align(b, join="inner")
    return np.abs(a.to_numpy() - b.to_numpy())
