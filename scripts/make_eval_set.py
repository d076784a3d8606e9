#!/usr/bin/env python
"""Build the separation evaluation set in build/evalset/ (``make evalset``; not committed).

The bundled pieces in data/ are what the notebooks need; five pieces cannot say which
refinement of :func:`nmfedu.separate` generalises. This script renders a larger, varied set
of left/right-hand piano excerpts on which ``benchmarks/bench_separation_quality.py`` chooses
and checks the defaults (issue 13):

* 20 excerpts, 8–20 s each, of public-domain keyboard music from the music21 corpus — Bach
  (the C-major prelude of the Well-Tempered Clavier and four chorales, whose soprano and alto
  are played by the right hand, tenor and bass by the left, so the inner voices share pitches
  and cross), C. P. E. Bach, Mozart, Schubert, Clara and Robert Schumann, Chopin, Handel,
  Joplin, Amy Beach and Schoenberg (the piano part of the songs and the trio);
* textures: shared pitches, hand crossings (a left-hand note above a sounding right-hand
  note), pedal-like long notes, dense chords, fast runs — measured per excerpt and written
  to ``catalog.json`` and the printed table;
* rendered per hand with FluidSynth and one of three soundfonts of Debian (FluidR3_GM,
  TimGM6mb, MuseScore_General), at tempi that differ from data/'s, with per-note velocities
  (a per-hand level and a seeded random variation);
* six excerpts in a room: the same linear reverb (a seeded synthetic impulse response,
  direct sound + exponentially decaying noise) is convolved with each hand, so the hands
  still sum exactly to the mix;
* excerpts of the pieces data/ also holds are marked ``seen`` (the defaults were once
  tuned on them); the protocol reports them apart.

Everything is deterministic (fixed seeds, tick-grid timing, fluidsynth on one core); files
are 32-bit float WAV (no rounding, so ``mix = left + right`` to float32 precision) plus the
score as an FMP CSV.

Usage::

    make evalset                                          # installs fluidsynth + soundfonts
    .venv/bin/python scripts/make_eval_set.py [--out build/evalset] [--only name,name]

Used by: ``benchmarks/bench_separation_quality.py`` (the protocol of issue 13).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
from nmfedu import score as nscore  # noqa: E402

import make_data as md  # noqa: E402  (tick grid, fluidsynth arguments, overlap rule)

SR = md.SR
SOUNDFONTS = {
    "FluidR3_GM": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),          # fluid-soundfont-gm
    "TimGM6mb": Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),              # timgm6mb-soundfont
    "MuseScore_General": Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),  # musescore-general-soundfont
}
DEBIAN_PACKAGES = "fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont"
MIN_SECONDS, TARGET_SECONDS, MAX_SECONDS = 8.0, 11.0, 20.0

# Rooms: reverberation time T60 (s), pre-delay (s), direct-to-reverberant ratio (dB).
ROOMS = {"small": (0.5, 0.008, 6.0), "hall": (1.2, 0.015, 3.0)}

# name, corpus path, parts of the right / left hand, first bar, tempo (quarters per minute,
# a divisor of 60 000 000), soundfont, room or None, base velocity (right, left), seen.
# The excerpt runs from the first bar until it lasts TARGET_SECONDS (at most MAX_SECONDS).
PIECES = [
    ("bach_prelude_c", "bach/bwv846.mxl", [0], [1], 1, 64, "MuseScore_General", None, (72, 60), False),
    ("bach_prelude_c_hall", "bach/bwv846.mxl", [0], [1], 9, 75, "FluidR3_GM", "hall", (66, 70), False),
    ("bach_chorale_bwv66", "bach/bwv66.6.mxl", [0, 1], [2, 3], 1, 80, "TimGM6mb", None, (80, 70), False),
    ("bach_chorale_bwv269", "bach/bwv269.mxl", [0, 1], [2, 3], 1, 100, "MuseScore_General", "small", (76, 76), False),
    ("bach_chorale_bwv4", "bach/bwv4.8.mxl", [0, 1], [2, 3], 1, 75, "FluidR3_GM", None, (70, 80), False),
    ("bach_chorale_bwv263", "bach/bwv263.mxl", [0, 1], [2, 3], 1, 96, "TimGM6mb", "hall", (84, 64), False),
    ("cpe_bach_h186", "cpebach/h186.mxl", [0], [1], 1, 100, "FluidR3_GM", None, (78, 66), False),
    ("schubert_lindenbaum", "schubert/Lindenbaum.xml", [1], [2], 1, 75, "MuseScore_General", None, (70, 64), False),
    ("handel_lascia", "handel/rinaldo/Lascia_chio_pianga.mxl", [1], [2], 1, 64, "TimGM6mb", None, (68, 74), False),
    ("clara_polonaise_2", "schumann_clara/polonaise_op1n2.mxl", [0], [1], 1, 100, "MuseScore_General", None, (82, 70), False),
    ("clara_polonaise_3", "schumann_clara/polonaise_op1n3.mxl", [0], [1], 1, 96, "TimGM6mb", "small", (80, 72), False),
    ("clara_polonaise_4", "schumann_clara/polonaise_op1n4.mxl", [0], [1], 1, 120, "FluidR3_GM", None, (76, 68), False),
    ("clara_trio_piano", "schumann_clara/opus17/movement3.xml", [2], [3], 1, 80, "MuseScore_General", None, (74, 66), False),
    ("robert_dichterliebe_2", "schumann_robert/dichterliebe_no2.xml", [1], [2], 1, 48, "FluidR3_GM", "hall", (64, 60), False),
    ("beach_prayer", "beach/prayer_of_a_tired_child.musicxml", [4], [5], 1, 96, "TimGM6mb", None, (70, 64), False),
    ("schoenberg_op19_2", "schoenberg/opus19/movement2.mxl", [0], [1], 1, 60, "MuseScore_General", None, (66, 72), False),
    ("schoenberg_op19_6", "schoenberg/opus19/movement6.mxl", [0], [1], 1, 50, "FluidR3_GM", "small", (60, 64), False),
    # excerpts of pieces that data/ holds too (seen by the old defaults' sweep)
    ("seen_mozart_k545_runs", "mozart/k545/movement1_exposition.mxl", [0], [1], 5, 125, "TimGM6mb", None, (84, 64), True),
    ("seen_chopin_mazurka_room", "chopin/mazurka06-2.krn", [0], [1], 1, 160, "TimGM6mb", "hall", (76, 72), True),
    ("seen_joplin_rag_b9", "joplin/maple_leaf_rag.mxl", [0], [1], 9, 100, "MuseScore_General", None, (80, 70), True),
]


def check_tools():
    missing = [str(p) for p in SOUNDFONTS.values() if not p.is_file()]
    if shutil.which("fluidsynth") is None or missing:
        sys.exit(f"make_eval_set.py needs fluidsynth and the soundfonts {missing or ''}: "
                 f"apt-get install {DEBIAN_PACKAGES} (make evalset does this when run as root)")


def hand_rows(score, parts, q0, q1):
    """Tick-grid rows (onset, duration, pitch) in quarters of the given parts in [q0, q1)."""
    rows = []
    for i in parts:
        rows += md.part_rows(score.parts[i].stripTies(inPlace=False), q0, q1)
    return md.remove_same_pitch_overlaps(rows)


def excerpt(cfg):
    """The excerpt's notes per hand (quarters) and its bars, lengthened bar by bar."""
    from music21 import corpus, stream

    name, path, right, left, first, bpm = cfg[:6]
    sc = corpus.parse(path)
    measures = {m.number: m for m in sc.parts[right[0]].getElementsByClass(stream.Measure)}
    q0 = Fraction(measures[first].offset)
    last = first
    sec_per_q = Fraction(60, bpm)
    numbers = sorted(n for n in measures if n >= first)
    for k in numbers:
        end = Fraction(measures[k].offset) + Fraction(measures[k].barDuration.quarterLength)
        if float((end - q0) * sec_per_q) > MAX_SECONDS - md.LEAD_IN - md.TAIL and k > first:
            break
        last = k
        if float((end - q0) * sec_per_q) >= TARGET_SECONDS - md.LEAD_IN - md.TAIL:
            break
    q1 = Fraction(measures[last].offset) + Fraction(measures[last].barDuration.quarterLength)
    hands = {"right": hand_rows(sc, right, q0, q1), "left": hand_rows(sc, left, q0, q1)}
    return hands, (first, last)


