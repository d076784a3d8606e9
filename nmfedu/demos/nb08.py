"""Figures of notebook 08 (loss against epochs): the seeds' log–log comparison of NAE
(additive), NAE (multiplicative) and NMF (multiplicative), loss against wall-clock time,
the loss table, resynthesis of the reconstructions and the interactive comparison."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import data, nae, plot, spectrogram, widgets

#: Colours and line styles of the three curves (the seeds' legend order).
COLORS = {"NAE (additive)": "#1f77b4", "NAE (multiplicative)": "#d62728",
          "NMF (multiplicative)": "#2ca02c"}
STYLES = {"NAE (additive)": "-", "NAE (multiplicative)": "-", "NMF (multiplicative)": "--"}
EPOCH_LABEL = "Number of training iterations (epochs)"
LOSS_LABEL = "Loss $\\|V - \\hat V\\|^2$"


def piece_spectrogram(bins: int | None = 512, frames: int | None = None):
    """Magnitude spectrogram of the series' default piece, cut to the first ``bins``
    frequency bins and ``frames`` frames; returns ``(V, X, piece)`` with ``X`` the full
    complex STFT (all bins and frames, for resynthesis)."""
    piece = data.load(data.DEFAULT_PIECE)
    X = spectrogram.stft(piece.x)
    V = np.abs(X)[:bins, :frames]
    return np.ascontiguousarray(V), X, piece


def epoch_curves(cmp, start: int = 1):
    """dict name -> loss after epochs ``start`` … n_epochs (index 0 of a
    :class:`nmfedu.nae.Comparison` curve is the common initialisation)."""
    return {name: np.asarray(c)[start:] for name, c in cmp.curves.items()}


def time_curves(cmp):
    """dict name -> (seconds, loss) after each epoch, for the loss against wall-clock time.

    The NAE runs record the time after every epoch; :func:`nmfedu.nmf` reports only its
    total, which is spread evenly over the iterations (each costs the same).
    """
    out = {}
    for name, c in cmp.curves.items():
        res = cmp.results[name]
        times = getattr(res, "times", None)
        if times is not None and len(times) == len(c) - 1:
            t = np.asarray(times, dtype=float)
        else:
            n = len(c) - 1
            t = cmp.times[name] * np.arange(1, n + 1) / n
        out[name] = (t, np.asarray(c)[1:])
    return out


def plot_comparison(cmp, axes=None, fig=None, title: bool = True):
    """Loss against epochs on log–log axes (the seeds' figure) and against wall-clock
    seconds, side by side. Returns ``(fig, axes, lines)`` with ``lines`` a pair of
    dicts for :func:`nmfedu.plot.update_lines`."""
    if axes is None:
        if fig is None:
            fig = plot.figure(figsize=(11.0, 3.8))
        axes = fig.subplots(1, 2, sharey=True)
    fig = axes[0].figure
    _, _, lines_e = plot.plot_loss(epoch_curves(cmp), ax=axes[0], logx=True, start=1,
                                   xlabel=EPOCH_LABEL, ylabel=LOSS_LABEL, colors=COLORS,
                                   styles=STYLES)
    _, _, lines_t = plot.plot_loss(time_curves(cmp), ax=axes[1], xlabel="Wall-clock time (s)",
                                   ylabel=LOSS_LABEL, colors=COLORS, styles=STYLES)
    axes[0].set_xlim(1, len(cmp.epochs) - 1)
    if axes[1].get_shared_y_axes().joined(axes[0], axes[1]):
        axes[1].set_ylabel("")                      # the left panel's loss axis holds
        axes[1].tick_params(axis="y", which="both", labelleft=False)
    if title:
        axes[0].set_title("Loss against epochs (log–log)")
        axes[1].set_title("Loss against wall-clock time")
    return fig, axes, (lines_e, lines_t)


def loss_table(cmp, V=None, epochs=(10, 100, 1000)):
    """Losses after ``epochs`` (3 significant digits, as strings so that a notebook prints
    the same text on every run), one row per curve; with ``V`` also the last loss relative
    to ``‖V‖²`` (the loss of an output that is zero everywhere)."""
    V2 = None if V is None else float(np.sum(np.asarray(V, dtype=float) ** 2))
    rows = {}
    for name, c in cmp.curves.items():
        rows[name] = {f"epoch {e}": f"{c[e]:.3g}" for e in epochs if e < len(c)}
    table = pd.DataFrame(rows).T
    table.index.name = "curve"
    if V2:
        table[f"epoch {len(cmp.epochs) - 1} / ‖V‖²"] = [f"{c[-1] / V2:.3g}" for c in cmp.curves.values()]
    return table


def resynthesize(V_hat, X, length: int):
    """Signal of a (cut) magnitude estimate ``V_hat`` with the phase of the mixture STFT
    ``X``; bins above ``V_hat``'s are set to zero. Not normalised."""
    K = V_hat.shape[0]
    M = np.zeros(X.shape)
    M[:K, :V_hat.shape[1]] = V_hat
    return spectrogram.istft(M * np.exp(1j * np.angle(X)), length=length)


def widget_spectrogram():
    """The smaller spectrogram of the interactive comparison: first 256 bins (0 … 2.75 kHz)
    and first 280 frames (6.5 s) of the default piece — an eighth of the notebook's
    main computation per epoch at R = 16, so 200 epochs of all three take about a second."""
    return piece_spectrogram(bins=256, frames=280)[0]


def comparison_widget(V=None, R: int = 16, n_epochs: int = 200, lr: float = 1e-7,
                      adaptive: bool = True, seed: int = 0):
    """Learning rate (or the adaptive Lipschitz step) of the additive NAE, R and epochs,
    behind a Run button; redraws the three curves against epochs (log–log) and wall-clock.

    The multiplicative NAE and NMF do not depend on the learning rate: for each (R, epochs)
    they are computed once (with :func:`nmfedu.nae.compare`) and kept, so changing γ
    retrains only the additive NAE from the same initialisation.
    Used by notebook 08 and ``benchmarks/bench_widgets.py``.
    """
    if V is None:
        V = widget_spectrogram()
    references = {}

    def compute(R, lr, adaptive, n_epochs, V):
        rate = "lipschitz" if adaptive else lr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key = (R, n_epochs)
            if key not in references:
                cmp = nae.compare(V, R, n_epochs=n_epochs, lr=rate, seed=seed)
                references[key] = cmp
                return cmp
            ref = references[key]
            base = ref.results["NAE (additive)"]
            res = nae.fit(V, R, rule="additive", n_epochs=n_epochs, lr=rate, W_D0=base.W_D0,
                          W_E0=base.W_E0)
        curves = dict(ref.curves)
        curves["NAE (additive)"] = nae.pad_curve(res.curve, n_epochs + 1)
        results = dict(ref.results)
        results["NAE (additive)"] = res
        times = dict(ref.times)
        times["NAE (additive)"] = res.runtime
        return nae.Comparison(epochs=ref.epochs, curves=curves, times=times, results=results,
                              params={**ref.params, "lr": rate})

    def setup(fig, cmp):
        return plot_comparison(cmp, fig=fig, title=False)[2]

    def draw(lines, cmp):
        lines_e, lines_t = lines
        plot.update_lines(lines_e, epoch_curves(cmp), start=1)
        plot.update_lines(lines_t, time_curves(cmp))
        lines_e["NAE (additive)"].axes.set_xlim(1, len(cmp.epochs) - 1)

    controls = {
        "R": widgets.rank_slider(R, min=1, max=32),
        "lr": widgets.learning_rate_slider(lr, min=1e-9, max=1e-5,
                                           description="Learning rate γ (additive)"),
        "adaptive": widgets.toggle("adaptive γ (1/Lipschitz)", adaptive),
        "n_epochs": widgets.iterations_slider(n_epochs, options=(10, 20, 50, 100, 200, 500, 1000),
                                              description="Epochs"),
    }
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(V=V),
                                     run_button=True, figsize=(10.0, 3.8), freeze_layout=False,
                                     title="NAE (additive) vs NAE (multiplicative) vs NMF")
