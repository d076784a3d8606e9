"""Benchmark of score–audio synchronisation (issue 14; nmfedu.synchronization).

Measured on the performed renditions of ``make performed`` (scripts/make_performed.py: the
bundled scores played with rubato, a pause, a lead-in, the melody 15 ms ahead, jitter and
varied velocities, rendered with the TimGM6mb soundfont that data/ does not use). Nothing in
the aligner was tuned on these files (its biases were measured on the bundled pieces).

Per performed piece:
* onset error (mean / median / p95, ms) of the notated score, after the global alignment and
  after the per-note refinement;
* mean SDR (dB) of ``nmfedu.separate`` with the notated score (the check bypassed), the aligned
  score (``align="always"``) and the true performed timing;
* the fit check on synchronised, performed and wrong-piece scores;
* the bundled (already synchronised) pieces: SDR of ``separate`` today (no check) and with the
  default ``align="auto"``;
* time and peak memory (RSS of a fresh process, and the growth during the alignment) of
  ``align`` on 1, 5 and 10 minutes of performed audio (pieces tiled).

Targets (issue 14): median ≤ 10 ms, p95 ≤ 25 ms; SDR aligned within 0.5 dB of true timing;
5 minutes in ≤ 15 s with ≤ 600 MB; the fit check without error on the set.
It reports; it does not fail on a missed target. Usage::

    make performed && .venv/bin/python benchmarks/bench_sync.py [--quick] [--out FILE]
    make evalset && .venv/bin/python benchmarks/bench_sync.py --evalset --only-evalset
    .venv/bin/python benchmarks/bench_sync.py --calibrate --heldout     # REFINE_BIAS, 4 more sets
    .venv/bin/python benchmarks/bench_sync.py --evalset --after-alignment --only-evalset
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERFORMED = ROOT / "build" / "performed"
PIECES = ["mozart_sonata", "schumann_polonaise", "chopin_mazurka", "joplin_rag"]
TARGETS = dict(median_ms=10.0, p95_ms=25.0, sdr_gap_db=0.5, five_min_s=15.0, five_min_mb=600.0)


def stats(e):
    e = np.asarray(e) * 1000
    return dict(mean=float(e.mean()), median=float(np.median(e)), p95=float(np.percentile(e, 95)))


SOUNDFONT = "timgm"


def load_performed(name):
    import soundfile as sf

    from nmfedu import score

    d = PERFORMED / name
    if not (d / "mix.wav").exists():
        raise SystemExit(f"bench_sync.py: {d} is missing; run 'make performed' first")
    x, sr = sf.read(d / "mix.wav")
    stems = {h: sf.read(d / f"{h}.wav")[0] for h in ("left", "right")}
    return x, sr, stems, score.read_csv(d / "notated.csv"), score.read_csv(d / "true.csv")


def sdr(x, sr, notes, stems, align):
    from nmfedu import evaluation, separation

    est = separation.separate(x, sr, notes, align=None if align == "bypass" else align)
    return float(evaluation.mean_sdr(evaluation.bss_eval(stems, est)))


def accuracy(quick):
    from nmfedu import synchronization as sync

    rows = []
    for name in PIECES:
        x, sr, stems, notated, true = load_performed(f"{name}_{SOUNDFONT}")
        a = sync.align(x, sr, notated)
        glob = a.notes.assign(Start=a.global_onsets)
        row = dict(piece=name, audio_s=x.size / sr,
                   notated=stats(sync.onset_errors(notated, true)),
                   global_=stats(sync.onset_errors(glob, true)),
                   refined=stats(sync.onset_errors(a.notes, true)),
                   fit_notated=sync.fit(x, sr, notated).fit, fit_true=sync.fit(x, sr, true).fit,
                   fit_aligned=a.fit_after.fit, match=a.match, align_s=a.runtime)
        if not quick:
            row["sdr_notated"] = sdr(x, sr, notated, stems, "bypass")
            row["sdr_aligned"] = sdr(x, sr, notated, stems, "always")
            row["sdr_true"] = sdr(x, sr, true, stems, "never")
        rows.append(row)
        print(f"{name:20s} onset error ms (mean/median/p95)  notated "
              f"{row['notated']['mean']:7.0f}/{row['notated']['median']:6.0f}/{row['notated']['p95']:6.0f}"
              f"  global {row['global_']['mean']:5.1f}/{row['global_']['median']:5.1f}/{row['global_']['p95']:6.1f}"
              f"  refined {row['refined']['mean']:5.1f}/{row['refined']['median']:5.1f}/{row['refined']['p95']:6.1f}"
              f"  fit {row['fit_notated']:.2f}->{row['fit_aligned']:.2f} (true {row['fit_true']:.2f})", flush=True)
        if not quick:
            print(f"{'':20s} SDR dB  notated {row['sdr_notated']:6.2f}  aligned {row['sdr_aligned']:6.2f}"
                  f"  true timing {row['sdr_true']:6.2f}  (aligned - true {row['sdr_aligned'] - row['sdr_true']:+.2f})",
                  flush=True)
    return rows


def fit_table():
    from nmfedu import data
    from nmfedu import synchronization as sync

    names = data.names()
    P = {n: data.load(n) for n in names}
    out = {"synchronised": {}, "wrong_piece_before": {}, "wrong_piece_refused": {}}
    for n in names:
        out["synchronised"][n] = sync.fit(P[n].x, P[n].sr, P[n].notes).fits
    for a, b in itertools.permutations(names, 2):
        out["wrong_piece_before"][f"{a}<-{b}"] = sync.fit(P[a].x, P[a].sr, P[b].notes).fits
        try:
            sync.align(P[a].x, P[a].sr, P[b].notes)
            out["wrong_piece_refused"][f"{a}<-{b}"] = False
        except ValueError:
            out["wrong_piece_refused"][f"{a}<-{b}"] = True
    ok_sync = all(out["synchronised"].values())
    ok_wrong = not any(out["wrong_piece_before"].values())
    refused = out["wrong_piece_refused"]
    print(f"fit check (onsets >= {sync.FIT_THRESHOLD}, harmony <= {sync.HARMONY_THRESHOLD}): every "
          f"synchronised bundled piece fits: {ok_sync}; no wrong-piece score fits: {ok_wrong}; wrong-piece "
          f"scores refused after alignment: {sum(refused.values())}/{len(refused)}"
          + (f" (accepted: {', '.join(k for k, v in refused.items() if not v)})"
             if not all(refused.values()) else ""), flush=True)
    bundled = {}
    for n in names:
        if n == data.TOY:
            continue
        today = sdr(P[n].x, P[n].sr, P[n].notes, P[n].stems, "bypass")
        auto = sdr(P[n].x, P[n].sr, P[n].notes, P[n].stems, "auto")
        bundled[n] = dict(today=today, auto=auto)
        print(f"bundled {n:20s} SDR today {today:6.2f} dB, with align='auto' {auto:6.2f} dB "
              f"(difference {auto - today:+.3f} dB)", flush=True)
    out["bundled_sdr"] = bundled
    return out


def evalset_fit_table(root):
    """The fit check on the issue-13 evaluation set (synchronised by construction) and on every
    cross pair of its excerpts and the bundled pieces (the score of one piece on the recording of
    another; pairs of the same work, e.g. a piece and its hall rendering, are not wrong pieces)."""
    from nmfedu import synchronization as sync

    rec, work = _evalset_recordings(root)
    energy = {k: sync._fine_energy(sync._prepare_audio(x, sr)) for k, (x, sr, _) in rec.items()}

    def fit_of(rk, sk):
        x, sr, _ = rec[rk]
        notes = rec[sk][2]
        notes = notes[notes["Start"] < x.size / sr]
        if len(notes) == 0:
            return None
        return sync.fit(x, sr, notes, _energy=energy[rk])

    refused = [(k, f) for k in rec if not (f := fit_of(k, k)).fits]
    pairs = [(a, b) for a, b in itertools.permutations(rec, 2) if work[a] != work[b]]
    accepted = []
    for a, b in pairs:
        f = fit_of(a, b)
        if f is not None and f.fits:
            accepted.append((a, b, f))
    few = sum(1 for *_, f in accepted if f.n_notes < 20)
    own = [fit_of(k, k) for k in rec]
    print(f"evaluation-set fit check (onsets >= {sync.FIT_THRESHOLD}, harmony <= {sync.HARMONY_THRESHOLD}): "
          f"synchronised recordings: onset fit min {min(f.fit for f in own):.2f}, harmony max "
          f"{max(f.harmony for f in own):.2f}; refused {len(refused)}/{len(rec)}"
          + "".join(f" ({k}: {f.reason()})" for k, f in refused)
          + f"; wrong-piece scores accepted {len(accepted)}/{len(pairs)} ({few} of them with fewer "
          f"than 20 notes in the recording)", flush=True)
    for a, b, f in sorted(accepted, key=lambda r: -r[2].n_notes)[:8]:
        print(f"  accepted: score of {b} ({f.n_notes} notes) on the recording of {a}: {f}", flush=True)
    return dict(refused={k: f.reason() for k, f in refused}, n_recordings=len(rec), n_pairs=len(pairs),
                accepted=[dict(recording=a, score=b, fit=f.fit, harmony=f.harmony, n_notes=f.n_notes)
                          for a, b, f in accepted])


def _evalset_recordings(root):
    """Recordings of the evaluation set and data/ with their scores, and the work each is of."""
    import soundfile as sf

    from nmfedu import data, score

    catalog = json.loads((root / "catalog.json").read_text())
    rec, work = {}, {}
    for name, meta in catalog.items():
        x, sr = sf.read(root / name / "mix.wav")
        rec[name] = (x, sr, score.read_csv(root / name / "score.csv"))
        work[name] = meta["corpus_path"]
    for name in data.names():
        p = data.load(name)
        rec[f"bundled:{name}"] = (p.x, p.sr, p.notes)
        work[f"bundled:{name}"] = f"bundled:{name}"
    seen = {"seen_mozart_k545_runs": "bundled:mozart_sonata", "seen_chopin_mazurka_room": "bundled:chopin_mazurka",
            "seen_joplin_rag_b9": "bundled:joplin_rag"}
    for a, b in seen.items():            # the seen excerpts are other passages of bundled works
        if a in work:
            work[b] = work[a]
    return rec, work


def evalset_aligned_table(root):
    """The tests after alignment (``align(check=True)``), which decide whether ``align="auto"``
    accepts a score that did not fit: on right scores that need aligning (every synchronised
    recording's score stretched x1.25 + 0.5 s and x0.8 + 0.3 s; the performed renditions of the
    five sets of HELDOUT and build/performed with their notated scores) and on wrong-piece
    scores (the evaluation set's cross pairs; and, held out from the choice of thresholds, every
    performed rendition with the score of every other work). For each wrong score it also says
    whether the tests without the pitch-salience test (before 2026-12-03) would have passed it."""
    import soundfile as sf

    from nmfedu import score
    from nmfedu import synchronization as sync

    rec, work = _evalset_recordings(root)
    performed = []
    for d, font in [(PERFORMED, SOUNDFONT)] + [(d, font) for d, font, _ in HELDOUT]:
        for piece in PIECES:
            q = d / f"{piece}_{font}"
            if not (q / "mix.wav").exists():
                raise SystemExit(f"bench_sync.py: {q} is missing (make performed; the HELDOUT commands)")
            x, sr = sf.read(q / "mix.wav")
            performed.append((f"{d.name}/{piece}", x, sr, score.read_csv(q / "notated.csv"),
                              work[f"bundled:{piece}"]))
    cases = []                           # (class, recording, score name, x, sr, notes)
    for k, (x, sr, notes) in rec.items():
        for a, b in ((1.25, 0.5), (0.8, 0.3)):
            cases.append(("right: stretched", k, f"x{a}+{b}", x, sr,
                          notes.assign(Start=notes["Start"] * a + b, Duration=notes["Duration"] * a)))
    for name, x, sr, notes, _ in performed:
        cases.append(("right: performed", name, "notated", x, sr, notes))
    for a, b in itertools.permutations(rec, 2):
        if work[a] != work[b]:
            cases.append(("wrong: evaluation set", a, b, rec[a][0], rec[a][1], rec[b][2]))
    for name, x, sr, _, w in performed:
        for b in rec:
            if work[b] != w:
                cases.append(("wrong: performed (held out)", name, b, x, sr, rec[b][2]))
    rows = []
    for cls, a, b, x, sr, notes in cases:
        if cls.startswith("wrong"):      # another piece's score: the part the recording spans
            notes = notes[notes["Start"] < x.size / sr]
        if len(notes) == 0:
            continue
        try:
            al = sync.align(x, sr, notes, check=False)
        except ValueError:               # refused before any alignment (e.g. span of the score)
            rows.append(dict(cls=cls, recording=a, score=b, accepted=False, accepted_before=False))
            continue
        faults = al.info["faults"]
        old = [f for f in faults if "own pitches" not in f]
        rows.append(dict(cls=cls, recording=a, score=b, accepted=not faults and al.match <= sync.MATCH_THRESHOLD,
                         accepted_before=not old and al.match <= sync.MATCH_THRESHOLD,
                         fit_after=al.fit_after.fit, harmony=al.info["harmony_after"],
                         confidence=al.info["confidence_mean"], salience=al.info["salience_after"],
                         salience_notes=al.info["salience_notes"], match=al.match))
    print(f"after alignment (onsets >= {sync.ALIGNED_FIT_THRESHOLD}, harmony <= {sync.ALIGNED_HARMONY_THRESHOLD}, "
          f"confidence >= {sync.ALIGNED_CONFIDENCE}, pitch salience >= {sync.ALIGNED_SALIENCE}, "
          f"path cost ratio <= {sync.MATCH_THRESHOLD}):", flush=True)
    for cls in dict.fromkeys(r["cls"] for r in rows):
        rs = [r for r in rows if r["cls"] == cls]
        sal = np.array([r["salience"] for r in rs if r.get("salience") is not None], float)
        line = (f"  {cls:28s} accepted {sum(r['accepted'] for r in rs):3d}/{len(rs)}"
                f" (without the salience test {sum(r['accepted_before'] for r in rs)}/{len(rs)})")
        if sal.size and not np.all(np.isnan(sal)):
            if cls.startswith("right"):
                line += f"; salience min {np.nanmin(sal):.2f}, not tested (< {sync.SALIENCE_MIN_NOTES} notes) {int(np.isnan(sal).sum())}"
            else:
                passing = [r["salience"] for r in rs if r["accepted_before"]]
                line += (f"; salience of those the other tests pass: max {np.nanmax(passing):.2f}"
                         if passing else "")
        print(line, flush=True)
    for r in rows:
        if (r["cls"].startswith("right") and not r["accepted"]) or (r["cls"].startswith("wrong") and r["accepted"]):
            print(f"  error: {r['cls']}: score {r['score']} on {r['recording']}: {r}", flush=True)
    return rows


CHILD = r"""
import json, resource, sys, time
import numpy as np, soundfile as sf
sys.path.insert(0, sys.argv[1])
from nmfedu import score, synchronization as sync
d = sys.argv[2]
x, sr = sf.read(d + "/mix.wav")
notated = score.read_csv(d + "/notated.csv"); true = score.read_csv(d + "/true.csv")
t = time.perf_counter()
sync.dtw_banded(np.eye(12)[:, :3], np.eye(12)[:, :3])       # numba (cached) and librosa's
import librosa.filters                                       # filterbank: once per process
warm = time.perf_counter() - t
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
a = sync.align(x, sr, notated)
el = time.perf_counter() - t
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
e = sync.onset_errors(a.notes, true) * 1000
print(json.dumps(dict(audio_s=x.size / sr, align_s=el, warmup_s=warm, peak_rss_mb=rss1, rss_before_mb=rss0,
                      cells=[l["cells"] for l in a.levels], median_ms=float(np.median(e)),
                      p95_ms=float(np.percentile(e, 95)))))
