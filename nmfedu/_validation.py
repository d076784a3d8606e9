"""Shared input checks for the nmfedu math modules.

Every check raises :class:`ValueError` whose message names the parameter and
says what was expected, so a notebook reader sees at once what to fix. Other
modules (``constraints``, ``separation``, ``nae``) may import these helpers.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_dtype",
    "check_nonnegative_matrix",
    "check_rank",
    "check_factor",
    "check_n_iter",
    "check_tol",
    "check_positive_int",
]

_DTYPES = (np.float32, np.float64)


def check_dtype(dtype, name="dtype"):
    """Return ``np.float64`` for ``None``, else the float dtype asked for.

    Only ``float32`` and ``float64`` are accepted (as type, string or
    ``np.dtype``).
    """
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.type not in _DTYPES:
        raise ValueError(f"{name} must be None, float32 or float64, got {dtype!r}")
    return dt


def _as_array(X, name):
    try:
        A = np.asarray(X)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name} must be a 2-D array of numbers: {exc}") from None
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise ValueError(f"{name} must be a 2-D array of real numbers, got dtype {A.dtype}")
    if np.iscomplexobj(A):
        raise ValueError(f"{name} must be real (e.g. a magnitude spectrogram), got a complex array")
    return A


def check_nonnegative_matrix(X, name="V", dtype=np.float64, allow_empty=False):
    """Check that ``X`` is a finite, nonnegative, nonempty 2-D array.

    Returns a C-contiguous array of ``dtype`` (a copy only if needed).
    """
    A = _as_array(X, name)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (K x N), got {A.ndim} dimension(s) with shape {A.shape}")
    if A.size == 0 and not allow_empty:
        raise ValueError(f"{name} must be nonempty, got shape {A.shape}")
    A = np.ascontiguousarray(A, dtype=dtype)
    if A.size:
        if not np.isfinite(A).all():
            bad = "NaN" if np.isnan(A).any() else "inf"
            raise ValueError(f"{name} must contain only finite values, found {bad}")
        m = A.min()
        if m < 0:
            raise ValueError(f"{name} must be nonnegative, found a minimum of {m:g}")
    return A


def check_rank(R, name="R"):
    """Check that ``R`` is an integer >= 1 and return it as ``int``."""
    if isinstance(R, bool) or not isinstance(R, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {R!r}")
    if R < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {R}")
    return int(R)


def check_positive_int(n, name, minimum=1):
    """Check that ``n`` is an integer >= ``minimum`` and return it as ``int``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def check_n_iter(n_iter, name="n_iter"):
    """Check that ``n_iter`` is an integer >= 0."""
    return check_positive_int(n_iter, name, minimum=0)


def check_tol(tol, name="tol"):
    """Check that ``tol`` is a finite real number >= 0 and return it as ``float``."""
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {tol!r}")
    return float(tol)


def check_factor(X, shape, name, dtype=np.float64):
    """Check an initial factor: finite, nonnegative, exactly ``shape``.

    Returns a fresh C-contiguous copy of ``dtype`` (the caller's array is never
    modified by the in-place updates).
    """
    A = _as_array(X, name)
    if A.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {A.shape}")
    A = np.array(A, dtype=dtype, order="C", copy=True)
    if A.size:
        if not np.isfinite(A).all():
            raise ValueError(f"{name} must contain only finite values")
        m = A.min()
        if m < 0:
            raise ValueError(f"{name} must be nonnegative, found a minimum of {m:g}")
    return A
