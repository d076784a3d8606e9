"""Score-informed source separation with constrained NMF (e.g. left and right hand of a piano).

The pipeline of Ewert & Müller (ICASSP 2012), one small function per step so
notebook 04 can show every intermediate result:

1. ``X = stft(x)``, ``V = |X|`` (optionally log-compressed, see below);
2. ``W0, H0, labels = build_constraints(notes, K, N, by=...)`` — harmonic and
   onset templates with exact zeros, activation regions from the score;
3. ``W, H = nmf(V, R, W0=W0, H0=H0)`` — multiplicative updates keep the zeros
   (plus the decay constraint on ``H``, see below);
4. :func:`split_activations` — ``H_g`` keeps the rows owned by group ``g``;
5. :func:`model_spectrograms` — ``V_g = W H_g``;
6. :func:`masks` — soft masks ``M_g = V_g^p / Σ_h V_h^p`` (``p`` = ``exponent``);
7. :func:`apply_masks` — ``X_g = M_g ⊙ X`` (the mixture's phase is kept);
8. :func:`resynthesize` — ``x_g = istft(X_g)``.

Because the masks of all groups sum to 1 in every bin (where every model is 0
they split evenly), ``Σ_g X_g = X`` and the separated signals add back to the
mixture up to the round-off of the inverse STFT.

**Shared pitches.** When two groups play the same pitch at overlapping times,
who owns the activation? With ``share="columns"`` every (pitch, group) pair
gets its own template column (same initial harmonic template); the
activation constraints then decide ownership exactly and NMF distributes the
energy of a doubled note between the two columns. The default,
``share="proportional"``, uses one column per pitch — both hands' notes of a
pitch train one template, as they are the same piano string — and splits
its activation in every frame in proportion to the number of groups whose
activation region covers that frame (:func:`proportional_shares`). (This is
what per-group columns with a *tied* template give under multiplicative
updates: both rows get the same update factor, so their ratio stays at the
initial one.) Measured with the other defaults: 0.38 and 0.19 dB better on
the Schumann polonaise and the Chopin mazurka, equal within 0.01 dB elsewhere.

**Decay constraint.** A piano note is loudest at its attack and then only
decays until its key is struck again, but an unconstrained activation can
rise again inside the note's region and take over energy of the other hand
(on the Chopin mazurka the right-hand G♯4 drone is struck together with the
left-hand G♯2, whose 4th harmonic it is; NMF drifts, the gap grew from 4.7 to
8.4 dB between 100 and 500 iterations). With ``decay_after`` (seconds, default
0.05 ≈ 2 frames) every activation is made non-increasing from that long after
each onset until the frame before the next onset of the same column, after
every iteration (:func:`nmfedu.constraints.decay_segments`,
:func:`nmfedu.constraints.project_decay`). This is a projection, not a
multiplicative update: the loss is no longer guaranteed to fall at every
iteration, but zeros stay zeros. ``decay_after=None`` switches it off.

**Attack columns.** The hammer noise at an attack is broadband, which
harmonic templates cannot model; its bins are then split by whatever model
happens to be nearest. With ``attack_guard`` (seconds, default 0.15) every
group gets one broadband column (:func:`attack_columns`): 1 on every bin
outside the harmonic bands of the *other* groups' pitches (exact zeros
inside them), active only around the group's onsets that have no onset of
another group within ``attack_guard`` — there the attack's owner is known.
(Flat onset templates per pitch without these two restrictions cost
2–10 dB on the real pieces.) ``attack_guard=None`` switches them off.

**Compression.** ``compression="log"`` factorises ``log(1 + γ V)`` instead of
``V`` and builds the masks from that model; a log model is not additive in
the linear domain, so its masks are less accurate: on the bundled pieces the
mean SDR drops by 2.5–5.1 dB against linear magnitude (see the benchmark).
The default is linear magnitude.

**Defaults** (measured on the five bundled pieces against the oracle ideal
ratio mask, ``benchmarks/bench_separation_quality.py --sweep``, whose
docstring has the table and the sweep): harmonic bands of ±1 semitone but
at least ±3 bins (the Hann main lobe; without it the low left-hand notes
lose ~20 % of their energy outside the templates), 60 harmonics (all
partials up to Nyquist), onset/offset tolerances of 0.1 s (0.3 s or more
costs up to 2.5 dB on the Joplin rag), the decay constraint with
``decay_after=0.05`` on pitch and onset columns (without it NMF drifts on
the Chopin mazurka), *harmonic* onset templates (``onset_shape="harmonic"``:
a second column per pitch with the same exact zeros and flat harmonic
amplitudes, active from 0.05 s before to ``onset_after=0.07`` s after each
onset, modelling the bright attack; until 0.1 s is worse on the toy and
Chopin; *flat* ones cost 2–10 dB), attack columns with
``attack_guard=0.15`` (toy 3.15 → 2.46 dB, Mozart 2.68 → 2.41 dB), Frobenius
loss (KL is better on the four real pieces but 1.3 dB worse on the toy),
100 iterations (200 is *worse* on the toy, by 0.5 dB, better on Chopin),
mask exponent 1.75 (between the magnitude ratio, 1, and the Wiener-like
power ratio, 2; 2 leaves the toy at 2.52 dB) and proportional sharing of
shared pitches. Mean gap to the oracle over the five pieces: 3.64 dB (worst
5.06, toy) with the previous defaults (25 harmonics, no decay constraint,
no onset or attack columns, per-group columns, exponent 2), 2.27 dB (worst
2.46, toy) with these — every bundled piece within 2.5 dB, by a small
margin on the toy. :func:`nmfedu.constraints.build_constraints` keeps its
own defaults (no onset templates, ``onset_after=0.1``) for notebooks 03
and 07.

Used by: notebook 04 (left/right-hand separation), notebook 07 (NAE
separation reuses :func:`split_activations` … :func:`resynthesize`), and
``python -m nmfedu separate`` (:mod:`nmfedu.cli`).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import constraints as _c
from .spectrogram import HOP_LENGTH, N_FFT, istft, stft

__all__ = [
    "SEPARATION_DEFAULTS",
    "SeparationDetails",
    "split_activations",
    "proportional_shares",
    "model_spectrograms",
    "masks",
    "apply_masks",
    "resynthesize",
    "to_mono",
    "attack_columns",
    "separate",
]

#: Defaults of :func:`separate` besides those of :data:`nmfedu.constraints.DEFAULTS`,
#: chosen on the bundled pieces (``benchmarks/bench_separation_quality.py``).
SEPARATION_DEFAULTS = dict(
    n_iter=100,
    beta="frobenius",
    mask_exponent=1.75,
    compression=None,
    gamma=1.0,
    share="proportional",
    decay_after=0.05,
    attack_guard=0.15,
    onset_templates=True,
    onset_shape="harmonic",
    onset_after=0.07,
)


#: The plain score-informed model of the lecture (Ewert & Müller 2012) and of notebook 04:
#: harmonic templates, activations from the score, one column per (group, pitch), linear
#: magnitude, power masks; no decay constraint, no onset or attack columns.
PLAIN = dict(share="columns", decay_after=None, attack_guard=None, mask_exponent=2.0,
             n_harmonics=25, tolerance=1.0, min_width=3.0, onset_tol=0.1, offset_tol=0.1,
             onset_templates=False, onset_shape="flat", onset_before=0.05, onset_after=0.1,
             n_iter=100, beta="kl")


def _groups_in_order(values):
    return list(dict.fromkeys(str(v) for v in values))


def split_activations(H, labels, by: str = "group", shares=None):
    """Split the activation matrix by group.

    Parameters
    ----------
    H : ndarray, shape (R, N)
        Learnt activations.
    labels : DataFrame
        One row per row of ``H`` (from :func:`nmfedu.constraints.build_constraints`).
    by : str
        Column of ``labels`` holding the group; ignored if ``shares`` is given.
    shares : dict group -> ndarray (R, N), optional
        Fraction of ``H[r, n]`` that belongs to each group (e.g. from
        :func:`proportional_shares`); they should sum to 1 where ``H > 0``.

    Returns
    -------
    dict group -> ndarray (R, N)
        ``H_g`` equals ``H`` on the rows owned by ``g`` and is 0 elsewhere (or
        ``shares[g] * H``), so ``Σ_g H_g = H`` and ``W @ H_g`` is g's model.

    Used in notebooks 04 and 07.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"pitch": [60, 48], "kind": ["pitch", "pitch"],
    ...                        "group": ["right", "left"]})
    >>> parts = split_activations(np.ones((2, 3)), labels)
    >>> {g: h[:, 0].tolist() for g, h in parts.items()}
    {'right': [1.0, 0.0], 'left': [0.0, 1.0]}
    """
    H = np.asarray(H, dtype=float)
    if H.ndim != 2:
        raise ValueError(f"H must be a 2-D activation matrix (R, N), got shape {H.shape}")
    if shares is not None:
        if not isinstance(shares, dict) or not shares:
            raise ValueError("shares must be a non-empty dict group -> array of H's shape")
        out = {}
        for g, s in shares.items():
            s = np.asarray(s, dtype=float)
            if s.shape != H.shape:
                raise ValueError(f"shares[{g!r}] must have H's shape {H.shape}, got {s.shape}")
            out[str(g)] = s * H
        return out
    if not hasattr(labels, "columns") or by not in labels.columns:
        raise ValueError(f"labels must be a DataFrame with a column by={by!r} "
                         f"(from nmfedu.constraints.build_constraints)")
    if len(labels) != H.shape[0]:
        raise ValueError(f"labels must have one row per row of H: {len(labels)} labels for "
                         f"H with {H.shape[0]} rows")
    group = labels[by].astype(str).to_numpy()
    out = {}
    for g in _groups_in_order(group):
        Hg = np.zeros_like(H)
        rows = group == g
        Hg[rows] = H[rows]
        out[g] = Hg
    return out


def proportional_shares(notes, labels, N: int, *, by: str = "Instrument", sr: float = _c.SR,
                        hop_length: int = HOP_LENGTH, onset_tol: float = _c.DEFAULTS["onset_tol"],
                        offset_tol: float = _c.DEFAULTS["offset_tol"],
                        onset_before: float = _c.DEFAULTS["onset_before"],
                        onset_after: float = _c.DEFAULTS["onset_after"]):
    """Per-frame ownership of shared pitch columns (``share="proportional"``).

    For column ``r`` with pitch ``p`` and kind ``k``, group ``g``'s share in
    frame ``n`` is ``c_g / Σ_h c_h`` where ``c_g`` is 1 if g's activation region
    (of kind ``k``, same tolerances as the builder) for ``p`` covers ``n``;
    where no group's region covers the frame the share is split evenly.
    Shares of all groups therefore sum to 1 everywhere.

    Returns
    -------
    dict group -> ndarray (R, N)

    Used in notebook 04 (comparison of the two ownership rules).
    """
    notes = _c.check_notes(notes, by=by)
    pitches = labels["pitch"].to_numpy(int)
    kinds = labels["kind"].astype(str).to_numpy()
    frame_res = hop_length / sr
    groups = _groups_in_order(notes[by])
    unique, row_of = np.unique(pitches, return_inverse=True)
    regions = {}
    for g in groups:
        sub = notes[notes[by] == g]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            act = _c.activation_constraints(sub, unique, N, frame_res, onset_tol, offset_tol)
        ons = _c.onset_constraints(sub, unique, N, frame_res, onset_before, onset_after)
        regions[g] = np.where((kinds == "onset")[:, None], ons[row_of], act[row_of])
    total = sum(regions.values())
    even = 1.0 / len(groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {g: np.where(total > 0, c / np.where(total > 0, total, 1.0), even)
                for g, c in regions.items()}


def model_spectrograms(W, H_parts):
    """Model spectrogram ``W @ H_g`` of every group.

    Parameters
    ----------
    W : ndarray, shape (K, R)
    H_parts : dict group -> ndarray (R, N)
        From :func:`split_activations`.

    Returns
    -------
    dict group -> ndarray (K, N)

    Used in notebooks 04 and 07.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D template matrix (K, R), got shape {W.shape}")
    if not isinstance(H_parts, dict) or not H_parts:
        raise ValueError("H_parts must be a non-empty dict group -> activation matrix")
    out = {}
    for g, Hg in H_parts.items():
        Hg = np.asarray(Hg, dtype=float)
        if Hg.ndim != 2 or Hg.shape[0] != W.shape[1]:
            raise ValueError(f"H_parts[{g!r}] must have shape ({W.shape[1]}, N) to match W "
                             f"{W.shape}, got {Hg.shape}")
        out[g] = W @ Hg
    return out


