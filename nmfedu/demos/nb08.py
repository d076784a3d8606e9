"""Figures of notebook 08 (loss against epochs): the seeds' log–log comparison of NAE
(additive), NAE (multiplicative) and NMF (multiplicative), loss against wall-clock time,
the loss table, resynthesis of the reconstructions and the interactive comparison.

Notebooks: 08.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import data, nae, plot, spectrogram, widgets
from .._lazy import lazy
from .._validation import check_dtype, check_matrix, check_positive_int
from ..factorization import nmf

pd = lazy("pandas")  # imported when the loss table is built, not in the first cell (issue 17)

# --------------------------------------------------------------------------- the experiment
#: Curve names of :func:`compare`, in the legend order of the seeds' figure.
CURVES = ("NAE (additive)", "NAE (multiplicative)", "NMF (multiplicative)")


@dataclass
class Comparison:
    """Loss curves of :func:`compare` (the data of the seeds' log–log figure).

    Notebooks: 08.

    Attributes
    ----------
    epochs : ndarray (n_epochs + 1,)
        0, 1, …, n_epochs.
    curves : dict name -> ndarray (n_epochs + 1,)
        ``‖V − V̂‖²`` after each epoch (index 0: the common initialisation) for
        ``"NAE (additive)"``, ``"NAE (multiplicative)"``, ``"NMF (multiplicative)"``.
        A curve that stopped early (non-finite loss) is padded with NaN.
    times : dict name -> float
        Wall-clock seconds of each training run.
    results : dict name -> NAEResult or NMF result
    params : dict
    """

    epochs: np.ndarray
    curves: dict
    times: dict
    results: dict
    params: dict = field(default_factory=dict)

    def loss_at(self, epoch):
        """dict name -> loss after ``epoch`` epochs."""
        return {name: float(c[epoch]) for name, c in self.curves.items()}

    def crossing(self, name="NAE (multiplicative)", reference="NAE (additive)", at=None):
        """First epoch at which curve ``name`` reaches ``reference``'s loss after
        ``at`` epochs (default: its last epoch); None if never."""
        ref = self.curves[reference]
        level = ref[-1] if at is None else ref[at]
        return crossing_epoch(self.curves[name], level)


def crossing_epoch(curve, level):
    """First index ``e`` with ``curve[e] <= level`` (None if there is none).

    Notebooks: 08.

    Examples
    --------
    >>> crossing_epoch([5.0, 3.0, 2.0, 1.0], 2.5)
    2
    """
    c = np.asarray(curve, dtype=float)
    idx = np.flatnonzero(c <= float(level))
    return int(idx[0]) if idx.size else None


def compare(V, R, n_epochs=1000, lr="lipschitz", M_H=None, W_E0=None, W_D0=None, seed=0,
            *, dtype=None):
    """Loss per epoch of NAE (additive), NAE (multiplicative) and NMF (multiplicative).

    All three start from the same model output: the NAEs from ``(W_E0, W_D0)``
    (random and rescaled, see :func:`nmfedu.nae.init_random`, unless given), NMF from
    ``W0 = W_D0`` and ``H0 = max(W_E0 V, 0) ⊙ M_H`` — the NAE's initial code —
    so every curve starts at the same loss. NMF runs :func:`nmfedu.nmf` with the
    Frobenius loss and no early stop (``tol=0``); zeros of ``H0`` (masked
    entries) stay zero under its multiplicative updates, like the NAE's mask.

    One NMF iteration (update of ``H`` and ``W``) counts as one epoch. The loss
    is ``‖V − V̂‖²`` for all three (no ½), so the curves are comparable; plot
    them on log–log axes against epochs 10⁰ … 10³ as in the seeds' figure.

    Parameters
    ----------
    V : ndarray (K, N)
    R : int
    n_epochs : int
    lr : float or "lipschitz"
        Learning rate of the additive NAE (see :func:`nmfedu.nae.fit`).
    M_H, W_E0, W_D0 : optional
        As in :func:`nmfedu.nae.fit`.
    seed : int or None
        Seed of the common random initialisation.
    dtype : optional
        Working precision of the NAEs.

    Returns
    -------
    Comparison

    Cost: two NAE runs at five and one NMF run at two V-sized products per
    epoch; on a subsampled spectrogram (e.g. K = 513 bins, N = 600 frames,
    R = 32) 1000 epochs of all three take a few seconds (see
    ``benchmarks/nae_comparison.py``).

    Notebooks: 08 (the main figure, exercises 2 and 3, the interactive comparison).

    Examples
    --------
    >>> V = np.random.default_rng(0).random((30, 40))
    >>> cmp = compare(V, 3, n_epochs=20)
    >>> list(cmp.curves) == list(CURVES), len(cmp.epochs)
    (True, 21)
    >>> len({round(float(c[0]), 9) for c in cmp.curves.values()})  # one common start
    1
    """
    dt = check_dtype(dtype)
    V = check_matrix(V, "V", dtype=dt, copy=True)
    n_epochs = check_positive_int(n_epochs, "n_epochs")
    if W_D0 is None or W_E0 is None:
        R = check_positive_int(R, "R")
    if W_D0 is None and W_E0 is None:
        W_E0, W_D0 = nae.init_random(V, R, M_H=M_H, seed=seed, dtype=dt)
    elif W_E0 is None or W_D0 is None:
        probe = nae.fit(V, R, n_epochs=0, W_E0=W_E0, W_D0=W_D0, M_H=M_H, seed=seed, dtype=dt)
        W_E0, W_D0 = probe.W_E0, probe.W_D0
    results, curves, times = {}, {}, {}
    for name, rule in zip(CURVES[:2], nae.RULES):
        res = nae.fit(V, R, rule=rule, n_epochs=n_epochs, lr=lr, W_E0=W_E0, W_D0=W_D0, M_H=M_H,
                      dtype=dt)
        results[name] = res
        times[name] = res.runtime
        curves[name] = pad_curve(res.curve, n_epochs + 1)
    H0 = np.maximum(np.asarray(W_E0, dtype=dt) @ V, 0)
    if results[CURVES[1]].M_H is not None:
        H0 = H0 * results[CURVES[1]].M_H
    W0 = np.array(W_D0, dtype=dt)
    nres = nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_epochs, tol=0, seed=seed, dtype=dt)
    times[CURVES[2]] = nres.runtime
    results[CURVES[2]] = nres
    curves[CURVES[2]] = pad_curve(np.concatenate([[nres.initial_loss], nres.loss]), n_epochs + 1)
    params = dict(K=V.shape[0], N=V.shape[1], R=int(np.shape(W0)[1]), n_epochs=n_epochs,
                  lr=lr, seed=seed, masked=M_H is not None, dtype=str(dt))
    return Comparison(epochs=np.arange(n_epochs + 1), curves=curves, times=times,
                      results=results, params=params)


def pad_curve(curve, n):
    """A loss curve cut or padded with NaN to length ``n`` (curves that stopped
    early line up with full ones).

    Notebooks: 08.

    Examples
    --------
    >>> pad_curve([3.0, 2.0], 4).tolist()
    [3.0, 2.0, nan, nan]
    """
    c = np.asarray(curve, dtype=float)[:n]
    if c.size < n:
        c = np.concatenate([c, np.full(n - c.size, np.nan)])
    return c


#: Colours and line styles of the three curves (the seeds' legend order).
COLORS = {"NAE (additive)": "#1f77b4", "NAE (multiplicative)": "#d62728",
          "NMF (multiplicative)": "#2ca02c"}
STYLES = {"NAE (additive)": "-", "NAE (multiplicative)": "-", "NMF (multiplicative)": "--"}
EPOCH_LABEL = "Number of training iterations (epochs)"
LOSS_LABEL = "Loss $\\|V - \\hat V\\|^2$"


def epoch_curves(cmp, start: int = 1):
    """dict name -> loss after epochs ``start`` … n_epochs (index 0 of a
    :class:`Comparison` curve is the common initialisation).

    Notebooks: 08.
    """
    return {name: np.asarray(c)[start:] for name, c in cmp.curves.items()}


def time_curves(cmp):
    """dict name -> (seconds, loss) after each epoch, for the loss against wall-clock time.

    The NAE runs record the time after every epoch; :func:`nmfedu.nmf` reports only its
    total, which is spread evenly over the iterations (each costs the same).

    Notebooks: 08.
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
    dicts for :func:`nmfedu.plot.update_lines`.

    Notebooks: 08.
    """
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
    to ``‖V‖²`` (the loss of an output that is zero everywhere).

    Notebooks: 08.
    """
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
    ``X``; bins above ``V_hat``'s are set to zero. Not normalised.

    Notebooks: 08.
    """
    K = V_hat.shape[0]
    M = np.zeros(X.shape)
    M[:K, :V_hat.shape[1]] = V_hat
    return spectrogram.istft(M * np.exp(1j * np.angle(X)), length=length)


def widget_spectrogram():
    """The smaller spectrogram of the interactive comparison: first 256 bins (0 … 2.75 kHz)
    and first 280 frames (6.5 s) of the default piece — an eighth of the notebook's
    main computation per epoch at R = 16, so 200 epochs of all three take about a second.

    Notebooks: 08.
    """
    return data.load_spectrogram(data.DEFAULT_PIECE, bins=256, frames=280)[0]


def comparison_widget(V=None, R: int = 16, n_epochs: int = 200, lr: float = 1e-7,
                      adaptive: bool = True, seed: int = 0):
    """Learning rate (or the adaptive Lipschitz step) of the additive NAE, R and epochs,
    behind a Run button; redraws the three curves against epochs (log–log) and wall-clock.

    The multiplicative NAE and NMF do not depend on the learning rate: for each (R, epochs)
    they are computed once (with :func:`compare`) and kept, so changing γ
    retrains only the additive NAE from the same initialisation.
    Notebooks: 08 (also ``benchmarks/bench_widgets.py``).
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
                cmp = compare(V, R, n_epochs=n_epochs, lr=rate, seed=seed)
                references[key] = cmp
                return cmp
            ref = references[key]
            base = ref.results["NAE (additive)"]
            res = nae.fit(V, R, rule="additive", n_epochs=n_epochs, lr=rate, W_E0=base.W_E0,
                          W_D0=base.W_D0)
        curves = dict(ref.curves)
        curves["NAE (additive)"] = pad_curve(res.curve, n_epochs + 1)
        results = dict(ref.results)
        results["NAE (additive)"] = res
        times = dict(ref.times)
        times["NAE (additive)"] = res.runtime
        return Comparison(epochs=ref.epochs, curves=curves, times=times, results=results,
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
