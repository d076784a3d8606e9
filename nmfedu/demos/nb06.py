"""Interactive figure of notebook 06 (the autoencoder view): training a nonnegative
autoencoder with projected gradient descent on the toy recording."""
from __future__ import annotations

import warnings

import numpy as np

from .. import data, nae, plot, spectrogram, widgets


def toy_spectrogram():
    """Magnitude spectrogram ``V`` (K × N) of the bundled toy recording and the piece itself."""
    piece = data.load(data.TOY)
    return spectrogram.magnitude(piece.x), piece


def train(V, R: int, n_epochs: int, lr, seed: int = 0):
    """Train the NAE with the additive rule; returns ``(W_D, H, V_hat, loss)``.

    ``lr`` is a fixed learning rate γ or ``"lipschitz"`` (see :func:`nmfedu.nae.fit`).
    Used by :func:`training_widget` and notebook 06.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nae.fit(V, R, rule="additive", n_epochs=n_epochs, lr=lr, seed=seed)
    V_hat = result.reconstruct(V)
    return result.W_D, result.H, V_hat, np.concatenate([[result.loss0], result.loss])


def training_widget(V=None, R: int = 5, n_epochs: int = 200, lr: float = 1e-7,
                    adaptive: bool = False):
    """Rank, learning rate and epochs of an additive NAE, behind a Run button.

    The figure shows the decoder ``W_D`` (templates, left), the code ``H`` (top), the
    spectrogram ``V`` and the network's output ``V̂`` (bottom), and the loss per epoch.
    With ``adaptive`` on, the step is ``1/Lipschitz constant`` per layer and the slider's
    γ is ignored. Used by notebook 06 and ``benchmarks/bench_widgets.py``.
    """
    if V is None:
        V = toy_spectrogram()[0]

    def compute(R, lr, adaptive, n_epochs, V):
        return train(V, R, n_epochs, "lipschitz" if adaptive else lr)

    def setup(fig, d):
        W_D, H, V_hat, loss = d
        _, _, images = plot.plot_decomposition(
            V, W_D, H, WH=V_hat, fmax=2000, log=True, gamma=1.0, fig=fig,
            titles={"W": "Decoder $W_\\mathcal{D}$", "H": "Code $H$", "WH": "Output $\\hat V$",
                    "loss": "Loss per epoch"},
            loss={"NAE (additive)": loss},
            loss_kwargs=dict(xlabel="Epoch", ylabel="$\\|V - \\hat V\\|^2$", start=0))
        return images

    def draw(images, d):
        W_D, H, V_hat, loss = d
        plot.update_image(images["W"], W_D)
        plot.update_image(images["H"], H)
        plot.update_image(images["WH"], V_hat)
        plot.update_lines(images["loss"], {"NAE (additive)": loss}, start=0)

    controls = {
        "R": widgets.rank_slider(R, min=1, max=10),
        "lr": widgets.learning_rate_slider(lr, min=1e-9, max=1e-5, description="Learning rate γ"),
        "adaptive": widgets.toggle("adaptive γ (1/Lipschitz)", adaptive),
        "n_epochs": widgets.iterations_slider(n_epochs, description="Epochs"),
    }
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(V=V),
                                     run_button=True, figsize=(10.0, 5.0),
                                     title="Nonnegative autoencoder, projected gradient descent")
