"""Separation quality: SDR/SIR/SAR per group (BSS Eval) and the oracle ratio-mask baseline.

* :func:`bss_eval` compares estimated signals with reference stems using
  :func:`mir_eval.separation.bss_eval_sources` (Vincent et al. 2006) on the
  whole excerpt at once, without permutation search (groups are matched by
  name). Cost: BSS Eval fits 512-tap distortion filters, which takes about
  1–3 s for two 15 s sources at 22050 Hz on one core, growing with length and
  quadratically with the number of groups — call it once per excerpt.
* :func:`oracle_ratio_mask` is the best a soft mask on *the same STFT* can do
  given the true stems: ``M_g = |S_g|^p / Σ_h |S_h|^p`` (``p = 2``: ideal
  ratio mask on power). A score-informed separation is judged by its gap to it.

Used by: notebook 04 (left/right-hand separation, quality table), notebook 07
(NAE separation) and ``benchmarks/bench_separation_quality.py``.
"""
from __future__ import annotations

import warnings

import numpy as np

from .spectrogram import HOP_LENGTH, N_FFT, stft

__all__ = ["bss_eval", "oracle_ratio_mask", "mean_sdr"]


def _as_signal_dict(d, name):
    if not isinstance(d, dict) or not d:
        raise ValueError(f"{name} must be a non-empty dict group -> mono signal")
    out = {}
    for g, s in d.items():
        s = np.asarray(s)
        if s.ndim != 1 or s.size == 0 or not np.issubdtype(s.dtype, np.number):
            raise ValueError(f"{name}[{g!r}] must be a non-empty 1-D numeric signal, got shape "
                             f"{s.shape}")
        s = s.astype(np.float64)
        if not np.all(np.isfinite(s)):
            raise ValueError(f"{name}[{g!r}] contains NaN or inf")
        out[str(g)] = s
    return out


def _check_rates(sr, estimates_sr):
    if sr is not None and estimates_sr is not None and float(sr) != float(estimates_sr):
        raise ValueError(f"sample-rate mismatch: references at sr={sr} Hz, estimates at "
                         f"estimates_sr={estimates_sr} Hz; resample one of them first")


def bss_eval(references, estimates, *, sr: float | None = None, estimates_sr: float | None = None,
             as_frame: bool = True):
    """SDR, SIR and SAR (dB) of every group, via :func:`mir_eval.separation.bss_eval_sources`.

    Parameters
    ----------
    references : dict group -> ndarray (L,)
        True stems.
    estimates : dict group -> ndarray (L,)
        Separated signals; must have exactly the groups of ``references``.
        Lengths may differ by at most 1 % (e.g. a trailing frame); the longer
        signals are truncated to the common length.
    sr, estimates_sr : float, optional
        Sample rates of references and estimates; if both are given they must
        agree (a mismatch raises ValueError).
    as_frame : bool
        Return a :class:`pandas.DataFrame` indexed by group with columns
        ``SDR, SIR, SAR`` (default) or a dict group -> dict.

    Returns
    -------
    DataFrame or dict

    Raises
    ------
    ValueError
        Different groups, lengths differing by more than 1 %, a silent
        reference or estimate (BSS Eval is undefined for it), a rate mismatch.

    Used in notebooks 04 and 07.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> refs = {"a": rng.standard_normal(4000), "b": rng.standard_normal(4000)}
    >>> table = bss_eval(refs, refs)
    >>> bool((table["SDR"] > 100).all())
    True
    """
    import mir_eval

    _check_rates(sr, estimates_sr)
    refs = _as_signal_dict(references, "references")
    ests = _as_signal_dict(estimates, "estimates")
    if set(refs) != set(ests):
        raise ValueError(f"estimates must have the groups of references: references "
                         f"{sorted(refs)}, estimates {sorted(ests)}")
    groups = list(refs)
    lengths = [s.size for s in refs.values()] + [s.size for s in ests.values()]
    L = min(lengths)
    if max(lengths) > 1.01 * L + 1:
        raise ValueError(f"references and estimates must have (about) the same length; got "
                         f"lengths from {L} to {max(lengths)} samples")
    R = np.stack([refs[g][:L] for g in groups])
    E = np.stack([ests[g][:L] for g in groups])
    for name, M in (("references", R), ("estimates", E)):
        silent = [g for g, s in zip(groups, M) if not np.any(s)]
        if silent:
            raise ValueError(f"{name} for group(s) {silent} are all zeros; BSS Eval needs "
                             f"non-silent signals")
    with warnings.catch_warnings():  # deprecated in mir_eval 0.8, still the reference BSS Eval
        warnings.simplefilter("ignore", FutureWarning)
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(R, E, compute_permutation=False)
    table = {g: {"SDR": float(sdr[i]), "SIR": float(sir[i]), "SAR": float(sar[i])}
             for i, g in enumerate(groups)}
    if not as_frame:
        return table
    import pandas as pd

    return pd.DataFrame.from_dict(table, orient="index")[["SDR", "SIR", "SAR"]]


def mean_sdr(table):
    """Mean SDR over groups of a :func:`bss_eval` result (DataFrame or dict)."""
    if hasattr(table, "columns"):
        return float(table["SDR"].mean())
    return float(np.mean([row["SDR"] for row in table.values()]))


def oracle_ratio_mask(stems, mixture=None, *, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH,
                      exponent: float = 2.0, return_masks: bool = False):
    """Oracle ideal-ratio-mask separation of ``mixture`` given the true stems.

    ``M_g = |S_g|^p / Σ_h |S_h|^p`` with ``S_g = stft(stems[g])`` (bins where
    every stem is silent are split evenly), applied to ``X = stft(mixture)``
    and inverted with the same STFT as :func:`nmfedu.separation.separate`.

    Parameters
    ----------
    stems : dict group -> ndarray (L,)
        True sources, all of the same length.
    mixture : ndarray (L,), optional
        Mixture to mask; default the sum of the stems.
    n_fft, hop_length : int
        STFT parameters (must match the separation being compared).
    exponent : float
        ``p``; 2 = power (the usual IRM), 1 = magnitude ratio.
    return_masks : bool
        Also return the dict of masks.

    Returns
    -------
    dict group -> ndarray (L,)  (and the masks if ``return_masks``)

    Used in notebooks 04 and 07 and the quality benchmark.
    """
    from .separation import apply_masks, masks, resynthesize

    stems = _as_signal_dict(stems, "stems")
    lengths = {s.size for s in stems.values()}
    if len(lengths) != 1:
        raise ValueError(f"stems must all have the same length, got lengths {sorted(lengths)}")
    L = lengths.pop()
    if mixture is None:
        mixture = sum(stems.values())
    mixture = np.asarray(mixture, dtype=np.float64)
    if mixture.ndim != 1 or mixture.size != L:
        raise ValueError(f"mixture must be a 1-D signal as long as the stems ({L} samples), got "
                         f"shape {mixture.shape}")
    models = {g: np.abs(stft(s, n_fft=n_fft, hop_length=hop_length)) for g, s in stems.items()}
    M = masks(models, exponent=exponent)
    X = stft(mixture, n_fft=n_fft, hop_length=hop_length)
    est = resynthesize(apply_masks(X, M), length=L, n_fft=n_fft, hop_length=hop_length)
    return (est, M) if return_masks else est
