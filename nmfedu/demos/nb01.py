"""Interactive figure of notebook 01 (the gradient of the NMF loss): gradient descent on H
with a learning-rate slider, showing slow convergence, divergence and negative entries.

Notebooks: 01.
"""
from __future__ import annotations

import numpy as np

from .. import plot
from ..factorization import nmf, nmf_gd
from ..widgets import InteractiveFigure, iterations_slider, selection_slider, toggle

__all__ = ["toy_problem", "reference_losses", "gradient_descent_widget",
           "gradient_descent_figure", "GD_LEARNING_RATES"]


def toy_problem():
    """The toy problem of notebooks 01 and 02: ``V, W, H0`` (and ``W_true, H_true``).

    A 12 × 16 "spectrogram" of two harmonic tones an octave apart (tone 1 with partials at
    bins 2, 4, 6, 8, 10; tone 2 at bins 4, 8), ``V = W_true H_true`` plus a little nonnegative
    noise; ``W`` is a slightly wrong copy of ``W_true`` (the fixed templates), ``H0`` a random
    initial activation matrix. The notebooks build the same matrices in a visible cell.

    Notebooks: 01.

    Returns
    -------
    dict with ``V`` (12 × 16), ``W`` (12 × 2), ``H0`` (2 × 16), ``W_true``, ``H_true``.
    """
    K, N, R = 12, 16, 2
    rng = np.random.default_rng(1)
    W_true = np.zeros((K, R))
    W_true[[2, 4, 6, 8, 10], 0] = [1.0, 0.6, 0.4, 0.3, 0.2]
    W_true[[4, 8], 1] = [1.0, 0.5]
    H_true = np.zeros((R, N))
    H_true[0, 1:9] = np.linspace(1.0, 0.3, 8)
    H_true[1, 6:15] = np.linspace(0.9, 0.2, 9)
    V = W_true @ H_true + 0.05 * rng.random((K, N))
    W = W_true + 0.1 * rng.random((K, R))
    H0 = np.random.default_rng(0).random((R, N))
    return dict(V=V, W=W, H0=H0, W_true=W_true, H_true=H_true)


def gradient_descent_widget(V=None, W=None, H0=None, *, gamma: float = 0.3, n_iter: int = 100,
                            project: bool = False, reference=None, **kwargs):
    """Notebook 01's interactive figure: gradient descent on H (W fixed) with sliders for the
    learning rate γ and the iterations and a projection toggle.

    A thin wrapper of :func:`nmfedu.gradient_descent_figure` with the notebook's
    defaults: the toy problem (:func:`toy_problem`) and, as reference levels, the best loss of
    any H (2000 gradient steps, γ = 0.3) and of a nonnegative H (5000 multiplicative updates).
    Each refresh runs :func:`nmfedu.nmf_gd` with ``fix_W=True`` (the seeds' convention: the
    factor 2 of the gradient is absorbed into γ) — milliseconds, so no Run button.

    Parameters
    ----------
    V, W, H0 : ndarray, optional
        Data (K × N), fixed templates (K × R), initial activations (R × N); default
        :func:`toy_problem`.
    gamma, n_iter, project
        Initial control values.
    reference : dict, optional
        Label → loss level drawn as a horizontal line; default the two best losses above.
    **kwargs
        Passed to :func:`nmfedu.gradient_descent_figure`.

    Returns
    -------
    nmfedu.widgets.InteractiveFigure

    Notebooks: 01 (Section 8; also ``benchmarks/bench_widgets.py``).
    """
    if V is None or W is None or H0 is None:
        toy = toy_problem()
        V, W, H0 = toy["V"], toy["W"], toy["H0"]
    if reference is None:
        reference = reference_losses(V, W, H0)
    return gradient_descent_figure(V, W, H0, gamma=gamma, n_iter=n_iter, project=project,
                                           reference=reference, **kwargs)


def reference_losses(V, W, H0):
    """The best loss ‖V − WH‖² over all H and over nonnegative H, for W fixed.

    Any H: 2000 steps of gradient descent with γ = 0.3 (converged on the toy problem);
    H ≥ 0: 5000 multiplicative updates. Returns ``{"best H (any sign)": ..., "best H ≥ 0": ...}``.

    Notebooks: 01.
    """
    R = np.asarray(W).shape[1]
    best_any = nmf_gd(V, R, W0=W, H0=H0, n_iter=2000, lr_H=0.3, fix_W=True, project=False).loss[-1]
    best_nonneg = nmf(V, R, W0=W, H0=H0, n_iter=5000, tol=0, fix_W=True).loss[-1]
    return {"best H (any sign)": float(best_any), "best H ≥ 0": float(best_nonneg)}


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
        Passed to :class:`nmfedu.widgets.InteractiveFigure`.

    Returns
    -------
    InteractiveFigure

    Notebooks: 01 (section "Try it: learning rate, iterations, projection").
    """
    V, W, H0 = (np.asarray(a, dtype=float) for a in (V, W, H0))
    gammas = tuple(float(g) for g in gammas)
    if gamma not in gammas:
        raise ValueError(f"gamma must be one of {gammas}, got {gamma}")
    reference = dict(reference or {})
    controls = {
        "gamma": selection_slider("Learning rate γ", gammas, float(gamma)),
        "n_iter": iterations_slider(n_iter),
        "project": toggle("Project onto H ≥ 0", project,
                          "set negative entries of H to 0 after every step"),
    }

    def compute(gamma, n_iter, project, V, W, H0):
        res = nmf_gd(V, W.shape[1], W0=W, H0=H0, n_iter=n_iter, lr_H=gamma, fix_W=True,
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