def velocities(notes, base, seed):
    """Per-note velocities: the hand's level plus a seeded variation (sd 10, 25..120)."""
    rng = np.random.default_rng(seed)
    v = np.array([base[0] if g == "right" else base[1] for g in notes["Instrument"]], float)
    v = np.clip(np.rint(v + rng.normal(0.0, 10.0, size=v.size)), 25, 120)
    out = notes.copy()
    out["Velocity"] = v.astype(int)
    return out


def render(notes, bpm, n_samples, workdir: Path, tag: str, soundfont: Path):
    mid = workdir / f"{tag}.mid"
    raw = workdir / f"{tag}.raw"
    nscore.write_midi(notes, mid, tempo=bpm, resolution=md.TICKS_PER_QUARTER)
    return md.render_midi(mid, raw, n_samples, soundfont)


def room_impulse_response(room, seed):
    """Direct sound + exponentially decaying noise with T60 ``t60`` (a linear filter)."""
    t60, predelay, drr_db = ROOMS[room]
    rng = np.random.default_rng(seed)
    n = int(t60 * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / t60)       # -60 dB at t60
    tail *= np.minimum(1.0, t / 0.005)                             # no click at the start
    d0 = int(predelay * SR)
    h = np.zeros(n + d0)
    h[d0:] = tail
    h *= 10 ** (-drr_db / 20) / np.sqrt(np.sum(h ** 2))            # reverberant energy vs direct
    h[0] = 1.0
    return h