def masks(models, exponent: float = SEPARATION_DEFAULTS["mask_exponent"], eps: float = 0.0):
    """Soft (Wiener-like) masks ``M_g = V_g^p / Σ_h V_h^p`` from model spectrograms.

    Parameters
    ----------
    models : dict group -> ndarray (K, N)
        Nonnegative model spectrograms of all groups (same shape).
    exponent : float
        ``p`` > 0; 1 = ratio of magnitudes, 2 = ratio of powers (Wiener-like);
        large values approach a binary mask.
    eps : float
        Bins whose total model ``Σ_h V_h`` is ``<= eps`` count as silent.

    Returns
    -------
    dict group -> ndarray (K, N)
        Values in [0, 1] that sum to exactly 1 (up to round-off) in every bin.
        Where the total model is silent, every group gets ``1 / G``, so
        applying the masks still preserves the mixture there.

    Notes
    -----
    The ratio is computed on ``V_g / max_h V_h`` so the power cannot underflow.

    Used in notebooks 04 and 07.

    Examples
    --------
    >>> m = masks({"a": np.array([[3.0, 0.0]]), "b": np.array([[1.0, 0.0]])}, exponent=1)
    >>> m["a"].tolist(), m["b"].tolist()
    ([[0.75, 0.5]], [[0.25, 0.5]])
    """
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict group -> model spectrogram")
    exponent = _c._positive(exponent, "exponent")
    eps = _c._positive(eps, "eps", allow_zero=True)
    names = list(models)
    stack = np.stack([np.asarray(models[g], dtype=float) for g in names]) \
        if len({np.shape(models[g]) for g in names}) == 1 else None
    if stack is None:
        raise ValueError("models must all have the same shape, got "
                         f"{ {g: np.shape(models[g]) for g in names} }")
    if not np.all(np.isfinite(stack)) or np.any(stack < 0):
        raise ValueError("models must be finite and nonnegative")
    total = stack.sum(axis=0)
    peak = stack.max(axis=0)
    active = total > eps
    safe_peak = np.where(peak > 0, peak, 1.0)
    powered = (stack / safe_peak) ** exponent
    denom = powered.sum(axis=0)
    denom = np.where(active & (denom > 0), denom, 1.0)
    even = 1.0 / len(names)
    return {g: np.where(active, powered[i] / denom, even) for i, g in enumerate(names)}


