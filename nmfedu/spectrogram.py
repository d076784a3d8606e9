"""STFT conventions of the nmfedu series, in one place.

Every notebook and every algorithm in nmfedu uses these functions, so that a
spectrogram, its frequency axis, its time axis and the inverse transform agree.
Conventions (as in the FMP notebooks): a Hann window, ``n_fft = 2048`` and
``hop_length = 512`` at 22050 Hz (93 ms window, 23 ms hop), centred frames, so
frame ``n`` is centred at ``n * hop_length / sr`` seconds; ``K = n_fft // 2 + 1``
frequency bins with bin ``k`` at ``k * sr / n_fft`` Hz.

Used by: all notebooks (01–08), :mod:`nmfedu.separation`, :mod:`nmfedu.constraints`.
"""
from __future__ import annotations

import numpy as np

SR = 22050
N_FFT = 2048
HOP_LENGTH = 512
WINDOW = "hann"


def _check_signal(x, name="x"):
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"{name} must be a mono signal (1-D array), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def stft(x, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, window: str = WINDOW):
    """Complex STFT ``X`` of shape ``(K, N)`` with ``K = n_fft // 2 + 1``.

    Parameters
    ----------
    x : ndarray, shape (L,)
        Mono signal.
    n_fft, hop_length : int
        Window length and hop size in samples.
    window : str
        Window type understood by :func:`librosa.stft`.

    Returns
    -------
    X : ndarray of complex, shape (K, N)

    Examples
    --------
    >>> import numpy as np
    >>> X = stft(np.zeros(22050))
    >>> X.shape
    (1025, 44)
    """
    import librosa

    x = _check_signal(x)
    return librosa.stft(x, n_fft=n_fft, hop_length=hop_length, window=window, center=True)


def istft(X, length: int | None = None, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH,
          window: str = WINDOW):
    """Inverse of :func:`stft` (weighted overlap-add); ``length`` trims or pads the result."""
    import librosa

    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != n_fft // 2 + 1:
        raise ValueError(f"X must have shape ({n_fft // 2 + 1}, N) for n_fft={n_fft}, got {X.shape}")
    return librosa.istft(X, n_fft=n_fft, hop_length=hop_length, window=window, center=True,
                         length=length)


def magnitude(x, n_fft: int = N_FFT, hop_length: int = HOP_LENGTH, window: str = WINDOW):
    """Magnitude spectrogram ``V = |X|`` (the ``V`` of the seeds), shape ``(K, N)``."""
    return np.abs(stft(x, n_fft=n_fft, hop_length=hop_length, window=window))


def log_compress(V, gamma: float = 1.0):
    """Logarithmic compression ``log(1 + gamma * V)`` (used in figures, and in notebook 04 to
    show what compression does to a separation)."""
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    return np.log1p(gamma * np.asarray(V))


def frequencies(sr: float = SR, n_fft: int = N_FFT):
    """Centre frequency in Hz of every bin ``k = 0 … K-1``."""
    return np.arange(n_fft // 2 + 1) * sr / n_fft


def times(N: int, sr: float = SR, hop_length: int = HOP_LENGTH):
    """Centre time in seconds of every frame ``n = 0 … N-1``."""
    return np.arange(N) * hop_length / sr


def frame_of(t, sr: float = SR, hop_length: int = HOP_LENGTH):
    """Index of the frame whose centre is nearest to time ``t`` (seconds); works on arrays."""
    return np.rint(np.asarray(t) * sr / hop_length).astype(int)


def pitch_to_hz(p):
    """Centre frequency of MIDI pitch ``p`` (A4 = pitch 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(p, dtype=float) - 69.0) / 12.0)
