"""Figures and interactive figures of notebook 09 (applications: NMFD drum separation,
Let-It-Bee mosaicing, Wiener masks vs resynthesis).

Everything expensive is computed once here (and cached), so the notebook's widgets only
redraw. Used by notebook 09 and ``benchmarks/bench_widgets.py``-style timing of the
callbacks (``figure.callback``).
"""
from __future__ import annotations

import functools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import data, drums, mosaic as mo, reconstruction as rec, spectrogram as sp, widgets
from ..evaluation import bss_eval, oracle_ratio_mask

COLORS = {"kick": "tab:red", "snare": "tab:blue", "hihat": "tab:green"}
MOSAIC_TARGET = data.EASY              # Mozart K. 545, the opening
MOSAIC_SECONDS = 4.0


@functools.lru_cache(maxsize=4)
def drum_separations(name: str = "rock_groove"):
    """The groove and its score-informed separations: ``(groove, nmf, nmfd)`` where
    ``nmf`` is plain NMF (T = 1, one template per drum) and ``nmfd`` the defaults of
    :func:`nmfedu.separate_drums` (both :class:`nmfedu.drums.DrumSeparation`)."""
    g = drums.load_groove(name)
    nmf = drums.separate_drums(g.x, g.sr, g.notes, T=1, split_pitches=False, return_details=True)
    nmfd = drums.separate_drums(g.x, g.sr, g.notes, return_details=True)
    return g, nmf, nmfd


def sdr_table(groove, estimates: dict):
    """Mean and per-drum SDR (dB, BSS Eval via :func:`nmfedu.evaluation.bss_eval`) of
    each method in ``estimates`` (method → dict drum → signal), one row per method."""
    rows = {}
    for method, est in estimates.items():
        t = bss_eval(groove.stems, est)
        rows[method] = {**{k: round(float(v), 2) for k, v in t["SDR"].items()},
                        "mean": round(float(t["SDR"].mean()), 2)}
    return pd.DataFrame.from_dict(rows, orient="index")[["kick", "snare", "hihat", "mean"]]


def oracle(groove):
    """The oracle ideal ratio mask (α = 2) on the same STFT."""
    return oracle_ratio_mask(groove.stems, groove.x)


def _db(X, floor=-60.0):
    X = np.asarray(X, float)
    return np.maximum(20 * np.log10(X / max(X.max(), 1e-12) + 1e-12), floor)


def plot_templates(d, fmax: float = 11025.0, sr: float = sp.SR, hop_length: int = sp.HOP_LENGTH):
    """One panel per NMFD component: its template over τ (ms) and frequency (Hz, log
    scale from 30 Hz), dB relative to the template's maximum."""
    T, K, R = d.W.shape
    f = sp.frequencies(sr)
    kmax = int(np.searchsorted(f, fmax))
    fig, axes = plt.subplots(1, R, figsize=(2.3 * R + 1, 3.2), sharey=True, constrained_layout=True)
    axes = np.atleast_1d(axes)
    tau_ms = np.arange(T + 1) * hop_length / sr * 1000
    for r, ax in enumerate(axes):
        edges = np.concatenate([[f[1] / 2], (f[1:kmax] + f[2:kmax + 1]) / 2, [f[kmax]]])
        im = ax.pcolormesh(tau_ms, edges, _db(d.W[:, 1:kmax + 1, r].T), cmap="gray_r",
                           vmin=-60, vmax=0, shading="flat")
        ax.set_yscale("log")
        ax.set_ylim(30, fmax)
        ax.set_title(d.components[r].replace("/", " / GM "), fontsize=9)
        ax.set_xlabel("τ (ms)")
    axes[0].set_ylabel("Frequency (Hz)")
    fig.colorbar(im, ax=axes, label="dB (each template's max = 0)", shrink=0.9)
    return fig


def plot_activations(d, groove, hop_length: int = sp.HOP_LENGTH, title: str = ""):
    """H of every component over time (s), with the drum score's hits as ticks below."""
    R, N = d.H.shape
    t = sp.times(N, groove.sr, hop_length)
    fig, axes = plt.subplots(R, 1, figsize=(10, 0.9 * R + 1.0), sharex=True, constrained_layout=True)
    axes = np.atleast_1d(axes)
    for r, ax in enumerate(axes):
        inst, _, pitch = d.components[r].partition("/")
        ax.plot(t, d.H[r] / max(d.H[r].max(), 1e-12), color=COLORS.get(inst, "k"), lw=1)
        nt = groove.notes[(groove.notes.Instrument == inst)
                          & ((groove.notes.Pitch == int(pitch)) if pitch else True)]
        ax.plot(nt.Start, np.full(len(nt), -0.12), "|", color="k", ms=6)
        ax.set_ylim(-0.25, 1.1)
        ax.set_ylabel(d.components[r].replace("/", "\n"), fontsize=8, rotation=0, ha="right",
                      va="center")
        ax.set_yticks([0, 1])
    axes[-1].set_xlabel("Time (s)")
    fig.supylabel("H (each row scaled to max 1)", fontsize=9)
    axes[0].set_title(title or "Activations H (each row scaled to max 1; ticks: the score's hits)",
                      fontsize=10)
    return fig


