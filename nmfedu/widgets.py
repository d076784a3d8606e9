"""Interactive figures for the nmfedu notebooks (ipywidgets 8, inline backend).

A notebook describes an interactive figure by three things and lets
:class:`InteractiveFigure` do the rest:

``compute(**params) -> data``
    The (possibly slow) computation, e.g. an NMF for the chosen rank. Expensive inputs that
    do not depend on the controls (the spectrogram ``V``, a note table) are computed once,
    outside the callbacks, and passed with ``fixed=dict(V=V)`` (or produced once by
    ``prepare=``); they reach ``compute`` as keyword arguments.
``setup(fig, data) -> handles``
    Called once with the first data: creates axes and artists in ``fig`` (typically with the
    helpers of :mod:`nmfedu.plot`) and returns whatever ``draw`` needs (e.g. the ``images``
    dict of :func:`nmfedu.plot.plot_decomposition`).
``draw(handles, data)``
    Updates those artists in place (:func:`nmfedu.plot.update_image`,
    :func:`nmfedu.plot.update_lines`, ``set_data``, ``set_clim``). Without ``setup``,
    ``draw(fig, data)`` redraws the cleared figure each time (simpler, slower).

and a dict of controls (name → ipywidgets control; the helpers below give good defaults).
The builder lays out controls, a status line ("computed in 0.12 s · drawn in 0.05 s") and
a fixed-size output area with the figure; caches results per parameter tuple (moving a
slider back is instant); uses ``continuous_update=False``; optionally waits for a Run
button; and exposes :meth:`InteractiveFigure.update` / :attr:`InteractiveFigure.callback` so
tests and ``benchmarks/bench_widgets.py`` can drive it headless.

How the figure is shown
-----------------------
The figure is a :class:`matplotlib.figure.Figure` that is *not* registered with pyplot, so
the inline backend never shows a stray copy below the widget. After each update it is
rendered to PNG at a fixed size and placed into the output area by replacing the
``outputs`` of the :class:`ipywidgets.Output` in one step (the same effect as
``clear_output(wait=True)`` + ``display(fig)``, without a blank frame, and without needing
a front end, so it also works when the notebook is executed headless: the initial figure
is rendered at construction and saved with the widget state). The cell's own output also
carries the initial figure as ``image/png``, which static renderers (GitHub, nbviewer,
exported HTML, untrusted notebooks) show instead of the live widget, and a deterministic
``text/plain`` line for nbval.

CSS classes (``docs/CONTRACTS.md``): ``nmfedu-figure`` on the figure's output area,
``nmfedu-control`` on every control, ``nmfedu-run`` on the Run button (and
``nmfedu-widget``, ``nmfedu-status`` on the container and the status line).

Examples
--------
>>> import numpy as np
>>> from nmfedu import plot, widgets
>>> V = np.random.default_rng(0).random((20, 30))
>>> def compute(R, V):
...     return V[:, :R] @ V[:R, :]  # stands for something slow
>>> def setup(fig, data):
...     return plot.plot_matrix(data, ax=fig.add_subplot())[2]
>>> fig_widget = widgets.InteractiveFigure(compute, plot.update_image,
...     {"R": widgets.rank_slider(3)}, setup=setup, fixed=dict(V=V))
>>> _ = fig_widget.update(R=5)   # what the slider does; display(fig_widget) in a notebook

Used by: notebooks 01–08 (every interactive figure), ``benchmarks/bench_widgets.py``.
"""
from __future__ import annotations

import base64
import inspect
import io
import math
import time
from collections import OrderedDict

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from . import plot

__all__ = [
    "InteractiveFigure", "decomposition_figure", "gradient_descent_figure", "nmf_figure",
    "GD_LEARNING_RATES", "FIGURE_CLASS", "CONTROL_CLASS", "RUN_CLASS",
    "rank_slider", "iterations_slider", "learning_rate_slider", "seed_slider",
    "pitch_tolerance_slider", "onset_tolerance_slider", "offset_tolerance_slider",
    "compression_slider", "float_slider", "int_slider", "toggle", "constraint_toggles",
    "dropdown", "ITERATION_STEPS",
]

#: CSS class of the output area that shows the figure (browser test, CONTRACTS.md).
FIGURE_CLASS = "nmfedu-figure"
#: CSS class of every control.
CONTROL_CLASS = "nmfedu-control"
#: CSS class of the Run button.
RUN_CLASS = "nmfedu-run"
#: Log-spaced iteration counts of :func:`iterations_slider`.
ITERATION_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

_STYLE = {"description_width": "initial"}
_CONTROL_WIDTH = "300px"


# --------------------------------------------------------------------------- controls
def _layout(width=_CONTROL_WIDTH):
    return widgets.Layout(width=width)


