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
:func:`pitch_shares`, :func:`template_pitches` — which pitch of the score each learnt
activation row follows (used in notebook 02, Section 6, its interactive figure, and by
exercise 3).
"""
from __future__ import annotations

import numpy as np

__all__ = ["multiplicative_W_update", "zero_in_H0", "rank_too_small_or_large", "pitch_shares",
           "template_pitches"]

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


def pitch_shares(H, notes, pitches=None, hop_length: int | None = None, sr: float | None = None,
                 chord: bool = True):
    """Share of each activation row's energy that falls on the notes of each pitch.

    For every row ``r`` of ``H`` and every pitch ``p``, the share of the row's activation
    energy (sum of squares over frames) that lies in frames where pitch ``p`` sounds *alone*,
    according to the score (:func:`nmfedu.constraints.activation_constraints`, no
    tolerances). Frames of a chord (several pitches at once) and silent frames count for no
    pitch; with ``chord=True`` an extra column ``"chord"`` holds the share in frames where
    several pitches sound. The shares of a row add up to at most 1 (the rest is energy in
    frames where no note sounds).

    Parameters
    ----------
    H : ndarray, shape (R, N)
    notes : DataFrame
        Note table (``Start``, ``Duration``, ``Pitch``).
    pitches : sequence of int, optional
        Candidate pitches (default: the score's, ascending).
    hop_length, sr : optional
        STFT parameters (default: the series' convention).

    chord : bool
        Add the column ``"chord"``.

    Returns
    -------
    columns : list of int (and ``"chord"`` last)
    shares : ndarray, shape (R, len(columns)), values in [0, 1]
    """
    from nmfedu import spectrogram
    from nmfedu.constraints import activation_constraints

    H = np.asarray(H, dtype=float)
    if pitches is None:
        pitches = sorted(int(p) for p in np.unique(notes["Pitch"]))
    hop_length = hop_length or spectrogram.HOP_LENGTH
    sr = sr or spectrogram.SR
    roll = activation_constraints(notes, pitches, H.shape[1], frame_res=hop_length / sr,
                                  onset_tol=0.0, offset_tol=0.0)
    count = roll.sum(axis=0, keepdims=True)
    alone = roll * (count == 1)  # frames where only that pitch sounds
    columns = list(pitches)
    if chord:
        alone = np.vstack([alone, (count > 1).astype(float)])
        columns.append("chord")
    energy = H ** 2
    total = np.maximum(energy.sum(axis=1), np.finfo(float).tiny)
    return columns, (energy @ alone.T) / total[:, None]


def template_pitches(H, notes, pitches=None, hop_length: int | None = None, sr: float | None = None):
    """Which pitch of the score each activation row follows, and how clearly.

    The row follows the pitch with the largest share of its energy (:func:`pitch_shares`):
    a share near 1 means the row is active only while that pitch sounds; a small share means
    it is active during other notes too (it mixes notes). Used in notebook 02 (Section 6 and
    the interactive figure on the recording) and by exercise 3.

    Returns
    -------
    list of (pitch, share), one per row of H; the pitch is ``"chord"`` for a row most active
    while several pitches sound together.
    """
    columns, shares = pitch_shares(H, notes, pitches, hop_length, sr)
    best = np.argmax(shares, axis=1)
    return [(columns[b] if isinstance(columns[b], str) else int(columns[b]), float(shares[r, b]))
            for r, b in enumerate(best)]


def rank_too_small_or_large(V, notes=None, ranks=(3, 8), seed: int = 0, n_iter: int = 200):
    """Exercise 3: NMF of the piano spectrogram with fewer and with more templates than pitches.

    For each rank, runs :func:`nmfedu.nmf` (random initialisation, ``seed``) and prints, for
    every template, the two pitches whose notes hold the largest shares of its activation
    energy in frames where that pitch sounds alone, or in the chord (:func:`pitch_shares`),
    and the loss relative to ‖V‖².

    With R = 3 < 5 pitches, some templates must explain several pitches: their energy is
    split between two (or more) pitches. With R = 8 > 5, some pitches are explained by
    several templates (one pitch gets two rows, e.g. one for the attack and one for the
    decay), and the loss is lower although nothing musical was gained. Either way, a
    template is not "a pitch" — the rank alone does not give NMF a meaning.

    Parameters
    ----------
    V : ndarray, shape (K, N)
        Magnitude spectrogram of the toy recording.
    notes : DataFrame, optional
        Its score (default: :func:`nmfedu.data.load` of ``nmfedu.data.TOY``).

    Returns
    -------
    dict rank → dict(``relative_loss``, ``top`` = per template [(pitch, share), (pitch, share)],
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
        pitches, shares = pitch_shares(res.H, notes)
        order = np.argsort(-shares, axis=1)[:, :2]
        top = [[(pitches[j], float(shares[r, j])) for j in order[r]] for r in range(R)]
        rel = float(res.loss[-1] / norm2)
        out[R] = dict(relative_loss=rel, top=top)
        print(f"R = {R}: loss / ‖V‖² = {rel:.4f}  (seed {seed}, {n_iter} iterations)")
        for r, pairs in enumerate(top):
            text = ",  ".join(f"{p} ({s:.2f})" for p, s in pairs)
            print(f"   template {r}: largest shares of its energy: {text}")
        firsts = [pairs[0][0] for pairs in top]
        missing = [p for p in pitches if p != "chord" and p not in firsts]
        doubled = sorted({p for p in firsts if p != "chord" and firsts.count(p) > 1})
        out[R].update(missing=missing, doubled=doubled)
        print(f"   pitches that no template follows: {missing or 'none'};  "
              f"pitches followed by several templates: {doubled or 'none'}")
    print("Fewer templates than pitches: some pitches get no template of their own, and templates\n"
          "spend much of their energy on the chord, where several notes sound together.\n"
          "More templates than pitches: the loss drops, but pitches are split over several\n"
          "templates (e.g. attack and decay) without any musical gain. The rank alone does not make\n"
          "a template a pitch.")
    return out
