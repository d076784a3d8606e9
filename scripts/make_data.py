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

Used by: ``make data``; the files it writes are read by :mod:`nmfedu.data` (notebooks 01–08),
:mod:`nmfedu.drums` and :mod:`nmfedu.mosaic` (notebook 09: drum grooves and the mosaicing source).
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


def part_rows(part, q0, q1):
    """Rows (onset, duration, pitch), in quarters from ``q0``, of the notes of a tie-stripped
    music21 part that start in [q0, q1), cut at q1 (grace notes skipped). Also used by
    scripts/make_eval_set.py."""
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
    return rows


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
        hands[hand] = remove_same_pitch_overlaps(part_rows(part, q0, q1))
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


# --------------------------------------------------------------------------- drums (notebook 09)
# Drum grooves for score-informed drum separation (NMFD). Each bar is written on a grid of
# 16 sixteenth notes per instrument: "." rest, "g" ghost note (velocity 32), "x" normal (84),
# "X" accent (120); for the hi-hat "o"/"O" is the OPEN hi-hat (GM 46, normal/accented),
# every other hi-hat hit the closed one (GM 42). Kick = GM 36, snare = GM 38.
DRUM_VELOCITY = {"g": 32, "x": 84, "X": 120, "o": 84, "O": 120}
DRUM_PITCH = {"kick": 36, "snare": 38, "hihat": 42}
DRUM_HIT_S = 0.1          # Duration written for a hit (drum notes ring regardless)
DRUM_TAIL = 0.75          # s after the last hit
GROOVES = [
    dict(
        name="rock_groove", bpm=120,
        title="Rock groove with a snare fill",
        description=("Two bars of a rock beat (eighth-note hi-hats accented on the beats, "
                     "snare backbeat on 2 and 4 with ghost notes between, kick on 1 and 3 with "
                     "a pickup), an open hi-hat at the end of bar 2, then a one-bar sixteenth-"
                     "note snare fill that grows from ghost notes to accents, closed by kick and "
                     "open hi-hat on the next downbeat."),
        bars=[
            {"hihat": "X.x.X.x.X.x.X.x.", "snare": "....X..g....X...", "kick": "X.......X.x....."},
            {"hihat": "X.x.X.x.X.x.X.o.", "snare": "....X..g.g..X...", "kick": "X.....x.X.x....."},
            {"hihat": "X.x.X.x.........", "snare": "....X...gxgxxXXX", "kick": "X.......X...X..."},
            {"hihat": "O...............", "snare": "................", "kick": "X..............."},
        ],
    ),
    dict(
        name="funk_groove", bpm=100,
        title="Funk groove with sixteenth hi-hats and ghost notes",
        description=("Sixteenth-note hi-hats with accents on the eighths and an open hi-hat on "
                     "the 'and' of 4, a syncopated kick, snare backbeat with many ghost notes, "
                     "and in bar 3 a fill of snare and kick in alternation (no hi-hat), "
                     "closed by kick and open hi-hat on the next downbeat."),
        bars=[
            {"hihat": "XxXxXxXxXxXxXxo.", "snare": "....X.g..g..X..g", "kick": "X..X..X...X....."},
            {"hihat": "XxXxXxXxXxXxXxo.", "snare": ".g..X.g..g.gX...", "kick": "X.X...X..X...X.."},
            {"hihat": "XxXxXxXx........", "snare": "....X..g.XgX.XXX", "kick": "X.....X.X...X..."},
            {"hihat": "O...............", "snare": "................", "kick": "X..............."},
        ],
    ),
]
#: Played only by benchmarks/bench_applications.py (rendered into build/ with another kit):
#: a groove the defaults were not chosen on.
UNSEEN_GROOVE = dict(
    name="shuffle_unseen", bpm=96,
    title="Half-time groove (benchmark only, not bundled)",
    description="A half-time groove with off-beat kicks and ghost notes; never in data/.",
    bars=[
        {"hihat": "x.X.x.X.x.X.x.X.", "snare": "..g.....X..g..g.", "kick": "X..X..X...X..X.."},
        {"hihat": "x.X.x.X.x.X.x.o.", "snare": "..g..g..X.....g.", "kick": "X.....XX..X....."},
        {"hihat": "x.X.x.X.x.X.....", "snare": "..g.....XgXgxXXX", "kick": "X..X..X........."},
        {"hihat": "O...............", "snare": "................", "kick": "X..............."},
    ],
)
#: The mosaicing source of notebook 09: "Let it Bee" rebuilt a Beatles song from the
#: buzzing of bees; our source is FluidR3_GM's "Bird Tweet" (GM program 124 in 1-based
#: numbering, 123 zero-based) played at many pitches.
MOSAIC_SOURCE = dict(
    name="bird_tweets", program=123, bpm=120,
    title="Bird tweets (GM 'Bird Tweet', FluidR3_GM) at 25 pitches",
    description=("The FluidR3_GM 'Bird Tweet' sound played as quarter-note-spaced "
                 "eighth notes, two octaves from C4 to C6 in an interleaved order, so that "
                 "the mosaic finds chirps at every pitch of the target."),
    pitches=[60 + ((7 * i) % 25) for i in range(25)],
)


