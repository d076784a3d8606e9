"""Interactive figures of notebook 02 (multiplicative updates): NMF with random
initialisation, with sliders for the rank R, the number of iterations and the seed, on the
toy matrix and on the toy piano recording.

Notebooks: 02.
"""
from __future__ import annotations

import numpy as np

from .. import data, plot, spectrogram
from ..constraints import activation_constraints
from ..factorization import nmf
from ..widgets import InteractiveFigure, iterations_slider, rank_slider, seed_slider

__all__ = ["toy_nmf_widget", "piano_nmf_widget", "nmf_figure", "pitch_similarity",
           "template_pitches"]


def toy_nmf_widget(V=None, *, R: int = 2, n_iter: int = 100, seed: int = 0, **kwargs):
    """NMF of the toy matrix of notebooks 01–02 with rank, iterations and seed sliders
    (:func:`nmf_figure`, index axes, ranks 1–6).

    ``V`` defaults to :func:`nmfedu.demos.nb01.toy_problem`'s.

    Notebooks: 02 (Section 6; also ``benchmarks/bench_widgets.py``).
    """
    if V is None:
        from .nb01 import toy_problem
        V = toy_problem()["V"]
    kwargs.setdefault("title", "NMF of the toy matrix, random initialisation")
    return nmf_figure(V, R=R, n_iter=n_iter, seed=seed, max_rank=6, sr=None, **kwargs)


def piano_nmf_widget(V=None, notes=None, *, R: int = 5, n_iter: int = 200, seed: int = 0,
                     **kwargs):
    """NMF of the toy piano recording with rank, iterations and seed sliders
    (:func:`nmf_figure`: seconds, Hz up to 2500, log display, templates
    labelled with the pitch they follow, float32, ranks 1–8).

    ``V`` and ``notes`` default to the toy recording's (:func:`nmfedu.data.load_spectrogram`,
    computed once, here or by the notebook).

    Notebooks: 02 (Section 7; also ``benchmarks/bench_widgets.py``).
    """
    if V is None or notes is None:
        V_piece, _, piece = data.load_spectrogram(data.TOY)
        V = V_piece if V is None else V
        notes = piece.notes if notes is None else notes
    kwargs.setdefault("title", "NMF of the piano recording, random initialisation")
    return nmf_figure(V, R=R, n_iter=n_iter, seed=seed, max_rank=8, sr=spectrogram.SR,
                              fmax=2500, log=True, notes=notes, dtype=np.float32, **kwargs)


def pitch_similarity(H, notes, pitches=None, hop_length: int | None = None, sr: float | None = None):
    """How closely each activation row follows the notes of each pitch of the score.

    For every row ``r`` of ``H`` and every pitch ``p``, the cosine similarity between the row
    (the activation over time) and the score's piano-roll row of ``p`` (1 in the frames where a
    note of pitch ``p`` sounds, 0 elsewhere; :func:`nmfedu.constraints.activation_constraints`
    without tolerances). 1 means the row is active exactly while ``p`` sounds, with constant
    strength; a row that is active during the notes of two pitches is similar to both.

    Notebooks: 02.

    Parameters
    ----------
    H : ndarray, shape (R, N)
    notes : DataFrame
        Note table (``Start``, ``Duration``, ``Pitch``).
    pitches : sequence of int, optional
        Candidate pitches (default: the score's, ascending).
    hop_length, sr : optional
        STFT parameters (default: the series' convention).

    Returns
    -------
    pitches : list of int
    similarity : ndarray, shape (R, len(pitches)), values in [0, 1]
    """
    H = np.asarray(H, dtype=float)
    if pitches is None:
        pitches = sorted(int(p) for p in np.unique(notes["Pitch"]))
    hop_length = hop_length or spectrogram.HOP_LENGTH
    sr = sr or spectrogram.SR
    roll = activation_constraints(notes, pitches, H.shape[1], frame_res=hop_length / sr,
                                  onset_tol=0.0, offset_tol=0.0)
    tiny = np.finfo(float).tiny
    Hn = H / np.maximum(np.linalg.norm(H, axis=1, keepdims=True), tiny)
    Pn = roll / np.maximum(np.linalg.norm(roll, axis=1, keepdims=True), tiny)
    return [int(p) for p in pitches], np.clip(Hn @ Pn.T, 0.0, 1.0)


def template_pitches(H, notes, pitches=None, hop_length: int | None = None, sr: float | None = None):
    """Which pitch of the score each activation row follows, and how closely.

    The row follows the pitch whose piano-roll row it is most similar to
    (:func:`pitch_similarity`, cosine similarity in [0, 1]). Notebooks: 02 (Section 7 and
    exercise 3).

    Returns
    -------
    list of (pitch, similarity), one per row of H.
    """
    pitches, sim = pitch_similarity(H, notes, pitches, hop_length, sr)
    best = np.argmax(sim, axis=1)
    return [(pitches[b], float(sim[r, b])) for r, b in enumerate(best)]


def _pitch_labels_for(H, notes, sr, hop_length):
    """Label each row of H with the score pitch it follows (similarity > 0.3), else ``'r: ?'``."""
    pitches, sim = pitch_similarity(H, notes, hop_length=hop_length, sr=sr)
    labels = []
    for r in range(H.shape[0]):
        j = int(np.argmax(sim[r]))
        labels.append(f"≈ {plot.pitch_label(pitches[j])}" if sim[r, j] > 0.3 else f"{r}: ?")
    return labels


def nmf_figure(V, *, R: int = 2, n_iter: int = 100, seed: int = 0, max_rank: int = 6,
               sr=plot.SR, hop_length: int = plot.HOP_LENGTH, n_fft: int = plot.N_FFT, fmax=None,
               log: bool = False, log_factor: float = 1.0, notes=None, dtype=None,
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
    sr, hop_length, n_fft, fmax, log, log_factor
        Axes and display as in :func:`nmfedu.plot.plot_decomposition` (``sr=None``: index axes).
    notes : DataFrame, optional
        Note table; if given, each template/activation row is labelled with the score pitch
        whose notes its activation follows best (``'≈ G3 (55)'``, ``'r: ?'`` if none).
    dtype : numpy dtype, optional
        Passed to :func:`nmfedu.nmf` (``np.float32`` halves the time on spectrograms).
    figsize : (float, float)
    **kwargs
        Passed to :class:`nmfedu.widgets.InteractiveFigure`.

    Returns
    -------
    InteractiveFigure

    Notebooks: 02 (sections 6 and 7: the toy matrix and the recording).
    """
    V = np.asarray(V)
    if notes is not None and sr is None:
        raise ValueError("notes need a time axis: pass sr (and hop_length) with notes")
    norm2 = float(np.sum(np.asarray(V, dtype=float) ** 2)) or 1.0
    controls = {"R": rank_slider(R, max=max_rank), "n_iter": iterations_slider(n_iter),
                "seed": seed_slider(seed)}

    def compute(R, n_iter, seed, V):
        res = nmf(V, R, n_iter=n_iter, tol=0, seed=seed, dtype=dtype)
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
                                                  log=log, log_factor=log_factor, fig=fig)
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
