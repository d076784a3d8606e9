"""Score-informed constraints for NMF: harmonic and onset templates, activation regions.

Multiplicative NMF updates multiply every entry of ``W`` and ``H`` by a
nonnegative factor, so an entry that starts at zero stays zero. Ewert & Müller
(ICASSP 2012) use this to inject musical knowledge into NMF:

* **template constraints** — the column of ``W`` for MIDI pitch ``p`` is
  nonzero only in narrow bands around the harmonics ``h · f0(p)``, so it can
  only learn a harmonic spectrum of that pitch;
* **activation constraints** — the row of ``H`` for pitch ``p`` is nonzero only
  in the frames where the (synchronised) score says ``p`` sounds, widened by a
  tolerance for timing errors and for the release of the note;
* **onset templates** — one extra column per pitch, initialised flat (all
  ones, a broadband "click"), whose activation is allowed only in a few frames
  around each onset of that pitch; it absorbs the noise-like attack that the
  harmonic templates cannot represent.

:func:`build_constraints` turns a note table (see :mod:`nmfedu.score`) into an
initial ``W0`` (K × R), ``H0`` (R × N) and a :class:`pandas.DataFrame` of labels
(one row per column of ``W`` / row of ``H``: ``pitch``, ``kind`` in
``{"pitch", "onset"}``, ``group``). With ``by="Instrument"`` every
(pitch, group) pair gets its own columns, so when both hands play the same
pitch their activations stay apart and the split in
:func:`nmfedu.separation.split_activations` is exact (see
:mod:`nmfedu.separation` for the alternative, proportional sharing).

Used by: notebook 03 (constrained NMF), notebook 04 (left/right-hand
separation), notebook 07 (NAE separation, which reuses ``W0`` and ``H0 > 0`` as
the decoder initialisation and the activation mask ``M_H``).
"""
from __future__ import annotations

import warnings

import numpy as np

from .spectrogram import HOP_LENGTH, N_FFT, SR, pitch_to_hz

__all__ = [
    "DEFAULTS",
    "harmonic_template",
    "pitch_templates",
    "onset_template",
    "activation_constraints",
    "onset_constraints",
    "build_constraints",
    "check_notes",
    "decay_segments",
    "project_decay",
]

#: Defaults of :func:`build_constraints` (chosen on the bundled pieces; see
#: ``benchmarks/bench_separation_quality.py``). ``n_harmonics=60`` covers the
#: partials of every bundled note up to ~11 kHz (Nyquist); 25 lost 0.1 dB of
#: separation quality on each real piece (harmonics above the last are dropped).
DEFAULTS = dict(
    n_harmonics=60,
    tolerance=1.0,
    min_width=3.0,
    decay=1.0,
    onset_tol=0.1,
    offset_tol=0.1,
    onset_templates=False,
    onset_shape="flat",
    onset_before=0.05,
    onset_after=0.1,
)


