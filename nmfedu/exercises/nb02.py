"""Solutions to the exercises of notebook 02 (multiplicative updates), and one helper.

Each solution prints its answer and returns the numbers it printed (so tests can
check them). Exercises 1 and 2 take the notebook's toy problem (``V``, ``W``,
``H0``) as arguments; exercise 3 the magnitude spectrogram of the toy piano
recording.

Exercises
---------
1. :func:`multiplicative_W_update` — the adaptive learning rate W ⊘ (WHHᵀ) turns
   the gradient step for W into step (2) of the algorithm.
2. :func:`zero_in_H0` — zeros of H⁽⁰⁾ stay exactly zero under multiplicative
   updates, but not under a gradient step.
3. :func:`rank_too_small_or_large` — fewer templates than pitches (R = 3) and
   more (R = 8): which pitches does each template follow?

Helpers
-------
:func:`pitch_similarity`, :func:`template_pitches` — which pitch of the score each learnt
activation row follows — live with notebook 02's figures in :mod:`nmfedu.demos.nb02` and
are re-exported here for exercise 3 and the notebook's ``nb02.pitch_similarity``.

Notebooks: 02.
"""
from __future__ import annotations

import numpy as np

from ..demos.nb02 import pitch_similarity, template_pitches

__all__ = ["multiplicative_W_update", "zero_in_H0", "rank_too_small_or_large",
           "pitch_similarity", "template_pitches"]

_DERIVATION_W = r"""
Gradient step for W (H fixed, factor 2 of the gradient absorbed into γ):
   W_kr ← W_kr − γ_kr · ( (W H Hᵀ)_kr − (V Hᵀ)_kr )

Adaptive learning rate  γ_kr := W_kr / (W H Hᵀ)_kr :
   W_kr ← W_kr − W_kr/(W H Hᵀ)_kr · (W H Hᵀ)_kr + W_kr/(W H Hᵀ)_kr · (V Hᵀ)_kr
        = W_kr · (V Hᵀ)_kr / (W H Hᵀ)_kr

Matrix form, with the new H as in the algorithm box:
   W ← W ⊙ ( (V Hᵀ) ⊘ (W H Hᵀ) )        — step (2)
""".strip("\n")


def multiplicative_W_update(V, W, H):
    """Exercise 1: the gradient step for W with γ = W ⊘ (WHHᵀ) is step (2) of the algorithm.

    Prints the derivation, then computes one gradient step with the adaptive rate
    (:func:`nmfedu.factorization.mu_learning_rate_W`), the multiplicative step, and one
    iteration of :func:`nmfedu.nmf` with ``fix_H=True``, and compares them.

    Notebooks: 02.

    Returns
    -------
    dict with ``max_difference`` (gradient step vs multiplicative step) and
    ``matches_library`` (bool).
    """
    import nmfedu
    from nmfedu.factorization import mu_learning_rate_W

    V, W, H = (np.asarray(A, dtype=float) for A in (V, W, H))
    print(_DERIVATION_W)
    WHHt = W @ (H @ H.T)
    VHt = V @ H.T
    gamma = mu_learning_rate_W(W, H)
    W_gd = W - gamma * (WHHt - VHt)
    W_mu = W * VHt / WHHt
    lib = nmfedu.nmf(V, W.shape[1], W0=W, H0=H, n_iter=1, fix_H=True).W
    diff = float(np.abs(W_gd - W_mu).max())
    matches = bool(np.allclose(lib, W_mu))
    print()
    print(f"gradient step with γ = W ⊘ (W H H^T) equals the multiplicative step: "
          f"{bool(np.allclose(W_gd, W_mu))}")
    print(f"one iteration of nmfedu.nmf with H fixed gives the same W: {matches}")
    return dict(max_difference=diff, matches_library=matches)