def groove_hits(cfg):
    """The groove as a drum score: rows (Start, Duration, Pitch, Velocity, Instrument)."""
    bpm = cfg["bpm"]
    lead = lead_in_ticks(bpm)
    step = TICKS_PER_QUARTER // 4
    sec = Fraction(60, bpm * TICKS_PER_QUARTER)
    rows = []
    for b, bar in enumerate(cfg["bars"]):
        for inst, pattern in bar.items():
            if len(pattern) != 16:
                raise ValueError(f"{cfg['name']} bar {b + 1} {inst}: 16 steps expected")
            for i, c in enumerate(pattern):
                if c == ".":
                    continue
                pitch = DRUM_PITCH[inst]
                if inst == "hihat" and c in "oO":
                    pitch = 46
                tick = lead + (b * 16 + i) * step
                rows.append({"Start": float(tick * sec), "Duration": DRUM_HIT_S, "Pitch": pitch,
                             "Velocity": DRUM_VELOCITY[c], "Instrument": inst})
    return nscore.validate(pd.DataFrame(rows, columns=nscore.COLUMNS))


def _write_midi_track(notes, path, bpm, program=0, is_drum=False):
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(resolution=TICKS_PER_QUARTER, initial_tempo=float(bpm))
    inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name="drums" if is_drum else "src")
    for row in notes.itertuples(index=False):
        inst.notes.append(pretty_midi.Note(velocity=int(row.Velocity), pitch=int(row.Pitch),
                                           start=float(row.Start), end=float(row.Start + row.Duration)))
    pm.instruments.append(inst)
    pm.write(str(path))