def int_slider(description: str, value: int, min: int, max: int, step: int = 1, **kwargs):
    """An :class:`ipywidgets.IntSlider` in the nmfedu style (updates on release)."""
    if not min <= value <= max:
        raise ValueError(f"value of {description!r} must be in [{min}, {max}], got {value}")
    kw = dict(continuous_update=False, style=_STYLE, layout=_layout())
    kw.update(kwargs)
    return widgets.IntSlider(value=value, min=min, max=max, step=step, description=description,
                             **kw)


def float_slider(description: str, value: float, min: float, max: float, step: float,
                 readout_format: str = ".2f", **kwargs):
    """An :class:`ipywidgets.FloatSlider` in the nmfedu style (updates on release)."""
    if not min <= value <= max:
        raise ValueError(f"value of {description!r} must be in [{min}, {max}], got {value}")
    kw = dict(continuous_update=False, style=_STYLE, layout=_layout())
    kw.update(kwargs)
    return widgets.FloatSlider(value=value, min=min, max=max, step=step,
                               description=description, readout_format=readout_format, **kw)


def rank_slider(value: int = 3, min: int = 1, max: int = 10, description: str = "Rank R"):
    """Slider for the rank R (number of templates).

    Used by notebooks 02 (rank of a random-init NMF) and 06 (size of the NAE code).
    """
    return int_slider(description, value, min, max)


def iterations_slider(value: int = 100, options=ITERATION_STEPS, description: str = "Iterations"):
    """Log-spaced slider for a number of iterations or epochs (1, 2, 5, 10, 20, 50, ...).

    Used by notebooks 01, 02 (iterations of gradient descent / multiplicative updates), 06–08
    (epochs).
    """
    options = tuple(int(o) for o in options)
    if value not in options:
        raise ValueError(f"value of iterations_slider must be one of {options}, got {value}")
    return widgets.SelectionSlider(options=options, value=value, description=description,
                                   continuous_update=False, style=_STYLE, layout=_layout())


def learning_rate_slider(value: float = 1e-3, min: float = 1e-6, max: float = 1.0,
                         description: str = "Learning rate γ"):
    """Logarithmic slider for a learning rate (one step = a factor of about 1.78).

    Used by notebooks 01 (gradient descent) and 06–08 (additive NAE training).
    """
    if not (0 < min <= value <= max):
        raise ValueError(f"learning rate must satisfy 0 < min <= value <= max, got "
                         f"min={min}, value={value}, max={max}")
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(min), max=math.log10(max),
                                  step=0.25, description=description, readout_format=".1e",
                                  continuous_update=False, style=_STYLE, layout=_layout())


def seed_slider(value: int = 0, max: int = 9, description: str = "Random seed"):
    """Slider for the seed of a random initialization (notebooks 02, 06)."""
    return int_slider(description, value, 0, max)


def pitch_tolerance_slider(value: float = 0.5, max: float = 2.0,
                           description: str = "Pitch tolerance (semitones)"):
    """Slider for the width of the harmonic template constraints, in semitones
    (``tolerance`` of :func:`nmfedu.constraints.build_constraints`; notebook 03)."""
    return float_slider(description, value, 0.0, max, 0.1, readout_format=".1f")


def onset_tolerance_slider(value: float = 0.1, max: float = 1.0,
                           description: str = "Onset tolerance (s)"):
    """Slider for the time before a note's onset in which it may be active, in seconds
    (``onset_tol``; notebooks 03, 07)."""
    return float_slider(description, value, 0.0, max, 0.05)


def offset_tolerance_slider(value: float = 0.5, max: float = 2.0,
                            description: str = "Offset tolerance (s)"):
    """Slider for the time after a note's offset in which it may still be active, in seconds
    (``offset_tol``; notebooks 03, 07)."""
    return float_slider(description, value, 0.0, max, 0.05)


def compression_slider(value: float = 1.0, min: float = 0.1, max: float = 1000.0,
                       description: str = "Compression γ"):
    """Logarithmic slider for the factor γ of ``log(1 + γ·V)`` (notebooks 01, 04)."""
    if not (0 < min <= value <= max):
        raise ValueError(f"γ must satisfy 0 < min <= value <= max, got {min}, {value}, {max}")
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(min), max=math.log10(max),
                                  step=0.25, description=description, readout_format=".3g",
                                  continuous_update=False, style=_STYLE, layout=_layout())


def toggle(description: str, value: bool = False, tooltip: str = ""):
    """An on/off toggle button (a constraint, a display option)."""
    return widgets.ToggleButton(value=bool(value), description=description, tooltip=tooltip,
                                icon="check" if value else "", layout=widgets.Layout(width="auto"))


