"""Figures of the nmfedu series in one consistent, FMP-like look.

Every helper draws on a given ``ax`` (or ``fig``) or creates a new figure, labels
every axis with its unit, adds a colour bar where colours carry values, and
returns the figure, the axes and the artists, so that a notebook (or an
interactive figure from :mod:`nmfedu.widgets`) can update them in place
(:func:`update_image`, :func:`update_lines`). No helper calls ``plt.show()``.

Conventions
-----------
* magnitudes, templates, activations and masks use the colour map
  :data:`CMAP` (``'gray_r'``: white = 0, black = large), signed matrices (e.g. a
  gradient) use :data:`SIGNED_CMAP` with limits symmetric around 0;
* time in seconds, frequency in Hz, pitch as ``'G3 (55)'`` (note name and MIDI
  number), indices as ``(index)``; the STFT conventions of
  :mod:`nmfedu.spectrogram` place frame ``n`` at ``n * hop_length / sr`` s and
  bin ``k`` at ``k * sr / n_fft`` Hz;
* fonts and sizes of :data:`STYLE` (readable on a projector and a laptop);
  :func:`set_style` makes them the notebook's defaults.

Matrix kinds of :func:`plot_matrix`
-----------------------------------
=========  ==================================  ==================================
kind       x axis                              y axis
=========  ==================================  ==================================
``'V'``    time (s)                            frequency (Hz)
``'WH'``   time (s)                            frequency (Hz)
``'mask'`` time (s)                            frequency (Hz); colours fixed to [0, 1]
``'W'``    template (pitch labels or index)    frequency (Hz)
``'H'``    time (s)                            template (pitch labels or index)
``'matrix'`` column (index)                    row (index)
=========  ==================================  ==================================

With ``sr=None`` the time and frequency axes of ``'V'``, ``'WH'``, ``'mask'``,
``'W'`` and ``'H'`` become frame and bin indices (the toy examples).

Used by: notebooks 01–08 (every figure), :mod:`nmfedu.widgets`.
"""
from __future__ import annotations

import functools

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ._validation import check_number
from .spectrogram import HOP_LENGTH, N_FFT, SR, log_compress

__all__ = [
    "figure", "CMAP", "SIGNED_CMAP", "GROUP_COLORS", "STYLE", "FIGSIZE", "DECOMPOSITION_FIGSIZE",
    "set_style", "note_name", "pitch_label", "template_labels", "group_colors",
    "plot_matrix", "update_image", "plot_matrices", "plot_decomposition",
    "plot_loss", "update_lines", "plot_piano_roll", "plot_score_and_spectrogram",
    "plot_score_and_activations", "template_groups", "plot_signal", "plot_signals",
]

#: Colour map for nonnegative matrices (white = 0).
CMAP = "gray_r"
#: Colour map for signed matrices (blue < 0 < red), limits symmetric around 0.
SIGNED_CMAP = "RdBu_r"
#: Colours of note groups (hands, instruments) and of loss curves, in order.
GROUP_COLORS = ["#1f5fa8", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#e8a200", "#0b7285",
                "#5c5f66"]
#: Fonts and lines of every nmfedu figure.
STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "axes.titleweight": "normal",
    "lines.linewidth": 1.5,
    "image.interpolation": "nearest",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}
#: Default size (inches) of a figure with one panel.
FIGSIZE = (8.0, 3.2)
#: Default size (inches) of :func:`plot_decomposition`.
DECOMPOSITION_FIGSIZE = (10.0, 5.6)

_NOTE_NAMES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]
_MAX_TICK_LABELS = 24
_SPECTRAL_KINDS = ("V", "WH", "mask")
_KINDS = _SPECTRAL_KINDS + ("W", "H", "matrix")


def set_style():
    """Make :data:`STYLE` the default of the running notebook (call once in the set-up cell).

    The helpers apply :data:`STYLE` to their own figures anyway; this only matters for
    figures a notebook draws with plain matplotlib.
    """
    mpl.rcParams.update(STYLE)


