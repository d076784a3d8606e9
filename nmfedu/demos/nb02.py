"""Interactive figures of notebook 02 (multiplicative updates): NMF with random
initialisation, with sliders for the rank R, the number of iterations and the seed, on the
toy matrix and on the toy piano recording."""
from __future__ import annotations

import numpy as np

from .. import data, plot, spectrogram, widgets
from ..factorization import nmf

__all__ = ["nmf_widget", "toy_nmf_widget", "piano_nmf_widget", "piano_spectrogram"]


def piano_spectrogram():
    """The toy piano recording (:data:`nmfedu.data.TOY`) and its magnitude spectrogram ``V``."""
    piece = data.load(data.TOY)
    return piece, spectrogram.magnitude(piece.x)


def nmf_widget(V, *, R: int = 2, n_iter: int = 100, seed: int = 0, max_rank: int = 8,
               sr=None, fmax=None, log: bool = False, notes=None, dtype=None,
               figsize=(10.0, 5.4), **kwargs):
    """NMF by multiplicative updates from a random initialisation: rank, iterations, seed.

    Controls: ``R`` (:func:`nmfedu.widgets.rank_slider`, 1 … ``max_rank``), ``n_iter``
    (:func:`nmfedu.widgets.iterations_slider`) and ``seed``
    (:func:`nmfedu.widgets.seed_slider`). The figure is
    :func:`nmfedu.plot.plot_decomposition` of the learnt ``W`` and ``H`` with ``V``, the model
    ``WH`` (on V's colour scale) and the loss per iteration (log scale), updated in place; the
    title gives the loss ‖V − WH‖² relative to ‖V‖². With a score (``notes``), every template
    is labelled with the pitch its activation row follows
    (:func:`nmfedu.exercises.nb02.template_pitches`): with a random initialisation that
    labelling changes with the seed.

    ``V`` is computed once by the caller and passed in; each refresh runs
    :func:`nmfedu.nmf` with ``tol=0`` (exactly ``n_iter`` iterations).

    Parameters
    ----------
    V : ndarray, shape (K, N)
    R, n_iter, seed, max_rank
        Initial control values and the largest rank offered.
    sr, fmax, log
        Passed to :func:`nmfedu.plot.plot_decomposition` (``sr=None``: index axes).
    notes : DataFrame, optional
        The score, to label each template with the pitch it follows.
    dtype : None or numpy.float32
        Working precision of the factorisation (float32 is about twice as fast).
    figsize : (float, float)
    **kwargs
        Passed to :class:`nmfedu.widgets.InteractiveFigure` (e.g. ``run_button=True``).

    Returns
    -------
    nmfedu.widgets.InteractiveFigure

    Used by notebook 02 (Sections 6 and 7) and ``benchmarks/bench_widgets.py``.
    """
    V = np.asarray(V, dtype=float)
    norm2 = float(np.sum(V ** 2)) or 1.0
    controls = {"R": widgets.rank_slider(R, 1, max_rank), "n_iter": widgets.iterations_slider(n_iter),
                "seed": widgets.seed_slider(seed)}
    name = "multiplicative"

    def compute(R, n_iter, seed, V):
        res = nmf(V, R, n_iter=n_iter, seed=seed, tol=0, dtype=dtype)
        W, H = res.W.astype(float), res.H.astype(float)
        labels = None
        if notes is not None:
            from ..exercises.nb02 import template_pitches
            labels = [f"{r}: {plot.pitch_label(p)}" for r, (p, _) in
                      enumerate(template_pitches(H, notes))]
        return dict(W=W, H=H, WH=W @ H, loss=np.r_[res.initial_loss, res.loss], R=R,
                    n_iter=n_iter, seed=seed, labels=labels)

    def decorate(h, d):
        h["fig"].suptitle(f"R = {d['R']}, {d['n_iter']} iterations, seed {d['seed']}: "
                          f"‖V − WH‖² / ‖V‖² = {d['loss'][-1] / norm2:.4f}")
        if d["labels"] is not None:
            pos = np.arange(d["R"])
            h["axes"]["H"].set_yticks(pos, d["labels"])
            h["axes"]["W"].set_xticks(pos, d["labels"], rotation=90)
            h["axes"]["H"].set_ylabel("Template")
            h["axes"]["W"].set_xlabel("Template (pitch it follows)")

    def setup(fig, d):
        _, axes, images = plot.plot_decomposition(
            V, d["W"], d["H"], WH=d["WH"], sr=sr, fmax=fmax, log=log, fig=fig,
            loss={name: d["loss"]}, titles={"loss": "Loss per iteration"},
            loss_kwargs=dict(start=0, legend=False, ylabel="‖V − WH‖²"))
        h = dict(fig=fig, axes=axes, images=images)
        decorate(h, d)
        return h

    def draw(h, d):
        images = h["images"]
        plot.update_image(images["W"], d["W"])
        plot.update_image(images["H"], d["H"])
        plot.update_image(images["WH"], d["WH"], clim=images["V"].get_clim())
        plot.update_lines(images["loss"], {name: d["loss"]}, start=0)
        decorate(h, d)

    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(V=V),
                                     figsize=figsize, **kwargs)


def toy_nmf_widget(V=None, *, R: int = 2, n_iter: int = 100, seed: int = 0, **kwargs):
    """:func:`nmf_widget` on the toy matrix of notebooks 01–02 (index axes, ranks 1–6).

    ``V`` defaults to :func:`nmfedu.demos.nb01.toy_problem`'s. Used by notebook 02, Section 6,
    and ``benchmarks/bench_widgets.py``.
    """
    if V is None:
        from .nb01 import toy_problem
        V = toy_problem()["V"]
    kwargs.setdefault("title", "NMF of the toy matrix, random initialisation")
    return nmf_widget(V, R=R, n_iter=n_iter, seed=seed, max_rank=6, sr=None, **kwargs)


def piano_nmf_widget(V=None, notes=None, *, R: int = 5, n_iter: int = 200, seed: int = 0,
                     **kwargs):
    """:func:`nmf_widget` on the toy piano recording (seconds, Hz up to 2500, log display,
    templates labelled with the pitch they follow, float32, ranks 1–8).

    ``V`` and ``notes`` default to :func:`piano_spectrogram` (computed once, here or by the
    notebook). Used by notebook 02, Section 7, and ``benchmarks/bench_widgets.py``.
    """
    if V is None or notes is None:
        piece, V_piece = piano_spectrogram()
        V = V_piece if V is None else V
        notes = piece.notes if notes is None else notes
    kwargs.setdefault("title", "NMF of the piano recording, random initialisation")
    kwargs.setdefault("figsize", (11.0, 5.6))
    return nmf_widget(V, R=R, n_iter=n_iter, seed=seed, max_rank=8, sr=spectrogram.SR,
                      fmax=2500, log=True, notes=notes, dtype=np.float32, **kwargs)
