"""Exercise solutions for notebook 07 (structured dropout and multiplicative updates).

Notebooks: 07.
"""
from __future__ import annotations

import numpy as np

from .. import evaluation, nae, separation, spectrogram


def masked_entries_do_not_matter(V, W_E, W_D, M_H, seed: int = 0):
    """Changing the code where ``M_H = 0`` changes neither the output nor the gradients.

    ``H' = H ⊙ M_H`` multiplies those entries by zero before the decoder sees them, and in
    the backward pass the same factor ``M_H`` multiplies their gradient.

    Notebooks: 07.
    """
    rng = np.random.default_rng(seed)
    H = nae.encode(V, W_E)                          # code without the mask
    noise = rng.random(H.shape) * H.max() * (M_H == 0)
    out1 = nae.decode(H, W_D, M_H=M_H)
    out2 = nae.decode(H + noise, W_D, M_H=M_H)
    print(f"entries changed: {(noise > 0).sum()}; largest change of the output: {np.abs(out1 - out2).max():.3g}")
    _, g_E, g_D = nae.gradients(V, W_E, W_D, M_H=M_H)
    silent = np.where(M_H.sum(axis=1) == 0)[0]
    print(f"code units that are masked in every frame: {len(silent)}"
          + (f"; their encoder gradients are {np.abs(g_E[silent]).max():.3g}" if len(silent) else ""))
    return out1, out2


def decoder_rule_as_gradient_step(V, W_E, W_D, M_H):
    """The decoder's multiplicative rule is a gradient step with ``γ = W_D ⊘ (2 W_D H' H'ᵀ)``.

    Notebooks: 07.
    """
    Hm = (W_E @ V) * M_H
    grad = 2 * (W_D @ (Hm @ Hm.T) - V @ Hm.T)
    gamma = W_D / (2 * W_D @ (Hm @ Hm.T))
    step = W_D - gamma * grad
    mult = W_D * (V @ Hm.T) / (W_D @ (Hm @ Hm.T))
    print(f"largest difference gradient step vs multiplicative rule: {np.abs(step - mult).max():.3g}")
    return step, mult


def misaligned_score(piece, shift: float = 0.3, n_epochs: int = 100):
    """Shift the score by ``shift`` seconds: the mask now drops the code where the notes really
    sound, and the separation suffers (SDR in dB, before and after).

    Notebooks: 07.
    """
    shifted = piece.notes.copy()
    shifted["Start"] = shifted["Start"] + shift
    duration = len(piece.x) / piece.sr
    shifted["Duration"] = np.minimum(shifted["Duration"], np.maximum(duration - shifted["Start"], 0.01))
    shifted = shifted[shifted["Start"] < duration - 0.05]
    rows = {}
    for label, notes in (("aligned score", piece.notes), (f"score shifted by {shift} s", shifted)):
        est = separation.separate(piece.x, piece.sr, notes, factorization="nae", n_iter=n_epochs,
                                  share="columns", onset_templates=False, attack_guard=None,
                                  decay_after=None)
        table = evaluation.bss_eval(piece.stems, est)
        rows[label] = table["SDR"].round(1).to_dict()
        print(f"{label:28s} SDR (dB): {rows[label]}")
    return rows