def constraint_toggles(templates: bool = True, activations: bool = True, onsets: bool = False):
    """Toggles for the score-informed constraints of notebooks 03 and 07.

    Returns
    -------
    dict
        ``{'templates': ..., 'activations': ..., 'onsets': ...}`` → ToggleButton (template
        constraints, activation constraints, onset templates); pass it into the controls of
        :class:`InteractiveFigure` (``controls={**constraint_toggles(), ...}``).
    """
    return {
        "templates": toggle("Template constraints", templates,
                            "zero W outside the harmonics of each pitch"),
        "activations": toggle("Activation constraints", activations,
                              "zero H outside the notes of the score"),
        "onsets": toggle("Onset templates", onsets, "extra templates for note onsets"),
    }


def dropdown(options, value=None, description: str = ""):
    """A dropdown (e.g. the loss ``beta``, the update ``rule``, a piece name).

    ``options`` is a sequence of values or of ``(label, value)`` pairs.
    """
    options = list(options)
    if not options:
        raise ValueError("options of dropdown must not be empty")
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    if value is None:
        value = values[0]
    if value not in values:
        raise ValueError(f"value of dropdown {description!r} must be one of {values}, got {value!r}")
    return widgets.Dropdown(options=options, value=value, description=description, style=_STYLE,
                            layout=widgets.Layout(width="auto"))


def _on_toggle_icon(change):
    change["owner"].icon = "check" if change["new"] else ""


# --------------------------------------------------------------------------- builder
def _factors(data):
    """(W, H, loss or None) from an NMFResult-like object, a dict or a tuple (W, H[, loss])."""
    if hasattr(data, "W") and hasattr(data, "H"):
        return data.W, data.H, getattr(data, "loss", None)
    if isinstance(data, dict):
        return data["W"], data["H"], data.get("loss")
    if isinstance(data, (tuple, list)) and len(data) in (2, 3):
        return data[0], data[1], (data[2] if len(data) == 3 else None)
    raise ValueError("compute must return an object with .W and .H (e.g. an NMFResult), a dict "
                     "with 'W' and 'H', or a tuple (W, H) / (W, H, loss)")


def decomposition_figure(compute, controls: dict, V, *, labels=None, WH: bool = True,
                         loss: bool = False, sr=plot.SR, hop_length: int = plot.HOP_LENGTH,
                         n_fft: int = plot.N_FFT, fmax=None, log: bool = False,
                         gamma: float = 1.0, loss_kwargs: dict | None = None,
                         figsize=(10.0, 4.8), **kwargs):
    """An interactive :func:`nmfedu.plot.plot_decomposition`: templates, activations, V, WH.

    The common case of notebooks 02, 03, 06 and 07 without any drawing code: ``compute``
    returns the factorization, the builder draws W (left), H (top), V and WH (bottom) and,
    with ``loss=True``, the loss curve in the free corner; all updated in place.

    Parameters
    ----------
    compute : callable
        ``compute(**params, V=V, **fixed)`` returning an :class:`nmfedu.NMFResult` (or any
        object with ``.W``, ``.H`` and optionally ``.loss``, e.g. an NAE result), a dict
        with ``'W'``, ``'H'`` (, ``'loss'``) or a tuple ``(W, H)`` / ``(W, H, loss)``.
    controls : dict
        Name → control (see :func:`rank_slider`, :func:`iterations_slider`, ...).
    V : array_like, shape (K, N)
        The matrix being factorized; passed to ``compute`` as ``V`` (computed once).
    labels, sr, hop_length, n_fft, fmax, log, gamma, loss_kwargs
        As in :func:`nmfedu.plot.plot_decomposition` (``sr=None`` for index axes).
    WH : bool
        Show the model W H next to V.
    loss : bool
        Show the loss curve (``data.loss``) in a small panel.
    figsize : (float, float)
    **kwargs
        Passed to :class:`InteractiveFigure` (``fixed``, ``run_button``, ``title``, ...).

    Returns
    -------
    InteractiveFigure

    Examples
    --------
    >>> import numpy as np, nmfedu
    >>> from nmfedu import widgets
    >>> V = np.random.default_rng(0).random((30, 40))
    >>> fw = widgets.decomposition_figure(
    ...     lambda R, n_iter, V: nmfedu.nmf(V, R, n_iter=n_iter, tol=0, seed=0),
    ...     {"R": widgets.rank_slider(3), "n_iter": widgets.iterations_slider(50)}, V,
    ...     sr=None, loss=True)
    >>> _ = fw.update(R=4)
    """
    V = np.asarray(V)
    fixed = dict(kwargs.pop("fixed", None) or {})
    fixed["V"] = V

    def setup(fig, data):
        W, H, curve = _factors(data)
        return plot.plot_decomposition(
            V, W, H, WH=(W @ H) if WH else None, labels=labels, sr=sr, hop_length=hop_length,
            n_fft=n_fft, fmax=fmax, log=log, gamma=gamma, fig=fig,
            loss=(np.asarray(curve) if loss and curve is not None else None),
            loss_kwargs=loss_kwargs)[2]

    def draw(images, data):
        W, H, curve = _factors(data)
        plot.update_image(images["W"], W)
        plot.update_image(images["H"], H)
        if "WH" in images:
            plot.update_image(images["WH"], W @ H)
        if "loss" in images and curve is not None:
            plot.update_lines(images["loss"], {"loss": np.asarray(curve)})

    return InteractiveFigure(compute, draw, controls, setup=setup, fixed=fixed,
                             figsize=figsize, **kwargs)


