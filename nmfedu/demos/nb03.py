"""Interactive figure of notebook 03 (constrained NMF): template, activation and onset
constraints switched on and off, with the tolerances as sliders.

Notebooks: 03.
"""
from __future__ import annotations

import numpy as np

from .. import constraints, data, plot, widgets
from ..factorization import init_random, nmf

__all__ = ["constraint_widget"]


def constraint_widget(V=None, notes=None, n_iter: int = 50):
    """The interactive figure of notebook 03: constrained NMF with toggles and tolerance sliders.

    Controls: toggles ``templates`` (harmonic template constraints), ``activations``
    (activation constraints of the pitch rows), ``onsets`` (onset templates) and sliders
    ``tolerance`` (pitch tolerance τ in semitones), ``onset_tol`` and ``offset_tol`` (s).
    Every change runs ``n_iter`` multiplicative updates from the initialisation of
    :func:`nmfedu.constraints.build_constraints` (``by=None``), in which a switched-off
    constraint is replaced by a random start (seeded) and switched-off onset templates by
    zero columns and rows (which stay zero). ``V`` (the spectrogram) is computed once.

    Parameters
    ----------
    V : ndarray (K, N), optional
        Magnitude spectrogram; default: of the toy recording.
    notes : DataFrame, optional
        Its note table; default: the toy's.

    Returns
    -------
    nmfedu.widgets.InteractiveFigure
        ``.update(tolerance=1.0)`` etc. drives it headless (``benchmarks/bench_widgets.py``).

    Notebooks: 03 (section 8, "Try it yourself").
    """
    if V is None or notes is None:
        V, _, piece = data.load_spectrogram(data.TOY)
        notes = piece.notes

    def compute(templates, activations, onsets, tolerance, onset_tol, offset_tol, V, notes):
        K, N = V.shape
        W0, H0, labels = constraints.build_constraints(notes, K, N, by=None, n_harmonics=25,
                                                       tolerance=tolerance, min_width=2.0,
                                                       onset_tol=onset_tol, offset_tol=offset_tol,
                                                       onset_templates=True, onset_shape="flat")
        pitch = (labels["kind"] == "pitch").to_numpy()
        W_rand, H_rand = init_random(V, W0.shape[1], seed=0, scale=float(V.mean()))
        if not templates:       # unconstrained pitch templates: random start, no zeros
            W0[:, pitch] = W_rand[:, pitch]
        if not activations:     # unconstrained pitch activations
            H0[pitch] = H_rand[pitch]
        if not onsets:          # onset templates off: a zero column and row stay zero
            W0[:, ~pitch] = 0.0
            H0[~pitch] = 0.0
        res = nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_iter, tol=0)
        WH = res.W @ res.H
        return dict(W=res.W, H=res.H, WH=WH, labels=labels,
                    error=float(np.linalg.norm(V - WH) / np.linalg.norm(V)))

    def draw(handles, data):
        for key in ("W", "H", "WH"):
            plot.update_image(handles["images"][key], data[key])
        handles["axes"]["WH"].set_title(f"Model WH (rel. error {data['error']:.3f})")

    def setup(fig, data):
        _, axes, images = plot.plot_decomposition(V, data["W"], data["H"], WH=data["WH"],
                                                  labels=data["labels"], fmax=3000, log=True,
                                                  fig=fig)
        handles = dict(axes=axes, images=images)
        draw(handles, data)
        return handles

    controls = {**widgets.constraint_toggles(templates=True, activations=True, onsets=True),
                "tolerance": widgets.pitch_tolerance_slider(0.5),
                "onset_tol": widgets.onset_tolerance_slider(0.1),
                "offset_tol": widgets.offset_tolerance_slider(0.5)}
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup,
                                     fixed=dict(V=V, notes=notes), figsize=(10.5, 5.2),
                                     title="Constrained NMF of the toy recording")