# ----------------------------------------------------------------------------- mosaicing
@functools.lru_cache(maxsize=1)
def mosaic_inputs():
    """Target (the first 4 s of the easy Mozart excerpt) and source (the bundled bird
    tweets): a dict with ``x_target, x_source, sr, V, W, X_source``."""
    piece = data.load(MOSAIC_TARGET)
    xs, sr, meta = mo.load_source()
    xt = piece.x[: int(MOSAIC_SECONDS * sr)]
    Xs = sp.stft(xs)
    return dict(x_target=xt, x_source=xs, sr=sr, V=np.abs(sp.stft(xt)), W=np.abs(Xs), X_source=Xs,
                piece=piece, meta=meta)


@functools.lru_cache(maxsize=32)
def run_mosaic(repetition: int = 3, polyphony: int = 10, continuity: int = 7):
    """:func:`nmfedu.mosaic.mosaic` on :func:`mosaic_inputs` (0 = restriction off), cached;
    returns ``(result, mosaic signal)`` — the signal resynthesised from the source's
    complex frames."""
    m = mosaic_inputs()
    res = mo.mosaic(m["V"], m["W"], repetition=repetition or None, polyphony=polyphony or None,
                    continuity=continuity or None)
    y = mo.resynthesize_mosaic(m["X_source"], res.H, length=m["x_target"].size)
    return res, y


POOL = 4   # source frames per displayed row of H (max-pooled so thin diagonals stay visible)


def _pooled(H):
    M = H.shape[0] - H.shape[0] % POOL
    return H[:M].reshape(M // POOL, POOL, -1).max(axis=1)


def _mosaic_axes(fig):
    gs = fig.add_gridspec(1, 3, width_ratios=[2.2, 1, 0.06])
    return fig.add_subplot(gs[0]), fig.add_subplot(gs[1]), fig.add_subplot(gs[2])


def mosaic_figure(res, fig=None):
    """H (source time × target time, dB) and the KL divergence per iteration."""
    m = mosaic_inputs()
    fig = fig or plt.figure(figsize=(10, 3.8), constrained_layout=True)
    ax, ax2, cax = _mosaic_axes(fig)
    M, N = res.H.shape
    ext = [0, N * sp.HOP_LENGTH / m["sr"], 0, M * sp.HOP_LENGTH / m["sr"]]
    im = ax.imshow(_db(_pooled(res.H), -40), origin="lower", aspect="auto", cmap="gray_r", extent=ext,
                   vmin=-40, vmax=0, interpolation="nearest")
    ax.set_xlabel("Target time (s)")
    ax.set_ylabel(f"Source time (s; max over {POOL} frames)")
    fig.colorbar(im, cax=cax, label="H (dB re max)")
    kl_line, = ax2.plot(np.arange(len(res.kl)), res.kl, "k.-", ms=3, label="after the update")
    r_line, = ax2.plot(np.arange(1, len(res.kl_restricted) + 1), res.kl_restricted, "--",
                       color="tab:orange", lw=1, label="after the restrictions")
    ax2.set_xlabel("Iteration")
    ax2.set_ylabel("KL divergence D(V | WH)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=8, loc="center right")
    _mosaic_title(ax, res)
    return fig, dict(im=im, kl=kl_line, restricted=r_line, ax=ax, ax2=ax2)


def _mosaic_title(ax, res):
    runs = mo.diagonal_runs(res.H)
    p = res.params
    ax.set_title(f"H: repetition {p['repetition'] or 'off'}, polyphony {p['polyphony'] or 'off'}, "
                 f"continuity {p['continuity'] or 'off'} — mean diagonal run "
                 f"{runs.mean():.2f} frames", fontsize=9)


def mosaic_widget():
    """Toggles for the three restrictions (repetition on/off, polyphony p, continuity c)
    behind a Run button (one mosaic takes about half a second); shows H and the KL curve.
    Used by notebook 09."""

    def compute(repetition, polyphony, continuity):
        return run_mosaic(3 if repetition else 0, int(polyphony), int(continuity))[0]

    def setup(fig, res):
        return mosaic_figure(res, fig=fig)[1]

    def draw(h, res):
        h["im"].set_data(_db(_pooled(res.H), -40))
        h["kl"].set_data(np.arange(len(res.kl)), res.kl)
        h["restricted"].set_data(np.arange(1, len(res.kl_restricted) + 1), res.kl_restricted)
        h["ax2"].relim()
        h["ax2"].autoscale_view()
        _mosaic_title(h["ax"], res)

    controls = {
        "repetition": widgets.toggle("Repetition restriction (±3 frames)", True),
        "polyphony": widgets.dropdown([("off", 0), ("1", 1), ("3", 3), ("10", 10)], 10,
                                      description="Polyphony p"),
        "continuity": widgets.int_slider("Continuity c (frames)", 7, 0, 15),
    }
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, run_button=True,
                                     figsize=(10.0, 3.8), freeze_layout=False,
                                     title="Let it Bee: the restrictions and the activations H")


# ----------------------------------------------------------------------------- reconstruction
def snr(ref, est):
    """10 log10(‖s‖² / ‖s − ŝ‖²) in dB — a quick signal-to-distortion ratio (without BSS
    Eval's allowed filter, so it punishes any phase or gain error)."""
    ref = np.asarray(ref, float)
    err = ref - np.asarray(est, float)[: ref.size]
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum(err ** 2), 1e-20)))