#: Learning rates of :func:`gradient_descent_figure` (the values notebook 01 asks for).
GD_LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)


def gradient_descent_figure(V, W, H0, *, gamma: float = 0.3, n_iter: int = 100,
                            project: bool = False, reference: dict | None = None,
                            gammas=GD_LEARNING_RATES, figsize=(10.0, 3.6), **kwargs):
    """Gradient descent on H with W fixed: loss per iteration and the final H.

    Left: the loss ‖V − WH‖² per iteration (log scale) with horizontal reference levels;
    right: H after the last iteration in a signed colour map, negative entries marked ×.
    Controls: learning rate γ (a slider over ``gammas``), iterations (log-spaced), and
    "Project onto H ≥ 0". Runs :func:`nmfedu.nmf_gd` with ``fix_W=True``.

    Parameters
    ----------
    V : ndarray (K, N)
    W : ndarray (K, R)
        Fixed templates.
    H0 : ndarray (R, N)
        Initial activations.
    gamma : float
        Initial learning rate (one of ``gammas``).
    n_iter : int
        Initial number of iterations (one of :data:`ITERATION_STEPS`).
    project : bool
        Initial state of the projection toggle.
    reference : dict, optional
        Label → loss level drawn as a horizontal line (first dashed, then dotted, ...), e.g.
        the best loss of any H and of a nonnegative H.
    gammas : sequence of float
        Learning rates offered by the slider.
    figsize : (float, float)
    **kwargs
        Passed to :class:`InteractiveFigure`.

    Returns
    -------
    InteractiveFigure

    Notes
    -----
    Used by notebook 01 (section "Try it: learning rate, iterations, projection").
    """
    import nmfedu

    V, W, H0 = (np.asarray(a, dtype=float) for a in (V, W, H0))
    gammas = tuple(float(g) for g in gammas)
    if gamma not in gammas:
        raise ValueError(f"gamma must be one of {gammas}, got {gamma}")
    reference = dict(reference or {})
    controls = {
        "gamma": widgets.SelectionSlider(options=gammas, value=float(gamma),
                                         description="Learning rate γ", continuous_update=False,
                                         style=_STYLE, layout=_layout()),
        "n_iter": iterations_slider(n_iter),
        "project": toggle("Project onto H ≥ 0", project,
                          "set negative entries of H to 0 after every step"),
    }

    def compute(gamma, n_iter, project, V, W, H0):
        res = nmfedu.nmf_gd(V, W.shape[1], W0=W, H0=H0, n_iter=n_iter, lr_H=gamma, fix_W=True,
                            project=project)
        return dict(loss=np.asarray(res.loss, dtype=float), H=res.H,
                    diverged=bool(getattr(res, "diverged", False)))

    def _negatives(H):
        rows, cols = np.nonzero(np.nan_to_num(H, nan=0.0) < 0)
        return np.column_stack([cols, rows]) if rows.size else np.empty((0, 2))

    def _title(data):
        last = data["loss"][-1] if data["loss"].size else np.nan
        if data["diverged"] or not np.isfinite(last):
            return "Loss: diverged"
        return f"Loss after {data['loss'].size} iterations: {last:.4g}"

    def setup(fig, data):
        axL, axH = fig.subplots(1, 2, width_ratios=[1.0, 1.3])
        _, _, lines = plot.plot_loss({"gradient descent": data["loss"]}, ax=axL, legend=False)
        styles = ["--", ":", "-."]
        for i, (label, level) in enumerate(reference.items()):
            axL.axhline(level, color="0.35", linestyle=styles[i % 3], linewidth=1.2, label=label)
        if reference:
            axL.legend(frameon=False, fontsize="small")
        axL.set_title(_title(data))
        _, _, im = plot.plot_matrix(data["H"], "H", ax=axH, sr=None, signed=True,
                                    cmap=plot.SIGNED_CMAP, title="H after the last iteration",
                                    cbar_label="Value (blue < 0)")
        marks = axH.scatter(*_negatives(data["H"]).T, marker="x", color="black", s=25,
                            linewidths=1.2)
        return dict(lines=lines, im=im, marks=marks, axL=axL)

    def draw(h, data):
        plot.update_lines(h["lines"], {"gradient descent": data["loss"]})
        h["axL"].set_title(_title(data))
        plot.update_image(h["im"], data["H"])
        h["marks"].set_offsets(_negatives(data["H"]))

    return InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(V=V, W=W, H0=H0),
                             figsize=figsize, **kwargs)


