"""Score-informed source separation with constrained NMF (e.g. left and right hand of a piano).

One pipeline of small named steps (Ewert & Müller, ICASSP 2012), each a function that
notebook 04 can call on its own to show the intermediate result; :func:`separate` is
exactly their composition:

0. :func:`prepare_score` — validate the note table (a ``Velocity`` column is optional),
   clip notes past the end of the audio, fix the group order. *Score preparation*: this is
   where a synchronisation of the score to the recording belongs;
1. :func:`spectrogram` — ``X = stft(x)``, ``V = |X|`` (optionally ``log(1 + γ V)``), in the
   working precision ``dtype`` (float32 by default: half the memory, same separation);
2. :func:`score_model` — ``W0, H0, labels`` from :func:`nmfedu.constraints.build_constraints`
   (harmonic templates with exact zeros, activation regions from the score), optional onset
   and attack columns, and the decay segments of the decay constraint;
3. :func:`factorize` — NMF (:func:`nmfedu.factorization.nmf`; the decay constraint is its
   explicit ``project_H`` hook) or a nonnegative autoencoder (:func:`nmfedu.nae.fit`, the
   decoder initialised at ``W0``, the dropout mask ``M_H = [H0 > 0]``): interchangeable steps
   (:data:`FACTORIZATIONS`) that return ``W`` (templates) and ``H`` (activations);
4. :func:`ownership` — ``H_g``: which part of ``H`` belongs to group ``g``
   (:func:`split_activations`, :func:`proportional_shares`);
5. :func:`masks` — soft masks ``M_g = V_g^p / Σ_h V_h^p`` of the models ``V_g = W H_g``
   (:func:`model_spectrograms`);
6. :func:`resynthesize` — ``x_g = istft(M_g ⊙ X)`` (the mixture's phase is kept).

The masks of all groups sum to 1 in every bin (where every model is 0 they split evenly), so
``Σ_g X_g = X`` and the separated signals add back to the mixture up to round-off.

All settings live in one place, :class:`SeparationConfig`; :data:`DEFAULTS` is the
configuration :func:`separate` uses, and ``python -m nmfedu separate`` generates one flag per
field from it. :data:`PLAIN` is the lecture's plain model, against which the defaults are
measured.

**The refinements** beyond the plain model (every one a field of the configuration):

* *Shared pitches* (``share``): ``"columns"`` gives every (pitch, group) pair its own column,
  and the activation regions decide ownership; ``"proportional"`` uses one column per pitch
  (both hands' notes of a pitch train one template, as they are the same string) and splits
  its activation in every frame in proportion to the groups whose regions cover the frame
  (:func:`proportional_shares`).
* *Decay constraint* (``decay_after``): a piano note only decays after its attack until its
  key is struck again; from ``decay_after`` seconds after each onset until the frame before the
  next onset of the same column, the activation is projected onto non-increasing sequences
  after every update of ``H`` (:func:`nmfedu.constraints.decay_segments`,
  :func:`nmfedu.constraints.project_decay`). A projection, not a multiplicative update: the
  loss is no longer guaranteed to fall at every iteration, but zeros stay zeros.
* *Onset templates* (``onset_templates``, ``onset_shape``, ``onset_after``): a second column
  per pitch, active only around its onsets, for the bright attack.
* *Attack columns* (``attack_guard``): one broadband column per group, active only around its
  onsets that no other group's onset is near (:func:`attack_columns`), for the hammer noise.
* *Loss* (``beta``) and *mask exponent* (``mask_exponent``).

**What the defaults keep** was chosen by ``benchmarks/bench_separation_quality.py`` (the
protocol of issue 13) on 20 rendered excerpts that are not in data/ (the toy and the bundled
pieces never chose): 64 combinations of loss, decay constraint, attack columns, onset
templates, sharing rule and mask exponent, leave-one-piece-out. Mean SDR over the 20 excerpts
(the plain model: 11.91 dB with KL, 12.16 dB with Frobenius): Frobenius with attack columns and
proportional sharing, 12.49 dB. What each part is worth there (the defaults with one change):
Frobenius instead of KL +0.45 dB; proportional sharing instead of per-group columns +0.23 dB;
attack columns +0.11 dB; the decay constraint *costs* 0.39 dB (0.84 dB with the old defaults;
it had been chosen on one bundled piece), so the defaults drop it; harmonic onset templates
(+0.06 dB), the mask exponent (1.5, 1.75, 2 within 0.01 dB), 60 instead of 25 harmonics
(0.01 dB), 50 or 200 instead of 100 iterations (+0.01, −0.04 dB) and float64 instead of float32
(0.00 dB) make no difference: the defaults take the plain model's choice where it has one (no
onset templates, p = 2) and keep 60 harmonics, 100 iterations and float32. The gain over the plain model is small (leave-one-piece-out
estimate +0.16 dB over the better plain baseline per piece) and the gap to the oracle ideal
ratio mask stays at about 4 dB on this set: the refinements do not close it (the tables are
in ``benchmarks/results/``).

**Memory.** Without ``return_details`` the pipeline keeps one complex spectrogram (the
mixture's) and builds each group's masked spectrogram only while it is inverted; the K × N
arrays are float32 by default, and the last group's signal is the mixture minus the others.
Peak memory grows linearly with the duration (about 20 bytes per bin of ``V`` plus the
signals; ``benchmarks/bench_separation_memory.py``); a
recording too long for the machine's available memory is refused with a one-line
:class:`MemoryError` that gives the figures (:func:`memory_estimate`).

Notebooks: 03 (masks), 04 (left/right-hand separation), 07 (the NAE factorisation step);
``python -m nmfedu separate`` (:mod:`nmfedu.cli`).
"""
from __future__ import annotations

