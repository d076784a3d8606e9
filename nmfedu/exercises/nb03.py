"""Solutions to the exercises of notebook 03 (constrained NMF).

Each function prints its answer (and returns the numbers, so tests can check
them). They load the toy recording themselves (``nmfedu.data.TOY``), so they
run in any order, independent of the notebook's state.

Exercises
---------
1. :func:`zeros_stay_zero` — count the zeros of the harmonic template matrix
   before and after multiplicative updates, then after one projected
   *additive* gradient step: which rule keeps the constraint?
2. :func:`synchronisation_error` — shift the score by 150 ms (a bad
   synchronisation) and compare the reconstruction error for a tight and a
   generous onset tolerance.
3. :func:`onset_share` — how much of the model ``WH`` do the onset templates
   explain around the onsets, and how much elsewhere?
"""
from __future__ import annotations

import numpy as np

__all__ = ["zeros_stay_zero", "synchronisation_error", "onset_share", "constraint_widget"]


def _toy():
    from nmfedu import data
    from nmfedu.spectrogram import magnitude

    piece = data.load(data.TOY)
    return piece, magnitude(piece.x)


def _rel_error(V, W, H, frames=None):
    """‖V − WH‖ / ‖V‖, optionally on a subset of frames."""
    if frames is not None:
        V, H = V[:, frames], H[:, frames]
    return float(np.linalg.norm(V - W @ H) / np.linalg.norm(V))


def zeros_stay_zero(n_iter: int = 30, gamma: float = 1e-3):
    """Exercise 1: zeros of W⁽⁰⁾ survive multiplicative updates, not gradient steps.

    Builds the harmonic templates of the toy's pitches (exact zeros between the
    harmonics), runs ``n_iter`` multiplicative updates with
    :func:`nmfedu.nmf`, and counts the zero entries of ``W`` before and after.
    Then it takes one additive gradient step ``W − γ ∇_W`` projected onto
    ``W ≥ 0`` (the projected gradient descent of notebook 06) from the same
    start and counts again: wherever the gradient is negative, a zero entry
    becomes positive, and the template is no longer harmonic.

    Returns
    -------
    dict with ``zeros_before``, ``zeros_mu``, ``zeros_gd``, ``size``.
    """
    import nmfedu
    from nmfedu import constraints

    piece, V = _toy()
    pitches = np.unique(piece.notes["Pitch"].to_numpy(int))
    W0 = constraints.pitch_templates(pitches, K=V.shape[0], n_harmonics=25, tolerance=0.5,
                                     min_width=2.0)
    H0 = np.random.default_rng(0).random((W0.shape[1], V.shape[1]))
    result = nmfedu.nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_iter, seed=0)
    grad = nmfedu.gradient_W(V, W0, H0)
    W_gd = np.maximum(W0 - gamma * grad, 0.0)
    out = dict(zeros_before=int(np.sum(W0 == 0)), zeros_mu=int(np.sum(result.W == 0)),
               zeros_gd=int(np.sum(W_gd == 0)), size=int(W0.size))
    print(f"W has {out['size']} entries.")
    print(f"zeros in W(0)                          : {out['zeros_before']}")
    print(f"zeros after {n_iter} multiplicative updates : {out['zeros_mu']}  (all kept)")
    print(f"zeros after one projected gradient step : {out['zeros_gd']}  "
          f"({out['zeros_before'] - out['zeros_gd']} zeros became positive)")
    print("A multiplicative update multiplies each entry by a nonnegative factor, so 0 stays 0.\n"
          "An additive step adds -γ·(∂/∂W); where that gradient is negative (the model is too\n"
          "small there), the zero grows, and the template constraint is lost. With additive\n"
          "rules the constraint has to be re-imposed after every step (project the entries to 0).")
    return out