def features(notes):
    """Texture figures of an excerpt (what the set covers)."""
    hand = notes["Instrument"].to_numpy()
    start = notes["Start"].to_numpy(float)
    end = start + notes["Duration"].to_numpy(float)
    pitch = notes["Pitch"].to_numpy(int)
    L, R = hand == "left", hand == "right"
    shared = sorted(set(pitch[L]) & set(pitch[R]))
    # crossing: a left-hand note starts above a right-hand note that is sounding
    cross = 0
    for i in np.flatnonzero(L):
        sounding = R & (start <= start[i]) & (end > start[i])
        if sounding.any() and pitch[i] > pitch[sounding].min():
            cross += 1
    onsets, counts = np.unique(np.round(start, 3), return_counts=True)
    rate = max(np.sum(g) / max(end[g].max() - start[g].min(), 1e-9) for g in (L, R) if g.any())
    return dict(shared_pitches=[int(p) for p in shared], crossings=int(cross),
                long_notes=int(np.sum(end - start >= 1.5)), max_chord=int(counts.max()),
                notes_per_second=round(float(rate), 1))


def build_piece(cfg, out: Path, workdir: Path):
    name, path, right, left, first, bpm, font, room, base, seen = cfg
    if 60_000_000 % bpm:
        raise ValueError(f"{name}: bpm must divide 60 000 000, got {bpm}")
    hands, bars = excerpt(cfg)
    notes = velocities(md.note_table(hands, bpm, {"right": base[0], "left": base[1]}), base,
                       seed=sum(map(ord, name)))
    end = float((notes["Start"] + notes["Duration"]).max())
    n = int(round((end + md.TAIL) * SR))
    stems = {h: render(notes[notes["Instrument"] == h], bpm, n, workdir, f"{name}_{h}",
                       SOUNDFONTS[font]) for h in ("left", "right")}
    if room is not None:
        from scipy.signal import fftconvolve

        h = room_impulse_response(room, seed=sum(map(ord, room)))
        stems = {g: fftconvolve(s, h)[:n] for g, s in stems.items()}
    fade = np.ones(n)
    k = int(md.FADE * SR)
    fade[n - k:] = np.linspace(1.0, 0.0, k)
    stems = {g: (s * fade).astype(np.float32) for g, s in stems.items()}
    mix = stems["left"] + stems["right"]                            # float32: exact sum
    peak = max(np.abs(mix).max(), *(np.abs(s).max() for s in stems.values()))
    gain = np.float32(10 ** (md.PEAK_DBFS / 20) / peak)
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    stems = {g: s * gain for g, s in stems.items()}
    for fname, sig in (("left.wav", stems["left"]), ("right.wav", stems["right"]),
                       ("mix.wav", stems["left"] + stems["right"])):
        sf.write(d / fname, sig, SR, subtype="FLOAT", format="WAV")
    nscore.write_csv(notes, d / "score.csv")
    meta = dict(name=name, corpus_path=path, bars=list(bars), tempo_qpm=bpm, soundfont=font,
                room=room, seen=seen, duration_s=round(n / SR, 3),
                n_notes={h: int((notes["Instrument"] == h).sum()) for h in ("left", "right")},
                **features(notes))
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "build" / "evalset")
    ap.add_argument("--only", default=None, help="comma-separated excerpt names")
    args = ap.parse_args(argv)
    check_tools()
    only = set(args.only.split(",")) if args.only else None
    args.out.mkdir(parents=True, exist_ok=True)
    catalog_path = args.out / "catalog.json"
    catalog = json.loads(catalog_path.read_text()) if (only and catalog_path.exists()) else {}
    with tempfile.TemporaryDirectory(prefix="nmfedu-evalset-") as tmp:
        for cfg in PIECES:
            if only and cfg[0] not in only:
                continue
            m = build_piece(cfg, args.out, Path(tmp))
            if not MIN_SECONDS <= m["duration_s"] <= MAX_SECONDS:
                raise RuntimeError(f"{m['name']}: {m['duration_s']} s is outside "
                                   f"{MIN_SECONDS}-{MAX_SECONDS} s")
            catalog[m["name"]] = m
            print(f"{m['name']:26s} {m['duration_s']:5.1f} s bars {m['bars'][0]}-{m['bars'][1]:<3d} "
                  f"{m['soundfont']:17s} {m['room'] or '-':5s} shared {len(m['shared_pitches']):2d} "
                  f"cross {m['crossings']:3d} long {m['long_notes']:3d} chord {m['max_chord']:2d} "
                  f"{m['notes_per_second']:5.1f} n/s{'  (seen)' if m['seen'] else ''}", flush=True)
    catalog = {c[0]: catalog[c[0]] for c in PIECES if c[0] in catalog}
    catalog_path.write_text(json.dumps(catalog, indent=2) + "\n", encoding="utf-8")
    print(f"{len(catalog)} excerpts in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
