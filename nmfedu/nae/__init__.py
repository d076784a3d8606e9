r"""Nonnegative autoencoders (NAE): NMF as a two-layer network, trained two ways.

The model of the seed lecture (Smaragdis & Venkataramani, ICASSP 2017; Ewert &
Sandler, ICASSP 2017; Zunner, MSc thesis FAU 2021), for a magnitude spectrogram
``V`` (K × N), an encoder ``W_E`` (R × K), a decoder ``W_D`` (K × R) and a
binary dropout mask ``M_H`` (R × N, all ones when not given)::

    Z  = W_E V            H  = max(Z, 0)        (code, "1. layer")
    H' = H ⊙ M_H                                (structured dropout)
    Y  = W_D H'           V̂  = max(Y, 0)        (output, "2. layer")
    L  = ‖V − V̂‖²                               (squared Frobenius norm, no ½ —
                                                 the same scale as nmfedu.nmf's loss)

The decoder plays the role of NMF's templates ``W``, the code ``H'`` the role
of NMF's activations ``H``, and the encoder learns "a kind of pseudo-inverse"
of the decoder (``V ≈ W H`` implies ``W⁺ V ≈ H``).

**The ReLUs.** Both training rules keep ``W_E ≥ 0`` and ``W_D ≥ 0``; with
``V ≥ 0`` this makes ``Z ≥ 0`` and ``Y ≥ 0``, so the two ReLUs are identities
and both rules minimise the *same* loss. The seeds write the multiplicative
variant without ReLUs (``H = W_E V``, ``V̂ = W_D H'``); the additive rule keeps
them, and they matter only through the derivative convention at exact zeros:
we use ``[Z > 0]`` and ``[Y > 0]`` (a ReLU has derivative 0 at 0), so an output
bin or a code entry that is exactly 0 passes no gradient.

Additive rule: projected gradient descent (notebook 06)
--------------------------------------------------------
With ``E = V̂ − V`` the hand-derived gradients (chain rule through both ReLUs
and the mask) are::

    D        = E ⊙ [Y > 0]
    ∂L/∂W_D  = 2 D H'ᵀ
    ∂L/∂W_E  = 2 ((W_Dᵀ D) ⊙ M_H ⊙ [Z > 0]) Vᵀ

and one epoch is a simultaneous step of both layers followed by the projection
onto the constraint set::

    W_D ← max(W_D − γ_D ∂L/∂W_D, 0) ⊙ S_D        W_E ← max(W_E − γ_E ∂L/∂W_E, 0)

``S_D = [W_D0 > 0]`` is the support of the initial decoder: entries that start
at zero are projected back to zero (the seeds' *template constraints*). Zeros
of the initial *encoder* (e.g. the clipped entries of a pseudo-inverse) are
not constraints: the additive rule may make them positive again, while the
multiplicative rule keeps every zero of both layers. With
``lr=<float>`` the learning rate is fixed, ``γ_D = γ_E = lr``. With
``lr="lipschitz"`` (the adaptive option, the default) each layer gets the step
``1 / Lip`` of its own block, recomputed every epoch from the current weights::

    γ_D = 1 / (2 λmax(H' H'ᵀ))                (Lipschitz constant of ∂L/∂W_D in W_D)
    γ_E = 1 / (2 λmax(W_Dᵀ W_D) σmax(V)²)     (an upper bound for the one of ∂L/∂W_E in W_E)

(both R × R eigenvalue problems; ``σmax(V)`` is computed once). This needs no
tuning and is invariant to the scale of ``V``, but it is the step of a first
order method, so the additive rule still converges slowly (notebook 08).

Multiplicative rule: the seeds' update rules (notebook 07)
----------------------------------------------------------
Without the ReLUs (``H' = (W_E V) ⊙ M_H``, ``V̂ = W_D H'``) the gradients split
into a positive and a negative part::

    ∂L/∂W_E = 2 ( ((W_Dᵀ W_D H') ⊙ M_H) Vᵀ  −  ((W_Dᵀ V) ⊙ M_H) Vᵀ )  =: 2 (den_E − num_E)
    ∂L/∂W_D = 2 ( W_D H' H'ᵀ                −  V H'ᵀ )                 =: 2 (den_D − num_D)

Choosing the entrywise (adaptive) learning rate ``γ = W ⊘ (2 den)`` in the
additive step ``W − γ ⊙ ∂L/∂W`` gives ``W − W ⊙ (den − num) ⊘ den``, i.e. ::

    W_E ← W_E ⊙ ((W_Dᵀ V) ⊙ M_H) Vᵀ ⊘ ((W_Dᵀ W_D H') ⊙ M_H) Vᵀ
    W_D ← W_D ⊙ (V H'ᵀ) ⊘ (W_D H' H'ᵀ)

exactly the rules on the slide "NAE with Multiplicative Update Rules" — the
same trick as NMF's multiplicative updates. ``num`` and ``den`` are
nonnegative, so the weights stay nonnegative without a projection, and an
entry that starts at zero stays zero (template constraints for free). Each
block update is the Lee–Seung auxiliary-function step of a quadratic whose
Hessian has nonnegative entries, so neither update increases the loss.

*Order.* One epoch updates the encoder first (with ``H'`` and ``W_D`` of the
previous epoch), then recomputes ``H' = (W_E V) ⊙ M_H`` with the new encoder,
then updates the decoder with the new ``H'`` — the order of NMF's updates
(first the activations, then the templates with the new activations).

*Division.* The ratio ``num ⊘ den`` is used where ``den > tiny`` (the smallest
normal number of the dtype, ``np.finfo(dtype).tiny``) and replaced by 1
elsewhere. ``den`` vanishes only where the gradient vanishes too (an entry that
influences no unmasked output) or the entry is already 0; both are left
unchanged. No ε is added, so the rule is exactly the seeds' formula and
independent of the scale of ``V``.

*Cost.* An epoch of either rule needs five products of the size of ``V``
(R·K·N multiply–adds each); everything else is R × R, R × K or R × N sized.
Multiplicative: ``W_E V``, ``W_Dᵀ V``, ``V H'ᵀ`` and the two products with
``Vᵀ`` (numerator and denominator of the encoder rule, done as one product of
a 2R × N stack); ``W_Dᵀ W_D`` and ``H' H'ᵀ`` are R × R, and the loss comes for
free from ``‖V‖² − 2⟨H', W_Dᵀ V⟩ + ⟨W_Dᵀ W_D, H' H'ᵀ⟩``. Additive: ``W_E V``,
``W_D H'``, ``D H'ᵀ``, ``W_Dᵀ D`` and ``(…) Vᵀ``. NMF's multiplicative
iteration needs two (``Wᵀ V`` and ``V Hᵀ``); see ``benchmarks/bench_nae.py``.

Files (one concept each): :mod:`~nmfedu.nae.model` (forward pass, loss, gradients),
:mod:`~nmfedu.nae.initialization` (random, from NMF, score-informed),
:mod:`~nmfedu.nae.training` (:func:`fit`, the two rules, :class:`NAEResult`).
Separation with the NAE is a step of the one separation pipeline:
``nmfedu.separate(..., factorization="nae")``. Notebook 08's three-way experiment
(``compare``) is :func:`nmfedu.demos.nb08.compare`.

Notebooks: 06 (the autoencoder view: :func:`fit` with the additive rule,
:func:`encode`, :func:`decode`, :func:`gradients`), 07 (structured dropout and
template constraints: ``M_H``, :func:`init_score_informed`, the multiplicative rule,
separation through ``nmfedu.separate(..., factorization="nae")``), 08 (loss against epochs, :func:`lipschitz_steps`).
"""
from __future__ import annotations

from .initialization import init_from_nmf, init_random, init_score_informed
from .model import decode, encode, gradients, loss, reconstruct
from .training import RULES, NAEResult, fit, lipschitz_steps

__all__ = [
    "RULES",
    "NAEResult",
    "fit",
    "encode",
    "decode",
    "reconstruct",
    "loss",
    "gradients",
    "init_random",
    "init_from_nmf",
    "init_score_informed",
    "lipschitz_steps",
]
