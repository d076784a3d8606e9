#!/usr/bin/env python
"""Rebuild everything in data/ from music21's corpus and the FluidR3_GM soundfont.

Run through ``make data`` (which installs fluidsynth and fluid-soundfont-gm when they are
missing). Each excerpt is taken from a public-domain piano score that ships with music21:
the upper staff is the right hand, the lower staff the left hand. The notes are put on a
tick grid (480 ticks per quarter at the excerpt's tempo), each hand is rendered on its own
with FluidSynth (reverb and chorus off, one CPU core, 32-bit float output), the two
renderings are averaged to mono and summed to the mix in floating point, and ONE gain
(peak of the three signals → -1 dBFS) is applied to mix, left and right before rounding to
16 bit. The result is the same bytes on every run on the same software versions; the
SHA-256 of every file is recorded in data/hashes.json.

Usage::

    .venv/bin/python scripts/make_data.py            # rebuild data/
    .venv/bin/python scripts/make_data.py --check    # rebuild in a temp dir, compare with data/hashes.json
    .venv/bin/python scripts/make_data.py --out DIR  # build elsewhere

Used by: ``make data``; the files it writes are read by :mod:`nmfedu.data` (notebooks 01–08).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from nmfedu import score as nscore  # noqa: E402

SR = 22050
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TICKS_PER_QUARTER = 480
LEAD_IN = 0.25          # s of silence before the first note
TAIL = 1.0              # s after the last note-off (piano release)
FADE = 0.05             # s linear fade-out at the very end
PEAK_DBFS = -1.0        # the loudest of mix/left/right peaks here
FLUIDSYNTH_ARGS = [
    "-n", "-i", "-q",                 # no MIDI in, no shell, quiet
    "-T", "raw", "-O", "float",       # 32-bit float samples, no dither
    "-r", str(SR),
    "-R", "0", "-C", "0",             # reverb and chorus off: clean, additive stems
    "-g", "1.0",                      # synth gain (the final gain is applied afterwards)
    "-o", "synth.cpu-cores=1",
    "-o", "synth.polyphony=256",
    "-o", "synth.reverb.active=0", "-o", "synth.chorus.active=0",
]

NO_STATEMENT = ("the encoding carries no licence statement of its own and is distributed in "
                "music21's corpus under the corpus terms (see Licences); generated files: "
                "CC BY 4.0.")

# Excerpts. bars are music21 measure numbers (inclusive); bpm in quarter notes per minute
# (a divisor of 60 000 000, so that MIDI's tempo in µs per quarter is exact).
EXCERPTS = [
    dict(
        name="mozart_sonata",
        corpus="mozart/k545/movement1_exposition.mxl",
        composer="Wolfgang Amadeus Mozart (1756–1791)",
        title="Piano Sonata in C major, K. 545, 1st movement (Allegro)",
        bars=(1, 4), bpm=120, velocity={"right": 80, "left": 66},
        difficulty="easy",
        encoding="MusicXML (Finale 2011 / Dolet Light, encoded 2012) from music21's corpus",
        licence=("composition public domain; " + NO_STATEMENT),
        description=("The opening theme: a melody in the right hand over an Alberti bass in "
                     "the left. The hands use disjoint registers, so every pitch belongs to "
                     "one hand only: the easy case for score-informed separation."),
    ),
    dict(
        name="schumann_polonaise",
        corpus="schumann_clara/polonaise_op1n1.mxl",
        composer="Clara Schumann (née Wieck, 1819–1896)",
        title="Polonaise in E-flat major, Op. 1 No. 1 (from Quatre Polonaises)",
        bars=(1, 8), bpm=120, velocity={"right": 80, "left": 70},
        difficulty="moderate",
        encoding=("MusicXML (MuseScore 1.3, encoded 2015) after the first edition (Leipzig: "
                  "Friedrich Hofmeister, 1831), 'Typeset by Cypressdome for IMSLP and released "
                  "under the CC BY-SA 4.0 license' (credit in the file), from music21's corpus"),
        licence=("composition public domain; the encoding is CC BY-SA 4.0 (typeset by "
                 "Cypressdome for IMSLP). The files in this folder are derived from it and are "
                 "therefore offered under CC BY-SA 4.0: credit 'Clara Schumann, Polonaise Op. 1 "
                 "No. 1, typeset by Cypressdome for IMSLP (CC BY-SA 4.0), rendered by nmfedu'."),
        description=("Left-hand octaves in steady eighths under right-hand thirds and a "
                     "melody in the polonaise rhythm; in bars 5–8 the left hand rises into "
                     "the right hand's register, so five pitches are played by both hands."),
    ),
    dict(
        name="chopin_mazurka",
        corpus="chopin/mazurka06-2.krn",
        composer="Frédéric Chopin (1810–1849)",
        title="Mazurka in C-sharp minor, Op. 6 No. 2",
        bars=(1, 8), bpm=150, velocity={"right": 76, "left": 72},
        difficulty="hard",
        encoding=("Humdrum **kern by Craig Stuart Sapp (2005) after the Mikuli edition, "
                  "G. Schirmer (1894–1898), from music21's corpus"),
        licence=("composition public domain; " + NO_STATEMENT),
        description=("The introduction: over a G-sharp/D-sharp drone a short tenor "
                     "figure (B#3–A#3–C#4) is answered by the right hand in the SAME "
                     "register. Both hands play the same pitches, so the separation must "
                     "decide note ownership from timing alone."),
    ),
    dict(
        name="joplin_rag",
        corpus="joplin/maple_leaf_rag.mxl",
        composer="Scott Joplin (c. 1868–1917)",
        title="Maple Leaf Rag (1899)",
        bars=(1, 8), bpm=96, velocity={"right": 80, "left": 72},
        difficulty="moderate",
        encoding=("MusicXML (MuseScore 2.1, encoded 2017; source "
                  "http://musescore.com/user/116681/scores/145724) from music21's corpus"),
        licence=("composition public domain; " + NO_STATEMENT),
        description=("The first strain: syncopated right-hand chords over a striding "
                     "left hand (bass octaves alternating with mid-register chords); the "
                     "left hand climbs into the right hand's register at the end."),
    ),
]

# The toy set of notebooks 01–02: single notes, then a chord, so that NMF finds one
# template per pitch. Pitches 55, 59 and 71 are those of the seed lecture's figures.
TOY = dict(
    name="toy",
    composer="nmfedu (made up for teaching)",
    title="Toy example: five piano notes and a chord",
    bpm=120, velocity={"right": 80, "left": 80},
    difficulty="toy",
    licence="made up for nmfedu; no third-party rights; generated files: CC BY 4.0.",
    description=("G3, B3, D4, G4, B4 (pitches 55, 59, 62, 67, 71) one after the other, "
                 "then the chord G3–B3–B4 (55, 59, 71); the notes below 64 are labelled "
                 "left hand, the others right hand. Factorizes in well under a second."),
    # (start in quarters, length in quarters, pitch)
    notes=[(0, 0.9, 55), (1, 0.9, 59), (2, 0.9, 62), (3, 0.9, 67), (4, 0.9, 71),
           (5, 2, 55), (5, 2, 59), (5, 2, 71)],
)


# --------------------------------------------------------------------------- helpers
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fluidsynth_version() -> str:
    out = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()[0].strip()


def check_tools():
    if shutil.which("fluidsynth") is None:
        sys.exit("make_data.py needs the fluidsynth program: apt-get install fluidsynth "
                 "(make data does this when run as root)")
    if not SOUNDFONT.is_file():
        sys.exit(f"make_data.py needs the soundfont {SOUNDFONT}: apt-get install fluid-soundfont-gm")


def to_seconds(quarters: Fraction, bpm: int) -> Fraction:
    """Quarter-note position → seconds on the tick grid, plus the lead-in."""
    ticks = round(Fraction(quarters) * TICKS_PER_QUARTER)
    return Fraction(ticks * 60, bpm * TICKS_PER_QUARTER)


def lead_in_ticks(bpm: int) -> int:
    return round(Fraction(LEAD_IN) * bpm * TICKS_PER_QUARTER / 60)


def remove_same_pitch_overlaps(rows):
    """Within one hand, a pitch can sound only once: keep the longer of two notes that
    start together, and end a note where the next one of the same pitch starts."""
    rows = sorted(rows, key=lambda r: (r[2], r[0], -r[1]))
    out = []
    for on, dur, pitch in rows:
        if out and out[-1][2] == pitch:
            pon, pdur, _ = out[-1]
            if on == pon:
                continue                      # same onset: keep the first (longer) note
            if pon + pdur > on:
                out[-1] = (pon, on - pon, pitch)
        out.append((on, dur, pitch))
    return out


def notes_from_corpus(cfg):
    """Notes of the two staves in cfg['bars'] as tick-grid rows per hand (quarters)."""
    from music21 import corpus, stream

    sc = corpus.parse(cfg["corpus"])
    parts = list(sc.parts)
    if len(parts) != 2:
        raise RuntimeError(f"{cfg['corpus']}: expected two staves, found {len(parts)} parts")
    first, last = cfg["bars"]
    hands = {}
    span = None
    for hand, part in (("right", parts[0]), ("left", parts[1])):
        part = part.stripTies(inPlace=False)
        measures = {m.number: m for m in part.getElementsByClass(stream.Measure)}
        q0 = Fraction(measures[first].offset)
        q1 = Fraction(measures[last].offset) + Fraction(measures[last].barDuration.quarterLength)
        span = (q0, q1) if span is None else span
        rows = []
        for n in part.flatten().notes:
            if n.duration.isGrace or n.quarterLength == 0:
                continue
            on = Fraction(n.offset)
            if not q0 <= on < q1:
                continue
            off = min(on + Fraction(n.quarterLength), q1)
            for p in (n.pitches if n.isChord else [n.pitch]):
                rows.append((on - q0, off - on, int(p.midi)))
        hands[hand] = remove_same_pitch_overlaps(rows)
    return hands, span[1] - span[0]


def note_table(hands, bpm, velocity):
    """Rows in quarters → note table in seconds (on the MIDI tick grid), lead-in added."""
    lead = lead_in_ticks(bpm)
    rows = []
    for hand, hrows in hands.items():
        for on, dur, pitch in hrows:
            t_on = round(Fraction(on) * TICKS_PER_QUARTER) + lead
            t_off = round(Fraction(on + dur) * TICKS_PER_QUARTER) + lead
            if t_off <= t_on:
                continue
            sec = Fraction(60, bpm * TICKS_PER_QUARTER)
            rows.append({"Start": float(t_on * sec), "Duration": float((t_off - t_on) * sec),
                         "Pitch": pitch, "Velocity": velocity[hand], "Instrument": hand})
    return nscore.validate(pd.DataFrame(rows, columns=nscore.COLUMNS))


def render(notes, bpm, n_samples, workdir: Path, tag: str):
    """Render a note table with FluidSynth → mono float64 of length n_samples."""
    mid = workdir / f"{tag}.mid"
    raw = workdir / f"{tag}.raw"
    nscore.write_midi(notes, mid, tempo=bpm, resolution=TICKS_PER_QUARTER)
    subprocess.run(["fluidsynth", *FLUIDSYNTH_ARGS, "-F", str(raw), str(SOUNDFONT), str(mid)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stereo = np.fromfile(raw, dtype="<f4").astype(np.float64).reshape(-1, 2)
    mono = stereo.mean(axis=1)
    out = np.zeros(n_samples)
    k = min(n_samples, mono.size)
    out[:k] = mono[:k]
    return out


MIN_RISE = 0.3   # log10 energy rise at each note's harmonics within 50 ms of its Start


def check_alignment(d: Path, notes, name):
    """Fail the build if some note of the written score has no onset in its hand's audio."""
    from nmfedu.data import onset_rise

    for hand in ("left", "right"):
        x, sr = sf.read(d / f"{hand}.wav", dtype="float64")
        nt = notes[notes["Instrument"] == hand]
        rise = onset_rise(x, sr, nt, tolerance=0.05)
        if (rise < MIN_RISE).any():
            bad = nt[rise < MIN_RISE]
            raise RuntimeError(f"{name}/{hand}: {len(bad)} note(s) without an onset in the audio "
                               f"within 50 ms:\n{bad.head()}")