def _resynthesis(d, groove):
    resyn = rec.resynthesize(d.models, d.X, length=groove.x.size)
    return dict(resynthesis=resyn, err_resyn=rec.additivity_error(resyn, groove.x),
                snr_resyn={k: snr(groove.stems[k], v) for k, v in resyn.items()})


def reconstruct(d, groove, alpha: float, resynthesis=None):
    """Masked parts (α) and the mixture-phase resynthesis of an NMFD separation, with
    their additivity error and per-drum SNR (``resynthesis``: a precomputed
    ``_resynthesis`` result, which does not depend on α)."""
    L = groove.x.size
    M = rec.alpha_masks(d.models, alpha)
    masked = {k: sp.istft(M[k] * d.X, length=L) for k in M}
    return dict(
        masks=M, masked=masked, err_mask=rec.additivity_error(masked, groove.x),
        snr_mask={k: snr(groove.stems[k], v) for k, v in masked.items()},
        **(resynthesis or _resynthesis(d, groove)))


STEP = 3   # every 3rd frequency bin is drawn (the masks vary slowly along frequency)


def wiener_widget(name: str = "rock_groove"):
    """α slider: the three α-Wiener masks of the NMFD separation, the additivity error and
    per-drum SNR of masking vs resynthesis in the title. Updates in well under 0.5 s (the
    separation is precomputed). Used by notebook 09."""
    g, _, d = drum_separations(name)
    f = sp.frequencies(g.sr)
    kmax = int(np.searchsorted(f, 8000))
    labels = list(d.models)

    resyn = _resynthesis(d, g)

    def compute(alpha, d, g):
        return reconstruct(d, g, alpha, resynthesis=resyn)

    def setup(fig, r):
        axes = fig.subplots(1, len(labels) + 1, sharey=False,
                            gridspec_kw=dict(width_ratios=[1] * len(labels) + [0.05]))
        ims = {}
        N = d.X.shape[1]
        ext = [0, N * sp.HOP_LENGTH / g.sr, 0, f[kmax]]
        for ax, k in zip(axes, labels):
            ims[k] = ax.imshow(r["masks"][k][:kmax:STEP], origin="lower", aspect="auto", extent=ext,
                               vmin=0, vmax=1, cmap="magma", interpolation="nearest")
            ax.set_title(f"mask {k}", fontsize=9)
            ax.set_xlabel("Time (s)")
        axes[0].set_ylabel("Frequency (Hz)")
        fig.colorbar(ims[labels[0]], cax=axes[-1], label="mask value")
        sup = fig.suptitle("", fontsize=9)
        h = dict(ims=ims, sup=sup)
        draw(h, r)
        return h

    def draw(h, r):
        for k in labels:
            h["ims"][k].set_data(r["masks"][k][:kmax:STEP])
        m = ", ".join(f"{k} {r['snr_mask'][k]:.1f}" for k in labels)
        s = ", ".join(f"{k} {r['snr_resyn'][k]:.1f}" for k in labels)
        h["sup"].set_text(f"masks: Σ parts − x = {r['err_mask']:.1e} (relative); SNR {m} dB\n"
                          f"resynthesis: Σ parts − x = {r['err_resyn']:.1e}; SNR {s} dB")

    controls = {"alpha": widgets.float_slider("Mask exponent α", 2.0, 0.25, 8.0, 0.25)}
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, fixed=dict(d=d, g=g),
                                     figsize=(9.0, 3.2), freeze_layout=True,
                                     title="α-Wiener masks of the NMFD separation (rock groove)")
