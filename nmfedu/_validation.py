"""The input checks of nmfedu, in one place and one message style.

Every check raises :class:`ValueError` with a one-line message in the style of
scikit-learn: it names the parameter, says what was expected and shows what it
got, e.g. ``R must be an integer >= 1, got 0`` or ``beta must be 'frobenius' or
'kl', got 'itakura'``. Arrays are described, not printed: ``V must be
nonnegative, got a minimum of -1``.

The note-table contract is not here but in :func:`nmfedu.score.validate`
(the one note-table validator; :func:`nmfedu.constraints.check_notes` calls it).

Notebooks: none directly (every math module calls these checks: factorization,
nae, constraints, separation, spectrogram).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_dtype",
    "check_matrix",
    "check_signal",
    "check_rank",
    "check_positive_int",
    "check_n_iter",
    "check_number",
    "check_tol",
    "check_choice",
    "check_callback",
    "check_rng",
]

_DTYPES = (np.float32, np.float64)


def check_dtype(dtype, name="dtype"):
    """Return ``np.float64`` for ``None``, else the float dtype asked for.

    Only ``float32`` and ``float64`` are accepted (as type, string or ``np.dtype``).

    Examples
    --------
    >>> check_dtype("float32")
    dtype('float32')
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
    if X is None:
        raise ValueError(f"{name} must be a 2-D array, got None")
    try:
        A = np.asarray(X)
    except Exception:  # pragma: no cover - exotic inputs (ragged lists)
        raise ValueError(f"{name} must be a 2-D array of numbers, got {type(X).__name__}") from None
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise ValueError(f"{name} must be a 2-D array of real numbers, got dtype {A.dtype}")
    if np.iscomplexobj(A):
        raise ValueError(f"{name} must be real (e.g. a magnitude spectrogram), got a complex array")
    return A


def check_matrix(X, name="V", *, dtype=np.float64, shape=None, nonnegative=True,
                 allow_empty=False, copy=False, what="K x N"):
    """Check that ``X`` is a finite (nonnegative) 2-D array and return it as ``dtype``.

    Parameters
    ----------
    X : array_like
    name : str
        The parameter's name, used in the messages.
    dtype : numpy dtype
        Dtype of the returned C-contiguous array.
    shape : tuple of int, optional
        The exact shape expected.
    nonnegative : bool
        Reject negative entries.
    allow_empty : bool
        Accept an array with no entries.
    copy : bool
        Always return a fresh copy (for arrays the caller updates in place).
    what : str
        The dimensions' names in the "must be a 2-D array" message.

    Examples
    --------
    >>> check_matrix([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> check_matrix([[1, -2]])
    Traceback (most recent call last):
    ...
    ValueError: V must be nonnegative, got a minimum of -2
    """
    A = _as_array(X, name)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array ({what}), got {A.ndim} dimension(s) "
                         f"with shape {A.shape}")
    if shape is not None and A.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {A.shape}")
    if A.size == 0 and not allow_empty:
        raise ValueError(f"{name} must be nonempty, got shape {A.shape}")
    A = np.array(A, dtype=dtype, order="C", copy=True) if copy else \
        np.ascontiguousarray(A, dtype=dtype)
    if A.size:
        if not np.isfinite(A).all():
            bad = "NaN" if np.isnan(A).any() else "inf"
            raise ValueError(f"{name} must contain only finite values, got {bad}")
        if nonnegative:
            m = A.min()
            if m < 0:
                raise ValueError(f"{name} must be nonnegative, got a minimum of {m:g}")
    return A


def check_signal(x, name="x", dtype=None):
    """Check that ``x`` is a nonempty, finite mono signal (1-D array of real numbers).

    Returns it as an array (of ``dtype``, or its own float dtype when None;
    integer samples become float64).

    Examples
    --------
    >>> check_signal([0.0, 0.5]).tolist()
    [0.0, 0.5]
    >>> check_signal(np.zeros((2, 3)))
    Traceback (most recent call last):
    ...
    ValueError: x must be a mono signal (1-D array of numbers), got shape (2, 3)
    """
    x = np.asarray(x)
    if x.ndim != 1 or x.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be a mono signal (1-D array of numbers), got shape {x.shape}"
                         + ("" if x.dtype.kind in "fiu" else f" and dtype {x.dtype}"))
    if x.size == 0:
        raise ValueError(f"{name} must be a nonempty signal, got an empty array")
    if dtype is not None:
        x = x.astype(dtype, copy=False)
    elif x.dtype.kind != "f":
        x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        bad = "NaN" if np.isnan(x).any() else "inf"
        raise ValueError(f"{name} must contain only finite values, got {bad}")
    return x


def check_positive_int(n, name, minimum=1):
    """Check that ``n`` is an integer >= ``minimum`` (not a bool) and return it as ``int``.

    Examples
    --------
    >>> check_positive_int(3, "K")
    3
    >>> check_positive_int(0, "K")
    Traceback (most recent call last):
    ...
    ValueError: K must be an integer >= 1, got 0
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def check_rank(R, name="R"):
    """Check that the rank ``R`` is an integer >= 1 and return it as ``int``."""
    return check_positive_int(R, name, minimum=1)


def check_n_iter(n_iter, name="n_iter"):
    """Check that ``n_iter`` (or ``n_epochs``) is an integer >= 0."""
    return check_positive_int(n_iter, name, minimum=0)


def check_number(value, name, allow_zero=False):
    """Check that ``value`` is a finite real number > 0 (>= 0 with ``allow_zero``).

    Returns it as ``float``. Strings and bools are rejected.

    Examples
    --------
    >>> check_number(0.5, "tolerance")
    0.5
    >>> check_number(-1, "tolerance")
    Traceback (most recent call last):
    ...
    ValueError: tolerance must be a finite number > 0, got -1
    """
    expected = ">= 0" if allow_zero else "> 0"
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise ValueError(f"{name} must be a finite number {expected}, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number {expected}, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be a finite number {expected}, got {value!r}")
    return v


def check_tol(tol, name="tol"):
    """Check that ``tol`` is a finite number >= 0 and return it as ``float``."""
    return check_number(tol, name, allow_zero=True)


def _choices(options):
    quoted = [repr(o) for o in options]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_choice(value, name, options):
    """Check that ``value`` is one of ``options`` and return it.

    Examples
    --------
    >>> check_choice("kl", "beta", ("frobenius", "kl"))
    'kl'
    >>> check_choice("itakura", "beta", ("frobenius", "kl"))
    Traceback (most recent call last):
    ...
    ValueError: beta must be 'frobenius' or 'kl', got 'itakura'
    """
    try:
        ok = value in options
    except TypeError:  # unhashable value and a set of options
        ok = False
    if not ok:
        raise ValueError(f"{name} must be {_choices(options)}, got {value!r}")
    return value


def check_callback(callback, name="callback"):
    """Check that ``callback`` is callable or None and return it."""
    if callback is not None and not callable(callback):
        raise ValueError(f"{name} must be callable or None, got {callback!r}")
    return callback


def check_rng(seed, name="seed"):
    """A :class:`numpy.random.Generator` from ``seed`` (None, an int or a Generator).

    Examples
    --------
    >>> float(check_rng(0).random()) == float(np.random.default_rng(0).random())
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, (bool, np.bool_))
                             or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"{name} must be None, an int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed)