def quantize(x):
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def build_piece(cfg, out: Path, workdir: Path):
    if "notes" in cfg:                          # the toy set
        hands = {"left": [], "right": []}
        for on, dur, p in cfg["notes"]:
            hands["left" if p < 64 else "right"].append((Fraction(on), Fraction(dur), p))
        length_q = None
    else:
        hands, length_q = notes_from_corpus(cfg)
    bpm = cfg["bpm"]
    if 60_000_000 % bpm:
        raise ValueError(f"{cfg['name']}: bpm must divide 60 000 000 so that the MIDI tempo "
                         f"(µs per quarter) is exact, got {bpm}")
    notes = note_table(hands, bpm, cfg["velocity"])
    end = float((notes["Start"] + notes["Duration"]).max())
    n = int(round((end + TAIL) * SR))
    d = out / cfg["name"]
    d.mkdir(parents=True, exist_ok=True)

    stems = {}
    for hand in ("left", "right"):
        stems[hand] = render(notes[notes["Instrument"] == hand], bpm, n, workdir,
                             f"{cfg['name']}_{hand}")
    fade = np.ones(n)
    k = int(FADE * SR)
    fade[n - k:] = np.linspace(1.0, 0.0, k)
    stems = {h: s * fade for h, s in stems.items()}
    mix = stems["left"] + stems["right"]
    peak = max(np.abs(mix).max(), np.abs(stems["left"]).max(), np.abs(stems["right"]).max())
    gain = 10 ** (PEAK_DBFS / 20) / peak
    for fname, sig in (("mix.wav", mix), ("left.wav", stems["left"]), ("right.wav", stems["right"])):
        sf.write(d / fname, quantize(gain * sig), SR, subtype="PCM_16", format="WAV")
    nscore.write_csv(notes, d / "score.csv")
    nscore.write_midi(notes, d / "score.mid", tempo=bpm, resolution=TICKS_PER_QUARTER,
                      groups=["left", "right"])

    check_alignment(d, notes, cfg["name"])

    ranges = {}
    for hand in ("left", "right"):
        p = notes.loc[notes["Instrument"] == hand, "Pitch"]
        ranges[hand] = [int(p.min()), int(p.max())] if len(p) else None
    shared = sorted(set(notes.loc[notes["Instrument"] == "left", "Pitch"])
                    & set(notes.loc[notes["Instrument"] == "right", "Pitch"]))
    meta = {
        "title": cfg["title"], "composer": cfg["composer"], "description": cfg["description"],
        "difficulty": cfg["difficulty"],
        "corpus_path": cfg.get("corpus"), "encoding": cfg.get("encoding"),
        "licence": cfg["licence"],
        "bars": list(cfg["bars"]) if "bars" in cfg else None,
        "tempo_qpm": bpm, "lead_in_s": float(lead_in_ticks(bpm) * 60 / (bpm * TICKS_PER_QUARTER)),
        "duration_s": round(n / SR, 6), "n_samples": n, "sr": SR,
        "n_notes": {h: int((notes["Instrument"] == h).sum()) for h in ("left", "right")},
        "pitch_range": ranges, "shared_pitches": [int(p) for p in shared],
        "gain_db": round(20 * np.log10(gain), 3),
        "files": {"mix": "mix.wav", "left": "left.wav", "right": "right.wav",
                  "score_csv": "score.csv", "score_mid": "score.mid"},
    }
    return meta


