"""Interactive figure of notebook 01 (the gradient of the NMF loss): gradient descent on H
with a learning-rate slider, showing slow convergence, divergence and negative entries."""
from __future__ import annotations

import ipywidgets
import numpy as np

from .. import plot, widgets
from ..factorization import nmf_gd

__all__ = ["toy_problem", "LEARNING_RATES", "gradient_descent_widget"]

#: Learning rates offered by :func:`gradient_descent_widget`: readable values from 0.001 to 1,
#: with fine steps near 0.74, where gradient descent on :func:`toy_problem` starts to diverge.
LEARNING_RATES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.75, 0.8, 1.0)


def toy_problem():
    """The toy problem of notebooks 01 and 02: ``V, W, H0`` (and ``W_true, H_true``).

    A 12 × 16 "spectrogram" of two harmonic tones an octave apart (tone 1 with partials at
    bins 2, 4, 6, 8, 10; tone 2 at bins 4, 8), ``V = W_true H_true`` plus a little nonnegative
    noise; ``W`` is a slightly wrong copy of ``W_true`` (the fixed templates), ``H0`` a random
    initial activation matrix. The notebooks build the same matrices in a visible cell.

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
                            project: bool = False, reference=None, figsize=(10.0, 3.6), **kwargs):
    """Gradient descent on H (W fixed): learning rate, iterations, projection.

    Controls: ``gamma`` (one of :data:`LEARNING_RATES`), ``n_iter``
    (:func:`nmfedu.widgets.iterations_slider`) and ``project`` (toggle: set negative entries
    to 0 after each step). Left: the loss ‖V − WH‖² per iteration (log scale), with optional
    reference levels (dashed, dotted); right: H after the last iteration in a signed colour
    map (blue < 0 < red), every negative entry marked with ×, and their count in the title.

    Each refresh runs :func:`nmfedu.nmf_gd` with ``fix_W=True`` (the seeds' convention: the
    factor 2 of the gradient is absorbed into γ) — a few milliseconds on the toy problem, so
    the figure follows the slider without a Run button.

    Parameters
    ----------
    V, W, H0 : ndarray, optional
        Data (K × N), fixed templates (K × R), initial activations (R × N); default
        :func:`toy_problem`.
    gamma, n_iter, project
        Initial control values (``n_iter`` one of :data:`nmfedu.widgets.ITERATION_STEPS`).
    reference : dict, optional
        Label → loss value, drawn as horizontal lines (e.g. the best nonnegative H).
    figsize : (float, float)
    **kwargs
        Passed to :class:`nmfedu.widgets.InteractiveFigure` (e.g. ``title``).

    Returns
    -------
    nmfedu.widgets.InteractiveFigure

    Used by notebook 01 (Section 8) and ``benchmarks/bench_widgets.py``.
    """
    if V is None or W is None or H0 is None:
        toy = toy_problem()
        V, W, H0 = toy["V"], toy["W"], toy["H0"]
    V, W, H0 = (np.asarray(A, dtype=float) for A in (V, W, H0))
    R = W.shape[1]
    options = tuple(sorted(set(LEARNING_RATES) | {float(gamma)}))
    gamma_control = ipywidgets.SelectionSlider(
        options=options, value=float(gamma), description="Learning rate γ",
        continuous_update=False, style={"description_width": "initial"},
        layout=ipywidgets.Layout(width="300px"))
    controls = {"gamma": gamma_control, "n_iter": widgets.iterations_slider(n_iter),
                "project": widgets.toggle("Project onto H ≥ 0", project,
                                          "set negative entries of H to 0 after each step")}
    reference = dict(reference or {})
    name = "gradient descent"

    def compute(gamma, n_iter, project, V, W, H0):
        res = nmf_gd(V, R, W0=W, H0=H0, n_iter=n_iter, lr_H=gamma, fix_W=True, project=project)
        return dict(loss=res.loss, H=res.H, gamma=gamma, n_iter=res.n_iter,
                    diverged=res.diverged, initial=res.initial_loss)

    def curve(data):
        return (np.arange(len(data["loss"]) + 1), np.r_[data["initial"], data["loss"]])

    def signed(H):
        Hs = np.where(np.isfinite(H), H, np.nan)
        m = float(np.nanmax(np.abs(Hs))) if np.isfinite(Hs).any() else 1.0
        return Hs, (-(m or 1.0), m or 1.0)

    def titles(data, h):
        H = data["H"]
        last = data["loss"][-1] if len(data["loss"]) else data["initial"]
        state = "diverged (inf)" if data["diverged"] or not np.isfinite(last) else f"{last:.3g}"
        h["ax_loss"].set_title(f"γ = {data['gamma']:g}: loss after {data['n_iter']} iterations "
                               f"{state}")
        h["ax_H"].set_title(f"H after {data['n_iter']} iterations: {int(np.sum(H < 0))} of "
                            f"{H.size} entries negative (min {np.nanmin(H):.2g})")

    def limits(data, h):
        finite = np.r_[data["initial"], data["loss"][np.isfinite(data["loss"])]]
        lo = min([finite.min(), *reference.values()])
        h["ax_loss"].set_ylim(max(lo / 2, 1e-12), finite.max() * 2)
        h["ax_loss"].set_xlim(0, max(1, len(data["loss"])))

    def setup(fig, data):
        gs = fig.add_gridspec(1, 2, width_ratios=[1.0, 1.5])
        ax_loss, ax_H = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
        _, _, lines = plot.plot_loss({name: curve(data)}, ax=ax_loss, legend=False, start=0,
                                     ylabel="Loss ‖V − WH‖²")
        for i, (label, value) in enumerate(reference.items()):
            ax_loss.axhline(value, color=plot.GROUP_COLORS[(i + 1) % len(plot.GROUP_COLORS)],
                            linestyle=("--", ":", "-.")[i % 3], linewidth=1.2, label=label)
        ax_loss.legend(frameon=False, loc="upper right")
        Hs, clim = signed(data["H"])
        _, _, im = plot.plot_matrix(Hs, "H", ax=ax_H, sr=None, cmap=plot.SIGNED_CMAP, clim=clim,
                                    cbar_label="value (blue < 0)")
        rows, cols = np.nonzero(Hs < 0)
        marks = ax_H.scatter(cols, rows, marker="x", color="black", s=30, linewidths=1.2)
        h = dict(ax_loss=ax_loss, ax_H=ax_H, lines=lines, im=im, marks=marks)
        limits(data, h)
        titles(data, h)
        return h

    def draw(h, data):
        plot.update_lines(h["lines"], {name: curve(data)}, start=0)
        limits(data, h)
        Hs, clim = signed(data["H"])
        plot.update_image(h["im"], Hs, clim=clim)
        rows, cols = np.nonzero(Hs < 0)
        h["marks"].set_offsets(np.c_[cols, rows] if len(rows) else np.empty((0, 2)))
        titles(data, h)

    kwargs.setdefault("title", "Gradient descent on H (W fixed)")
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup,
                                     fixed=dict(V=V, W=W, H0=H0), figsize=figsize, **kwargs)