def _pitch_labels_for(H, notes, sr, hop_length):
    """Label each row of H with the score pitch whose note activity it follows best."""
    from .spectrogram import frame_of

    R, N = H.shape
    pitches = sorted(set(int(p) for p in notes["Pitch"]))
    roll = np.zeros((len(pitches), N))
    for start, dur, p in zip(notes["Start"], notes["Duration"], notes["Pitch"]):
        a, b = frame_of(start, sr, hop_length), frame_of(start + dur, sr, hop_length)
        roll[pitches.index(int(p)), max(a, 0):max(min(b, N), a + 1)] = 1.0
    Hn = H / (np.linalg.norm(H, axis=1, keepdims=True) + 1e-12)
    Pn = roll / (np.linalg.norm(roll, axis=1, keepdims=True) + 1e-12)
    sim = Hn @ Pn.T
    labels = []
    for r in range(R):
        j = int(np.argmax(sim[r]))
        labels.append(f"≈ {plot.pitch_label(pitches[j])}" if sim[r, j] > 0.3 else f"{r}: ?")
    return labels


def nmf_figure(V, *, R: int = 2, n_iter: int = 100, seed: int = 0, max_rank: int = 6,
               sr=plot.SR, hop_length: int = plot.HOP_LENGTH, n_fft: int = plot.N_FFT, fmax=None,
               log: bool = False, gamma: float = 1.0, notes=None, dtype=None,
               figsize=(10.0, 5.0), **kwargs):
    """NMF from a random start with rank, iterations and seed sliders.

    Shows templates W (left), activations H (top), V and the model WH (bottom, one colour
    scale), with the loss relative to ‖V‖² in the title of WH. Runs :func:`nmfedu.nmf`
    (``tol=0``, so exactly ``n_iter`` iterations).

    Parameters
    ----------
    V : ndarray (K, N)
        Nonnegative matrix or magnitude spectrogram (computed once, outside).
    R, n_iter, seed : int
        Initial values of the sliders (``n_iter`` one of :data:`ITERATION_STEPS`).
    max_rank : int
        Largest rank offered.
    sr, hop_length, n_fft, fmax, log, gamma
        Axes and display as in :func:`nmfedu.plot.plot_decomposition` (``sr=None``: index axes).
    notes : DataFrame, optional
        Note table; if given, each template/activation row is labelled with the score pitch
        whose notes its activation follows best (``'≈ G3 (55)'``, ``'r: ?'`` if none).
    dtype : numpy dtype, optional
        Passed to :func:`nmfedu.nmf` (``np.float32`` halves the time on spectrograms).
    figsize : (float, float)
    **kwargs
        Passed to :class:`InteractiveFigure`.

    Returns
    -------
    InteractiveFigure

    Notes
    -----
    Used by notebook 02 (sections 6 and 7: the toy matrix and the recording).
    """
    import nmfedu

    V = np.asarray(V)
    if notes is not None and sr is None:
        raise ValueError("notes need a time axis: pass sr (and hop_length) with notes")
    norm2 = float(np.sum(np.asarray(V, dtype=float) ** 2)) or 1.0
    controls = {"R": rank_slider(R, max=max_rank), "n_iter": iterations_slider(n_iter),
                "seed": seed_slider(seed)}

    def compute(R, n_iter, seed, V):
        res = nmfedu.nmf(V, R, n_iter=n_iter, tol=0, seed=seed, dtype=dtype)
        W, H = np.asarray(res.W, dtype=float), np.asarray(res.H, dtype=float)
        labels = _pitch_labels_for(H, notes, sr, hop_length) if notes is not None else None
        return dict(W=W, H=H, WH=W @ H, labels=labels,
                    rel_loss=float(res.loss[-1]) / norm2 if len(res.loss) else float("nan"))

    def _label(h, data):
        R_now = data["W"].shape[1]
        names = data["labels"] or [str(r) for r in range(R_now)]
        h["axes"]["W"].set_xticks(range(R_now), names, rotation=90 if data["labels"] else 0)
        h["axes"]["H"].set_yticks(range(R_now), names)
        h["axes"]["WH"].set_title(f"Model WH (loss {data['rel_loss']:.3g} · ‖V‖²)")

    def setup(fig, data):
        _, axes, images = plot.plot_decomposition(V, data["W"], data["H"], WH=data["WH"], sr=sr,
                                                  hop_length=hop_length, n_fft=n_fft, fmax=fmax,
                                                  log=log, gamma=gamma, fig=fig)
        h = dict(axes=axes, images=images)
        if notes is not None:
            axes["W"].set_xlabel("Template (pitch it follows)")
            axes["H"].set_ylabel("Template (pitch)")
        _label(h, data)
        return h

    def draw(h, data):
        for key in ("W", "H", "WH"):
            plot.update_image(h["images"][key], data[key])
        _label(h, data)

    return InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(V=V),
                             figsize=figsize, **kwargs)