def _styled(func):
    """Run a plotting helper with :data:`STYLE` as the matplotlib defaults."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(STYLE):
            return func(*args, **kwargs)
    return wrapper


def _new_figure(figsize, fig=None):
    """A figure with constrained layout: ``fig`` if given, else a new pyplot figure."""
    if fig is not None:
        return fig
    return plt.figure(figsize=figsize, layout="constrained")


# --------------------------------------------------------------------------- pitch names
def note_name(pitch) -> str:
    """Name of MIDI pitch ``pitch`` with octave number, e.g. ``note_name(55) == 'G3'``
    (60 = C4, 69 = A4)."""
    p = int(round(float(pitch)))
    if not 0 <= p <= 127:
        raise ValueError(f"pitch must be a MIDI pitch in 0..127, got {pitch!r}")
    return f"{_NOTE_NAMES[p % 12]}{p // 12 - 1}"


def pitch_label(pitch) -> str:
    """Axis label of a pitch template, e.g. ``pitch_label(55) == 'G3 (55)'``."""
    return f"{note_name(pitch)} ({int(round(float(pitch)))})"


def template_labels(labels) -> list[str]:
    """Tick labels for the templates of ``W`` / rows of ``H``.

    Parameters
    ----------
    labels : sequence of int or str, or pandas.DataFrame
        MIDI pitches (→ ``'G3 (55)'``), ready-made strings, or the labels table of
        :mod:`nmfedu.constraints` / :func:`nmfedu.separate` (columns ``pitch``, ``kind``,
        optional ``group``): onset templates become ``'G3 on'``, columns without a pitch
        (e.g. the attack columns of :func:`nmfedu.separate`) ``'<group> <kind>'``.

    Returns
    -------
    list of str
    """
    if hasattr(labels, "columns"):  # DataFrame of nmfedu.constraints
        if "pitch" not in labels.columns:
            raise ValueError("labels table must have a 'pitch' column")
        kinds = labels["kind"] if "kind" in labels.columns else ["pitch"] * len(labels)
        groups = labels["group"] if "group" in labels.columns else [""] * len(labels)
        out = []
        for p, kind, group in zip(labels["pitch"], kinds, groups):
            if kind == "onset":
                out.append(f"{note_name(p)} on")
            elif kind == "pitch":
                out.append(pitch_label(p))
            else:  # a column without a pitch, e.g. a hand's broadband attack column
                out.append(f"{group} {kind}".strip())
        return out
    out = []
    for item in labels:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, (int, np.integer)) or (isinstance(item, (float, np.floating))
                                                     and float(item).is_integer()):
            out.append(pitch_label(item))
        else:
            out.append(str(item))
    return out


def group_colors(groups) -> dict:
    """Colour of each group (first-seen order) from :data:`GROUP_COLORS`."""
    groups = list(dict.fromkeys(groups))
    return {g: GROUP_COLORS[i % len(GROUP_COLORS)] for i, g in enumerate(groups)}


# --------------------------------------------------------------------------- matrices
def _edges(n, step, offset=0.0):
    """Extent (first edge, last edge) of ``n`` cells centred at ``offset + i * step``."""
    return offset - step / 2, offset + (n - 0.5) * step


def _axis_spec(kind, shape, sr, hop_length, n_fft, labels):
    """Extent, axis labels and tick labels of a matrix of ``kind`` and ``shape``."""
    rows, cols = shape
    physical = sr is not None
    dt = hop_length / sr if physical else 1.0
    df = sr / n_fft if physical else 1.0
    time_label = "Time (s)" if physical else "Time frame n (index)"
    freq_label = "Frequency (Hz)" if physical else "Frequency bin k (index)"
    ticks = None
    if kind in _SPECTRAL_KINDS:
        extent = (*_edges(cols, dt), *_edges(rows, df))
        xlabel, ylabel = time_label, freq_label
    elif kind == "W":
        extent = (-0.5, cols - 0.5, *_edges(rows, df))
        xlabel, ylabel = ("Template (pitch)" if labels is not None else "Template r (index)"), freq_label
        ticks = ("x", cols)
    elif kind == "H":
        extent = (*_edges(cols, dt), -0.5, rows - 0.5)
        xlabel, ylabel = time_label, ("Template (pitch)" if labels is not None else "Template r (index)")
        ticks = ("y", rows)
    else:  # generic matrix: row 0 at the top, like a printed matrix
        extent = (-0.5, cols - 0.5, rows - 0.5, -0.5)
        xlabel, ylabel = "Column (index)", "Row (index)"
        ticks = ("xy", (rows, cols)) if max(rows, cols) <= _MAX_TICK_LABELS else None
    return dict(extent=extent, xlabel=xlabel, ylabel=ylabel, ticks=ticks)


def _label_capacity(ax, which, size=None):
    """How many tick labels of ``size`` points (default: the tick label size) fit along the x or
    y axis of ``ax`` without overlapping (one label per 1.2 font heights of the axis length)."""
    from matplotlib.font_manager import FontProperties

    box = ax.get_position()
    width, height = ax.figure.get_size_inches()
    length_pt = 72.0 * (box.width * width if which == "x" else box.height * height)
    if size is None:
        size = FontProperties(size=mpl.rcParams[f"{which}tick.labelsize"]).get_size_in_points()
    return max(2, int(length_pt // (1.2 * size)))


#: Smallest font (points) of template tick labels: below it, labels are thinned instead.
_MIN_LABEL_SIZE = 8.0
#: Colour of the dividers between groups of templates (hands, pitch / onset templates).
DIVIDER_COLOR = "#d9480f"


def template_groups(labels) -> list[tuple[int, int, str]]:
    """Runs of consecutive templates that belong to one group, for dividers in W / H figures.

    Parameters
    ----------
    labels : DataFrame or sequence
        The labels table of :mod:`nmfedu.constraints` / :func:`nmfedu.separate` (columns
        ``group`` and ``kind``); other labels have no groups.

    Returns
    -------
    list of (start, stop, name)
        One entry per run of equal (group, kind), ``labels[start:stop]``; empty if all
        templates are in one group. The name is the group (e.g. ``'left'``), the kind
        (``'onset'``) or both, whichever differs between the runs.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"pitch": [40, 45, 60, 64], "kind": ["pitch"] * 4,
    ...                   "group": ["left", "left", "right", "right"]})
    >>> template_groups(t)
    [(0, 2, 'left'), (2, 4, 'right')]
    """
    if not hasattr(labels, "columns") or len(labels) == 0:
        return []
    n = len(labels)
    group = list(labels["group"]) if "group" in labels.columns else [""] * n
    kind = list(labels["kind"]) if "kind" in labels.columns else [""] * n
    use_group, use_kind = len(set(group)) > 1, len(set(kind)) > 1
    if not (use_group or use_kind):
        return []
    names = [" ".join(str(part) for part, use in ((g, use_group), (k, use_kind)) if use)
             for g, k in zip(group, kind)]
    runs, start = [], 0
    for i in range(1, n + 1):
        if i == n or names[i] != names[start]:
            runs.append((start, i, names[start]))
            start = i
    return runs


def _thinned(n, runs, capacity):
    """Indices of the labelled templates: all if they fit, else every ``step``-th one within
    each group, starting at its first."""
    if n <= capacity:
        return list(range(n))
    runs = runs or [(0, n, "")]
    step = int(np.ceil(n / max(capacity, 1)))
    pos = []
    for i, (a, b, _) in enumerate(runs):
        last = i == len(runs) - 1  # elsewhere keep a full step to the next group's first label
        pos.extend(p for p in range(a, b, step) if last or b - p >= step)
    return pos


def _set_ticks(ax, spec, labels, meta=None):
    """Template ticks: one (minor) tick per template, labels on all of them if they fit at a
    readable size (at least :data:`_MIN_LABEL_SIZE` points), else thinned within each group;
    dividers and group names between groups of a labels table (:func:`template_groups`)."""
    if spec["ticks"] is None:
        return
    which, n = spec["ticks"]
    if which == "xy":
        rows, cols = n
        ax.set_xticks(np.arange(cols))
        ax.set_yticks(np.arange(rows))
        return
    text = template_labels(labels) if labels is not None else [str(i) for i in range(n)]
    if len(text) != n:
        raise ValueError(f"labels must have one entry per template ({n}), got {len(text)}")
    runs = template_groups(labels) if labels is not None else []
    if runs:  # the group is shown once, by the group name: strip it from the row labels
        text = [t[len(name) + 1:] if t.startswith(name + " ") else t
                for t, (a, b, name) in ((text[i], next(r for r in runs if r[0] <= i < r[1]))
                                        for i in range(n))]
    size = mpl.rcParams[f"{which}tick.labelsize"]
    from matplotlib.font_manager import FontProperties
    size = FontProperties(size=size).get_size_in_points()
    capacity = min(_MAX_TICK_LABELS if labels is None else n, _label_capacity(ax, which, size))
    if n > capacity and labels is not None:  # try a smaller, still readable font first
        size = max(_MIN_LABEL_SIZE, size * capacity / n)
        capacity = _label_capacity(ax, which, size)
    pos = _thinned(n, runs, capacity)
    shown = [text[i] for i in pos]
    axis = ax.xaxis if which == "x" else ax.yaxis
    if which == "x":
        ax.set_xticks(pos, shown, rotation=90 if labels is not None else 0, fontsize=size)
    else:
        ax.set_yticks(pos, shown, fontsize=size)
    axis.set_ticks(np.arange(n) if len(pos) < n else [], minor=True)
    # dividers and group names (redrawn when the shape changes)
    meta = meta if meta is not None else {}
    for artist in meta.pop("dividers", []):
        artist.remove()
    artists = []
    if runs:
        line = ax.axvline if which == "x" else ax.axhline
        for a, _, _ in runs[1:]:
            artists.append(line(a - 0.5, color=DIVIDER_COLOR, linewidth=1.5))
        # group names on the far side, as large as the group's span allows (none if < 7 pt)
        box = ax.get_position()
        w_in, h_in = ax.figure.get_size_inches()
        length_pt = 72.0 * (box.width * w_in if which == "x" else box.height * h_in)
        size = float(mpl.rcParams["axes.labelsize"]) if not isinstance(
            mpl.rcParams["axes.labelsize"], str) else 11.0
        fit = min([length_pt * (b - a) / n / (0.62 * len(name) + 1) for a, b, name in runs] + [size])
        if fit >= 7:
            centres = [(a + b - 1) / 2 for a, b, _ in runs]
            names = [name for _, _, name in runs]
            if which == "x":
                sec = ax.secondary_xaxis("top")
                sec.set_xticks(centres, names)
            else:
                sec = ax.secondary_yaxis("right")
                sec.set_yticks(centres, names, rotation=90, va="center")
            sec.tick_params(length=0, labelcolor=DIVIDER_COLOR, labelsize=fit)
            artists.append(sec)
    meta["dividers"] = artists


def _relabel(fig):
    """Lay ``fig`` out once, then recompute the template ticks of its W / H images for the
    final axes sizes (how many labels fit depends on them)."""
    engine = fig.get_layout_engine()
    if engine is not None:
        try:
            engine.execute(fig)
        except Exception:  # no renderer available: keep the first estimate
            return
    for ax in fig.axes:
        for im in ax.images:
            meta = getattr(im, "_nmfedu", None)
            if meta is not None and meta["kind"] in ("W", "H"):
                spec = _axis_spec(meta["kind"], im.get_array().shape, meta["sr"], meta["hop_length"],
                                  meta["n_fft"], meta["labels"])
                _set_ticks(ax, spec, meta["labels"], meta)


def _display_values(X, meta):
    """The values shown for ``X`` (log compression if the plot asked for it)."""
    X = np.asarray(X, dtype=float)
    if meta["log"]:
        X = log_compress(np.maximum(X, 0), meta["log_factor"])
    return X


def _auto_clim(X, meta):
    """Colour limits: fixed if the plot was given ``clim`` (masks: [0, 1]), symmetric for
    signed matrices, else [0, max]."""
    if meta["clim"] is not None:
        return meta["clim"]
    finite = X[np.isfinite(X)]
    if finite.size == 0:
        return (0.0, 1.0)
    if meta["signed"] == "asymmetric":
        lo, hi = float(finite.min()), float(finite.max())
        scale = max(abs(lo), abs(hi)) or 1.0
        return (min(lo, -1e-6 * scale), max(hi, 1e-6 * scale))
    if meta["signed"]:
        m = float(np.max(np.abs(finite))) or 1.0
        return (-m, m)
    lo = min(0.0, float(finite.min()))
    hi = float(finite.max())
    return (lo, hi if hi > lo else lo + 1.0)


def _annotate(ax, X, meta):
    """Write each value into its cell (small toy matrices), white on dark cells."""
    for t in meta.get("texts", []):
        t.remove()
    norm = meta["im"].norm
    cmap = meta["im"].get_cmap()
    texts = []
    for (i, j), v in np.ndenumerate(X):
        r, g, b, _ = cmap(norm(v))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
        texts.append(ax.text(j, i, meta["fmt"].format(v), ha="center", va="center",
                             color="white" if dark else "black",
                             fontsize=mpl.rcParams["xtick.labelsize"]))
    meta["texts"] = texts


@_styled
def plot_matrix(X, kind: str = "matrix", *, ax=None, cax=None, labels=None, sr: float | None = SR,
                hop_length: int = HOP_LENGTH, n_fft: int = N_FFT, log: bool = False,
                log_factor: float = 1.0, fmax: float | None = None, clim=None, cmap=None,
                colorbar: bool = True, cbar_label: str | None = None, title: str | None = None,
                xlabel: str | None = None, ylabel: str | None = None, annotate: bool = False,
                fmt: str = "{:.2g}", signed: bool | None = None, figsize=FIGSIZE):
    """Draw a matrix (spectrogram, templates, activations, mask, toy matrix) with labelled axes.

    Parameters
    ----------
    X : array_like, shape (rows, cols)
        The matrix: ``V`` / ``WH`` / a mask (K × N), ``W`` (K × R), ``H`` (R × N) or any matrix.
    kind : {'V', 'WH', 'mask', 'W', 'H', 'matrix'}
        Which axes to draw (see the module docstring).
    ax : matplotlib Axes, optional
        Where to draw; a new figure is created if omitted.
    cax : matplotlib Axes, optional
        Axes for the colour bar (default: space taken from ``ax``).
    labels : sequence or DataFrame, optional
        Template labels for ``'W'`` / ``'H'`` (MIDI pitches, strings or the labels table of
        :mod:`nmfedu.constraints`; see :func:`template_labels`).
    sr, hop_length, n_fft : number
        STFT parameters giving the time (s) and frequency (Hz) axes; ``sr=None`` for index axes.
    log : bool
        Show ``log(1 + log_factor * X)`` instead of ``X`` (FMP's logarithmic compression).
    log_factor : float
        Compression factor for ``log=True``.
    fmax : float, optional
        Upper frequency limit in Hz (kinds with a frequency axis).
    clim : (float, float), optional
        Colour limits; default [0, max] (masks: [0, 1]; signed matrices: symmetric).
    cmap : str, optional
        Colour map; default :data:`CMAP`, or :data:`SIGNED_CMAP` for a ``'matrix'`` with
        negative entries.
    colorbar : bool
        Draw a colour bar.
    cbar_label, title, xlabel, ylabel : str, optional
        Override the default texts.
    annotate : bool
        Write each value into its cell (only sensible for small ``'matrix'`` plots).
    fmt : str
        Format of the annotations.
    signed : bool or 'asymmetric', optional
        Colour limits symmetric around 0 and :data:`SIGNED_CMAP` (also after
        :func:`update_image`); default: only for a ``'matrix'`` with negative entries.
        ``'asymmetric'``: the diverging map is centred on 0 but runs from the minimum to the
        maximum, with a different slope on each side, so that small negative values next to
        large positive ones stay visible (notebook 06's :math:`W^+V`).
    figsize : (float, float)
        Size of a new figure (inches).

    Returns
    -------
    fig : Figure
    ax : Axes
    im : AxesImage
        Pass it to :func:`update_image` to show a new matrix of the same kind.

    Notes
    -----
    Used by notebooks 01–08 (every matrix figure) and by :func:`plot_decomposition`.

    Examples
    --------
    >>> import numpy as np
    >>> fig, ax, im = plot_matrix(np.random.rand(1025, 40), 'V', fmax=2000, log=True)
    >>> ax.get_ylabel()
    'Frequency (Hz)'
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))}, got {kind!r}")
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D matrix, got shape {X.shape}")
    check_number(log_factor, "log_factor")
    if sr is not None and sr <= 0:
        raise ValueError(f"sr must be > 0 or None, got {sr}")
    own_figure = ax is None
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    if labels is not None and kind not in ("W", "H"):
        raise ValueError(f"labels are only used for kind 'W' or 'H', not {kind!r}")
    if signed is None:
        signed = bool(kind == "matrix" and np.nanmin(X) < 0) if X.size else False
    if kind == "mask" and clim is None:
        clim = (0.0, 1.0)
    if signed not in (True, False, "asymmetric"):
        raise ValueError(f"signed must be True, False or 'asymmetric', got {signed!r}")
    meta = dict(kind=kind, log=log, log_factor=log_factor, clim=tuple(clim) if clim is not None else None,
                signed="asymmetric" if signed == "asymmetric" else bool(signed), sr=sr,
                hop_length=hop_length, n_fft=n_fft, labels=labels,
                fmax=fmax, annotate=annotate, fmt=fmt)
    shown = _display_values(X, meta)
    spec = _axis_spec(kind, X.shape, sr, hop_length, n_fft, labels)
    im = ax.imshow(shown, cmap=cmap or (SIGNED_CMAP if signed else CMAP), aspect="auto",
                   origin="upper" if kind == "matrix" else "lower", extent=spec["extent"],
                   interpolation="nearest")
    if meta["signed"] == "asymmetric":
        lo, hi = _auto_clim(shown, meta)
        im.set_norm(mpl.colors.TwoSlopeNorm(vcenter=0.0, vmin=lo, vmax=hi))
    else:
        im.set_clim(*_auto_clim(shown, meta))
    meta["im"] = im
    im._nmfedu = meta
    ax.set_xlabel(xlabel if xlabel is not None else spec["xlabel"])
    ax.set_ylabel(ylabel if ylabel is not None else spec["ylabel"])
    _set_ticks(ax, spec, labels, meta)
    if fmax is not None and kind in _SPECTRAL_KINDS + ("W",):
        ax.set_ylim(spec["extent"][2], fmax)
    if title:
        ax.set_title(title)
    if colorbar:
        default = {"mask": "Mask value", "matrix": "Value", "H": "Activation"}.get(kind, "Magnitude")
        if log:
            default = (f"log(1 + {log_factor:g}·{default.lower()})" if log_factor != 1
                       else f"log(1 + {default.lower()})")
        cbar = fig.colorbar(im, cax=cax, ax=None if cax is not None else ax, pad=0.02)
        cbar.set_label(cbar_label if cbar_label is not None else default)
        if meta["signed"] == "asymmetric":  # ticks on both sides of 0, the minimum included
            lo, hi = im.norm.vmin, im.norm.vmax
            pos = [t for t in mpl.ticker.MaxNLocator(4).tick_values(0, hi) if 0 < t <= hi]
            cbar.set_ticks([lo, 0.0] + pos, labels=[f"{lo:.2g}", "0"] + [f"{t:g}" for t in pos])
        meta["cbar"] = cbar
    if annotate:
        _annotate(ax, shown, meta)
    if own_figure and kind in ("W", "H"):
        _relabel(fig)
    return fig, ax, im


