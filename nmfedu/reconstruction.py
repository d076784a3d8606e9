r"""From model spectrograms back to sound: α-Wiener masks against resynthesis.

A factorisation gives, for each part r (a hand, a drum), a nonnegative model
spectrogram :math:`\Lambda_r` (K × N). Two ways turn it into a signal:

* **Masking** (the lecture's "spectral masking", a soft α-Wiener filter): the mask
  :math:`M_r = \Lambda_r^{\alpha} \oslash \sum_j \Lambda_j^{\alpha}` is applied to the
  mixture's complex STFT :math:`X`, :math:`X_r = M_r \odot X`, and inverted. α = 1 is
  the magnitude ratio, α = 2 the Wiener filter, α → ∞ a binary mask. Because
  :math:`\sum_r M_r = 1` in every bin and the STFT is linear, the parts **add back to the
  mixture exactly** (up to round-off) — but each part also keeps whatever of the other
  sources lies under its mask.
* **Resynthesis**: the model itself is turned into sound, :math:`X_r = \Lambda_r \odot
  e^{i\angle X}` (the mixture's phase), or :math:`\Lambda_r` with a phase estimated by
  Griffin–Lim. The parts contain only what the model explains, so they do **not** add up
  to the mixture: everything the model misses is lost.

:func:`additivity_error` measures the difference; notebook 09 and
``benchmarks/bench_applications.py`` report it.

The mask formula is the one of :func:`nmfedu.separation.masks` (reused, not rewritten);
Griffin–Lim is librosa's (:func:`librosa.griffinlim`, a well-kept implementation of
Griffin & Lim 1984 with the fast momentum variant of Perraudin et al. 2013).

References: D. Griffin and J. Lim, "Signal estimation from modified short-time Fourier
transform", IEEE TASSP 32(2), 1984, doi:10.1109/TASSP.1984.1164317; A. Liutkus and
R. Badeau, "Generalized Wiener filtering with fractional power spectrograms", ICASSP
2015, doi:10.1109/ICASSP.2015.7177973.

Notebooks: 09_applications.

Examples
--------
>>> import numpy as np
>>> from nmfedu.spectrogram import stft
>>> x = np.random.default_rng(0).standard_normal(4096)
>>> X = stft(x)
>>> models = {"a": np.abs(X) * 0.7, "b": np.abs(X) * 0.3}
>>> parts = wiener(X, models, alpha=2, length=x.size)
>>> additivity_error(parts, x) < 1e-10
True
"""
from __future__ import annotations

import numbers

import numpy as np

from .spectrogram import HOP_LENGTH, N_FFT, istft

__all__ = ["alpha_masks", "wiener", "resynthesize", "additivity_error"]


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) \
            or alpha <= 0:
        raise ValueError(f"alpha must be a finite number > 0 (1 = magnitude ratio, 2 = Wiener), "
                         f"got {alpha!r}")
    return float(alpha)


def alpha_masks(models, alpha: float = 2.0):
    r"""Soft masks :math:`M_r = \Lambda_r^\alpha / \sum_j \Lambda_j^\alpha` (they sum to 1).

    Parameters
    ----------
    models : dict label → ndarray (K, N)
        Nonnegative model spectrograms :math:`\Lambda_r`.
    alpha : float
        > 0; 1 = magnitude ratio, 2 = Wiener filter.

    Returns
    -------
    dict label → ndarray (K, N)

    Examples
    --------
    >>> m = alpha_masks({"a": np.array([[3.0]]), "b": np.array([[1.0]])}, alpha=2)
    >>> round(float(m["a"][0, 0]), 3), round(float(m["b"][0, 0]), 3)
    (0.9, 0.1)
    """
    from .separation import masks

    return masks(models, exponent=_check_alpha(alpha))


def wiener(X, models, alpha: float = 2.0, length: int | None = None, n_fft: int = N_FFT,
           hop_length: int = HOP_LENGTH):
    """Masked parts ``istft(M_r ⊙ X)``: dict label → signal; they add up to ``istft(X)``.

    Parameters
    ----------
    X : ndarray, complex (K, N)
        The mixture's STFT.
    models : dict label → ndarray (K, N)
    alpha : float
        Mask exponent (> 0).
    length : int, optional
        Samples of the output signals.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a complex STFT of shape (K, N), got shape {X.shape}")
    M = alpha_masks(models, alpha)
    return {r: istft(M[r] * X, length=length, n_fft=n_fft, hop_length=hop_length) for r in M}


def resynthesize(models, X=None, length: int | None = None, method: str = "mixture_phase",
                 n_iter: int = 32, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, seed=0):
    r"""Turn each model spectrogram :math:`\Lambda_r` itself into sound.

    Parameters
    ----------
    models : dict label → ndarray (K, N)
    X : ndarray, complex (K, N), optional
        The mixture's STFT; its phase is used by ``method="mixture_phase"``.
    length : int, optional
    method : {"mixture_phase", "griffin_lim"}
        ``mixture_phase``: :math:`\Lambda_r e^{i\angle X}`, one inverse STFT per part.
        ``griffin_lim``: :func:`librosa.griffinlim` with ``n_iter`` iterations, each one
        inverse and one forward STFT per part — about ``2 · n_iter`` times the cost of
        ``mixture_phase`` (measured in notebook 09).
    n_iter : int
        Griffin–Lim iterations.
    seed : int
        Seed of Griffin–Lim's random initial phase (deterministic output).

    Returns
    -------
    dict label → ndarray

    Examples
    --------
    >>> from nmfedu.spectrogram import stft
    >>> x = np.random.default_rng(0).standard_normal(4096); X = stft(x)
    >>> y = resynthesize({"all": np.abs(X)}, X, length=x.size)["all"]
    >>> bool(np.allclose(y, x))
    True
    """
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict label -> model spectrogram")
    if method == "mixture_phase":
        if X is None:
            raise ValueError("X (the mixture's STFT) is needed for method='mixture_phase'")
        phase = np.exp(1j * np.angle(np.asarray(X)))
        return {r: istft(np.asarray(L, dtype=float) * phase, length=length, n_fft=n_fft,
                         hop_length=hop_length) for r, L in models.items()}
    if method == "griffin_lim":
        import librosa

        if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
            raise ValueError(f"n_iter must be an integer >= 1, got {n_iter!r}")
        return {r: librosa.griffinlim(np.asarray(L, dtype=float), n_iter=int(n_iter),
                                      hop_length=hop_length, n_fft=n_fft, length=length,
                                      init="random", random_state=seed)
                for r, L in models.items()}
    raise ValueError(f"method must be 'mixture_phase' or 'griffin_lim', got {method!r}")


def additivity_error(parts, x) -> float:
    """``max |Σ_r parts[r] − x| / max |x|``: 0 when the parts add back to the mixture.

    Examples
    --------
    >>> additivity_error({"a": np.array([1.0, 2.0]), "b": np.array([0.0, 1.0])}, np.array([1.0, 3.0]))
    0.0
    """
    x = np.asarray(x, dtype=float)
    total = sum(np.asarray(p, dtype=float) for p in parts.values())
    if np.shape(total) != x.shape:
        raise ValueError(f"parts must have the shape of x {x.shape}, got {np.shape(total)}")
    scale = np.max(np.abs(x))
    return float(np.max(np.abs(total - x)) / (scale if scale > 0 else 1.0))