def _freeze(value):
    """A hashable version of a control value (lists, arrays and dicts included)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.shape, value.tobytes())
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _format_seconds(t):
    return f"{t * 1000:.0f} ms" if t < 1 else f"{t:.2f} s"


class InteractiveFigure:
    """An interactive figure: controls → ``compute`` (cached) → ``draw`` → fixed-size output.

    Parameters
    ----------
    compute : callable
        ``compute(**params, **fixed) -> data`` with one keyword per control (and per entry of
        ``fixed``). If it has a parameter ``progress``, it receives a function
        ``progress(fraction, text='')`` that updates the status line (long trainings).
    draw : callable
        ``draw(handles, data)`` updating the artists made by ``setup`` (e.g.
        :func:`nmfedu.plot.update_image` when ``setup`` returns an image); without ``setup``,
        ``draw(fig, data)`` draws into the cleared figure.
    controls : dict
        Name → ipywidgets control (a ``ValueWidget``), in display order; the names are the
        keywords of ``compute``. See :func:`rank_slider` and friends.
    setup : callable, optional
        ``setup(fig, data) -> handles``, called once with the first data.
    fixed : dict, optional
        Keyword arguments of ``compute`` that never change (precomputed ``V``, notes, ...);
        not part of the cache key.
    prepare : callable, optional
        ``prepare() -> dict`` run once at construction; its result is merged into ``fixed``
        (for inputs that are expensive to compute).
    run_button : bool
        Wait for a Run button (class ``nmfedu-run``) instead of recomputing on every change —
        for trainings that take more than about a second.
    initial : bool
        Compute and draw the initial control values at construction (default), so the
        executed notebook shows the figure. With ``initial=False`` (only sensible together
        with ``run_button``) the output shows a hint until Run is pressed.
    continuous_update : bool
        Set the controls' ``continuous_update`` (default False: recompute on release).
    figsize : (float, float)
        Figure size in inches; the output area is fixed to the rendered size.
    dpi : float
        Resolution of the rendered figure (90: 9 inches → 810 pixels).
    cache_size : int
        Number of results kept (least recently used dropped first); 0 disables the cache.
    title : str, optional
        A bold line above the controls; also names the figure in the text repr.
    static_fallback : bool
        Put the current figure as ``image/png`` into the cell output for static renderers.
    freeze_layout : bool
        With ``setup``: keep the axes where the first (constrained) layout put them, which
        makes every later redraw several times faster. Set False if ``draw`` changes labels
        a lot.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What the notebook displays (``display(fig_widget)`` does the same).
    figure : matplotlib.figure.Figure
    output : ipywidgets.Output
        The figure's area (class ``nmfedu-figure``).
    controls : dict name → control
    run : ipywidgets.Button or None
    status : ipywidgets.HTML
    data : object
        The data of the figure as last drawn.
    handles : object
        What ``setup`` returned.
    timing : dict
        Seconds spent in the last refresh: ``compute``, ``draw``, ``render``, ``total``, and
        ``cached`` (bool).

    Notes
    -----
    Used by notebooks 01–08 and ``benchmarks/bench_widgets.py``. The cell that displays the
    widget starts with ``# NBVAL_IGNORE_OUTPUT`` (house rule); its ``text/plain`` is
    deterministic anyway.
    """

    def __init__(self, compute, draw, controls: dict, *, setup=None, fixed=None, prepare=None,
                 run_button: bool = False, initial: bool = True, continuous_update: bool = False,
                 figsize=(9.0, 4.4), dpi: float = 90, cache_size: int = 32,
                 title: str | None = None, static_fallback: bool = True,
                 freeze_layout: bool = True):
        if not callable(compute):
            raise ValueError("compute must be a function params -> data")
        if not callable(draw):
            raise ValueError("draw must be a function (handles or fig, data) -> None")
        if setup is not None and not callable(setup):
            raise ValueError("setup must be a function (fig, data) -> handles, or None")
        if not isinstance(controls, dict):
            raise ValueError("controls must be a dict name -> ipywidgets control")
        for name, control in controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise ValueError(f"control {name!r} must be an ipywidgets control with a value "
                                 f"(slider, toggle, dropdown), got {type(control).__name__}")
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        if not initial and not run_button:
            raise ValueError("initial=False needs run_button=True (otherwise nothing is ever drawn)")
        self._compute = compute
        self._draw = draw
        self._setup = setup
        self.fixed = dict(fixed or {})
        self.prepare_time = 0.0
        if prepare is not None:
            t0 = time.perf_counter()
            self.fixed.update(prepare())
            self.prepare_time = time.perf_counter() - t0
        overlap = set(self.fixed) & set(controls)
        if overlap:
            raise ValueError(f"names {sorted(overlap)} are both controls and fixed inputs")
        self._wants_progress = "progress" in inspect.signature(compute).parameters
        self.controls = dict(controls)
        self.run_button = bool(run_button)
        self.title = title
        self.dpi = float(dpi)
        self.figsize = tuple(figsize)
        self.cache_size = int(cache_size)
        self.static_fallback = static_fallback
        self._cache: OrderedDict = OrderedDict()
        self._suspended = False
        self._stale = False
        self.hits = 0
        self.misses = 0
        self.data = None
        self.handles = None
        self.timing: dict = {}
        self._png = None

        self.freeze_layout = bool(freeze_layout)
        self.figure = plot.figure(figsize=self.figsize, dpi=self.dpi)
        self._canvas = FigureCanvasAgg(self.figure)
        width = int(round(self.figsize[0] * self.dpi))
        height = int(round(self.figsize[1] * self.dpi))
        self._size_px = (width, height)
        self.output = widgets.Output(layout=widgets.Layout(
            height=f"{height + 8}px", min_height=f"{height + 8}px", width="100%",
            max_width=f"{width + 8}px", overflow="hidden"))
        self.output.add_class(FIGURE_CLASS)
        for control in self.controls.values():
            control.add_class(CONTROL_CLASS)
            if hasattr(control, "continuous_update"):
                control.continuous_update = bool(continuous_update)
            if isinstance(control, widgets.ToggleButton):
                control.observe(_on_toggle_icon, names="value")
            control.observe(self._on_change, names="value")
        self.run = None
        row = list(self.controls.values())
        if self.run_button:
            self.run = widgets.Button(description="Run", icon="play", button_style="primary",
                                      tooltip="compute with the current settings",
                                      layout=widgets.Layout(width="auto"))
            self.run.add_class(RUN_CLASS)
            self.run.on_click(self._on_run)
            row.append(self.run)
        self.status = widgets.HTML(value="", layout=widgets.Layout(min_height="1.6em"))
        self.status.add_class("nmfedu-status")
        box = widgets.HBox(row, layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        box.add_class("nmfedu-controls")
        children = [box, self.status, self.output]
        if title:
            children.insert(0, widgets.HTML(value=f"<b>{title}</b>"))
        self.widget = widgets.VBox(children)
        self.widget.add_class("nmfedu-widget")

        if initial:
            self.refresh()
        else:
            self._stale = True
            self.output.outputs = ({"output_type": "display_data", "metadata": {},
                                    "data": {"text/plain": "Press Run to compute the figure.",
                                             "text/html": "<p><i>Press <b>Run</b> to compute "
                                                          "the figure.</i></p>"}},)
            self._set_status("press <b>Run</b> to compute")

    # ------------------------------------------------------------------ parameters and cache
    @property
    def params(self) -> dict:
        """Current control values, name → value."""
        return {name: control.value for name, control in self.controls.items()}

    def _key(self, params):
        return tuple((name, _freeze(params[name])) for name in self.controls)

    def cache_info(self) -> dict:
        """Cache statistics: ``hits``, ``misses``, ``size``, ``maxsize``."""
        return dict(hits=self.hits, misses=self.misses, size=len(self._cache),
                    maxsize=self.cache_size)

    def clear_cache(self):
        """Forget all cached results (e.g. after changing ``fixed``)."""
        self._cache.clear()

    def _get_data(self, params):
        key = self._key(params)
        if key in self._cache:
            self._cache.move_to_end(key)
            self.hits += 1
            return self._cache[key][0], True, 0.0
        self.misses += 1
        kwargs = {**params, **self.fixed}
        if self._wants_progress:
            kwargs["progress"] = self._progress
        t0 = time.perf_counter()
        data = self._compute(**kwargs)
        elapsed = time.perf_counter() - t0
        if self.cache_size:
            self._cache[key] = [data, None]  # the PNG is added once rendered
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return data, False, elapsed

    def _progress(self, fraction, text=""):
        now = time.perf_counter()
        if now - getattr(self, "_last_progress", 0.0) < 0.2 and fraction < 1:
            return
        self._last_progress = now
        self._set_status(f"running… {100 * float(fraction):.0f}% {text}".rstrip())

    # ------------------------------------------------------------------ drawing
    def _set_status(self, html, error=False):
        color = "#c92a2a" if error else "#555"
        self.status.value = f'<span style="color:{color};font-size:90%">{html}</span>'

    def _render(self, png=None):
        """Render the figure to PNG (unless given) and show it in the output area in one step.

        The canvas is drawn directly and encoded with a fast PNG setting; after the first
        render the layout of a ``setup`` figure is frozen (constrained layout would otherwise
        re-run on every draw), so the axes do not move between updates.
        """
        if png is None:
            self._canvas.draw()
            width, height = self._canvas.get_width_height()
            rgba = Image.frombuffer("RGBA", (width, height), self._canvas.buffer_rgba(), "raw",
                                    "RGBA", 0, 1)
            buf = io.BytesIO()
            # 256 colours suffice for these figures (grey maps, a few line colours): about
            # 3x smaller notebooks and faster encoding than 24-bit PNG
            rgba.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
                buf, format="png", compress_level=3)
            png = buf.getvalue()
            if self._setup is not None and self.freeze_layout:
                self.figure.set_layout_engine("none")
        self._png = png
        width, height = self._size_px
        self.output.outputs = ({
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(self._png).decode("ascii"),
                     "text/plain": f"<Figure {width}x{height}>"},
            "metadata": {"image/png": {"width": width, "height": height}},
        },)

    def _draw_data(self, data):
        before = set(plt.get_fignums())
        try:
            if self._setup is not None:
                if self.handles is None:
                    self.handles = self._setup(self.figure, data)
                else:
                    self._draw(self.handles, data)
            else:
                self.figure.clear()
                self._draw(self.figure, data)
        finally:
            for num in set(plt.get_fignums()) - before:  # stray pyplot figures would show below
                plt.close(num)

    def refresh(self):
        """Compute (or take from the cache) for the current control values, draw and show.

        This is the callback the controls (or the Run button) run; ``benchmarks`` time it.

        Returns
        -------
        data
            What ``compute`` returned.
        """
        params = self.params
        t0 = time.perf_counter()
        if not self._cache or self._key(params) not in self._cache:
            self._set_status("computing…")
        data, cached, t_compute = self._get_data(params)
        t1 = time.perf_counter()
        self._draw_data(data)  # keeps the artists in step with the data, even from the cache
        t2 = time.perf_counter()
        entry = self._cache.get(self._key(params))
        self._render(entry[1] if entry is not None and self.handles is not None else None)
        if entry is not None:
            entry[1] = self._png
        t3 = time.perf_counter()
        self.data = data
        self._stale = False
        self.timing = dict(compute=t_compute, draw=t2 - t1, render=t3 - t2, total=t3 - t0,
                           cached=cached)
        what = "from cache" if cached else f"computed in {_format_seconds(t_compute)}"
        self._set_status(f"{what} · drawn in {_format_seconds(t3 - t1)}")
        return data

    #: The callback the controls run (alias of :meth:`refresh`).
    @property
    def callback(self):
        return self.refresh

    def update(self, **params):
        """Set controls to ``params`` (name=value) and refresh, as if a user moved them.

        Used by tests and ``benchmarks/bench_widgets.py`` to drive the widget headless. In
        Run-button mode this is "set the controls, then press Run".

        Returns
        -------
        data
            What ``compute`` returned for the new values.
        """
        unknown = set(params) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; controls are "
                             f"{list(self.controls)}")
        self._suspended = True
        try:
            for name, value in params.items():
                self.controls[name].value = value
        finally:
            self._suspended = False
        return self.refresh()

    def _on_change(self, change):
        if self._suspended:
            return
        if self.run_button:
            self._stale = True
            self._set_status("settings changed · press <b>Run</b>")
            return
        self._safe_refresh()

    def _on_run(self, _button):
        self.run.disabled = True
        try:
            self._safe_refresh()
        finally:
            self.run.disabled = False

    def _safe_refresh(self):
        """Refresh from a widget event: errors go to the status line, not a hidden log."""
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - shown to the reader instead
            self._set_status(f"{type(exc).__name__}: {exc}", error=True)

    # ------------------------------------------------------------------ display
    def png(self) -> bytes:
        """PNG bytes of the figure as last shown (None before the first draw)."""
        return self._png

    def __repr__(self):
        name = f" {self.title!r}" if self.title else ""
        return f"<InteractiveFigure{name}: controls {', '.join(self.controls)}>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_()
        bundle["text/plain"] = repr(self)
        if self.static_fallback and self._png is not None:
            bundle["image/png"] = base64.b64encode(self._png).decode("ascii")
        return bundle

    def close(self):
        """Close the widgets and release the figure."""
        for w in [*self.controls.values(), self.output, self.status, self.widget,
                  *([self.run] if self.run else [])]:
            w.close()
        self.figure.clear()
