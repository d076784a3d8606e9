#!/usr/bin/env python
"""Render *performed* versions of the bundled pieces, with their true note timings, into build/performed/.

A bundled piece (data/) is rendered from its own score, so score and audio are synchronised by
construction. A real performance is not: this script plays each bundled score the way a pianist
might, deterministically, and renders it with FluidSynth, so that :mod:`nmfedu.synchronization`
can be measured on material it was not tuned on (benchmarks/bench_sync.py).

The performance model (:func:`nmfedu.synchronization.performance_warp` and
:func:`nmfedu.synchronization.perform_notes`, seeded by the piece's name and ``--seed``):

* a smooth tempo curve: on average ``--slow`` times slower than notated (default 1.2, i.e. about
  20 % slower), with a sinusoidal rubato of ± ``--rubato`` (default 0.15) and a random phase;
* one pause of 0.4–0.8 s (a breath the score does not notate) near the middle;
* a lead-in of 0.8–1.5 s of silence;
* the melody (right hand) 15 ms ahead of the left hand, per-note Gaussian jitter (σ = 6 ms);
* velocities varied by ±25 % around the notated ones, the melody a little louder.

Each hand is rendered on its own with FluidSynth (the same settings as scripts/make_data.py:
reverb and chorus off, 32-bit float, one core) and the mix is the sum, so the true stems are
known. The soundfont is Debian's TimGM6mb (package timgm6mb-soundfont, from MuseScore 1.3), which
data/ does not use (data/ uses FluidR3_GM); ``--soundfont fluidr3`` renders with FluidR3_GM too.

Written per piece, into ``build/performed/<piece>_<soundfont>/``: ``mix.wav``, ``left.wav``,
``right.wav`` (float32, 22050 Hz), ``notated.csv`` (the bundled score, as a user would have it),
``true.csv`` (the performed timing), ``warp.csv`` (score time → performed time of the tempo curve
without jitter or lead) and ``meta.json`` (the parameters).

Usage::

    make performed                                   # installs fluidsynth + timgm6mb-soundfont if missing
    .venv/bin/python scripts/make_performed.py --out build/performed [--soundfont timgm|fluidr3]
    .venv/bin/python scripts/make_performed.py --tile 300   # also a 5-minute performance (pieces tiled)

Used by: ``make performed``, benchmarks/bench_sync.py (issue 14).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
import make_data as md  # noqa: E402  (FluidSynth rendering shared with make data)
from nmfedu import data as ndata  # noqa: E402
from nmfedu import score as nscore  # noqa: E402
from nmfedu import synchronization as sync  # noqa: E402

SR = 22050
SOUNDFONTS = {
    "timgm": Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    "fluidr3": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
}
FLUIDSYNTH_ARGS = [
    "-n", "-i", "-q", "-T", "raw", "-O", "float", "-r", str(SR),
    "-R", "0", "-C", "0", "-g", "1.0", "-o", "synth.cpu-cores=1", "-o", "synth.polyphony=256",
    "-o", "synth.reverb.active=0", "-o", "synth.chorus.active=0",
]
TAIL = 1.5        # s after the last note-off
PIECES = ["mozart_sonata", "schumann_polonaise", "chopin_mazurka", "joplin_rag"]


def render(notes, n_samples, soundfont: Path, workdir: Path, tag: str):
    """One hand with FluidSynth → mono float64 of n_samples (MIDI at 0.1 ms resolution)."""
    mid, raw = workdir / f"{tag}.mid", workdir / f"{tag}.raw"
    nscore.write_midi(notes, mid, tempo=120.0, resolution=9600)   # one tick = 1/19200 s
    return md.render_midi(mid, raw, n_samples, soundfont, args=FLUIDSYNTH_ARGS)


def write_version(notated, performed, warp, out: Path, soundfont: Path, meta: dict, workdir: Path):
    out.mkdir(parents=True, exist_ok=True)
    end = float((performed["Start"] + performed["Duration"]).max())
    n = int(round((end + TAIL) * SR))
    stems = {h: render(performed[performed["Instrument"] == h], n, soundfont, workdir,
                       f"{out.name}_{h}") for h in ("left", "right")}
    mix = stems["left"] + stems["right"]
    gain = 10 ** (-1 / 20) / max(np.abs(mix).max(), 1e-12)
    for name, sig in (("mix", mix), ("left", stems["left"]), ("right", stems["right"])):
        sf.write(out / f"{name}.wav", (gain * sig).astype(np.float32), SR, subtype="FLOAT")
    nscore.write_csv(notated, out / "notated.csv")
    nscore.write_csv(performed, out / "true.csv")
    pd.DataFrame({"score_s": warp[0], "performed_s": warp[1]}).to_csv(out / "warp.csv", index=False)
    (out / "meta.json").write_text(json.dumps({**meta, "duration_s": n / SR,
                                               "soundfont": soundfont.name}, indent=2) + "\n")
    print(f"wrote {out} ({n / SR:.1f} s)")


def tiled(notes_list, gap=1.0):
    """Concatenate note tables one after the other (a long 'piece' for the scaling benchmark)."""
    parts, t = [], 0.0
    for df in notes_list:
        d = df.copy()
        d["Start"] = d["Start"] - d["Start"].min() + t
        t = float((d["Start"] + d["Duration"]).max()) + gap
        parts.append(d)
    return nscore.validate(pd.concat(parts, ignore_index=True))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "build" / "performed"))
    ap.add_argument("--soundfont", choices=sorted(SOUNDFONTS), default="timgm")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--slow", type=float, default=1.2)
    ap.add_argument("--rubato", type=float, default=0.15)
    ap.add_argument("--tile", type=float, nargs="*", default=[],
                    help="also render performances of about this many seconds (pieces tiled)")
    args = ap.parse_args(argv)
    soundfont = SOUNDFONTS[args.soundfont]
    if shutil.which("fluidsynth") is None or not soundfont.exists():
        sys.exit(f"make_performed.py needs fluidsynth and {soundfont} (make performed installs them)")
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in PIECES:
            notated = ndata.load(name).notes
            seed = sync.name_seed(name, args.seed)
            warp = sync.performance_warp(notated, slow=args.slow, rubato=args.rubato, seed=seed)
            performed = sync.perform_notes(notated, warp, seed=seed)
            meta = dict(piece=name, seed=args.seed, slow=args.slow, rubato=args.rubato,
                        model="nmfedu.synchronization.performance_warp + perform_notes")
            write_version(notated, performed, warp, out / f"{name}_{args.soundfont}",
                          soundfont, meta, work)
        for length in args.tile:
            base = [ndata.load(n).notes for n in PIECES]
            tables, total = [], 0.0
            while total < length / args.slow:
                df = base[len(tables) % len(base)]
                tables.append(df)
                total += float((df["Start"] + df["Duration"]).max() - df["Start"].min()) + 1.0
            notated = tiled(tables)
            seed = sync.name_seed(f"tile{int(length)}", args.seed)
            warp = sync.performance_warp(notated, slow=args.slow, rubato=args.rubato, seed=seed)
            performed = sync.perform_notes(notated, warp, seed=seed)
            meta = dict(piece=f"tiled {len(tables)} excerpts", seed=args.seed, slow=args.slow,
                        rubato=args.rubato)
            write_version(notated, performed, warp, out / f"tile{int(length)}_{args.soundfont}",
                          soundfont, meta, work)


if __name__ == "__main__":
    main()