def _positive(value, name, allow_zero=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        expected = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {expected}, got {value!r}")
    return v


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def harmonic_template(pitch, K: int = N_FFT // 2 + 1, freq_res: float = SR / N_FFT,
                      n_harmonics: int = DEFAULTS["n_harmonics"],
                      tolerance: float = DEFAULTS["tolerance"], decay: float = DEFAULTS["decay"],
                      min_width: float = DEFAULTS["min_width"]):
    """Spectral template of a MIDI pitch with exact zeros away from its harmonics.

    Harmonic ``h = 1 … n_harmonics`` of pitch ``p`` lies at ``f_h = h · f0(p)``
    (A4 = 440 Hz). Every bin ``k`` whose frequency ``k · freq_res`` lies within
    ``tolerance`` semitones of some ``f_h`` — or within ``min_width`` bins of
    it, whichever band is wider — gets the value ``h ** -decay`` (the largest
    one if bands overlap); the bin nearest to ``f_h`` is always included.
    Every other entry is exactly ``0.0``. Harmonics above the last bin are
    dropped. ``min_width`` matters for low pitches: a sinusoid leaks into
    ±2 bins of a Hann window's main lobe, wider than a semitone band at low
    frequencies.

    Parameters
    ----------
    pitch : float
        MIDI pitch (may be fractional).
    K : int
        Number of frequency bins (``n_fft // 2 + 1``).
    freq_res : float
        Frequency resolution in Hz per bin (``sr / n_fft``).
    n_harmonics : int
        Number of harmonics, including the fundamental.
    tolerance : float
        Half-width of each band in semitones (0.5 = ±50 cents). A width in
        semitones grows with frequency in Hz, which also accommodates the
        slightly sharp upper partials of a piano string.
    decay : float
        Initial amplitude of harmonic ``h`` is ``h ** -decay`` (0 = flat).
    min_width : float
        Minimum half-width of each band in bins (0 = only the semitone band).

    Returns
    -------
    w : ndarray, shape (K,)
        Template with maximum 1.

    Used in notebooks 03 (template constraints) and 04, 07 via :func:`build_constraints`.

    Examples
    --------
    >>> w = harmonic_template(69, K=1025, freq_res=22050 / 2048, n_harmonics=3)
    >>> float(w[41]), float(w[82]), float(w[123])     # 440 Hz / 10.77 Hz per bin ≈ bin 41
    (1.0, 0.5, 0.3333333333333333)
    >>> int(np.count_nonzero(w)) < 30                # zeros everywhere else
    True
    """
    K = _positive_int(K, "K")
    freq_res = _positive(freq_res, "freq_res")
    n_harmonics = _positive_int(n_harmonics, "n_harmonics")
    tolerance = _positive(tolerance, "tolerance", allow_zero=True)
    decay = _positive(decay, "decay", allow_zero=True)
    min_width = _positive(min_width, "min_width", allow_zero=True)
    try:
        p = float(pitch)
    except (TypeError, ValueError):
        raise ValueError(f"pitch must be a MIDI pitch number, got {pitch!r}") from None
    if not np.isfinite(p) or not -24 <= p <= 160:
        raise ValueError(f"pitch must be a MIDI pitch number (about 0 … 127), got {pitch!r}")
    f0 = float(pitch_to_hz(p))
    ratio = 2.0 ** (tolerance / 12.0)
    freqs = np.arange(K) * freq_res
    w = np.zeros(K)
    for h in range(1, n_harmonics + 1):
        f = h * f0
        centre = int(np.rint(f / freq_res))
        if centre > K - 1:
            break
        amp = float(h) ** -decay
        band = ((freqs >= f / ratio) & (freqs <= f * ratio)) | \
            (np.abs(freqs - f) <= min_width * freq_res + 1e-9)
        band[centre] = True
        w[band] = np.maximum(w[band], amp)
    return w


def pitch_templates(pitches, K: int = N_FFT // 2 + 1, freq_res: float = SR / N_FFT, **kwargs):
    """Matrix of harmonic templates, one column per entry of ``pitches``.

    Parameters
    ----------
    pitches : sequence of float
        MIDI pitches.
    K, freq_res, **kwargs
        As in :func:`harmonic_template` (``n_harmonics``, ``tolerance``, ``decay``).

    Returns
    -------
    W : ndarray, shape (K, len(pitches))

    Used in notebook 03 (template constraints without a score).
    """
    pitches = np.atleast_1d(np.asarray(pitches, dtype=float))
    if pitches.ndim != 1:
        raise ValueError(f"pitches must be a 1-D sequence of MIDI pitches, got shape {pitches.shape}")
    W = np.zeros((int(K), pitches.size))
    for r, p in enumerate(pitches):
        W[:, r] = harmonic_template(p, K=K, freq_res=freq_res, **kwargs)
    return W


def onset_template(K: int = N_FFT // 2 + 1):
    """Flat (broadband) onset template: all ones, shape ``(K,)``.

    A note's attack is a short noise-like burst spread over all frequencies;
    a flat template lets NMF learn its actual shape (the template is not
    constrained, only its activation is, see :func:`onset_constraints`).

    Used in notebooks 03 (onset templates) and 04.
    """
    return np.ones(_positive_int(K, "K"))


REQUIRED_COLUMNS = ("Start", "Duration", "Pitch")


def check_notes(notes, by: str | None = "Instrument"):
    """Check that ``notes`` is a usable note table and return a clean copy.

    The full reader/validator is :func:`nmfedu.score.validate`; this checks only
    what the constraint builders need: a :class:`pandas.DataFrame` with finite
    ``Start`` ≥ 0, ``Duration`` ≥ 0, integer ``Pitch`` in 0 … 127 and, unless
    ``by`` is None, a group column ``by`` without missing values (converted to
    str). Errors name the parameter and the offending row numbers.

    Used by :func:`build_constraints`, :func:`nmfedu.separation.separate`.
    """
    import pandas as pd

    if not isinstance(notes, pd.DataFrame):
        raise ValueError(f"notes must be a pandas DataFrame note table (see nmfedu.score), "
                         f"got {type(notes).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in notes.columns]
    if missing:
        raise ValueError(f"notes is missing column(s) {missing}; expected at least "
                         f"{list(REQUIRED_COLUMNS)}, got {list(notes.columns)}")
    if by is not None and by not in notes.columns:
        raise ValueError(f"by={by!r} is not a column of notes; columns are {list(notes.columns)}")
    if len(notes) == 0:
        raise ValueError("notes is empty: expected at least one note")
    out = notes.copy()
    for col in REQUIRED_COLUMNS:
        values = pd.to_numeric(out[col], errors="coerce")
        bad = ~np.isfinite(values.to_numpy(dtype=float))
        if col == "Pitch":
            v = values.to_numpy(dtype=float)
            bad |= np.isfinite(v) & ((v < 0) | (v > 127) | (v != np.round(v)))
        else:
            bad |= values.to_numpy(dtype=float) < 0
        if bad.any():
            rows = [int(i) for i in np.flatnonzero(bad)[:5]]
            what = "an integer 0..127" if col == "Pitch" else "a finite number >= 0"
            raise ValueError(f"notes column {col!r} must be {what} in every row; bad row(s) "
                             f"(0-based) {rows}")
        out[col] = values.astype(int) if col == "Pitch" else values.astype(float)
    if by is not None:
        isnull = out[by].isna().to_numpy()
        if isnull.any():
            rows = [int(i) for i in np.flatnonzero(isnull)[:5]]
            raise ValueError(f"notes column by={by!r} has missing group labels in row(s) {rows}")
        out[by] = out[by].astype(str)
    return out.reset_index(drop=True)


def _frame_range(t0, t1, N, frame_res):
    """Frames whose centre ``n * frame_res`` lies in ``[t0, t1]``; never empty unless outside."""
    lo = int(np.ceil(t0 / frame_res - 1e-9))
    hi = int(np.floor(t1 / frame_res + 1e-9))
    if hi < lo:  # interval shorter than a frame: keep the nearest frame
        lo = hi = int(np.rint(0.5 * (t0 + t1) / frame_res))
    lo, hi = max(lo, 0), min(hi, N - 1)
    return lo, hi


def _regions(notes, pitches, N, frame_res, before, after, until_offset):
    pitches = np.asarray(pitches)
    index = {int(p): r for r, p in enumerate(pitches)}
    H = np.zeros((pitches.size, int(N)))
    skipped = 0
    for start, dur, p in zip(notes["Start"].to_numpy(float), notes["Duration"].to_numpy(float),
                             notes["Pitch"].to_numpy(int)):
        if int(p) not in index:
            continue
        end = start + dur if until_offset else start
        lo, hi = _frame_range(start - before, end + after, N, frame_res)
        if lo > hi:
            skipped += 1
            continue
        H[index[int(p)], lo:hi + 1] = 1.0
    return H, skipped


def activation_constraints(notes, pitches, N: int, frame_res: float = HOP_LENGTH / SR,
                           onset_tol: float = DEFAULTS["onset_tol"],
                           offset_tol: float = DEFAULTS["offset_tol"]):
    """Binary activation regions of pitch templates from a note table.

    Row ``r`` (pitch ``pitches[r]``) is 1 in every frame ``n`` whose centre
    time ``n · frame_res`` lies in ``[Start − onset_tol, Start + Duration +
    offset_tol]`` of some note of that pitch, and exactly 0 elsewhere.

    Parameters
    ----------
    notes : DataFrame
        Note table with ``Start``, ``Duration`` (seconds) and ``Pitch``.
    pitches : sequence of int
        Pitch of every row; notes of other pitches are ignored.
    N : int
        Number of frames.
    frame_res : float
        Seconds per frame (``hop_length / sr``).
    onset_tol, offset_tol : float
        Tolerances in seconds before the onset and after the offset (the
        offset tolerance also covers the release/decay of the note).

    Returns
    -------
    H : ndarray, shape (len(pitches), N) of 0.0/1.0

    Used in notebooks 03 (activation constraints), 04 and 07 (``M_H``).
    """
    notes = check_notes(notes, by=None)
    N = _positive_int(N, "N")
    frame_res = _positive(frame_res, "frame_res")
    onset_tol = _positive(onset_tol, "onset_tol", allow_zero=True)
    offset_tol = _positive(offset_tol, "offset_tol", allow_zero=True)
    H, skipped = _regions(notes, pitches, N, frame_res, onset_tol, offset_tol, True)
    if skipped:
        warnings.warn(f"{skipped} note(s) lie after the last frame (N={N}) and were ignored",
                      stacklevel=2)
    return H


def onset_constraints(notes, pitches, N: int, frame_res: float = HOP_LENGTH / SR,
                      before: float = DEFAULTS["onset_before"], after: float = DEFAULTS["onset_after"]):
    """Binary activation regions of onset templates: frames within
    ``[Start − before, Start + after]`` of every note of the row's pitch.

    Same parameters and result as :func:`activation_constraints`; ``before``
    and ``after`` are in seconds. Used in notebooks 03 (onset templates) and 04.
    """
    notes = check_notes(notes, by=None)
    N = _positive_int(N, "N")
    frame_res = _positive(frame_res, "frame_res")
    before = _positive(before, "before", allow_zero=True)
    after = _positive(after, "after", allow_zero=True)
    H, _ = _regions(notes, pitches, N, frame_res, before, after, False)
    return H


def build_constraints(notes, K: int, N: int, *, by: str | None = "Instrument", sr: float = SR,
                      hop_length: int = HOP_LENGTH, freq_res: float | None = None,
                      n_harmonics: int = DEFAULTS["n_harmonics"],
                      tolerance: float = DEFAULTS["tolerance"], decay: float = DEFAULTS["decay"],
                      min_width: float = DEFAULTS["min_width"],
                      onset_tol: float = DEFAULTS["onset_tol"],
                      offset_tol: float = DEFAULTS["offset_tol"],
                      onset_templates: bool = DEFAULTS["onset_templates"],
                      onset_shape: str = DEFAULTS["onset_shape"],
                      onset_before: float = DEFAULTS["onset_before"],
                      onset_after: float = DEFAULTS["onset_after"]):
    """Score-informed initialisation ``W0, H0`` of NMF for a K × N spectrogram, with labels.

    For every group ``g`` (value of column ``by``; all notes form one group
    ``"all"`` when ``by`` is None) and every pitch ``p`` that ``g`` plays,
    there is one *pitch* column (``W0[:, r]`` = :func:`harmonic_template`,
    ``H0[r]`` = :func:`activation_constraints` of g's notes of pitch p) and,
    if ``onset_templates``, one *onset* column (``W0[:, r]`` =
    :func:`onset_template`, ``H0[r]`` = :func:`onset_constraints`).
    Columns are ordered by group (order of first appearance in ``notes``), then
    kind (pitch before onset), then pitch ascending. Both hands playing the same
    pitch therefore get two columns with the same initial template; the
    activation constraints keep each column owned by one group.

    Parameters
    ----------
    notes : DataFrame
        Note table (``Start``, ``Duration``, ``Pitch`` and column ``by``).
    K, N : int
        Spectrogram shape (frequency bins, frames).
    by : str or None
        Column with the group label of each note.
    sr, hop_length : float, int
        Sample rate and hop size: frame ``n`` is centred at ``n · hop_length / sr``.
    freq_res : float, optional
        Hz per bin; default ``sr / (2 (K − 1))`` (i.e. ``n_fft = 2 (K − 1)``).
    n_harmonics, tolerance, decay, min_width
        See :func:`harmonic_template`.
    onset_tol, offset_tol
        See :func:`activation_constraints`.
    onset_templates : bool
        Add one onset column per (group, pitch).
    onset_shape : "flat" or "harmonic"
        Initial onset template: :func:`onset_template` (flat, unconstrained in
        frequency, as in Ewert & Müller) or a harmonic template with flat
        harmonic amplitudes (``decay=0``) and the same exact zeros as the pitch
        column, which models a bright attack without letting the onset column
        absorb energy at other pitches' harmonics.
    onset_before, onset_after
        See :func:`onset_constraints`.

    Returns
    -------
    W0 : ndarray, shape (K, R)
    H0 : ndarray, shape (R, N)
        1.0 inside the allowed regions, exactly 0.0 elsewhere.
    labels : DataFrame
        R rows with columns ``pitch`` (int), ``kind`` (``"pitch"``/``"onset"``),
        ``group`` (str).

    Used in notebooks 03, 04 (score-informed separation) and 07 (NAE).

    Examples
    --------
    >>> import pandas as pd
    >>> notes = pd.DataFrame({"Start": [0.0, 0.5], "Duration": [0.5, 0.5], "Pitch": [48, 72],
    ...                       "Velocity": [80, 80], "Instrument": ["left", "right"]})
    >>> W0, H0, labels = build_constraints(notes, K=1025, N=60, onset_templates=True)
    >>> W0.shape, H0.shape, list(labels["kind"])
    ((1025, 4), (4, 60), ['pitch', 'onset', 'pitch', 'onset'])
    """
    import pandas as pd

    notes = check_notes(notes, by=by)
    K = _positive_int(K, "K")
    N = _positive_int(N, "N")
    sr = _positive(sr, "sr")
    hop_length = _positive_int(hop_length, "hop_length")
    if K < 2 and freq_res is None:
        raise ValueError(f"K must be >= 2 to derive freq_res, got {K}")
    freq_res = sr / (2 * (K - 1)) if freq_res is None else _positive(freq_res, "freq_res")
    frame_res = hop_length / sr
    if onset_shape not in ("flat", "harmonic"):
        raise ValueError(f"onset_shape must be 'flat' or 'harmonic', got {onset_shape!r}")
    if by is None:
        groups = ["all"]
        group_of = np.array(["all"] * len(notes), dtype=object)
    else:
        group_of = notes[by].to_numpy(dtype=object)
        groups = list(dict.fromkeys(group_of))
    W_cols, H_rows, rows = [], [], []
    last_frame_skipped = 0
    for g in groups:
        sub = notes[group_of == g]
        pitches = np.unique(sub["Pitch"].to_numpy(int))
        Hp, skipped = _regions(sub, pitches, N, frame_res, _positive(onset_tol, "onset_tol", True),
                               _positive(offset_tol, "offset_tol", True), True)
        last_frame_skipped += skipped
        for r, p in enumerate(pitches):
            W_cols.append(harmonic_template(p, K=K, freq_res=freq_res, n_harmonics=n_harmonics,
                                            tolerance=tolerance, decay=decay,
                                            min_width=min_width))
            H_rows.append(Hp[r])
            rows.append((int(p), "pitch", str(g)))
        if onset_templates:
            Ho, _ = _regions(sub, pitches, N, frame_res, _positive(onset_before, "onset_before", True),
                             _positive(onset_after, "onset_after", True), False)
            for r, p in enumerate(pitches):
                if onset_shape == "harmonic":
                    W_cols.append(harmonic_template(p, K=K, freq_res=freq_res,
                                                    n_harmonics=n_harmonics, tolerance=tolerance,
                                                    decay=0.0, min_width=min_width))
                else:
                    W_cols.append(onset_template(K))
                H_rows.append(Ho[r])
                rows.append((int(p), "onset", str(g)))
    if last_frame_skipped:
        warnings.warn(f"{last_frame_skipped} note(s) start after the last frame (N={N}) and have "
                      f"no activation region", stacklevel=2)
    W0 = np.stack(W_cols, axis=1)
    H0 = np.stack(H_rows, axis=0)
    labels = pd.DataFrame(rows, columns=["pitch", "kind", "group"])
    return W0, H0, labels


def decay_segments(notes, labels, N: int, *, by: str | None = "Instrument", sr: float = SR,
                   hop_length: int = HOP_LENGTH, after: float = 0.05):
    """Frame ranges in which a pitch column's activation may only decrease.

    A piano note is loudest just after its onset and then only decays until
    the key is struck again. For every row ``r`` of ``labels`` (pitch ``p``,
    group ``g``; ``g == "all"`` or ``by`` None means every group; pitch and
    onset rows alike) and every onset frame ``o = round(Start / frame_res)``
    of a note of ``g`` with pitch ``p``, the segment runs from
    ``o + round(after / frame_res)`` up to (not including) ``o' − 1``, where
    ``o'`` is the next onset frame of that row (or ``N``), so the next attack
    may rise from the frame before it. Segments shorter than two frames are
    dropped.

    Parameters
    ----------
    notes : DataFrame
        Note table (``Start``, ``Pitch`` and column ``by``).
    labels : DataFrame
        From :func:`build_constraints` (``pitch``, ``kind``, ``group``).
    N : int
        Number of frames.
    by : str or None
        Group column of ``notes``.
    sr, hop_length : float, int
        Frame ``n`` is centred at ``n · hop_length / sr``.
    after : float
        Seconds after the onset where the decay starts (the attack peak of
        the rendered piano lies within ~2 frames of the score onset).

    Returns
    -------
    ndarray of int, shape (S, 3)
        Rows ``(r, start, stop)``; see :func:`project_decay`.

    Used by :func:`nmfedu.separation.separate` (``decay_after``).

    Examples
    --------
    >>> import pandas as pd
    >>> notes = pd.DataFrame({"Start": [0.0, 0.5], "Duration": [0.4, 0.4], "Pitch": [60, 60],
    ...                       "Instrument": ["right", "right"]})
    >>> labels = pd.DataFrame({"pitch": [60], "kind": ["pitch"], "group": ["right"]})
    >>> decay_segments(notes, labels, 40, sr=22050, hop_length=512).tolist()
    [[0, 2, 21], [0, 24, 40]]
    """
    notes = check_notes(notes, by=by)
    N = _positive_int(N, "N")
    frame_res = _positive_int(hop_length, "hop_length") / _positive(sr, "sr")
    shift = int(np.rint(_positive(after, "after", allow_zero=True) / frame_res))
    starts = notes["Start"].to_numpy(float)
    pitch = notes["Pitch"].to_numpy(int)
    group = notes[by].astype(str).to_numpy() if by is not None else None
    segs = []
    for r, (p, g) in enumerate(zip(labels["pitch"].to_numpy(int), labels["group"].astype(str))):
        sel = pitch == p
        if group is not None and g != "all":
            sel &= group == g
        onsets = np.unique(np.rint(starts[sel] / frame_res).astype(int))
        for i, o in enumerate(onsets):
            start = o + shift
            stop = onsets[i + 1] - 1 if i + 1 < onsets.size else N
            start, stop = max(start, 0), min(stop, N)
            if stop - start >= 2:
                segs.append((r, start, stop))
    return np.asarray(segs, dtype=int).reshape(-1, 3)


def project_decay(H, segments):
    """Make ``H`` non-increasing inside every segment, in place: ``H[r, a:b]``
    becomes its running minimum (zeros stay zeros). Returns ``H``.

    Used by :func:`nmfedu.separation.separate` after every NMF iteration.

    Examples
    --------
    >>> H = np.array([[1.0, 3.0, 2.0, 2.5, 1.0]])
    >>> project_decay(H, [(0, 1, 5)]).tolist()
    [[1.0, 3.0, 2.0, 2.0, 1.0]]
    """
    for r, a, b in segments:
        np.minimum.accumulate(H[r, a:b], out=H[r, a:b])
    return H