def update_image(im, X, clim=None):
    """Show a new matrix in an image made by :func:`plot_matrix`, in place.

    Applies the plot's compression and colour-limit rule, and adjusts extent and ticks if the
    shape changed (e.g. a new rank R). Used by the interactive figures of notebooks 01–08.

    Parameters
    ----------
    im : AxesImage
        The image returned by :func:`plot_matrix` (or in ``images`` of :func:`plot_decomposition`).
    X : array_like
        The new matrix.
    clim : (float, float), optional
        New colour limits (default: the plot's rule).

    Returns
    -------
    AxesImage
    """
    meta = getattr(im, "_nmfedu", None)
    if meta is None:
        raise ValueError("im must be an image returned by nmfedu.plot.plot_matrix")
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D matrix, got shape {X.shape}")
    shown = _display_values(X, meta)
    old_shape = im.get_array().shape
    im.set_data(shown)
    if shown.shape != old_shape:
        labels = meta["labels"]
        if labels is not None and len(template_labels(labels)) not in shown.shape:
            labels = meta["labels"] = None  # the labels no longer fit: fall back to indices
            for axis in (im.axes.xaxis, im.axes.yaxis):
                if axis.get_label_text() == "Template (pitch)":
                    axis.set_label_text("Template r (index)")
        spec = _axis_spec(meta["kind"], shown.shape, meta["sr"], meta["hop_length"],
                          meta["n_fft"], labels)
        im.set_extent(spec["extent"])
        _set_ticks(im.axes, spec, labels, meta)
        if meta["fmax"] is not None and meta["kind"] in _SPECTRAL_KINDS + ("W",):
            im.axes.set_ylim(spec["extent"][2], meta["fmax"])
    im.set_clim(*(clim if clim is not None else _auto_clim(shown, meta)))
    if meta["annotate"]:
        _annotate(im.axes, shown, meta)
    return im