def apply_masks(X, mask_dict):
    """Masked complex STFTs ``X_g = M_g ⊙ X`` (the mixture's phase is kept).

    Used in notebooks 04 and 07.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D STFT (K, N), got shape {X.shape}")
    if not isinstance(mask_dict, dict) or not mask_dict:
        raise ValueError("mask_dict must be a non-empty dict group -> mask")
    out = {}
    for g, M in mask_dict.items():
        M = np.asarray(M, dtype=float)
        if M.shape != X.shape:
            raise ValueError(f"mask {g!r} must have X's shape {X.shape}, got {M.shape}")
        out[g] = M * X
    return out


def resynthesize(X_parts, length: int | None = None, n_fft: int = N_FFT,
                 hop_length: int = HOP_LENGTH):
    """Inverse STFT of every masked STFT: dict group -> signal of ``length`` samples.

    Used in notebooks 04 and 07.
    """
    if not isinstance(X_parts, dict) or not X_parts:
        raise ValueError("X_parts must be a non-empty dict group -> complex STFT")
    return {g: istft(Xg, length=length, n_fft=n_fft, hop_length=hop_length)
            for g, Xg in X_parts.items()}


def to_mono(x, name: str = "x"):
    """Return ``x`` as float64 mono; a 2-D array (channels first or last, the
    shorter axis is taken as channels) is mixed down by averaging, with a
    warning. Used by :func:`separate` and the command line."""
    x = np.asarray(x)
    if x.ndim == 2 and min(x.shape) >= 1:
        axis = 0 if x.shape[0] <= x.shape[1] else 1
        channels = x.shape[axis]
        if channels > 16:
            raise ValueError(f"{name} must be mono (1-D) or (channels, samples); got shape {x.shape}")
        if channels > 1:
            warnings.warn(f"{name} has {channels} channels; mixed down to mono (average)",
                          stacklevel=3)
        x = x.mean(axis=axis)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a mono signal (1-D array), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: expected audio samples")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must be numeric audio samples, got dtype {x.dtype}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def attack_columns(notes, labels, W0, N: int, *, by: str = "Instrument", sr: float = _c.SR,
                   hop_length: int = HOP_LENGTH, guard: float = 0.15,
                   before: float = _c.DEFAULTS["onset_before"], after: float = 0.07):
    """Broadband attack columns, one per group, for the noise of isolated attacks.

    The hammer noise of an attack is broadband; harmonic templates cannot
    model it, and a flat onset template per pitch takes the other hand's
    energy whenever both hands strike together. An attack column is safe
    where ownership is clear: column ``g`` is 1 on every frequency bin that
    no harmonic band of another group's pitches covers (exact zeros there,
    from the pitch columns of ``W0``), and its activation is 1 from
    ``before`` seconds before to ``after`` seconds after each onset of ``g``
    that has no onset of another group within ``guard`` seconds, 0 elsewhere.

    Parameters
    ----------
    notes : DataFrame
        Note table with group column ``by``.
    labels, W0 : DataFrame, ndarray (K, R)
        From :func:`nmfedu.constraints.build_constraints` (any ``by``).
    N : int
        Number of frames.
    guard, before, after : float
        Seconds.

    Returns
    -------
    W : ndarray (K, G'), H : ndarray (G', N), labels : DataFrame
        One column per group that has at least one isolated onset;
        labels have ``pitch`` −1, ``kind`` ``"attack"`` and the group.

    Used by :func:`separate` (``attack_guard``).
    """
    import pandas as pd

    notes = _c.check_notes(notes, by=by)
    W0 = np.asarray(W0, dtype=float)
    N = _c._positive_int(N, "N")
    frame_res = _c._positive_int(hop_length, "hop_length") / _c._positive(sr, "sr")
    guard = _c._positive(guard, "guard", allow_zero=True)
    group = notes[by].astype(str).to_numpy()
    starts = notes["Start"].to_numpy(float)
    pitch_rows = (labels["kind"].astype(str) == "pitch").to_numpy()
    lab_pitch = labels["pitch"].to_numpy(int)
    W_cols, H_rows, rows = [], [], []
    for g in _groups_in_order(group):
        mine, other = starts[group == g], starts[group != g]
        h = np.zeros(N)
        for t in np.unique(mine):
            if other.size and np.min(np.abs(other - t)) < guard:
                continue
            lo, hi = _c._frame_range(t - before, t + after, N, frame_res)
            if lo <= hi:
                h[lo:hi + 1] = 1.0
        if not h.any():
            continue
        others = np.isin(lab_pitch, notes["Pitch"].to_numpy(int)[group != g]) & pitch_rows
        W_cols.append(np.where((W0[:, others] > 0).any(axis=1), 0.0, 1.0))
        H_rows.append(h)
        rows.append((-1, "attack", g))
    K = W0.shape[0]
    return (np.stack(W_cols, axis=1) if W_cols else np.zeros((K, 0)),
            np.stack(H_rows) if H_rows else np.zeros((0, N)),
            pd.DataFrame(rows, columns=["pitch", "kind", "group"]))


@dataclass
class SeparationDetails:
    """Everything :func:`separate` computed (``return_details=True``), for notebooks.

    Attributes: ``signals`` (dict group -> signal), ``X`` (complex STFT), ``V``
    (the factorised spectrogram, compressed if requested), ``W0, H0, W, H``,
    ``labels``, ``H_parts``, ``models``, ``masks`` (dicts group -> array),
    ``loss`` (list of losses per iteration), ``n_iter``, ``params`` (dict of
    every setting) and ``runtime`` (seconds).
    """

    signals: dict
    X: np.ndarray
    V: np.ndarray
    W0: np.ndarray
    H0: np.ndarray
    W: np.ndarray
    H: np.ndarray
    labels: object
    H_parts: dict
    models: dict
    masks: dict
    loss: list
    n_iter: int
    params: dict = field(default_factory=dict)
    runtime: float = 0.0

    @property
    def final_loss(self):
        """Last value of the loss curve (NaN if none was recorded)."""
        return float(self.loss[-1]) if len(self.loss) else float("nan")


def separate(x, sr, notes, by: str = "Instrument", *, n_fft: int = N_FFT,
             hop_length: int = HOP_LENGTH,
             n_iter: int = SEPARATION_DEFAULTS["n_iter"],
             beta: str = SEPARATION_DEFAULTS["beta"],
             mask_exponent: float = SEPARATION_DEFAULTS["mask_exponent"],
             compression: str | None = SEPARATION_DEFAULTS["compression"],
             gamma: float = SEPARATION_DEFAULTS["gamma"],
             share: str = SEPARATION_DEFAULTS["share"],
             decay_after: float | None = SEPARATION_DEFAULTS["decay_after"],
             attack_guard: float | None = SEPARATION_DEFAULTS["attack_guard"],
             n_harmonics: int = _c.DEFAULTS["n_harmonics"],
             tolerance: float = _c.DEFAULTS["tolerance"],
             min_width: float = _c.DEFAULTS["min_width"],
             onset_tol: float = _c.DEFAULTS["onset_tol"],
             offset_tol: float = _c.DEFAULTS["offset_tol"],
             onset_templates: bool = SEPARATION_DEFAULTS["onset_templates"],
             onset_shape: str = SEPARATION_DEFAULTS["onset_shape"],
             onset_before: float = _c.DEFAULTS["onset_before"],
             onset_after: float = SEPARATION_DEFAULTS["onset_after"],
             seed: int | None = 0, return_details: bool = False):
    """Score-informed separation of a mixture into one signal per note group.

    Parameters
    ----------
    x : ndarray, shape (L,)
        Mixture (a 2-D array is mixed down to mono, with a warning).
    sr : float
        Sample rate of ``x`` in Hz (the score's times are in seconds).
    notes : DataFrame
        Note table synchronised with ``x`` (see :mod:`nmfedu.score`). Notes
        ending after the audio are clipped with a warning.
    by : str
        Column of ``notes`` with the group label (e.g. ``"Instrument"`` with
        values ``"left"``/``"right"``).
    n_fft, hop_length : int
        STFT parameters (defaults of :mod:`nmfedu.spectrogram`).
    n_iter : int
        Number of NMF iterations.
    beta : str
        NMF loss, ``"frobenius"`` or ``"kl"`` (see :func:`nmfedu.nmf`).
    mask_exponent : float
        Exponent ``p`` of :func:`masks`.
    compression : None or "log"
        Factorise ``V = |X|`` (None) or ``log(1 + gamma |X|)``.
    gamma : float
        Compression factor for ``compression="log"``.
    share : "columns" or "proportional"
        Ownership rule for pitches that several groups play (module docstring).
    decay_after : float or None
        Decay constraint (module docstring): from ``decay_after`` seconds after
        every onset until just before the next onset of the same column, the
        activation may only decrease (:func:`nmfedu.constraints.decay_segments`,
        imposed after every iteration by :func:`nmfedu.constraints.project_decay`).
        None: no decay constraint (the plain Ewert & Müller model).
    attack_guard : float or None
        Add one broadband *attack* column per group (:func:`attack_columns`,
        module docstring), active around the group's onsets with no onset of
        another group within ``attack_guard`` seconds. None: no attack columns.
    n_harmonics, tolerance, min_width, onset_tol, offset_tol, onset_templates, onset_shape,
    onset_before, onset_after
        Constraint parameters, see :func:`nmfedu.constraints.build_constraints`
        (``onset_templates``, ``onset_shape`` and ``onset_after`` default to
        :data:`SEPARATION_DEFAULTS` — harmonic onset templates active until
        0.07 s after each onset — not to the builder's defaults).
    seed : int or None
        Passed to :func:`nmfedu.nmf` (the score-informed initialisation is
        deterministic, so the seed matters only for its internal choices).
    return_details : bool
        Return a :class:`SeparationDetails` instead of the dict of signals.

    Returns
    -------
    dict group -> ndarray (L,)
        One signal per group label, in order of first appearance in ``notes``,
        each as long as ``x``; they sum to ``x`` (up to round-off).
        With ``return_details=True`` a :class:`SeparationDetails`.

    Used in notebook 04 (left/right-hand separation) and by the command line.
    """
    from .factorization import nmf

    t_start = time.perf_counter()
    x = to_mono(x)
    sr = _c._positive(sr, "sr")
    n_fft = _c._positive_int(n_fft, "n_fft")
    hop_length = _c._positive_int(hop_length, "hop_length")
    n_iter = _c._positive_int(n_iter, "n_iter")
    if compression not in (None, "log"):
        raise ValueError(f"compression must be None or 'log', got {compression!r}")
    if share not in ("columns", "proportional"):
        raise ValueError(f"share must be 'columns' or 'proportional', got {share!r}")
    notes = _c.check_notes(notes, by=by)
    ordered = notes.sort_values(["Start", "Pitch"], kind="mergesort")
    all_groups = _groups_in_order(ordered[by]) if by is not None else ["all"]
    duration = x.size / sr
    clipped = _clip_to_duration(notes, duration, by)
    if len(clipped) == 0:
        raise ValueError(f"notes: no note starts before the end of the audio ({duration:.3f} s); "
                         f"expected a score synchronised with x")
    notes = _c.check_notes(clipped, by=by)

    X = stft(x, n_fft=n_fft, hop_length=hop_length)
    V = np.abs(X)
    if compression == "log":
        V = np.log1p(_c._positive(gamma, "gamma") * V)
    K, N = V.shape
    cparams = dict(n_harmonics=n_harmonics, tolerance=tolerance, min_width=min_width,
                   onset_tol=onset_tol,
                   offset_tol=offset_tol, onset_templates=onset_templates, onset_shape=onset_shape,
                   onset_before=onset_before, onset_after=onset_after)
    W0, H0, labels = _c.build_constraints(notes, K, N, by=by if share == "columns" else None,
                                          sr=sr, hop_length=hop_length, **cparams)
    score_labels = labels
    if attack_guard is not None and by is not None:
        Wa, Ha, la = attack_columns(notes, labels, W0, N, by=by, sr=sr, hop_length=hop_length,
                                    guard=attack_guard, before=onset_before, after=onset_after)
        if len(la):
            import pandas as pd

            W0 = np.hstack([W0, Wa])
            H0 = np.vstack([H0, Ha])
            labels = pd.concat([labels, la], ignore_index=True)
    callback = None
    if decay_after is not None:
        segments = _c.decay_segments(notes, score_labels, N, by=by if share == "columns" else None,
                                     sr=sr, hop_length=hop_length, after=decay_after)

        def callback(it, W_, H_, loss_):     # H_ is nmf's live array: project it in place
            _c.project_decay(H_, segments)
    result = nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_iter, tol=0.0, beta=beta, seed=seed,
                 callback=callback)
    W, H = result.W, result.H
    if share == "columns":
        H_parts = split_activations(H, labels, by="group")
    else:
        shares = proportional_shares(notes, score_labels, N, by=by, sr=sr, hop_length=hop_length,
                                     onset_tol=onset_tol, offset_tol=offset_tol,
                                     onset_before=onset_before, onset_after=onset_after)
        extra = labels["group"].astype(str).to_numpy()[len(score_labels):]
        shares = {g: np.vstack([sh, (extra == g)[:, None] * np.ones((1, N))])
                  for g, sh in shares.items()}
        H_parts = split_activations(H, labels, shares=shares)
    models = model_spectrograms(W, H_parts)
    mask_dict = masks(models, exponent=mask_exponent)
    signals = resynthesize(apply_masks(X, mask_dict), length=x.size, n_fft=n_fft,
                           hop_length=hop_length)
    # a group whose notes all lie past the end of the audio still gets its (silent) signal
    missing = [g for g in all_groups if g not in signals]
    if missing:
        for g in missing:
            signals[g] = np.zeros(x.size)
            H_parts[g] = np.zeros_like(H)
            models[g] = np.zeros_like(V)
            mask_dict[g] = np.zeros_like(V)
        signals = {g: signals[g] for g in all_groups}
    if not return_details:
        return signals
    loss = list(np.atleast_1d(np.asarray(getattr(result, "loss", []), dtype=float)))
    params = dict(by=by, sr=sr, n_fft=n_fft, hop_length=hop_length, n_iter=n_iter, beta=beta,
                  mask_exponent=mask_exponent, compression=compression, gamma=gamma, share=share,
                  decay_after=decay_after, attack_guard=attack_guard, seed=seed, **cparams)
    return SeparationDetails(signals=signals, X=X, V=V, W0=W0, H0=H0, W=W, H=H, labels=labels,
                             H_parts=H_parts, models=models, masks=mask_dict, loss=loss,
                             n_iter=int(getattr(result, "n_iter", n_iter)), params=params,
                             runtime=time.perf_counter() - t_start)


def _clip_to_duration(notes, duration, by):
    """Notes past the end of the audio: warn and clip (:func:`nmfedu.score.validate`)."""
    from .score import validate

    return validate(notes, duration=duration, group=by if by is not None else "Instrument")
