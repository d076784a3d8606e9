"""Interactive figure and shared computations of notebook 07 (structured dropout)."""
from __future__ import annotations

import warnings

import numpy as np

from .. import constraints, data, nae, plot, spectrogram, widgets

PIECE = "mozart_sonata"


def piece_spectrogram(name: str = PIECE):
    """``(V, piece)``: magnitude spectrogram of a bundled piece (notebook 07 uses the
    Mozart excerpt, whose hands have disjoint registers)."""
    piece = data.load(name)
    return spectrogram.magnitude(piece.x), piece


def template_similarity(W_D, pitches):
    """Cosine similarity of every decoder column with the harmonic template of its pitch label.

    Near 1: column r looks like pitch ``pitches[r]``; near 0: it has nothing to do with it.
    A measure of *semantic meaning* of the learnt templates (notebook 07).
    """
    T = constraints.pitch_templates(list(pitches), K=W_D.shape[0])
    norms = np.linalg.norm(W_D, axis=0) * np.linalg.norm(T, axis=0)
    return np.sum(W_D * T, axis=0) / np.where(norms > 0, norms, 1.0)


def train(V, M_H, rule: str, n_epochs: int, use_mask: bool, seed: int = 0):
    """Train an NAE from a random start, with or without the structured-dropout mask ``M_H``.

    Returns ``(W_D, H', V̂, loss per epoch)``. Used by :func:`dropout_widget` and notebook 07.
    """
    mask = M_H if use_mask else None
    W_E0, W_D0 = nae.init_random(V, M_H.shape[0], M_H=mask, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nae.fit(V, rule=rule, n_epochs=n_epochs, W_E0=W_E0, W_D0=W_D0, M_H=mask)
    return result.W_D, result.H, result.reconstruct(V), np.concatenate([[result.loss0], result.loss])


def dropout_widget(V=None, M_H=None, labels=None, rule: str = "multiplicative",
                   n_epochs: int = 200, use_mask: bool = True):
    """Structured dropout on/off, training rule and epochs for an NAE from a random start.

    The decoder's columns are labelled with the pitch whose score regions form row r of
    ``M_H``; with the mask on, the learnt templates match those pitches, without it they do
    not. Behind a Run button (a training takes about a second). Used by notebook 07 and
    ``benchmarks/bench_widgets.py``.
    """
    if V is None:
        V, piece = piece_spectrogram()
        _, _, M_H, labels = nae.init_score_informed(V, piece.notes)
    pitches = list(labels["pitch"])

    def compute(use_mask, rule, n_epochs, V, M_H):
        return train(V, M_H, rule, n_epochs, use_mask)

    def setup(fig, d):
        W_D, H, V_hat, loss = d
        _, _, images = plot.plot_decomposition(
            V, W_D, H, WH=V_hat, labels=pitches, fmax=2500, log=True, fig=fig,
            titles={"W": "Decoder $W_\\mathcal{D}$", "H": "Code $H'$", "WH": "Output $\\hat V$"},
            loss={"loss": loss}, loss_kwargs=dict(xlabel="Epoch", ylabel="$\\|V-\\hat V\\|^2$",
                                                 start=0, legend=False))
        return images

    def draw(images, d):
        W_D, H, V_hat, loss = d
        for key, X in (("W", W_D), ("H", H), ("WH", V_hat)):
            plot.update_image(images[key], X)
        plot.update_lines(images["loss"], {"loss": loss}, start=0)

    controls = {
        "use_mask": widgets.toggle("structured dropout (mask M_H)", use_mask),
        "rule": widgets.dropdown(["multiplicative", "additive"], rule, description="Rule"),
        "n_epochs": widgets.iterations_slider(n_epochs, description="Epochs"),
    }
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup,
                                     fixed=dict(V=V, M_H=M_H), run_button=True,
                                     figsize=(10.0, 5.2),
                                     title="NAE from a random start, with and without structured dropout")