@_styled
def plot_matrices(matrices: dict, kind: str = "V", *, ncols: int | None = None,
                  share_clim: bool = False, figsize=None, fig=None, **kwargs):
    """Several matrices of one kind side by side (e.g. left/right models, masks, estimates).

    Parameters
    ----------
    matrices : dict
        Title → matrix.
    kind : str
        Matrix kind (see :func:`plot_matrix`).
    ncols : int, optional
        Panels per row (default: all in one row).
    share_clim : bool
        Use the same colour limits for all panels (compare magnitudes).
    figsize : (float, float), optional
        Default: 4 inches wide and 3 high per panel.
    fig : Figure, optional
        Draw into this (empty) figure.
    **kwargs
        Passed to :func:`plot_matrix` (``fmax``, ``log``, ``labels``, ...).

    Returns
    -------
    fig : Figure
    axes : dict title → Axes
    images : dict title → AxesImage

    Notes
    -----
    Used by notebook 04 (model spectrograms, masks and estimates per hand) and 07.
    """
    if not matrices:
        raise ValueError("matrices must be a non-empty dict title -> matrix")
    n = len(matrices)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig = _new_figure(figsize or (4.0 * ncols, 3.0 * nrows), fig)
    axs = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    if share_clim and "clim" not in kwargs:
        meta = dict(log=kwargs.get("log", False), log_factor=kwargs.get("log_factor", 1.0))
        shown = [_display_values(M, meta) for M in matrices.values()]
        kwargs["clim"] = (min(0.0, min(float(np.nanmin(s)) for s in shown)),
                          max(float(np.nanmax(s)) for s in shown))
    axes, images = {}, {}
    for a, (name, M) in zip(axs, matrices.items()):
        _, axes[name], images[name] = plot_matrix(M, kind, ax=a, title=name, **kwargs)
    for a in axs[n:]:
        a.set_axis_off()
    if kind in ("W", "H"):
        _relabel(fig)
    return fig, axes, images