"""


def scaling(lengths):
    rows = []
    for L in lengths:
        d = PERFORMED / f"tile{L}_{SOUNDFONT}"
        if not d.exists():
            print(f"scaling: {d} missing (make performed renders tiles of 60, 300, 600 s)")
            continue
        proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(d)], capture_output=True,
                              text=True, env=dict(os.environ))
        if proc.returncode:
            print(f"scaling {L} s: failed: {proc.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"align {r['audio_s']:6.0f} s of audio: {r['align_s']:5.1f} s, peak RSS {r['peak_rss_mb']:5.0f} MB "
              f"(before aligning {r['rss_before_mb']:4.0f} MB; imports/JIT once per process {r['warmup_s']:.1f} s); DTW cells per level {r['cells']}; onset "
              f"error median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms", flush=True)
    return rows


def calibrate():
    """REFINE_BIAS: median (detected − true) onset of :func:`refine_onsets` without bias on the
    bundled, synchronised pieces, from estimates jittered by ±30 ms (seed 0), with the other
    hand's bands left out as in :func:`align`. The toy is left out."""
    from nmfedu import data
    from nmfedu import synchronization as sync

    rng = np.random.default_rng(0)
    d_all = []
    for name in PIECES:
        p = data.load(name)
        x = sync._prepare_audio(p.x, p.sr)
        n = sync._prepare_notes(p.notes)
        t = n["Start"].to_numpy(float)
        on, conf = sync.refine_onsets(sync._fine_energy(x), n, t + rng.uniform(-0.03, 0.03, t.size), bias=0.0,
                                      audio=x, exclude=sync.other_hand_pitches(n))
        d = (on - t)[conf > 0]
        d_all.append(d)
        print(f"calibrate {name:20s} detected - true: median {1000 * np.median(d):5.1f} ms "
              f"(p5 {1000 * np.percentile(d, 5):5.1f}, p95 {1000 * np.percentile(d, 95):5.1f}; {d.size} notes)")
    med = float(np.median(np.concatenate(d_all)))
    print(f"calibrate: REFINE_BIAS should be {med:.3f} s (the module has {sync.REFINE_BIAS:.3f} s)", flush=True)
    return med