def synchronisation_error(shift: float = 0.15, n_iter: int = 50):
    """Exercise 2: a score that is 150 ms late, with tight and generous onset tolerances.

    The activation constraints come from a *synchronised* score. If the
    synchronisation is off by ``shift`` seconds, a tight tolerance
    (``onset_tol = 0``) forbids each pitch to sound where it actually starts;
    a tolerance larger than the error repairs it, at the price of looser
    constraints. The relative error ``‖V − WH‖ / ‖V‖`` shows it.

    Returns
    -------
    dict tolerance → relative error (and ``"in sync"`` for the unshifted score).
    """
    import nmfedu
    from nmfedu import constraints

    piece, V = _toy()
    K, N = V.shape
    late = piece.notes.copy()
    late["Start"] = late["Start"] + shift
    out = {}
    for label, notes, tol in (("in sync, onset_tol = 0.0 s", piece.notes, 0.0),
                              (f"{shift * 1000:.0f} ms late, onset_tol = 0.0 s", late, 0.0),
                              (f"{shift * 1000:.0f} ms late, onset_tol = 0.2 s", late, 0.2)):
        W0, H0, _ = constraints.build_constraints(notes, K, N, by=None, n_harmonics=25,
                                                  tolerance=0.5, min_width=2.0, onset_tol=tol,
                                                  offset_tol=0.5, onset_templates=False)
        res = nmfedu.nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_iter, seed=0)
        out[label] = round(_rel_error(V, res.W, res.H), 3)
    for label, err in out.items():
        print(f"{label:32s} relative error {err:.3f}")
    print("With the late score and no tolerance, every note's first 150 ms cannot be explained\n"
          "by its own template (its activation is forced to 0 there): the error grows. A\n"
          "tolerance larger than the synchronisation error lets the activation start earlier.")
    return out


def onset_share(n_iter: int = 50, window: float = 0.1):
    """Exercise 3: the share of the model that the onset templates explain.

    Builds the double constraints with onset templates
    (:func:`nmfedu.constraints.build_constraints`), learns ``W, H``, splits
    ``H`` by kind (:func:`nmfedu.separation.split_activations` with
    ``by="kind"``) and compares the energy of the onset part ``W H_onset`` with
    that of the whole model in frames within ``window`` seconds after an onset
    and in all other frames.

    Returns
    -------
    dict with ``near_onsets`` and ``elsewhere`` (fractions of model energy).
    """
    import nmfedu
    from nmfedu import constraints, separation
    from nmfedu.spectrogram import frame_of

    piece, V = _toy()
    K, N = V.shape
    W0, H0, labels = constraints.build_constraints(piece.notes, K, N, by=None, n_harmonics=25,
                                                   tolerance=0.5, min_width=2.0, offset_tol=0.5,
                                                   onset_templates=True, onset_shape="flat")
    res = nmfedu.nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_iter, seed=0)
    parts = separation.split_activations(res.H, labels, by="kind")
    models = separation.model_spectrograms(res.W, parts)
    near = np.zeros(N, dtype=bool)
    for start in piece.notes["Start"].to_numpy(float):
        lo, hi = frame_of(start), frame_of(start + window)
        near[max(lo, 0):min(hi, N - 1) + 1] = True
    total = models["pitch"] + models["onset"]
    out = {}
    for name, frames in (("near_onsets", near), ("elsewhere", ~near)):
        out[name] = round(float(np.sum(models["onset"][:, frames] ** 2)
                                / np.sum(total[:, frames] ** 2)), 3)
    print(f"share of model energy from onset templates, {window * 1000:.0f} ms after onsets: "
          f"{out['near_onsets']:.3f}")
    print(f"share of model energy from onset templates, elsewhere:           {out['elsewhere']:.3f}")
    print("The onset templates explain a clear part of the model right after the onsets and\n"
          "(by construction) almost nothing elsewhere: they are allowed only near onsets.")
    return out


# --------------------------------------------------------------------------- interactive figure
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
    """
    import nmfedu
    from nmfedu import constraints, plot, widgets

    if V is None or notes is None:
        piece, V = _toy()
        notes = piece.notes

    def compute(templates, activations, onsets, tolerance, onset_tol, offset_tol, V, notes):
        K, N = V.shape
        W0, H0, labels = constraints.build_constraints(notes, K, N, by=None, n_harmonics=25,
                                                       tolerance=tolerance, min_width=2.0,
                                                       onset_tol=onset_tol, offset_tol=offset_tol,
                                                       onset_templates=True, onset_shape="flat")
        pitch = (labels["kind"] == "pitch").to_numpy()
        W_rand, H_rand = nmfedu.factorization.init_random(K, N, W0.shape[1], seed=0,
                                                          scale=float(V.mean()))
        if not templates:       # unconstrained pitch templates: random start, no zeros
            W0[:, pitch] = W_rand[:, pitch]
        if not activations:     # unconstrained pitch activations
            H0[pitch] = H_rand[pitch]
        if not onsets:          # onset templates off: a zero column and row stay zero
            W0[:, ~pitch] = 0.0
            H0[~pitch] = 0.0
        res = nmfedu.nmf(V, W0.shape[1], W0=W0, H0=H0, n_iter=n_iter, tol=0)
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