@_styled
def plot_decomposition(V, W, H, *, WH=None, labels=None, sr: float | None = SR,
                       hop_length: int = HOP_LENGTH, n_fft: int = N_FFT, fmax: float | None = None,
                       log: bool = False, log_factor: float = 1.0, titles: dict | None = None,
                       loss=None, loss_kwargs: dict | None = None,
                       height_ratios=(1.0, 2.0), figsize=DECOMPOSITION_FIGSIZE, fig=None):
    """NMF at a glance: templates W (left), activations H (top), V (bottom right).

    The layout of the seed lecture's figures: W's frequency axis is shared with V's and
    H's time axis with V's, so a template lines up with the spectral pattern it explains
    and an activation with the moment it sounds.

    Parameters
    ----------
    V : array_like, shape (K, N)
        Magnitude spectrogram (or a toy matrix with ``sr=None``).
    W : array_like, shape (K, R)
        Templates.
    H : array_like, shape (R, N)
        Activations.
    WH : bool or array_like, optional
        Also show the model ``W @ H`` (``True``: compute it; an array: show that) next to V.
    labels : sequence or DataFrame, optional
        Template labels (MIDI pitches, strings, or the labels table of
        :mod:`nmfedu.constraints`).
    sr, hop_length, n_fft : number
        STFT parameters (``sr=None``: index axes).
    fmax : float, optional
        Upper frequency limit (Hz) of W, V and WH.
    log, log_factor : bool, float
        Logarithmic compression of V, W and WH.
    titles : dict, optional
        Panel titles, keys ``'W'``, ``'H'``, ``'V'``, ``'WH'``, ``'loss'``; default the seeds'
        names (templates, activations, V, WH).
    loss : array_like or dict, optional
        Loss curve(s) for a small panel in the free corner (above WH, else above W); see
        :func:`plot_loss`.
    loss_kwargs : dict, optional
        Passed to :func:`plot_loss` (``log``, ``logx``, ``xlabel``, ...).
    height_ratios : (float, float)
        Heights of the activation row and the spectrogram row; give H more room when it has
        many rows (e.g. ``(1.2, 1.0)`` for 36 templates), so that every row gets its label.
    figsize : (float, float)
        Size of a new figure (inches).
    fig : Figure, optional
        Draw into this (empty) figure, e.g. the one of an interactive figure.

    Returns
    -------
    fig : Figure
    axes : dict with keys 'W', 'H', 'V' (and 'WH', 'loss') → Axes
    images : dict with the same keys → AxesImage (for :func:`update_image`); ``'loss'``
        holds the dict name → Line2D of the loss panel (for :func:`update_lines`)

    Notes
    -----
    Used by notebooks 01, 02, 03 (initialization and learnt factors), 06 and 07.
    """
    V, W, H = np.asarray(V), np.asarray(W), np.asarray(H)
    if V.ndim != 2 or W.ndim != 2 or H.ndim != 2:
        raise ValueError(f"V, W, H must be 2-D, got shapes {V.shape}, {W.shape}, {H.shape}")
    K, N = V.shape
    if W.shape[0] != K or H.shape[1] != N or W.shape[1] != H.shape[0]:
        raise ValueError(f"shapes do not fit V ≈ WH: V {V.shape}, W {W.shape}, H {H.shape} "
                         "(expected W K×R and H R×N)")
    if WH is True:
        WH = W @ H
    elif WH is False:
        WH = None
    titles = {"W": "Templates W", "H": "Activations H", "V": "Spectrogram V" if sr else "V",
              "WH": "Model WH", **(titles or {})}
    fig = _new_figure(figsize, fig)
    ncol = 4 if WH is None else 6
    widths = [1.0, 0.05, 2.6, 0.05] + ([2.6, 0.05] if WH is not None else [])
    gs = fig.add_gridspec(2, ncol, width_ratios=widths, height_ratios=list(height_ratios))
    common = dict(sr=sr, hop_length=hop_length, n_fft=n_fft)
    axes, images = {}, {}
    axV = fig.add_subplot(gs[1, 2])
    axW = fig.add_subplot(gs[1, 0], sharey=axV)
    axH = fig.add_subplot(gs[0, 2], sharex=axV)
    spectral = dict(fmax=fmax, log=log, log_factor=log_factor, **common)
    _, axes["V"], images["V"] = plot_matrix(V, "V", ax=axV, cax=fig.add_subplot(gs[1, 3]),
                                            title=titles["V"], **spectral)
    _, axes["W"], images["W"] = plot_matrix(W, "W", ax=axW, cax=fig.add_subplot(gs[1, 1]),
                                            labels=labels, title=titles["W"], **spectral)
    _, axes["H"], images["H"] = plot_matrix(H, "H", ax=axH, cax=fig.add_subplot(gs[0, 3]),
                                            labels=labels, title=titles["H"], **common)
    axH.set_xlabel("")
    axH.tick_params(labelbottom=False)
    if WH is not None:
        axM = fig.add_subplot(gs[1, 4], sharey=axV)
        _, axes["WH"], images["WH"] = plot_matrix(np.asarray(WH), "WH", ax=axM,
                                                  cax=fig.add_subplot(gs[1, 5]),
                                                  title=titles["WH"], **spectral)
        axM.set_ylabel("")
        axM.tick_params(labelleft=False)
        # same colours for V and WH (also after update_image) so they can be compared
        hi = max(float(np.nanmax(images["V"].get_array())), float(np.nanmax(images["WH"].get_array())))
        for key in ("V", "WH"):
            images[key]._nmfedu["clim"] = (0.0, hi or 1.0)
            images[key].set_clim(0.0, hi or 1.0)
    axV.set_ylabel("")
    axV.tick_params(labelleft=False)
    if loss is not None:
        axL = fig.add_subplot(gs[0, 4] if WH is not None else gs[0, 0])
        _, axes["loss"], images["loss"] = plot_loss(loss, ax=axL, **{
            "legend": isinstance(loss, dict), "ylabel": "Loss", **(loss_kwargs or {})})
        axL.set_title(titles.get("loss", "Loss"))
    _relabel(fig)
    return fig, axes, images


# --------------------------------------------------------------------------- curves
def _as_xy(curve, start):
    if isinstance(curve, tuple) and len(curve) == 2:
        x, y = (np.asarray(c, dtype=float) for c in curve)
    else:
        y = np.asarray(curve, dtype=float)
        x = np.arange(start, start + len(y), dtype=float)
    if y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"each curve must be a 1-D array or an (x, y) pair of equal length, "
                         f"got shapes {x.shape} and {y.shape}")
    # a diverged run (inf / NaN / overflow) simply ends where it left the finite numbers
    y = np.where(np.isfinite(y) & (np.abs(y) < 1e200), y, np.nan)
    return x, y