HELDOUT = [(ROOT / "build" / "performed_h", "fluidr3",
            "scripts/make_performed.py --out build/performed_h --soundfont fluidr3 --seed 1"),
           (ROOT / "build" / "performed_s2", "timgm",
            "scripts/make_performed.py --out build/performed_s2 --soundfont timgm --seed 2 --rubato 0.25"),
           # made after the aligner's parameters were set (v showed one fault of a second pass
           # that was then dropped; w was not looked at while choosing parameters)
           (ROOT / "build" / "performed_v", "fluidr3",
            "scripts/make_performed.py --out build/performed_v --soundfont fluidr3 --seed 3 --rubato 0.2 --slow 1.1"),
           (ROOT / "build" / "performed_w", "timgm",
            "scripts/make_performed.py --out build/performed_w --soundfont timgm --seed 4 --rubato 0.3 --slow 1.3")]


def main(argv=None):
    global PERFORMED, SOUNDFONT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="onset errors and scaling only (no SDR)")
    ap.add_argument("--out", help="also write the results as JSON here")
    ap.add_argument("--dir", default=str(PERFORMED), help="performed renditions (make_performed.py --out)")
    ap.add_argument("--soundfont", default="timgm", help="suffix of the rendition folders")
    ap.add_argument("--no-scaling", action="store_true", help="skip the 1/5/10-minute runs")
    ap.add_argument("--evalset", nargs="?", const=str(ROOT / "build" / "evalset"), default=None,
                    help="also run the fit check on the evaluation set of make evalset and on its "
                         "cross pairs (default folder build/evalset)")
    ap.add_argument("--after-alignment", action="store_true",
                    help="with --evalset: also the tests after alignment on right and wrong-piece "
                         "scores (needs make performed and the HELDOUT sets; ~10 min)")
    ap.add_argument("--only-evalset", action="store_true", help="with --evalset: only that table")
    ap.add_argument("--calibrate", action="store_true", help="also measure REFINE_BIAS on the bundled pieces")
    ap.add_argument("--heldout", action="store_true",
                    help="also the onset errors on four more rendition sets (other soundfonts, "
                         "seeds, tempi and rubato; see HELDOUT for the commands that make them)")
    args = ap.parse_args(argv)
    PERFORMED, SOUNDFONT = Path(args.dir), args.soundfont
    print(f"bench_sync.py — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}. "
          f"The machine is shared with other jobs: times are indicative.", flush=True)
    print(f"targets: {TARGETS}", flush=True)
    res = {}
    if args.evalset:
        res["evalset_fit"] = evalset_fit_table(Path(args.evalset))
        if args.after_alignment:
            res["evalset_aligned"] = evalset_aligned_table(Path(args.evalset))
        if args.only_evalset:
            if args.out:
                Path(args.out).write_text(json.dumps(res, indent=1, default=float) + "\n")
            return 0
    if args.calibrate:
        res["refine_bias"] = calibrate()
    if args.heldout:
        res["heldout"] = {}
        for d, font, how in HELDOUT:
            if not d.exists():
                raise SystemExit(f"bench_sync.py: {d} is missing; run '.venv/bin/python {how}'")
            PERFORMED, SOUNDFONT = d, font
            print(f"held-out renditions {d.name} ({font}):", flush=True)
            res["heldout"][d.name] = accuracy(args.quick)     # with the SDR unless --quick
        PERFORMED, SOUNDFONT = Path(args.dir), args.soundfont
    res["accuracy"] = accuracy(args.quick)
    if not args.quick:
        res["fit"] = fit_table()
    res["scaling"] = [] if args.no_scaling else scaling([60, 300, 600])
    acc = res["accuracy"]
    for name, rows in res.get("heldout", {}).items():
        print(f"held-out {name}: refined onset error median max {max(r['refined']['median'] for r in rows):.1f} ms, "
              f"p95 " + ", ".join(f"{r['refined']['p95']:.1f}" for r in rows) + " ms"
              + ("" if args.quick else "; SDR aligned - true: "
                 + ", ".join(f"{r['sdr_aligned'] - r['sdr_true']:+.2f}" for r in rows) + " dB"))
    print("summary: refined onset error median max "
          f"{max(r['refined']['median'] for r in acc):.1f} ms, p95 max {max(r['refined']['p95'] for r in acc):.1f} ms"
          + ("" if args.quick else
             "; SDR aligned - true: " + ", ".join(f"{r['sdr_aligned'] - r['sdr_true']:+.2f}" for r in acc)
             + " dB"))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
