"""Applications of notebook 09 (issue 15): NMFD drum separation, mosaicing, Wiener vs
resynthesis, and the cost of the shifted products.

1. **Drums, bundled grooves** (``data/grooves``): mean SDR over kick / snare / hi-hat of the
   oracle ideal ratio mask (α = 2, same STFT), score-informed plain NMF (T = 1, one
   template per drum) and nmfedu's NMFD defaults (``nmfedu.drums.DRUM_DEFAULTS``).
   Targets: NMFD within 1.0 dB of the oracle, ≥ 3 dB above NMF.
2. **Drums, unseen kit**: ``UNSEEN_GROOVE`` of ``scripts/make_data.py`` (a groove not in
   data/) rendered into ``build/bench_unseen`` with the TimGM6mb soundfont (Debian
   ``timgm6mb-soundfont``; the project's data use FluidR3_GM). Plain score-informed NMFD
   (random templates, one component per drum, α = 1 and 2) against nmfedu's defaults.
   Target: the defaults at least as good as the plain NMFD.
3. **Mosaicing** (target: 4 s of ``mozart_sonata``; source: the bundled bird tweets):
   KL over the iterations with and without restrictions, mean diagonal run length of H
   with and without the continuity restriction.
4. **Wiener vs resynthesis**: additivity error max|Σ parts − x| / max|x| and mean SDR for
   α-masks (α = 1, 2) and resynthesis (mixture phase, Griffin–Lim), with the time.
5. **Shifted products**: seconds per NMFD iteration, stacked products vs the plain loop
   over τ, for T = 10 and 20.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_applications.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from nmfedu import data, drums, mosaic as mo, nmfd, reconstruction as rec  # noqa: E402
from nmfedu import spectrogram as sp  # noqa: E402
from nmfedu.evaluation import bss_eval, mean_sdr, oracle_ratio_mask  # noqa: E402

UNSEEN_SF = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


def sdr(stems, est):
    return mean_sdr(bss_eval(stems, est))


def per_drum(stems, est):
    t = bss_eval(stems, est)
    return " ".join(f"{k} {float(v):5.1f}" for k, v in zip(t.index, t["SDR"]))


def bundled():
    print("\n## 1. Drum separation on the bundled grooves (mean SDR over drums, dB)\n")
    print("| groove | oracle IRM | NMF (T=1) | NMFD (defaults) | oracle − NMFD | NMFD − NMF | time NMFD |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for name in drums.groove_names():
        g = drums.load_groove(name)
        o = sdr(g.stems, oracle_ratio_mask(g.stems, g.x))
        a = sdr(g.stems, drums.separate_drums(g.x, g.sr, g.notes, T=1, split_pitches=False))
        t0 = time.perf_counter()
        est = drums.separate_drums(g.x, g.sr, g.notes)
        t = time.perf_counter() - t0
        b = sdr(g.stems, est)
        ok &= (o - b <= 1.0) and (b - a >= 3.0)
        print(f"| {name} | {o:.2f} | {a:.2f} | {b:.2f} | {o - b:.2f} | {b - a:.2f} | {t:.1f} s |")
        print(f"|   per drum NMFD | | | {per_drum(g.stems, est)} | | | |")
    print(f"\ntargets (within 1.0 dB of the oracle, >= 3 dB above NMF): {'MET' if ok else 'NOT MET'}")


def unseen():
    print("\n## 2. Unseen kit: UNSEEN_GROOVE rendered with TimGM6mb (not in data/)\n")
    import make_data as md

    import shutil

    if not UNSEEN_SF.is_file() or shutil.which("fluidsynth") is None:
        print(f"skipped: needs fluidsynth and {UNSEEN_SF} (apt-get install fluidsynth "
              f"timgm6mb-soundfont; make bench does this as root)")
        return
    out = ROOT / "build" / "bench_unseen"
    with tempfile.TemporaryDirectory() as tmp:
        md.render_groove(md.UNSEEN_GROOVE, out, Path(tmp), soundfont=UNSEEN_SF)
    import soundfile as sf
    from nmfedu import score

    d = out / md.UNSEEN_GROOVE["name"]
    x, sr = sf.read(str(d / "mix.wav"), dtype="float64")
    stems = {i: sf.read(str(d / f"{i}.wav"), dtype="float64")[0] for i in ("kick", "snare", "hihat")}
    notes = score.read_csv(d / "score.csv")
    rows = [("oracle IRM (α = 2)", sdr(stems, oracle_ratio_mask(stems, x)))]
    rows.append(("plain score-informed NMF (T=1, α = 2)",
                 sdr(stems, drums.separate_drums(x, sr, notes, T=1, split_pitches=False))))
    plain = {}
    for alpha in (1.0, 2.0):
        plain[alpha] = sdr(stems, drums.separate_drums(x, sr, notes, init="random",
                                                        split_pitches=False, n_iter=30,
                                                        alpha=alpha, seed=0))
        rows.append((f"plain NMFD (random W, one template per drum, 30 it., α = {alpha:g})",
                     plain[alpha]))
    est = drums.separate_drums(x, sr, notes)
    dflt = sdr(stems, est)
    rows.append(("nmfedu defaults " + str(drums.DRUM_DEFAULTS), dflt))
    print("| method | mean SDR (dB) |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v:.2f} |")
    print(f"\nper drum (defaults): {per_drum(stems, est)}")
    print(f"target (defaults >= plain NMFD at both α): "
          f"{'MET' if dflt >= max(plain.values()) else 'NOT MET'}")


def mosaicing():
    print("\n## 3. Mosaicing: target 4 s of mozart_sonata, source bird_tweets\n")
    xs, sr, _ = mo.load_source()
    W = np.abs(sp.stft(xs))
    V = np.abs(sp.stft(data.load("mozart_sonata").x[: 4 * sr]))
    print(f"W {W.shape} (source frames), V {V.shape}")
    print("| restrictions | KL first → last | KL monotone | each update lowers KL | mean run length | runs | time |")
    print("|---|---|---|---|---|---|---|")
    cases = [("none", dict(repetition=None, polyphony=None, continuity=None)),
             ("repetition 3 + polyphony 10, no continuity", dict(continuity=None)),
             ("all (continuity 7, the default)", dict()),
             ("all, continuity 11", dict(continuity=11))]
    for label, kw in cases:
        t0 = time.perf_counter()
        r = mo.mosaic(V, W, **kw)
        t = time.perf_counter() - t0
        mono = all(b <= a * (1 + 1e-12) for a, b in zip(r.kl, r.kl[1:]))
        upd = all(b <= a * (1 + 1e-12) for a, b in zip(r.kl_restricted, r.kl[1:]))
        runs = mo.diagonal_runs(r.H)
        print(f"| {label} | {r.kl[0]:.4g} → {r.kl[-1]:.4g} | {mono} | {upd} | "
              f"{runs.mean():.2f} | {runs.size} | {t:.2f} s |")
    r = mo.mosaic(V, W)
    t0 = time.perf_counter(); mo.resynthesize_mosaic(sp.stft(xs), r.H); t1 = time.perf_counter() - t0
    t0 = time.perf_counter(); mo.griffin_lim_mosaic(W, r.H, n_iter=32); t2 = time.perf_counter() - t0
    print(f"\nresynthesis from the source's complex frames {t1:.3f} s; Griffin–Lim (32 it.) "
          f"{t2:.3f} s ({t2 / t1:.0f}× the cost)")


def reconstruction():
    print("\n## 4. Wiener masks vs resynthesis (rock_groove, NMFD defaults)\n")
    g = drums.load_groove("rock_groove")
    d = drums.separate_drums(g.x, g.sr, g.notes, return_details=True)
    print("| reconstruction | additivity error max|Σ parts − x|/max|x| | mean SDR (dB) | time |")
    print("|---|---|---|---|")
    for label, f in [("mask α = 1", lambda: rec.wiener(d.X, d.models, 1.0, length=g.x.size)),
                     ("mask α = 2 (Wiener)", lambda: rec.wiener(d.X, d.models, 2.0, length=g.x.size)),
                     ("resynthesis, mixture phase", lambda: rec.resynthesize(d.models, d.X, length=g.x.size)),
                     ("resynthesis, Griffin–Lim 32 it.",
                      lambda: rec.resynthesize(d.models, length=g.x.size, method="griffin_lim"))]:
        t0 = time.perf_counter()
        parts = f()
        t = time.perf_counter() - t0
        print(f"| {label} | {rec.additivity_error(parts, g.x):.2e} | {sdr(g.stems, parts):.2f} | {t:.3f} s |")


def timing():
    print("\n## 5. Seconds per NMFD iteration: stacked products vs a plain loop over τ\n")
    g = drums.load_groove("funk_groove")
    V = np.abs(sp.stft(g.x))
    print("| K × N | R | T | stacked (s/it) | loop over τ (s/it) | loop / stacked |")
    print("|---|---|---|---|---|---|")
    for T in (10, 20):
        for reps, R in ((1, 4), (4, 8)):
            VV = np.tile(V, (1, reps))
            a = nmfd.nmfd(VV, R=R, T=T, n_iter=5, seed=0).seconds_per_iter
            b = nmfd.nmfd(VV, R=R, T=T, n_iter=5, seed=0, order="loop").seconds_per_iter
            print(f"| {VV.shape[0]} × {VV.shape[1]} | {R} | {T} | {a:.4f} | {b:.4f} | {b / a:.1f} |")


def main():
    print(f"# bench_applications — {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    print(f"machine shared with other jobs (2 cores); OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}; ratios compare methods in the same run")
    t0 = time.perf_counter()
    bundled()
    unseen()
    mosaicing()
    reconstruction()
    timing()
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