@_styled
def plot_loss(curves, *, log: bool = True, logx: bool = False, xlabel: str = "Iteration",
              ylabel: str = "Loss ‖V − WH‖²", start: int = 1, title: str | None = None,
              ax=None, colors=None, styles=None, legend: bool = True, figsize=(6.0, 3.2)):
    """Loss curves (one per method) against iterations or epochs.

    Parameters
    ----------
    curves : dict or array_like
        Name → loss values (one per iteration, the first plotted at ``start``) or name →
        ``(x, y)``; a single array is plotted as ``'loss'``.
    log : bool
        Logarithmic loss axis.
    logx : bool
        Logarithmic iteration axis (with ``start=1``: ticks 10⁰, 10¹, 10², 10³ — the
        seed's "log loss vs epochs" figure).
    xlabel, ylabel : str
        Axis labels (e.g. ``xlabel='Epoch'``).
    start : int
        Iteration number of the first value (default 1, so a log axis works).
    title : str, optional
    ax : Axes, optional
    colors, styles : dict, optional
        Name → colour / line style (default :data:`GROUP_COLORS` in order, solid).
    legend : bool
        Draw a legend (when there is more than one curve or the name is not 'loss').
    figsize : (float, float)

    Returns
    -------
    fig : Figure
    ax : Axes
    lines : dict name → Line2D (for :func:`update_lines`)

    Notes
    -----
    Used by notebooks 01 (gradient descent vs learning rate), 02, 06 and 08 (loss comparison).
    """
    if not isinstance(curves, dict):
        curves = {"loss": curves}
    if not curves:
        raise ValueError("curves must be a non-empty dict name -> array")
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    colors = {**group_colors(curves), **(colors or {})}
    lines = {}
    for name, curve in curves.items():
        x, y = _as_xy(curve, start)
        (lines[name],) = ax.plot(x, y, color=colors[name], linestyle=(styles or {}).get(name, "-"),
                                 label=name)
    if log:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if log and "log" not in ylabel else ""))
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title)
    if legend and (len(curves) > 1 or next(iter(curves)) != "loss"):
        ax.legend(frameon=False)
    return fig, ax, lines


def update_lines(lines: dict, curves: dict, start: int = 1, rescale: bool = True):
    """Give the lines of :func:`plot_loss` (or :func:`plot_signals`) new values, in place.

    Parameters
    ----------
    lines : dict name → Line2D
    curves : dict name → array or (x, y)
        Names missing from ``curves`` keep their data.
    start : int
        Iteration number of the first value.
    rescale : bool
        Rescale the axes to the new data.

    Returns
    -------
    dict name → Line2D

    Notes
    -----
    Used by the interactive loss figures of notebooks 01, 06 and 08.
    """
    axes = set()
    for name, curve in curves.items():
        if name not in lines:
            raise ValueError(f"no line named {name!r}; lines are {list(lines)}")
        x, y = _as_xy(curve, start)
        lines[name].set_data(x, y)
        axes.add(lines[name].axes)
    if rescale:
        for ax in axes:
            ax.relim()
            ax.autoscale_view()
    return lines


# --------------------------------------------------------------------------- piano roll
def _pitch_ticks(ax, lo, hi, pitches):
    """Note-name ticks: every pitch present if few, otherwise every C (and the extremes); then
    only as many as fit without overlapping (from the lowest up, at least 1.2 font heights
    apart), with an unlabelled minor tick at every pitch that lost its label."""
    present = sorted(set(int(p) for p in pitches))
    if len(present) <= 16:
        ticks = present
    else:
        ticks = [p for p in range(lo, hi + 1) if p % 12 == 0] or present
    from matplotlib.font_manager import FontProperties
    size = FontProperties(size=mpl.rcParams["ytick.labelsize"]).get_size_in_points()
    box = ax.get_position()
    height_pt = 72.0 * box.height * ax.figure.get_size_inches()[1]
    pt_per_semitone = height_pt / max(hi - lo + 3, 1)
    kept = []
    for p in ticks:
        if not kept or (p - kept[-1]) * pt_per_semitone >= 1.2 * size:
            kept.append(p)
    ax.set_yticks(kept, [pitch_label(p) for p in kept])
    ax.set_yticks(sorted(set(ticks) - set(kept)), minor=True)


