"""Interactive figure and shared computations of notebook 05 (score–audio synchronisation)."""
from __future__ import annotations

import functools

import numpy as np

from .. import data, evaluation, plot, separation, widgets
from .. import synchronization as sync

PIECE = "mozart_sonata"
SEED = 3


@functools.lru_cache(maxsize=8)
def performed(rubato: float = 0.15, slow: float = 1.2, seed: int = SEED, name: str = PIECE):
    """A performed version of a bundled piece, made from its stems with a known tempo curve
    (:func:`nmfedu.synchronization.performed_version`): ``(piece, mix, stems, true, warp)``."""
    piece = data.load(name)
    mix, stems, true, warp = sync.performed_version(piece, rubato=rubato, slow=slow, seed=seed)
    return piece, mix, stems, true, warp


def evaluate(rubato: float, slow: float = 1.2, n_iter: int = 50):
    """Align the notated score with a performed version and separate with both scores.

    Returns a dict: ``warp`` (true), ``aligned_warp`` (score onsets → aligned onsets),
    onset errors (ms, median and p95) of the notated, globally aligned and refined scores,
    and the mean SDR (dB) of the separation with the notated score (unchecked), the aligned
    score and the true timing.
    """
    piece, mix, stems, true, warp = performed(round(float(rubato), 3), round(float(slow), 3))
    a = sync.align(mix, piece.sr, piece.notes, check=False)
    glob = a.notes.assign(Start=a.global_onsets)
    err = {k: sync.onset_errors(t, true) * 1000
           for k, t in (("notated", piece.notes), ("global", glob), ("refined", a.notes))}
    sdr = {}
    for k, notes in (("notated", piece.notes), ("aligned", a.notes), ("true", true)):
        est = separation.separate(mix, piece.sr, notes, n_iter=n_iter, align=None)
        sdr[k] = float(evaluation.mean_sdr(evaluation.bss_eval(stems, est)))
    order = np.argsort(piece.notes["Start"].to_numpy(), kind="stable")
    return dict(warp=warp, score_onsets=piece.notes["Start"].to_numpy()[order],
                aligned_onsets=np.sort(a.notes["Start"].to_numpy()),
                err={k: (float(np.median(v)), float(np.percentile(v, 95))) for k, v in err.items()},
                sdr=sdr, fit=(a.fit_before.fit, a.fit_after.fit))


def rubato_widget(rubato: float = 0.15):
    """Rubato of a performed rendition → alignment (warp, onset errors) and separation SDR.

    Left: the true tempo curve (score time → performance time) and the aligned onsets.
    Right: the mean SDR with the notated score, the aligned score and the true timing.
    Behind a Run button (alignment and three separations take a few seconds).
    Used by notebook 05 and ``benchmarks/bench_widgets.py``.
    """
    def compute(rubato):
        return evaluate(rubato)

    def setup(fig, d):
        ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.4, 1.0])
        h = {"ax1": ax1, "ax2": ax2}
        h["true"], = ax1.plot(d["warp"][0], d["warp"][1], color="0.3", lw=1.5, label="true tempo curve")
        h["al"], = ax1.plot(d["score_onsets"], d["aligned_onsets"], "o", ms=3.5,
                            color=plot.GROUP_COLORS[1], label="aligned onsets")
        h["diag"], = ax1.plot([0, 12], [0, 12], ":", color="0.5", label="notated (no rubato, no lead-in)")
        ax1.set_xlabel("Score time (s)")
        ax1.set_ylabel("Performance time (s)")
        ax1.legend(loc="upper left", fontsize="small")
        h["txt"] = ax1.text(0.98, 0.03, "", transform=ax1.transAxes, ha="right", va="bottom",
                            fontsize="small", family="monospace")
        h["bars"] = ax2.bar(["notated", "aligned", "true timing"], [0, 0, 0],
                            color=["0.6", plot.GROUP_COLORS[1], plot.GROUP_COLORS[0]])
        ax2.set_ylabel("Mean SDR (dB)")
        ax2.set_ylim(-5, 20)
        ax2.axhline(0, color="0.3", lw=0.8)
        ax2.set_title("Separation quality")
        return h

    def draw(h, d):
        h["true"].set_data(d["warp"][0], d["warp"][1])
        h["al"].set_data(d["score_onsets"], d["aligned_onsets"])
        xmax = float(d["score_onsets"].max()) + 1.0
        h["ax1"].set_xlim(0, xmax)
        h["ax1"].set_ylim(0, float(np.interp(xmax, *d["warp"])) + 0.5)
        e = d["err"]
        h["txt"].set_text("onset error  median   p95 (ms)\n"
                          + "\n".join(f"{k:9s} {v[0]:7.0f} {v[1]:6.0f}" for k, v in e.items()))
        for bar, k in zip(h["bars"], ("notated", "aligned", "true")):
            bar.set_height(d["sdr"][k])

    controls = {"rubato": widgets.float_slider("Rubato ±", rubato, 0.0, 0.3, 0.05)}
    return widgets.InteractiveFigure(compute, draw, controls, setup=setup, run_button=True,
                                     figsize=(9.0, 3.8), freeze_layout=False,
                                     title="Rubato of the performance vs alignment and separation")