# --------------------------------------------------------------------------- README
def write_readme(out: Path, catalog, build):
    L = []
    L.append("# Bundled data\n")
    L.append("Generated by `make data` (`scripts/make_data.py`) — do not edit by hand; "
             "this README is generated too. Every file is rebuilt byte-identically from "
             "music21's corpus and the FluidR3_GM soundfont; `data/hashes.json` records the "
             "SHA-256 of each file and `tests/test_data.py` checks them.\n")
    L.append("Load a piece with `nmfedu.data.load(name)`; `nmfedu.data.names()` lists them.\n")
    L.append("## Format\n")
    L.append(f"Each folder holds `mix.wav`, `left.wav`, `right.wav` ({SR} Hz, mono, 16-bit PCM; "
             "`mix = left + right` up to 16-bit rounding, the same gain for all three), "
             "`score.csv` (FMP format `Start;Duration;Pitch;Velocity;Instrument`, seconds, "
             "`Instrument` = `left`/`right`, the timing of the audio) and `score.mid` (the same "
             "notes, one track per hand, named `left` and `right`).\n")
    L.append(f"Rendering: the upper staff is the right hand, the lower staff the left hand; "
             f"ties are merged, grace notes dropped, no pedal, repeats not expanded; fixed "
             f"velocity per hand; notes on a grid of {TICKS_PER_QUARTER} ticks per quarter at "
             f"a constant tempo; {LEAD_IN:g} s lead-in (rounded to the tick grid) and {TAIL:g} s "
             f"tail with a {int(FADE * 1000)} ms fade-out. Each hand is rendered on its own by "
             f"FluidSynth with the FluidR3_GM soundfont (GM program 0, Acoustic Grand Piano; "
             f"reverb and chorus off; float output), the stereo output averaged to mono; the mix "
             f"is the sum of the hands; one gain puts the loudest of the three at "
             f"{PEAK_DBFS:g} dBFS.\n")
    L.append("## Files\n")
    L.append("| name | composer | piece | bars | tempo (♩/min) | duration | corpus path | difficulty |")
    L.append("|---|---|---|---|---|---|---|---|")
    for name, m in catalog.items():
        bars = f"{m['bars'][0]}–{m['bars'][1]}" if m["bars"] else "—"
        L.append(f"| `{name}` | {m['composer']} | {m['title']} | {bars} | {m['tempo_qpm']} | "
                 f"{m['duration_s']:.2f} s | {('`' + m['corpus_path'] + '`') if m['corpus_path'] else '—'} | "
                 f"{m['difficulty']} |")
    L.append("")
    for name, m in catalog.items():
        L.append(f"### `{name}` — {m['title']}\n")
        L.append(f"- Composer: {m['composer']}")
        L.append(f"- Piece: {m['title']}" + (f", bars {m['bars'][0]}–{m['bars'][1]}" if m["bars"] else ""))
        if m["corpus_path"]:
            L.append(f"- Source: `music21.corpus.parse('{m['corpus_path']}')` — {m['encoding']}")
        L.append(f"- {m['description']}")
        r = m["pitch_range"]
        L.append(f"- Notes: left hand {m['n_notes']['left']} (pitches {r['left'][0]}–{r['left'][1]}), "
                 f"right hand {m['n_notes']['right']} (pitches {r['right'][0]}–{r['right'][1]}); "
                 f"pitches played by both hands: {m['shared_pitches'] or 'none'}")
        L.append("- Soundfont: FluidR3_GM (MIT licence)")
        L.append(f"- Licence: {m['licence']}")
        L.append(f"- Files: `{name}/mix.wav`, `{name}/left.wav`, `{name}/right.wav`, "
                 f"`{name}/score.csv`, `{name}/score.mid`\n")
    L.append("## Licences\n")
    L.append("- **Compositions**: Mozart (d. 1791), Chopin (d. 1849), Clara Schumann (d. 1896) "
             "and Joplin (d. 1917) — public domain.")
    L.append("- **Encodings** (the note data the excerpts were taken from) come from the corpus "
             "that ships with music21 (the software is BSD-licensed). music21's "
             "`corpus/license.txt` says the corpus is distributed with the permission of the "
             "encoders and where permitted under United States copyright law, that to the best "
             "of the music21 authors' knowledge each piece is out of copyright in the US or "
             "licensed for use, and that some encodings may carry restrictions on commercial use. "
             "Of the four files used here only the Clara Schumann polonaise states a licence "
             "(CC BY-SA 4.0, typeset by Cypressdome for IMSLP), so everything in "
             "`schumann_polonaise/` is CC BY-SA 4.0 with that credit. The other three state "
             "none (the Chopin file names its encoder, Craig Stuart Sapp, and the Mikuli "
             "edition; the Joplin file its MuseScore source; the Mozart file nothing). Treat "
             "their note data as free for teaching and research under music21's corpus terms, "
             "and check before any commercial use.")
    L.append("- **Soundfont**: FluidR3_GM by Frank Wen, MIT licence (Debian package "
             "fluid-soundfont-gm, `/usr/share/doc/fluid-soundfont-gm/copyright`).")
    L.append("- **Renderer**: FluidSynth (LGPL-2.1), used as a program; no code is included.")
    L.append("- **The generated files** (audio, CSV, MIDI, this README) are offered under "
             "CC BY 4.0, like the notebooks' text and figures, except those in "
             "`schumann_polonaise/`, which are CC BY-SA 4.0 (see above).\n")
    L.append("## Build\n")
    L.append("```")
    for k, v in build.items():
        L.append(f"{k}: {v}")
    L.append("```\n")
    L.append("Rebuild: `make data`. Verify without touching `data/`: "
             "`.venv/bin/python scripts/make_data.py --check`.")
    (out / "README.md").write_text("\n".join(L) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- main
def build(out: Path):
    import music21

    check_tools()
    out.mkdir(parents=True, exist_ok=True)
    catalog = {}
    with tempfile.TemporaryDirectory(prefix="nmfedu-data-") as tmp:
        for cfg in [TOY, *EXCERPTS]:
            catalog[cfg["name"]] = build_piece(cfg, out, Path(tmp))
            m = catalog[cfg["name"]]
            print(f"{cfg['name']:20s} {m['duration_s']:6.2f} s  left {m['pitch_range']['left']}  "
                  f"right {m['pitch_range']['right']}  shared {m['shared_pitches']}")
    built = {
        "music21": music21.__version__,
        "fluidsynth": fluidsynth_version(),
        "soundfont": f"{SOUNDFONT} sha256 {sha256(SOUNDFONT)}",
        "libsndfile": sf.__libsndfile_version__,
        "fluidsynth arguments": " ".join(FLUIDSYNTH_ARGS),
    }
    (out / "pieces.json").write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    write_readme(out, catalog, built)
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "hashes.json")
    hashes = {p.relative_to(out).as_posix(): sha256(p) for p in files}
    (out / "hashes.json").write_text(json.dumps({"built_with": built, "files": hashes}, indent=2,
                                                ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{len(files) + 1} files, {total / 1e6:.2f} MB in {out}")
    return hashes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "data", help="output folder (default: data/)")
    ap.add_argument("--check", action="store_true",
                    help="build in a temporary folder and compare with data/hashes.json")
    args = ap.parse_args(argv)
    if args.check:
        recorded = json.loads((REPO / "data" / "hashes.json").read_text())["files"]
        with tempfile.TemporaryDirectory(prefix="nmfedu-check-") as tmp:
            fresh = build(Path(tmp))
        bad = sorted(k for k in set(recorded) | set(fresh) if recorded.get(k) != fresh.get(k))
        if bad:
            print("differ from data/hashes.json: " + ", ".join(bad))
            return 1
        print("all files identical to data/hashes.json")
        return 0
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