@_styled
def plot_piano_roll(notes, *, by: str | None = "Instrument", ax=None, colors=None, highlight=None,
                    xlim=None, title: str | None = None, legend: bool = True, alpha: float = 0.8,
                    figsize=FIGSIZE):
    """Piano roll of a note table: one box per note, coloured by group.

    Parameters
    ----------
    notes : pandas.DataFrame
        Note table of :mod:`nmfedu.score` (``Start``, ``Duration``, ``Pitch``, ``Instrument``).
    by : str or None
        Column whose values are the colour groups (default ``'Instrument'``, e.g. left/right
        hand); ``None``: one colour.
    ax : Axes, optional
    colors : dict, optional
        Group → colour (default :data:`GROUP_COLORS` in order of appearance).
    highlight : int or sequence of int, optional
        MIDI pitches to emphasise (the others are drawn pale), as in the seed's ``p = 59``.
    xlim : (float, float), optional
        Time range in seconds.
    title : str, optional
    legend : bool
        Legend of the groups (when there are several).
    alpha : float
        Opacity of the boxes.
    figsize : (float, float)

    Returns
    -------
    fig : Figure
    ax : Axes

    Notes
    -----
    Used by notebook 01 (sheet music → piano roll → spectrogram), 03, 04 and 07.
    """
    for col in ("Start", "Duration", "Pitch"):
        if col not in getattr(notes, "columns", []):
            raise ValueError(f"notes must be a note table with a {col!r} column")
    if by is not None and by not in notes.columns:
        raise ValueError(f"by={by!r} is not a column of notes (columns: {list(notes.columns)})")
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    groups = list(notes[by]) if by is not None else ["notes"] * len(notes)
    colors = {**group_colors(groups), **(colors or {})}
    hl = None if highlight is None else set(np.atleast_1d(highlight).astype(int).tolist())
    for start, dur, pitch, group in zip(notes["Start"], notes["Duration"], notes["Pitch"], groups):
        faded = hl is not None and int(pitch) not in hl
        ax.add_patch(Rectangle((start, pitch - 0.5), dur, 1.0, facecolor=colors[group],
                               edgecolor="black", linewidth=0.5,
                               alpha=0.15 if faded else alpha))
    if len(notes):
        lo, hi = int(notes["Pitch"].min()), int(notes["Pitch"].max())
        end = float((notes["Start"] + notes["Duration"]).max())
        ax.set_ylim(lo - 1.5, hi + 1.5)
        ax.set_xlim(xlim if xlim is not None else (0.0, end))
        _pitch_ticks(ax, lo, hi, notes["Pitch"])
    elif xlim is not None:
        ax.set_xlim(xlim)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Pitch (MIDI)")
    ax.grid(True, axis="y", alpha=0.25)
    if title:
        ax.set_title(title)
    if legend and by is not None and len(colors) > 1:
        ax.legend(handles=[Patch(facecolor=c, edgecolor="black", label=str(g))
                           for g, c in colors.items() if g in set(groups)],
                  frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig, ax


def _roll_above(axR, notes, by):
    """A piano roll drawn above another panel: no x labels of its own, the groups' legend
    above it (one row)."""
    axR.set_xlabel("")
    axR.tick_params(labelbottom=False)
    if by is not None and notes[by].nunique() > 1:
        axR.legend(handles=[Patch(facecolor=c, edgecolor="black", label=str(g))
                            for g, c in group_colors(notes[by]).items()],
                   frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2,
                   ncols=notes[by].nunique())


@_styled
def plot_score_and_spectrogram(notes, V, *, sr: float = SR, hop_length: int = HOP_LENGTH,
                               n_fft: int = N_FFT, fmax: float | None = 4000.0, log: bool = True,
                               log_factor: float = 1.0, by: str | None = "Instrument", highlight=None,
                               n_harmonics: int = 0, figsize=(9.0, 5.6), fig=None):
    """Piano roll above the spectrogram on one time axis (the seed's "piano roll → spectrogram").

    Parameters
    ----------
    notes : pandas.DataFrame
        Note table (see :func:`plot_piano_roll`).
    V : array_like, shape (K, N)
        Magnitude spectrogram of the same recording.
    sr, hop_length, n_fft, fmax, log, log_factor
        As in :func:`plot_matrix` (default: log compression log(1 + V), as every spectrogram
        figure of the series, up to 4 kHz).
    by, highlight
        As in :func:`plot_piano_roll`.
    n_harmonics : int
        For each highlighted pitch, mark its first ``n_harmonics`` partials
        (``h · f(p)``) on the spectrogram during its notes.
    figsize : (float, float)
    fig : Figure, optional

    Returns
    -------
    fig : Figure
    axes : dict with keys 'roll', 'V' → Axes
    im : AxesImage of the spectrogram

    Notes
    -----
    Used by notebook 01 (what a score tells about a spectrogram) and 03 (where the
    constraints come from).
    """
    from .spectrogram import pitch_to_hz

    fig = _new_figure(figsize, fig)
    gs = fig.add_gridspec(2, 2, width_ratios=[1.0, 0.025], height_ratios=[1.0, 1.6])
    axV = fig.add_subplot(gs[1, 0])
    axR = fig.add_subplot(gs[0, 0], sharex=axV)
    fig.add_subplot(gs[0, 1]).set_axis_off()
    _, _, im = plot_matrix(V, "V", ax=axV, cax=fig.add_subplot(gs[1, 1]), sr=sr,
                           hop_length=hop_length, n_fft=n_fft, fmax=fmax, log=log, log_factor=log_factor,
                           title="Spectrogram")
    plot_piano_roll(notes, by=by, ax=axR, highlight=highlight, title="Piano roll", legend=False)
    _roll_above(axR, notes, by)
    if highlight is not None and n_harmonics > 0:
        for p in np.atleast_1d(highlight).astype(int):
            f0 = float(pitch_to_hz(p))
            rows = notes[notes["Pitch"] == p]
            for start, dur in zip(rows["Start"], rows["Duration"]):
                for h in range(1, n_harmonics + 1):
                    if fmax is None or h * f0 <= fmax:
                        axV.plot([start, start + dur], [h * f0, h * f0], color=GROUP_COLORS[1],
                                 linewidth=1.2, alpha=0.8)
    axV.set_xlim(im.get_extent()[:2])
    return fig, {"roll": axR, "V": axV}, im


@_styled
def plot_score_and_activations(notes, H, *, labels=None, sr: float = SR,
                               hop_length: int = HOP_LENGTH, by: str | None = "Instrument",
                               title_roll: str = "Score (piano roll)", title: str | None = None,
                               cbar_label: str | None = None, clim=None, figsize=(10.0, 6.4),
                               fig=None):
    """Piano roll above an activation-like matrix (``H``, a mask ``M_H``) on one full time axis.

    Both panels span the whole recording (the matrix's N frames), the colour bar sits
    beside the matrix and a column of the same width is kept free beside the piano roll,
    so the two time axes line up exactly.

    Parameters
    ----------
    notes : pandas.DataFrame
        Note table (see :func:`plot_piano_roll`).
    H : array_like, shape (R, N)
        Activations or an activation mask, one row per template.
    labels : sequence or DataFrame, optional
        Template labels (see :func:`template_labels`).
    sr, hop_length : number
        STFT parameters of the time axis.
    by : str or None
        Colour groups of the piano roll.
    title_roll, title, cbar_label : str, optional
        Panel titles and the colour bar's label.
    clim : (float, float), optional
        Colour limits of the matrix (e.g. (0, 1) for a mask).
    figsize : (float, float)
    fig : Figure, optional

    Returns
    -------
    fig : Figure
    axes : dict with keys 'roll', 'H' → Axes
    im : AxesImage of the matrix

    Notes
    -----
    Used by notebook 07 (the score and its structured-dropout mask :math:`M_H`).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> notes = pd.DataFrame({"Start": [0.1, 0.5], "Duration": [0.3, 0.4], "Pitch": [60, 64],
    ...                       "Instrument": ["left", "right"]})
    >>> fig, axes, im = plot_score_and_activations(notes, np.ones((2, 60)), labels=[60, 64])
    >>> bool(np.isclose(axes["roll"].get_xlim()[1], axes["H"].get_xlim()[1]))
    True
    """
    H = np.asarray(H)
    if H.ndim != 2:
        raise ValueError(f"H must be a 2-D matrix (templates x frames), got shape {H.shape}")
    fig = _new_figure(figsize, fig)
    gs = fig.add_gridspec(2, 2, width_ratios=[1.0, 0.025], height_ratios=[1.0, 1.0])
    axH = fig.add_subplot(gs[1, 0])
    axR = fig.add_subplot(gs[0, 0], sharex=axH)
    fig.add_subplot(gs[0, 1]).set_axis_off()
    _, _, im = plot_matrix(H, "H", ax=axH, cax=fig.add_subplot(gs[1, 1]), labels=labels, sr=sr,
                           hop_length=hop_length, title=title, cbar_label=cbar_label, clim=clim)
    plot_piano_roll(notes, by=by, ax=axR, title=title_roll, legend=False)
    _roll_above(axR, notes, by)
    axH.set_xlim(im.get_extent()[:2])
    _relabel(fig)
    lo, hi = int(notes["Pitch"].min()), int(notes["Pitch"].max())
    _pitch_ticks(axR, lo, hi, notes["Pitch"])  # again, for the final size of the panel
    return fig, {"roll": axR, "H": axH}, im


# --------------------------------------------------------------------------- signals
@_styled
def plot_signal(x, sr: float = SR, *, ax=None, color="0.3", label: str | None = None,
                title: str | None = None, ylabel: str = "Amplitude", ylim=None,
                figsize=(8.0, 2.2)):
    """Waveform of a signal against time in seconds.

    Parameters
    ----------
    x : array_like, shape (L,)
        Mono signal.
    sr : float
        Sampling rate in Hz.
    ax : Axes, optional
    color : colour
    label, title : str, optional
    ylabel : str
    ylim : (float, float), optional
    figsize : (float, float)

    Returns
    -------
    fig : Figure
    ax : Axes
    line : Line2D

    Notes
    -----
    Used by notebook 04 (original and separated hands) and by :func:`plot_signals`.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x must be a non-empty mono signal (1-D array), got shape {x.shape}")
    if sr <= 0:
        raise ValueError(f"sr must be > 0, got {sr}")
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    t = np.arange(x.size) / sr
    (line,) = ax.plot(t, x, color=color, linewidth=0.8, label=label)
    ax.set_xlim(0.0, t[-1] if t[-1] > 0 else 1.0 / sr)
    if ylim is not None:
        ax.set_ylim(ylim)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig, ax, line


@_styled
def plot_signals(signals: dict, sr: float = SR, *, share_ylim: bool = True, colors=None,
                 figsize=None, fig=None):
    """Several waveforms stacked (same time axis), e.g. the mix and each separated group.

    Parameters
    ----------
    signals : dict
        Name → mono signal.
    sr : float
        Sampling rate in Hz.
    share_ylim : bool
        Same amplitude axis for all (levels stay comparable).
    colors : dict, optional
        Name → colour (default: the mix grey, then :data:`GROUP_COLORS`).
    figsize : (float, float), optional
        Default 8 inches wide, 1.6 inches per signal.
    fig : Figure, optional

    Returns
    -------
    fig : Figure
    axes : dict name → Axes
    lines : dict name → Line2D

    Notes
    -----
    Used by notebook 04 (separation of the hands).
    """
    if not signals:
        raise ValueError("signals must be a non-empty dict name -> signal")
    fig = _new_figure(figsize or (8.0, 0.4 + 1.6 * len(signals)), fig)
    axs = np.atleast_1d(fig.subplots(len(signals), 1, sharex=True, squeeze=False)).ravel()
    default = {n: (GROUP_COLORS[i - 1] if i else "0.3") for i, n in enumerate(signals)}
    colors = {**default, **(colors or {})}
    lim = None
    if share_ylim:
        m = max(float(np.max(np.abs(np.asarray(s, dtype=float)))) for s in signals.values()) or 1.0
        lim = (-1.05 * m, 1.05 * m)
    axes, lines = {}, {}
    for a, (name, x) in zip(axs, signals.items()):
        _, axes[name], lines[name] = plot_signal(x, sr, ax=a, color=colors[name], ylim=lim)
        a.set_title(name, loc="left")
        if a is not axs[-1]:
            a.set_xlabel("")
    return fig, axes, lines


def figure(figsize=FIGSIZE, dpi: float = 100) -> Figure:
    """A figure not registered with pyplot (nothing shows it unless asked), constrained layout.

    Used by :mod:`nmfedu.widgets` for the figures of interactive plots.
    """
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


# --------------------------------------------------------------------------- synchronisation
PITCH_CLASSES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]


@_styled
def plot_chroma(C, rate: float = 50.0, *, ax=None, t0: float = 0.0, title: str | None = None,
                cbar: bool = True, figsize=(9.0, 2.6)):
    """Chroma features (12 × N) over time, pitch classes C … B from the bottom.

    Returns ``(fig, ax, im)``. Used by notebook 05 (features of the score and the recording).
    """
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    C = np.asarray(C)
    im = ax.imshow(C, origin="lower", aspect="auto", cmap=CMAP, interpolation="nearest",
                   extent=(t0, t0 + C.shape[1] / rate, -0.5, 11.5), vmin=0)
    ax.set_yticks(range(12), PITCH_CLASSES)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Pitch class")
    if title:
        ax.set_title(title)
    if cbar:
        fig.colorbar(im, ax=ax, pad=0.01, label="Value")
    return fig, ax, im


@_styled
def plot_cost_path(C, path=None, *, rate: float = 50.0, ax=None, true_path=None, band=None,
                   title: str | None = None, label: str = "Cost", cmap=None, figsize=(5.6, 4.6)):
    """A (local or accumulated) cost matrix with warping paths; score time up, recording across.

    Parameters
    ----------
    C : ndarray (N_score, M_recording)
    path : ndarray (2, L), optional
        Warping path in frames (row 0 score, row 1 recording), drawn in red.
    rate : float
        Frames per second of ``C`` (axes in seconds).
    true_path : (score_s, recording_s), optional
        The true warp, drawn dashed.
    band : (lo, hi), optional
        Per score frame the first and last recording frame computed (multiscale DTW), outlined.

    Returns ``(fig, ax, im)``. Used by notebook 05.
    """
    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    C = np.asarray(C)
    im = ax.imshow(C, origin="lower", aspect="auto", cmap=cmap or CMAP, interpolation="nearest",
                   extent=(-0.5 / rate, (C.shape[1] - 0.5) / rate, -0.5 / rate,
                           (C.shape[0] - 0.5) / rate))
    fig.colorbar(im, ax=ax, pad=0.01, label=label)
    if band is not None:
        lo, hi = band
        rows = np.arange(len(lo)) / rate
        ax.plot(np.asarray(lo) / rate, rows, color=GROUP_COLORS[0], lw=0.8, label="band (computed cells)")
        ax.plot(np.asarray(hi) / rate, rows, color=GROUP_COLORS[0], lw=0.8)
    if path is not None:
        ax.plot(path[1] / rate, path[0] / rate, color="red", lw=1.3, label="optimal warping path")
    if true_path is not None:
        ax.plot(true_path[1], true_path[0], color="#00a0ff", lw=1.2, ls="--", label="true warp")
    ax.set_xlim(-0.5 / rate, (C.shape[1] - 0.5) / rate)
    ax.set_ylim(-0.5 / rate, (C.shape[0] - 0.5) / rate)
    ax.set_xlabel("Recording time (s)")
    ax.set_ylabel("Score time (s)")
    if title:
        ax.set_title(title)
    if path is not None or true_path is not None or band is not None:
        ax.legend(loc="upper left", fontsize="small", framealpha=0.85)
    return fig, ax, im


@_styled
def plot_notes_on_spectrogram(V, notes, *, sr: float = SR, hop_length: int = HOP_LENGTH,
                              n_fft: int = N_FFT, fmax: float = 2000.0, by: str = "Instrument",
                              ax=None, title: str | None = None, xlim=None, figsize=(9.0, 3.4)):
    """The score's notes drawn on the recording's spectrogram: one line per note at its
    fundamental frequency from Start to Start + Duration, a tick at its onset.

    Shows at a glance whether a note table is synchronised with a recording (notebook 05:
    before and after alignment). Returns ``(fig, ax, im)``.
    """
    from .spectrogram import pitch_to_hz

    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot()
    fig = ax.figure
    _, _, im = plot_matrix(V, "V", ax=ax, sr=sr, hop_length=hop_length, n_fft=n_fft, fmax=fmax,
                           log=True, title=title)
    colors = group_colors(notes[by]) if by in notes.columns else {None: GROUP_COLORS[0]}
    for s, d, p, g in zip(notes["Start"], notes["Duration"], notes["Pitch"],
                          notes[by] if by in notes.columns else [None] * len(notes)):
        f = float(pitch_to_hz(p))
        if f <= fmax:
            ax.plot([s, s + d], [f, f], color=colors[g], lw=2.0, alpha=0.9, solid_capstyle="butt")
            ax.plot([s, s], [f * 0.94, f * 1.06], color=colors[g], lw=2.0)
    ax.legend(handles=[Patch(facecolor=c, edgecolor="black", label=str(g)) for g, c in colors.items()],
              loc="upper right", fontsize="small", framealpha=0.85)
    if xlim is not None:
        ax.set_xlim(xlim)
    return fig, ax, im