import dataclasses
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import constraints as _c
from ._validation import check_signal
from .spectrogram import HOP_LENGTH, N_FFT, istft, log_compress, stft

__all__ = [
    "SeparationConfig",
    "DEFAULTS",
    "PLAIN",
    "SEPARATION_DEFAULTS",
    "FACTORIZATIONS",
    "SeparationDetails",
    "ScoreModel",
    "Factorization",
    "prepare_score",
    "spectrogram",
    "score_model",
    "factorize",
    "ownership",
    "split_activations",
    "proportional_shares",
    "model_spectrograms",
    "masks",
    "iter_masks",
    "apply_masks",
    "resynthesize",
    "to_mono",
    "attack_columns",
    "memory_estimate",
    "separate",
]

FACTORIZATIONS = ("nmf", "nae")


def _opt(default, help, *, step, choices=None, kind=None):
    """A configuration field with the help text and pipeline step the CLI shows."""
    return field(default=default, metadata=dict(help=help, step=step, choices=choices, kind=kind))


@dataclass(frozen=True)
class SeparationConfig:
    """Every setting of the separation pipeline, in the order of its steps.

    Use :data:`DEFAULTS` (what :func:`separate` does) or :data:`PLAIN` (the lecture's plain
    model) and change fields with :meth:`replace`; every field is checked when the
    configuration is made, so a bad value fails before any computation. The command line
    has one flag per field (``--n-iter``, ``--no-onset-templates``, ``--decay-after off``…).

    Examples
    --------
    >>> cfg = DEFAULTS.replace(beta="kl", n_iter=50)
    >>> cfg.beta, cfg.n_iter, cfg.mask_exponent == DEFAULTS.mask_exponent
    ('kl', 50, True)
    >>> DEFAULTS.replace(n_itr=3)
    Traceback (most recent call last):
    ...
    ValueError: unknown separation setting(s) ['n_itr']; expected some of [...]
    """

    # 1. spectrogram
    n_fft: int = _opt(N_FFT, "STFT window length in samples", step="spectrogram")
    hop_length: int = _opt(HOP_LENGTH, "STFT hop size in samples", step="spectrogram")
    dtype: str = _opt("float32", "working precision of the K x N arrays", step="spectrogram",
                      choices=("float32", "float64"))
    compression: str | None = _opt(None, "factorise |X| (none) or log(1 + log_factor |X|)",
                                   step="spectrogram", choices=(None, "log"))
    log_factor: float = _opt(1.0, "compression factor c of compression='log'",
                             step="spectrogram")
    # 2. score model (constraints)
    n_harmonics: int = _opt(60, "harmonics per template (those above Nyquist are dropped)",
                            step="score model")
    tolerance: float = _opt(1.0, "half-width of the harmonic bands in semitones", step="score model")
    min_width: float = _opt(3.0, "minimum half-width of the harmonic bands in bins",
                            step="score model")
    onset_tol: float = _opt(0.1, "seconds an activation region starts before its note",
                            step="score model")
    offset_tol: float = _opt(0.1, "seconds an activation region lasts after its note",
                             step="score model")
    onset_templates: bool = _opt(False, "one onset column per pitch, active around its onsets",
                                 step="score model")
    onset_shape: str = _opt("harmonic", "onset template: flat (broadband) or harmonic",
                            step="score model", choices=("flat", "harmonic"))
    onset_before: float = _opt(0.05, "seconds an onset region starts before the onset",
                               step="score model")
    onset_after: float = _opt(0.07, "seconds an onset region lasts after the onset",
                              step="score model")
    attack_guard: float | None = _opt(0.15, "broadband attack column per group, active at its "
                                      "onsets with no other group's onset this near (s); off: none",
                                      step="score model")
    decay_after: float | None = _opt(None, "activations may only decay from this long after "
                                     "each onset (s); off: no decay constraint",
                                     step="score model")
    # 3. factorisation
    factorization: str = _opt("nmf", "the factorisation step", step="factorisation",
                              choices=FACTORIZATIONS)
    beta: str = _opt("frobenius", "NMF loss", step="factorisation", choices=("frobenius", "kl"))
    n_iter: int = _opt(100, "NMF iterations (NAE: epochs)", step="factorisation")
    nae_rule: str = _opt("multiplicative", "NAE training rule", step="factorisation",
                         choices=("additive", "multiplicative"))
    # 4. ownership
    share: str = _opt("proportional", "ownership of pitches that several groups play",
                      step="ownership", choices=("columns", "proportional"))
    # 5. masks
    mask_exponent: float = _opt(2.0, "soft-mask exponent p (1: magnitude ratio, 2: Wiener-like)",
                                step="masks")

    def __post_init__(self):
        from ._validation import check_positive_int

        for name in ("n_fft", "hop_length", "n_harmonics", "n_iter"):
            check_positive_int(getattr(self, name), name)
        for name in ("tolerance", "min_width", "onset_tol", "offset_tol", "onset_before",
                     "onset_after"):
            _c._positive(getattr(self, name), name, allow_zero=True)
        for name in ("log_factor", "mask_exponent"):
            _c._positive(getattr(self, name), name)
        for name in ("attack_guard", "decay_after"):
            if getattr(self, name) is not None:
                _c._positive(getattr(self, name), name, allow_zero=True)
        if not isinstance(self.onset_templates, (bool, np.bool_)):
            raise ValueError(f"onset_templates must be True or False, got {self.onset_templates!r}")
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices is not None and getattr(self, f.name) not in choices:
                raise ValueError(f"{f.name} must be one of {list(choices)}, "
                                 f"got {getattr(self, f.name)!r}")

    def replace(self, **changes):
        """A copy with some fields changed (unknown names are a ValueError)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown separation setting(s) {unknown}; expected some of "
                             f"{sorted(known)}")
        return dataclasses.replace(self, **changes) if changes else self

    def as_dict(self):
        """The settings as a plain dict (e.g. for a report)."""
        return dataclasses.asdict(self)

    def constraint_kwargs(self):
        """The keyword arguments of :func:`nmfedu.constraints.build_constraints`."""
        return dict(n_harmonics=self.n_harmonics, tolerance=self.tolerance,
                    min_width=self.min_width, onset_tol=self.onset_tol,
                    offset_tol=self.offset_tol, onset_templates=self.onset_templates,
                    onset_shape=self.onset_shape, onset_before=self.onset_before,
                    onset_after=self.onset_after)


#: The configuration :func:`separate` uses (chosen by the protocol of
#: ``benchmarks/bench_separation_quality.py`` on pieces it does not report as seen).
DEFAULTS = SeparationConfig()

#: The plain score-informed model of the lecture (Ewert & Müller 2012) and of notebook 04:
#: harmonic templates, activations from the score, one column per (group, pitch), linear
#: magnitude, power masks (p = 2), KL divergence; no decay constraint, no onset or attack
#: columns. The baseline of the quality benchmark.
PLAIN = SeparationConfig(share="columns", decay_after=None, attack_guard=None, mask_exponent=2.0,
                         n_harmonics=25, onset_templates=False, onset_shape="flat",
                         onset_after=0.1, beta="kl")

#: :data:`DEFAULTS` as a dict (kept for code that reads single defaults).
SEPARATION_DEFAULTS = DEFAULTS.as_dict()


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

    Notebooks: 03, 04; 07 through ``separate(..., factorization="nae")``.

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"pitch": [60, 48], "kind": ["pitch", "pitch"],
    ...                        "group": ["right", "left"]})
    >>> parts = split_activations(np.ones((2, 3)), labels)
    >>> {g: h[:, 0].tolist() for g, h in parts.items()}
    {'right': [1.0, 0.0], 'left': [0.0, 1.0]}
    """
    H = np.asarray(H)
    H = H.astype(np.result_type(np.float32, H.dtype), copy=False)
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
            out[str(g)] = (s * H).astype(H.dtype, copy=False)
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

    Notebooks: 04 (comparison of the two ownership rules, through :func:`separate`).
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

    Notebooks: 02, 03, 04; 07 through ``separate(..., factorization="nae")``.
    """
    W = np.asarray(W)
    dt = np.result_type(np.float32, W.dtype)
    W = W.astype(dt, copy=False)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D template matrix (K, R), got shape {W.shape}")
    if not isinstance(H_parts, dict) or not H_parts:
        raise ValueError("H_parts must be a non-empty dict group -> activation matrix")
    out = {}
    for g, Hg in H_parts.items():
        Hg = np.asarray(Hg, dtype=dt)
        if Hg.ndim != 2 or Hg.shape[0] != W.shape[1]:
            raise ValueError(f"H_parts[{g!r}] must have shape ({W.shape[1]}, N) to match W "
                             f"{W.shape}, got {Hg.shape}")
        out[g] = W @ Hg
    return out


def iter_masks(models, exponent: float = DEFAULTS.mask_exponent, eps: float = 0.0):
    """The masks of :func:`masks`, one group at a time: yields ``(group, M_g)``.

    ``models`` maps each group to its model spectrogram, or to a function without arguments
    that computes it (then no two models are held at once: each is recomputed in each of the
    three passes — bin-wise peak, denominator, masks). Besides one model, it needs three
    arrays of a model's shape (peak, denominator, the mask handed out), whatever the number
    of groups; the arithmetic is done in the models' precision (float32 gives float32 masks).
    """
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict group -> model spectrogram")
    exponent = _c._positive(exponent, "exponent")
    eps = _c._positive(eps, "eps", allow_zero=True)
    names = list(models)

    def get(g):
        """The model of g, and whether it is a fresh array that may be overwritten."""
        fresh = callable(models[g])
        a = np.asarray(models[g]() if fresh else models[g])
        if a.dtype.kind not in "fiu":
            raise ValueError(f"models must be real-valued spectrograms, got dtype {a.dtype}")
        a = a.astype(np.result_type(np.float32, a.dtype), copy=False)
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError("models must be finite and nonnegative")
        return a, fresh

    def ratio(g):
        """(V_g / peak) ** p, in place when the model is a fresh array."""
        a, fresh = get(g)
        out = np.divide(a, peak, out=a if fresh and a.dtype == peak.dtype else None,
                        dtype=peak.dtype)
        return np.power(out, exponent, out=out)

    peak = total = None
    shapes = {}
    for g in names:
        a, _ = get(g)
        shapes[g] = a.shape
        if len(set(shapes.values())) != 1:
            raise ValueError(f"models must all have the same shape, got {shapes}")
        peak = a.copy() if peak is None else np.maximum(peak, a.astype(peak.dtype), out=peak)
        if eps > 0:
            total = a.astype(peak.dtype) if total is None else total + a
    active = (total > eps) if eps > 0 else (peak > 0)   # nonnegative: total > 0 where peak > 0
    del total
    peak[~active] = 1.0
    denom = np.zeros_like(peak)
    for g in names:
        denom += ratio(g)
    denom[~active | (denom == 0)] = 1.0
    even = peak.dtype.type(1.0 / len(names))
    for g in names:
        M = ratio(g)
        np.divide(M, denom, out=M)
        M[~active] = even
        yield g, M


def masks(models, exponent: float = DEFAULTS.mask_exponent, eps: float = 0.0):
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
    :func:`iter_masks` hands them out one at a time (less memory).

    Notebooks: 03, 04 and 07.

    Examples
    --------
    >>> m = masks({"a": np.array([[3.0, 0.0]]), "b": np.array([[1.0, 0.0]])}, exponent=1)
    >>> m["a"].tolist(), m["b"].tolist()
    ([[0.75, 0.5]], [[0.25, 0.5]])
    """
    return dict(iter_masks(models, exponent=exponent, eps=eps))