def zero_in_H0(V, W, H0, row: int = 0, frames=range(4), n_iter: int = 100, gamma: float = 0.1):
    """Exercise 2: zeros of H⁽⁰⁾ under multiplicative updates and under a gradient step.

    Sets ``H0[row, frames]`` to zero, runs ``n_iter`` iterations of :func:`nmfedu.nmf`
    (W and H learnt) and one step of :func:`nmfedu.nmf_gd` (learning rate ``gamma``, no
    projection) from the same start, and prints the entries afterwards.

    A multiplicative update multiplies each entry by a finite nonnegative factor, so
    0 · factor = 0 at every iteration: a zero in H⁽⁰⁾ is a zero forever. (Put the other way:
    the adaptive learning rate γ = H ⊘ (WᵀWH) is 0 there, so the entry never moves.) A
    gradient step adds −γ · (WᵀWH − WᵀV), which is nonzero wherever the model has too
    little or too much of the template in that frame. Notebook 03 uses exactly this to
    impose where a note may sound.

    Notebooks: 02.

    Returns
    -------
    dict with ``after_mu`` (the entries after the multiplicative updates) and ``after_gd``
    (after one gradient step).
    """
    import nmfedu

    V, W, H0 = (np.asarray(A, dtype=float) for A in (V, W, H0))
    frames = list(frames)
    H0z = H0.copy()
    H0z[row, frames] = 0.0
    R = W.shape[1]
    mu = nmfedu.nmf(V, R, W0=W, H0=H0z, n_iter=n_iter, tol=0)
    gd = nmfedu.nmf_gd(V, R, W0=W, H0=H0z, n_iter=1, lr_H=gamma, project=False, fix_W=True)
    after_mu = mu.H[row, frames]
    after_gd = gd.H[row, frames]
    print(f"H0[{row}, {frames[0]}:{frames[-1] + 1}] set to 0.")
    print(f"after {n_iter} multiplicative updates (W and H learnt): {np.array2string(after_mu, precision=3)}")
    print(f"after one gradient step (γ = {gamma:g}):               {np.array2string(after_gd, precision=3)}")
    print("Multiplicative: 0 times a finite factor is 0, at every iteration (γ = H ⊘ (W^T W H) is 0\n"
          "there, so the entry never moves). Additive: the step -γ (W^T W H - W^T V) is not zero, so\n"
          "the entry moves — up where the model lacks that template, below zero where it has too much.")
    return dict(after_mu=after_mu, after_gd=after_gd)


def rank_too_small_or_large(V, notes=None, ranks=(3, 8), seed: int = 0, n_iter: int = 200):
    """Exercise 3: NMF of the piano spectrogram with fewer and with more templates than pitches.

    For each rank, runs :func:`nmfedu.nmf` (random initialisation, ``seed``) and prints, for
    every template, the two pitches whose notes its activation row follows most closely
    (:func:`pitch_similarity`), then which pitches no template follows and which several
    templates follow, and the loss relative to ‖V‖².

    With R = 3 < 5 pitches, some pitches get no template of their own and templates follow
    two pitches at once. With R = 8 > 5, some pitches are followed by several templates (e.g.
    one for the attack, one for the decay, or one for the note alone and one for the chord),
    and the loss is lower although nothing musical was gained. Either way, a template is not
    "a pitch" — the rank alone does not give NMF a meaning.

    Notebooks: 02.

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Magnitude spectrogram of the toy recording.
    notes : DataFrame, optional
        Its score (default: :func:`nmfedu.data.load` of ``nmfedu.data.TOY``).

    Returns
    -------
    dict rank → dict(``relative_loss``, ``top`` = per template [(pitch, similarity) × 2],
    ``missing`` = pitches no template follows, ``doubled`` = pitches several templates follow).
    """
    import nmfedu
    from nmfedu import data

    V = np.asarray(V, dtype=float)
    if notes is None:
        notes = data.load(data.TOY).notes
    norm2 = float(np.sum(V ** 2))
    out = {}
    for R in ranks:
        res = nmfedu.nmf(V, R, n_iter=n_iter, tol=0, seed=seed)
        pitches, sim = pitch_similarity(res.H, notes)
        order = np.argsort(-sim, axis=1)[:, :2]
        top = [[(pitches[j], float(sim[r, j])) for j in order[r]] for r in range(R)]
        firsts = [pairs[0][0] for pairs in top]
        missing = [p for p in pitches if p not in firsts]
        doubled = sorted({p for p in firsts if firsts.count(p) > 1})
        rel = float(res.loss[-1] / norm2)
        out[R] = dict(relative_loss=rel, top=top, missing=missing, doubled=doubled)
        print(f"R = {R}: loss / ‖V‖² = {rel:.4f}  (seed {seed}, {n_iter} iterations)")
        for r, pairs in enumerate(top):
            text = ",  ".join(f"{p} ({s:.2f})" for p, s in pairs)
            print(f"   template {r} follows pitch {text}")
        print(f"   pitches no template follows: {missing or 'none'};  "
              f"pitches several templates follow: {doubled or 'none'}")
    print("Fewer templates than pitches: some pitches get no template of their own, and a template\n"
          "follows two pitches at once. More templates than pitches: the loss drops, but pitches\n"
          "are split over several templates without any musical gain. The rank alone does not make\n"
          "a template a pitch.")
    return out
