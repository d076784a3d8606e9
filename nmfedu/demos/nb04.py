"""Interactive figure of notebook 04 (left/right-hand separation): mask exponent and the level
of each hand, applied to a separation computed once; and the lecture's settings.

Notebooks: 04.
"""
from __future__ import annotations

import ipywidgets
import numpy as np

from .. import audio, data, plot, separation, widgets
from ..spectrogram import istft

__all__ = ["LECTURE", "piece_excerpt", "editing_widget"]

#: The plain score-informed NMF of the lecture (Ewert & Müller 2012), every parameter spelled out,
#: as notebook 04 uses it: one column per (hand, pitch), masks with p = 2, no decay constraint,
#: no onset or attack columns.
LECTURE = dict(share="columns", decay_after=None, attack_guard=None, mask_exponent=2.0,
               n_harmonics=25, tolerance=1.0, min_width=3.0, onset_tol=0.1, offset_tol=0.1,
               onset_templates=False, onset_shape="flat", onset_before=0.05, onset_after=0.1,
               n_iter=100)


def piece_excerpt(name=None, seconds=None):
    """``(piece, x, notes, stems)`` of a bundled piece (default :data:`nmfedu.data.DEFAULT_PIECE`),
    cropped to its first ``seconds`` (None: whole): the input of notebook 04's exercises.

    Notebooks: 04.
    """
    piece = data.load(name or data.DEFAULT_PIECE)
    x, notes, stems = piece.x, piece.notes, dict(piece.stems)
    if seconds is not None:
        L = int(round(seconds * piece.sr))
        x = x[:L]
        stems = {g: s[:L] for g, s in stems.items()}
        notes = notes[notes["Start"] < seconds - 0.05].copy()
        notes["Duration"] = np.minimum(notes["Duration"], seconds - notes["Start"])
        notes = notes.reset_index(drop=True)
    return piece, x, notes, stems


def editing_widget(details=None, sr=None, fmax: float = 4000.0):
    """The interactive figure of notebook 04: mask exponent and the level of each hand.

    Controls: ``p`` (mask exponent of :func:`nmfedu.separation.masks`), ``gain_left`` and
    ``gain_right`` (dB). The factorization is done once (``details`` from
    :func:`nmfedu.separation.separate` with ``return_details=True``); a change only
    recomputes the masks ``M_g = V_g^p ⊘ Σ_h V_h^p`` from the stored model spectrograms,
    the edited spectrogram ``Y = g_L M_L ⊙ X + g_R M_R ⊙ X`` and one inverse STFT. The
    figure shows the left-hand mask and ``|Y|``; the player below it (attribute
    ``player``, an :class:`ipywidgets.HTML`) is replaced with the edited recording.

    Parameters
    ----------
    details : SeparationDetails, optional
        Default: the separation of :data:`nmfedu.data.DEFAULT_PIECE` with default settings.
    sr : int, optional
        Sample rate (default: the piece's).
    fmax : float
        Upper frequency of the figure in Hz.

    Returns
    -------
    nmfedu.widgets.InteractiveFigure
        Displaying it shows controls, figure and the player (attribute ``player``);
        ``.update(gain_left=-12)`` drives it headless (``benchmarks/bench_widgets.py``).

    Notebooks: 04 ("Try it yourself").
    """
    if details is None:
        piece, x, notes, _ = piece_excerpt()
        details = separation.separate(x, piece.sr, notes, return_details=True, **LECTURE)
        sr = piece.sr
    sr = int(sr or 22050)
    X = details.X
    length = len(next(iter(details.signals.values())))
    groups = list(details.models)
    if set(groups) != {"left", "right"}:
        raise ValueError(f"details must separate the groups 'left' and 'right', got {groups}")
    player = ipywidgets.HTML()

    def compute(p, gain_left, gain_right, X, models):
        M = separation.masks(models, exponent=p)
        g = {"left": 10 ** (gain_left / 20), "right": 10 ** (gain_right / 20)}
        Y = (g["left"] * M["left"] + g["right"] * M["right"]) * X
        y = istft(Y, length=length)
        label = f"edited: left {gain_left:+.0f} dB, right {gain_right:+.0f} dB, p = {p:g}"
        return dict(mask=M["left"], Y=np.abs(Y), y=y, html=audio.player(y, sr, title=label).data)

    def draw(handles, data):
        plot.update_image(handles["mask"], data["mask"])
        plot.update_image(handles["Y"], data["Y"])
        player.value = data["html"]

    def setup(fig, data):
        ax1, ax2 = fig.subplots(1, 2)
        im_mask = plot.plot_matrix(data["mask"], "mask", ax=ax1, fmax=fmax,
                                   title="Mask of the left hand  $M^L$")[2]
        im_Y = plot.plot_matrix(data["Y"], "V", ax=ax2, fmax=fmax, log=True,
                                title="Edited spectrogram  $|Y|$")[2]
        player.value = data["html"]
        return dict(mask=im_mask, Y=im_Y)

    controls = {"p": widgets.float_slider("Mask exponent α", 2.0, 0.5, 8.0, 0.5, readout_format=".1f"),
                "gain_left": widgets.float_slider("Left hand (dB)", 0.0, -30.0, 12.0, 3.0,
                                                  readout_format="+.0f"),
                "gain_right": widgets.float_slider("Right hand (dB)", 0.0, -30.0, 12.0, 3.0,
                                                   readout_format="+.0f")}
    fw = widgets.InteractiveFigure(compute, draw, controls, setup=setup,
                                   fixed=dict(X=X, models=details.models), figsize=(10.0, 3.4),
                                   title="Audio editing: the level of each hand")
    fw.player = player
    fw.widget.children = (*fw.widget.children, player)  # the player below the figure
    return fw