def render_midi(mid: Path, raw: Path, n_samples: int, soundfont: Path, args=None):
    """Render a MIDI file with FluidSynth -> mono float64 of exactly ``n_samples``
    (``args``: FluidSynth options, default :data:`FLUIDSYNTH_ARGS`; also used by
    scripts/make_eval_set.py and scripts/make_performed.py)."""
    args = FLUIDSYNTH_ARGS if args is None else args
    subprocess.run(["fluidsynth", *args, "-F", str(raw), str(soundfont), str(mid)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    mono = np.fromfile(raw, dtype="<f4").astype(np.float64).reshape(-1, 2).mean(axis=1)
    out = np.zeros(n_samples)
    k = min(n_samples, mono.size)
    out[:k] = mono[:k]
    return out


def check_drum_alignment(stems, sr, hits, name):
    """Fail the build if a hit has no energy rise in its instrument's stem within 30 ms."""
    hop = 64
    for inst, x in stems.items():
        e = np.convolve(x ** 2, np.ones(hop), "same")[::hop] + 1e-12
        db = 10 * np.log10(e)
        for t in hits.loc[hits["Instrument"] == inst, "Start"]:
            n = int(round(t * sr / hop))
            before = db[max(0, n - 4):max(1, n - 1)].min()
            after = db[n:n + int(0.03 * sr / hop) + 1].max()
            if after - before < 3.0:
                raise RuntimeError(f"{name}/{inst}: hit at {t:.3f} s has no onset in its stem")


def render_groove(cfg, out: Path, workdir: Path, soundfont: Path = None):
    """Render each instrument of a groove alone; write mix (the exact sum of the 16-bit
    stems), the stems, score.csv and score.mid into out/<name>/. Returns the metadata."""
    soundfont = Path(soundfont or SOUNDFONT)
    hits = groove_hits(cfg)
    end = float(hits["Start"].max())
    n = int(round((end + DRUM_TAIL) * SR))
    d = out / cfg["name"]
    d.mkdir(parents=True, exist_ok=True)
    stems = {}
    for inst in DRUM_PITCH:
        nt = hits[hits["Instrument"] == inst]
        mid = workdir / f"{cfg['name']}_{inst}.mid"
        _write_midi_track(nt, mid, cfg["bpm"], is_drum=True)
        stems[inst] = render_midi(mid, workdir / f"{cfg['name']}_{inst}.raw", n, soundfont)
    fade = np.ones(n)
    k = int(FADE * SR)
    fade[n - k:] = np.linspace(1.0, 0.0, k)
    stems = {i: s * fade for i, s in stems.items()}
    peak = max(np.abs(sum(stems.values())).max(), *(np.abs(s).max() for s in stems.values()))
    gain = 10 ** (PEAK_DBFS / 20) / peak
    q = {i: quantize(gain * s) for i, s in stems.items()}
    mix = sum(v.astype(np.int32) for v in q.values())
    if np.abs(mix).max() > 32767:
        raise RuntimeError(f"{cfg['name']}: the 16-bit sum of the stems clips")
    sf.write(d / "mix.wav", mix.astype(np.int16), SR, subtype="PCM_16", format="WAV")
    for inst, v in q.items():
        sf.write(d / f"{inst}.wav", v, SR, subtype="PCM_16", format="WAV")
    nscore.write_csv(hits, d / "score.csv")
    _write_midi_track(hits, d / "score.mid", cfg["bpm"], is_drum=True)
    check_drum_alignment({i: v / 32768.0 for i, v in q.items()}, SR, hits, cfg["name"])
    counts = {inst: int((hits["Instrument"] == inst).sum()) for inst in DRUM_PITCH}
    return {
        "title": cfg["title"], "description": cfg["description"], "tempo_qpm": cfg["bpm"],
        "bars": len(cfg["bars"]), "duration_s": round(n / SR, 6), "n_samples": n, "sr": SR,
        "n_hits": counts,
        "velocities": sorted({int(v) for v in hits["Velocity"]}),
        "pitches": sorted({int(p) for p in hits["Pitch"]}),
        "soundfont": soundfont.name, "gain_db": round(20 * np.log10(gain), 3),
        "licence": "made up for nmfedu; no third-party rights; generated files: CC BY 4.0.",
        "files": {"mix": "mix.wav", **{i: f"{i}.wav" for i in DRUM_PITCH},
                  "score_csv": "score.csv", "score_mid": "score.mid"},
    }


def render_mosaic_source(cfg, out: Path, workdir: Path):
    """The mosaicing source: one GM program at many pitches, mono 16-bit."""
    bpm = cfg["bpm"]
    lead = lead_in_ticks(bpm)
    sec = Fraction(60, bpm * TICKS_PER_QUARTER)
    rows = [{"Start": float((lead + i * TICKS_PER_QUARTER) * sec),
             "Duration": float(TICKS_PER_QUARTER // 2 * sec), "Pitch": p, "Velocity": 100,
             "Instrument": "source"} for i, p in enumerate(cfg["pitches"])]
    notes = nscore.validate(pd.DataFrame(rows, columns=nscore.COLUMNS))
    n = int(round((float((notes["Start"] + notes["Duration"]).max()) + 0.5) * SR))
    mid = workdir / f"{cfg['name']}.mid"
    _write_midi_track(notes, mid, bpm, program=cfg["program"])
    x = render_midi(mid, workdir / f"{cfg['name']}.raw", n, SOUNDFONT)
    fade = np.ones(n)
    k = int(FADE * SR)
    fade[n - k:] = np.linspace(1.0, 0.0, k)
    x = x * fade
    gain = 10 ** (PEAK_DBFS / 20) / np.abs(x).max()
    d = out / "mosaic"
    d.mkdir(parents=True, exist_ok=True)
    sf.write(d / f"{cfg['name']}.wav", quantize(gain * x), SR, subtype="PCM_16", format="WAV")
    return {"title": cfg["title"], "description": cfg["description"],
            "gm_program_zero_based": cfg["program"], "pitches": cfg["pitches"],
            "duration_s": round(n / SR, 6), "sr": SR, "soundfont": SOUNDFONT.name,
            "licence": "made up for nmfedu; generated files: CC BY 4.0 (soundfont MIT).",
            "files": {"source": f"mosaic/{cfg['name']}.wav"}}


def build_applications(out: Path, workdir: Path):
    """data/grooves/<name>/… and data/mosaic/…, catalogued in data/applications.json."""
    apps = {"grooves": {}, "mosaic_sources": {}}
    for cfg in GROOVES:
        apps["grooves"][cfg["name"]] = render_groove(cfg, out / "grooves", workdir)
        m = apps["grooves"][cfg["name"]]
        print(f"{cfg['name']:20s} {m['duration_s']:6.2f} s  hits {m['n_hits']}")
    apps["mosaic_sources"][MOSAIC_SOURCE["name"]] = render_mosaic_source(MOSAIC_SOURCE, out, workdir)
    (out / "applications.json").write_text(json.dumps(apps, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return apps


def readme_applications(apps):
    L = ["## Drum grooves and the mosaicing source (notebook 09)\n"]
    L.append("Catalogued in `applications.json`, loaded with `nmfedu.drums.load_groove(name)` and "
             "`nmfedu.mosaic.load_source()`.\n")
    L.append(f"Each `grooves/<name>/` holds `mix.wav`, `kick.wav`, `snare.wav`, `hihat.wav` "
             f"({SR} Hz, mono, 16-bit PCM), `score.csv` (the drum score in the FMP format, "
             f"`Instrument` = `kick`/`snare`/`hihat`, `Pitch` = GM drum note 36 kick, 38 snare, "
             f"42 closed / 46 open hi-hat, `Duration` {DRUM_HIT_S:g} s per hit, the timing of the "
             f"audio) and `score.mid` (the same hits on the GM drum channel). Every instrument is "
             f"rendered ALONE by FluidSynth with the FluidR3_GM drum kit (same arguments as the "
             f"piano; stereo averaged to mono); one gain for the three stems, which are rounded "
             f"to 16 bit first, and `mix.wav` is their sum in integers: **the mix is exactly the "
             f"sum of the stems**, sample for sample. Velocities: ghost 32, normal 84, accent "
             f"120. {LEAD_IN:g} s lead-in, {DRUM_TAIL:g} s after the last hit, "
             f"{int(FADE * 1000)} ms fade-out.\n")
    L.append("| name | tempo (♩/min) | bars | duration | hits (kick / snare / hi-hat) |")
    L.append("|---|---|---|---|---|")
    for name, m in apps["grooves"].items():
        h = m["n_hits"]
        L.append(f"| `{name}` | {m['tempo_qpm']} | {m['bars']} | {m['duration_s']:.2f} s | "
                 f"{h['kick']} / {h['snare']} / {h['hihat']} |")
    L.append("")
    for name, m in apps["grooves"].items():
        L.append(f"- `{name}` — {m['title']}: {m['description']} Licence: {m['licence']}")
    for name, m in apps["mosaic_sources"].items():
        L.append(f"- `{m['files']['source']}` — {m['title']}: {m['description']} "
                 f"GM program {m['gm_program_zero_based']} (zero-based) of FluidR3_GM; "
                 f"{m['duration_s']:.2f} s. Licence: {m['licence']}")
    L.append("- The patterns are made up for nmfedu (no third-party rights); they are written "
             "out in `scripts/make_data.py` (`GROOVES`, `MOSAIC_SOURCE`). A third groove "
             "(`UNSEEN_GROOVE`) is rendered only by the benchmark, with a different soundfont, "
             "into `build/` — never bundled.\n")
    return L


# --------------------------------------------------------------------------- README
def write_readme(out: Path, catalog, build, apps):
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
    L.extend(readme_applications(apps))
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
        apps = build_applications(out, Path(tmp))
    built = {
        "music21": music21.__version__,
        "fluidsynth": fluidsynth_version(),
        "soundfont": f"{SOUNDFONT} sha256 {sha256(SOUNDFONT)}",
        "libsndfile": sf.__libsndfile_version__,
        "fluidsynth arguments": " ".join(FLUIDSYNTH_ARGS),
    }
    (out / "pieces.json").write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    write_readme(out, catalog, built, apps)
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
