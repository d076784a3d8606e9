"""Interactive figures of notebook 02 (multiplicative updates): NMF with random
initialisation, with sliders for the rank R, the number of iterations and the seed, on the
toy matrix and on the toy piano recording."""
from __future__ import annotations

import numpy as np

from .. import data, spectrogram, widgets

__all__ = ["toy_nmf_widget", "piano_nmf_widget", "piano_spectrogram"]


def piano_spectrogram():
    """The toy piano recording (:data:`nmfedu.data.TOY`) and its magnitude spectrogram ``V``."""
    piece = data.load(data.TOY)
    return piece, spectrogram.magnitude(piece.x)


def toy_nmf_widget(V=None, *, R: int = 2, n_iter: int = 100, seed: int = 0, **kwargs):
    """NMF of the toy matrix of notebooks 01–02 with rank, iterations and seed sliders
    (:func:`nmfedu.widgets.nmf_figure`, index axes, ranks 1–6).

    ``V`` defaults to :func:`nmfedu.demos.nb01.toy_problem`'s. Used by notebook 02, Section 6,
    and ``benchmarks/bench_widgets.py``.
    """
    if V is None:
        from .nb01 import toy_problem
        V = toy_problem()["V"]
    kwargs.setdefault("title", "NMF of the toy matrix, random initialisation")
    return widgets.nmf_figure(V, R=R, n_iter=n_iter, seed=seed, max_rank=6, sr=None, **kwargs)


def piano_nmf_widget(V=None, notes=None, *, R: int = 5, n_iter: int = 200, seed: int = 0,
                     **kwargs):
    """NMF of the toy piano recording with rank, iterations and seed sliders
    (:func:`nmfedu.widgets.nmf_figure`: seconds, Hz up to 2500, log display, templates
    labelled with the pitch they follow, float32, ranks 1–8).

    ``V`` and ``notes`` default to :func:`piano_spectrogram` (computed once, here or by the
    notebook). Used by notebook 02, Section 7, and ``benchmarks/bench_widgets.py``.
    """
    if V is None or notes is None:
        piece, V_piece = piano_spectrogram()
        V = V_piece if V is None else V
        notes = piece.notes if notes is None else notes
    kwargs.setdefault("title", "NMF of the piano recording, random initialisation")
    return widgets.nmf_figure(V, R=R, n_iter=n_iter, seed=seed, max_rank=8, sr=spectrogram.SR,
                              fmax=2500, log=True, notes=notes, dtype=np.float32, **kwargs)