def apply_masks(X, mask_dict):
    """Masked complex STFTs ``X_g = M_g ⊙ X`` (the mixture's phase is kept).

    Notebooks: 02, 03, 04; 07 through ``separate(..., factorization="nae")``.
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

    Notebooks: 02, 03, 04, 08; 07 through ``separate(..., factorization="nae")``.
    """
    if not isinstance(X_parts, dict) or not X_parts:
        raise ValueError("X_parts must be a non-empty dict group -> complex STFT")
    return {g: istft(Xg, length=length, n_fft=n_fft, hop_length=hop_length)
            for g, Xg in X_parts.items()}


def to_mono(x, name: str = "x"):
    """Return ``x`` as float64 mono; a 2-D array (channels first or last, the
    shorter axis is taken as channels) is mixed down by averaging, with a
    warning.

    Notebooks: 04, 07 (through :func:`separate`, with ``factorization="nae"`` in 07); also the
    command line.
    """
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
    return check_signal(x, name, dtype=np.float64)


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

    Notebooks: 04 (through :func:`separate`'s ``attack_guard``).
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


# --------------------------------------------------------------------------- the pipeline
@dataclass
class ScoreModel:
    """The output of :func:`score_model`: initial factors and what belongs to whom.

    ``W0`` (K × R), ``H0`` (R × N): the score-informed initialisation (exact zeros outside
    the harmonic bands and the activation regions); ``labels``: one row per column (``pitch``,
    ``kind`` in pitch/onset/attack, ``group``); ``score_labels``: the rows of the pitch and onset
    columns (before the attack columns); ``segments``: the decay segments (S × 3, or None
    without the decay constraint).
    """

    W0: np.ndarray
    H0: np.ndarray
    labels: object
    score_labels: object
    segments: np.ndarray | None


@dataclass
class Factorization:
    """The output of :func:`factorize`: ``W`` (K × R), ``H`` (R × N), the loss curve, the
    number of iterations (epochs) run and the factorisation's own result object (an
    :class:`nmfedu.factorization.NMFResult` or :class:`nmfedu.nae.NAEResult`)."""

    W: np.ndarray
    H: np.ndarray
    loss: np.ndarray
    n_iter: int
    result: object


@dataclass
class SeparationDetails:
    """Everything :func:`separate` computed (``return_details=True``), for notebooks.

    Attributes: ``signals`` (dict group -> signal), ``X`` (complex STFT), ``V``
    (the factorised spectrogram, compressed if requested), ``W0, H0, W, H``,
    ``labels``, ``H_parts``, ``models``, ``masks`` (dicts group -> array),
    ``loss`` (array of losses per iteration), ``n_iter``, ``params`` (dict of
    every setting), ``config`` (the :class:`SeparationConfig`), ``result`` (the
    factorisation's own result, e.g. the trained NAE) and ``runtime`` (seconds).
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
    loss: np.ndarray
    n_iter: int
    params: dict = field(default_factory=dict)
    config: SeparationConfig | None = None
    result: object = None
    runtime: float = 0.0

    @property
    def final_loss(self):
        """Last value of the loss curve (NaN if none was recorded)."""
        return float(self.loss[-1]) if len(self.loss) else float("nan")


_ONE_GROUP = "all"


def prepare_score(notes, duration: float, by: str | None = "Instrument"):
    """Step 0, score preparation: a clean note table for a recording of ``duration`` seconds.

    Validates the table with :func:`nmfedu.score.validate` (one contract for note tables; a
    missing ``Velocity`` column is allowed — the separation does not use it), drops and
    clips notes past the end of the audio (with a warning), and returns the groups in order
    of first appearance. With ``by=None`` all notes form one group ``"all"``. (A score that
    does not fit the recording has been aligned before this step, by
    :func:`nmfedu.synchronization.prepare_score` in :func:`separate`.)

    Returns
    -------
    notes : DataFrame
        Sorted, clipped copy; the group column is ``by`` (``"Instrument"``, set to ``"all"``,
        for ``by=None``).
    by : str
        The group column of the returned table.
    groups : list of str
        Every group of the input table, including groups whose notes all lie past the end.

    Notebooks: 04.

    Examples
    --------
    >>> import pandas as pd
    >>> notes = pd.DataFrame({"Start": [0.0, 0.5], "Duration": [0.4, 0.4], "Pitch": [48, 72],
    ...                       "Instrument": ["left", "right"]})
    >>> clean, by, groups = prepare_score(notes, 2.0)
    >>> by, groups, "Velocity" in clean.columns
    ('Instrument', ['left', 'right'], False)
    """
    import pandas as pd

    from .score import validate

    if not isinstance(notes, pd.DataFrame):
        raise ValueError(f"notes must be a pandas DataFrame note table (see nmfedu.score), "
                         f"got {type(notes).__name__}")
    notes = notes.copy()
    if by is None:
        by = "Instrument"
        notes[by] = _ONE_GROUP
    elif by not in notes.columns:
        raise ValueError(f"by={by!r} is not a column of notes; columns are {list(notes.columns)}")
    if "Instrument" not in notes.columns:          # the note-table contract has one
        notes["Instrument"] = notes[by]
    if len(notes) == 0:
        raise ValueError("notes is empty: expected at least one note")
    clipped = validate(notes, duration=duration, group=by)       # the one check of the table
    order = np.lexsort((notes["Pitch"].to_numpy(float), notes["Start"].to_numpy(float)))
    groups = _groups_in_order(notes[by].to_numpy()[order])     # also groups past the end
    if len(clipped) == 0:
        raise ValueError(f"notes: no note starts before the end of the audio ({duration:.3f} s); "
                         f"expected a score synchronised with x")
    clipped[by] = clipped[by].astype(str)
    return clipped, by, groups


def spectrogram(x, config: SeparationConfig = DEFAULTS):
    """Step 1: complex STFT ``X`` and the spectrogram ``V`` that is factorised.

    ``V = |X|`` or, with ``config.compression == "log"``, ``log(1 + c |X|)`` (c = ``config.log_factor``); both in the
    working precision ``config.dtype`` (``X`` is complex64 for float32).

    Notebooks: 04.

    Examples
    --------
    >>> X, V = spectrogram(np.zeros(22050))
    >>> X.dtype, V.dtype, V.shape
    (dtype('complex64'), dtype('float32'), (1025, 44))
    """
    dt = np.dtype(config.dtype)
    X = stft(np.asarray(x, dtype=dt), n_fft=config.n_fft, hop_length=config.hop_length)
    V = np.abs(X)
    if config.compression == "log":
        V *= dt.type(config.log_factor)     # in place: spectrogram.log_compress without a copy
        np.log1p(V, out=V)
    return X, V


def score_model(notes, shape, sr: float, by: str, config: SeparationConfig = DEFAULTS):
    """Step 2: the score-informed initialisation, labels and decay segments.

    ``W0, H0, labels`` from :func:`nmfedu.constraints.build_constraints` (one column per pitch
    with ``share="proportional"``, per (group, pitch) with ``share="columns"``), the attack
    columns of :func:`attack_columns` if ``config.attack_guard`` is set, and the segments of
    the decay constraint (:func:`nmfedu.constraints.decay_segments`) if ``config.decay_after``
    is set. ``notes`` as returned by :func:`prepare_score`, ``shape`` = ``V.shape``.

    Notebooks: 04.
    """
    import pandas as pd

    K, N = shape
    col_by = by if config.share == "columns" else None
    W0, H0, labels = _c.build_constraints(notes, K, N, by=col_by, sr=sr,
                                          hop_length=config.hop_length,
                                          **config.constraint_kwargs())
    score_labels = labels
    if config.attack_guard is not None and notes[by].nunique() > 1:
        Wa, Ha, la = attack_columns(notes, labels, W0, N, by=by, sr=sr,
                                    hop_length=config.hop_length, guard=config.attack_guard,
                                    before=config.onset_before, after=config.onset_after)
        if len(la):
            W0, H0 = np.hstack([W0, Wa]), np.vstack([H0, Ha])
            labels = pd.concat([labels, la], ignore_index=True)
    segments = None
    if config.decay_after is not None:
        segments = _c.decay_segments(notes, score_labels, N, by=col_by, sr=sr,
                                     hop_length=config.hop_length, after=config.decay_after)
    return ScoreModel(W0=W0, H0=H0, labels=labels, score_labels=score_labels, segments=segments)


def _factorize_nmf(V, model, config):
    from .factorization import nmf

    project = None
    if model.segments is not None and len(model.segments):
        segments = model.segments

        def project(H):
            _c.project_decay(H, segments)

    res = nmf(V, model.W0.shape[1], W0=model.W0, H0=model.H0, n_iter=config.n_iter, tol=0.0,
              beta=config.beta, dtype=config.dtype, project_H=project)
    return Factorization(W=res.W, H=res.H, loss=np.asarray(res.loss), n_iter=int(res.n_iter),
                         result=res)


def _factorize_nae(V, model, config):
    """The autoencoder step: decoder initialised at W0, dropout mask M_H = [H0 > 0], encoder
    at the clipped, rescaled pseudo-inverse of W0; the masked code is H. (The decay
    constraint is a projection of NMF's H and has no counterpart here.)"""
    from . import nae

    M = (np.asarray(model.H0) > 0).astype(config.dtype)
    W_E0, W_D0 = nae.init_from_nmf(V, model.W0, M_H=M, dtype=config.dtype)
    res = nae.fit(V, W_D0.shape[1], rule=config.nae_rule, n_epochs=config.n_iter, W_D0=W_D0,
                  W_E0=W_E0, M_H=M, dtype=config.dtype)
    return Factorization(W=res.W_D, H=res.H, loss=np.asarray(res.loss),
                         n_iter=int(getattr(res, "n_epochs", config.n_iter)), result=res)


_FACTORIZERS = {"nmf": _factorize_nmf, "nae": _factorize_nae}


def factorize(V, model: ScoreModel, config: SeparationConfig = DEFAULTS):
    """Step 3: ``V ≈ W H`` from the score model, by the factorisation ``config.factorization``.

    ``"nmf"``: :func:`nmfedu.factorization.nmf` from ``W0, H0`` (multiplicative updates keep
    the zeros; the decay constraint is the ``project_H`` hook, applied after every update of
    ``H``). ``"nae"``: :func:`nmfedu.nae.fit` (``config.nae_rule``, ``config.n_iter`` epochs)
    with the decoder starting at ``W0`` and the structured-dropout mask ``[H0 > 0]``; the
    decoder is ``W`` and the masked code ``H``. Both return a :class:`Factorization`, so the
    later steps do not know which one ran.

    Notebooks: 04, 07.
    """
    return _FACTORIZERS[config.factorization](V, model, config)


def ownership(H, model: ScoreModel, notes, sr: float, by: str,
              config: SeparationConfig = DEFAULTS):
    """Step 4: the activations of every group, ``H_g`` with ``Σ_g H_g = H``.

    ``share="columns"``: every column belongs to the group of its label
    (:func:`split_activations`). ``share="proportional"``: a pitch column is split frame by
    frame by :func:`proportional_shares`; attack columns belong to their group.

    Notebooks: 04.
    """
    N = H.shape[1]
    if config.share == "columns":
        return split_activations(H, model.labels, by="group")
    shares = proportional_shares(notes, model.score_labels, N, by=by, sr=sr,
                                 hop_length=config.hop_length, onset_tol=config.onset_tol,
                                 offset_tol=config.offset_tol, onset_before=config.onset_before,
                                 onset_after=config.onset_after)
    extra = model.labels["group"].astype(str).to_numpy()[len(model.score_labels):]
    parts = {}
    for g, sh in shares.items():
        full = np.vstack([sh, np.repeat((extra == g)[:, None].astype(float), N, axis=1)])
        parts[g] = (full * H).astype(H.dtype, copy=False)
    return parts


def _signals(holder, x, W, H_parts, exponent, config):
    """Masks and inverse STFTs with as little held at once as possible (steps 5 and 6).

    ``holder`` is a one-element list with the mixture's STFT, so that it can be freed once the
    last masked spectrogram that needs it is built. The models ``W H_g`` are recomputed in
    each pass of :func:`iter_masks` instead of being held (two more products per group, about
    two NMF iterations). The masks sum to one and the inverse STFT is linear and inverts
    :func:`nmfedu.spectrogram.stft`, so the last group's signal is the mixture minus the others
    (``istft(M_G X) = istft(X) - Σ_{g<G} istft(M_g X)``): it needs neither a mask nor an
    inverse STFT, and the separated signals add up to ``x`` exactly.
    """
    W = np.asarray(W)
    names = list(H_parts)
    models = {g: (lambda Hg=Hg: W @ Hg) for g, Hg in H_parts.items()}
    masks_left = iter_masks(models, exponent=exponent)
    X = holder.pop()
    out = {}
    for k, g in enumerate(names[:-1]):
        _, M = next(masks_left)
        last = k == len(names) - 2
        if last:
            masks_left.close()                   # frees the peak and denominator arrays
        Xg = M * X                               # this group's masked spectrogram only
        del M
        if last:
            del X
        out[g] = istft(Xg, length=x.size, n_fft=config.n_fft,
                       hop_length=config.hop_length).astype(np.float64)
        del Xg
    rest = x.copy()
    for g in out:
        rest -= out[g]
    out[names[-1]] = rest
    return {g: out[g] for g in names}


#: Bytes per bin of V (float32) that separate() holds at its peak, measured by
#: benchmarks/bench_separation_memory.py (one number for the check below, with a margin).
_BYTES_PER_BIN = {np.dtype("float32"): 24, np.dtype("float64"): 48}


def _available_memory():
    """Bytes the process may still use: MemAvailable, or the cgroup limit if lower."""
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except OSError:
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()
        except OSError:
            continue
        if text.isdigit():
            limit = int(text)
            try:
                used = int(open(path.replace("memory.max", "memory.current")
                                .replace("limit_in_bytes", "usage_in_bytes")).read())
            except (OSError, ValueError):
                used = 0
            if limit < 1 << 60:
                avail = min(avail, limit - used) if avail else limit - used
    return avail


def memory_estimate(n_samples: int, sr: float, config: SeparationConfig = DEFAULTS,
                    n_groups: int = 2):
    """Peak bytes :func:`separate` needs for ``n_samples`` of audio (without details).

    Examples
    --------
    >>> round(memory_estimate(5 * 60 * 22050, 22050) / 1e6)      # 5 minutes at 22050 Hz
    477
    """
    K = config.n_fft // 2 + 1
    N = 1 + n_samples // config.hop_length
    per_bin = _BYTES_PER_BIN[np.dtype(config.dtype)]
    return int(K * N * per_bin + (n_groups + 1) * 8 * n_samples)


def _check_memory(n_samples, sr, config, n_groups):
    need = memory_estimate(n_samples, sr, config, n_groups)
    avail = _available_memory()
    if avail is not None and need > avail:
        minutes = n_samples / sr / 60
        raise MemoryError(
            f"x: separating {minutes:.1f} min of audio needs about {need / 1e9:.1f} GB but only "
            f"{avail / 1e9:.1f} GB of memory are available; separate it in shorter excerpts "
            f"(about {minutes * avail / need:.0f} min fit)")


def separate(x, sr, notes, by: str | None = "Instrument", config: SeparationConfig | None = None,
             *, return_details: bool = False, align: str | None = "auto", **settings):
    """Score-informed separation of a mixture into one signal per note group.

    Runs the pipeline of this module — :func:`prepare_score`, :func:`spectrogram`,
    :func:`score_model`, :func:`factorize`, :func:`ownership`, :func:`masks` and
    :func:`resynthesize` — with the settings of ``config`` (default :data:`DEFAULTS`),
    changed by any keyword ``settings`` (the fields of :class:`SeparationConfig`, e.g.
    ``beta="kl"``, ``share="columns"``, ``decay_after=None``, ``factorization="nae"``).

    Parameters
    ----------
    x : ndarray, shape (L,)
        Mixture (a 2-D array is mixed down to mono, with a warning).
    sr : float
        Sample rate of ``x`` in Hz (the score's times are in seconds).
    notes : DataFrame
        Note table synchronised with ``x`` (see :mod:`nmfedu.score`; ``Velocity`` may be
        missing). Notes ending after the audio are clipped with a warning.
    by : str or None
        Column of ``notes`` with the group label (e.g. ``"Instrument"`` with values
        ``"left"``/``"right"``); None: one group ``"all"``.
    config : SeparationConfig, optional
        All settings (default :data:`DEFAULTS`); see the module docstring for what each
        refinement does and the benchmark for what it is worth.
    return_details : bool or "summary"
        True: return a :class:`SeparationDetails` (every intermediate array; more memory)
        instead of the dict of signals. ``"summary"``: a :class:`SeparationDetails` with the
        signals, labels, loss curve and settings but none of the large arrays (their fields
        are None), at the memory cost of plain signals (the command line uses it).
    align : "auto", "always", "never" or None
        Score–audio synchronisation first (:func:`nmfedu.synchronization.prepare_score`):
        ``"auto"`` aligns the score only when it does not fit the recording; a score that does
        not fit even after alignment (or with ``"never"``) is refused with a ValueError;
        None uses the score as given, unchecked. The details' ``params["sync"]`` records the
        fit and the warp.
    **settings
        Fields of :class:`SeparationConfig` to change.

    Returns
    -------
    dict group -> ndarray (L,)
        One float64 signal per group label, in order of first appearance in ``notes``, each
        as long as ``x``; they sum to ``x`` (up to the round-off of ``config.dtype``).
        With ``return_details=True`` a :class:`SeparationDetails`.

    Raises
    ------
    ValueError
        A bad setting, signal, sample rate or note table (the message names it).
    MemoryError
        The recording is too long for the available memory (the message gives the figures).

    Notebooks: 04 (left/right-hand separation), 07 (``factorization="nae"``); used by
    ``python -m nmfedu separate``.

    Examples
    --------
    >>> import pandas as pd
    >>> sr = 22050
    >>> t = np.arange(sr) / sr
    >>> x = np.sin(2 * np.pi * 130.8 * t) + 0.5 * np.sin(2 * np.pi * 523.3 * t)
    >>> notes = pd.DataFrame({"Start": [0.0, 0.0], "Duration": [1.0, 1.0], "Pitch": [48, 72],
    ...                       "Instrument": ["left", "right"]})
    >>> parts = separate(x, sr, notes, n_iter=20)
    >>> list(parts), bool(np.allclose(parts["left"] + parts["right"], x, atol=1e-4))
    (['left', 'right'], True)
    """
    t_start = time.perf_counter()
    cfg = (DEFAULTS if config is None else config)
    if not isinstance(cfg, SeparationConfig):
        raise ValueError(f"config must be a SeparationConfig (e.g. nmfedu.separation.DEFAULTS), "
                         f"got {type(cfg).__name__}")
    cfg = cfg.replace(**settings)
    x = to_mono(x)
    sr = _c._positive(sr, "sr")
    if return_details not in (True, False, "summary"):
        raise ValueError(f"return_details must be True, False or 'summary', got {return_details!r}")
    full = return_details is True
    from . import synchronization

    import pandas as pd

    if by is None and isinstance(notes, pd.DataFrame):   # one group: the synchronisation's label
        notes = notes.assign(Instrument=_ONE_GROUP)
    notes, sync_info = synchronization.prepare_score(x, sr, notes, align=align,
                                                      by="Instrument" if by is None else by)
    notes, col, groups = prepare_score(notes, x.size / sr, by)
    if not full:
        _check_memory(x.size, sr, cfg, len(groups))
    X, V = spectrogram(x, cfg)
    model = score_model(notes, V.shape, sr, col, cfg)
    fact = factorize(V, model, cfg)
    H_parts = ownership(fact.H, model, notes, sr, col, cfg)
    if full:
        models = model_spectrograms(fact.W, H_parts)
        mask_dict = masks(models, exponent=cfg.mask_exponent)
        signals = {g: s.astype(np.float64) for g, s in
                   resynthesize(apply_masks(X, mask_dict), length=x.size, n_fft=cfg.n_fft,
                                hop_length=cfg.hop_length).items()}
    else:
        holder = [X]
        del V, X                                 # _signals frees the STFT when done with it
        signals = _signals(holder, x, fact.W, H_parts, cfg.mask_exponent, cfg)
    # a group whose notes all lie past the end of the audio still gets its (silent) signal
    signals = {g: signals.get(g, np.zeros(x.size)) for g in groups}
    if not return_details:
        return signals
    params = dict(by=by, sr=sr, **cfg.as_dict(), sync=sync_info)
    if not full:
        return SeparationDetails(signals=signals, X=None, V=None, W0=None, H0=None, W=None,
                                 H=None, labels=model.labels, H_parts=None, models=None,
                                 masks=None, loss=fact.loss, n_iter=fact.n_iter, params=params,
                                 config=cfg, result=None, runtime=time.perf_counter() - t_start)
    for g in groups:
        if g not in H_parts:
            H_parts[g] = np.zeros_like(fact.H)
            models[g] = np.zeros_like(V)
            mask_dict[g] = np.zeros_like(V)
    return SeparationDetails(signals=signals, X=X, V=V, W0=model.W0, H0=model.H0, W=fact.W,
                             H=fact.H, labels=model.labels, H_parts=H_parts, models=models,
                             masks=mask_dict, loss=fact.loss, n_iter=fact.n_iter, params=params,
                             config=cfg, result=fact.result,
                             runtime=time.perf_counter() - t_start)
