"""Bundled data: every piece loads, stems sum to the mix, the score matches the audio,
the files are the ones recorded in data/hashes.json, data/ stays small."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nmfedu import data, score

DATA = Path(data.__file__).resolve().parent.parent / "data"
NAMES = data.names()
EXCERPTS = [n for n in NAMES if n != data.TOY]


@pytest.fixture(scope="module", params=NAMES)
def piece(request):
    return data.load(request.param)


def test_names_and_constants():
    assert NAMES[0] == data.TOY
    assert len(EXCERPTS) >= 3
    for n in (data.DEFAULT_PIECE, data.EASY, data.SHARED_PITCHES):
        assert n in EXCERPTS


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError) as e:
        data.load("no_such_piece")
    for n in NAMES:
        assert n in str(e.value)
    with pytest.raises(ValueError):
        data.load(3)


def test_piece_contents(piece):
    assert piece.sr == 22050
    assert piece.x.dtype == np.float64 and piece.x.ndim == 1
    assert np.abs(piece.x).max() <= 1.0
    assert list(piece.notes.columns[:5]) == score.COLUMNS
    assert set(piece.notes["Instrument"]) == {"left", "right"}
    assert set(piece.stems) == {"left", "right"}
    for key in ("mix", "left", "right", "score_csv", "score_mid"):
        assert piece.paths[key].is_file()
    assert piece.title and piece.composer and piece.description and piece.licence
    assert piece.name in repr(piece)
    # every note inside the audio
    assert (piece.notes["Start"] + piece.notes["Duration"]).max() <= piece.duration


def test_excerpt_lengths(piece):
    if piece.name == data.TOY:
        assert 2.0 <= piece.duration <= 6.0
    else:
        assert 8.0 <= piece.duration <= 20.0
        assert piece.bars is not None and piece.meta["corpus_path"]


def test_stems_sum_to_mix(piece):
    err = np.abs(piece.x - piece.stems["left"] - piece.stems["right"]).max()
    assert err <= 2 / 32768
    # the stems are not silent and not normalised separately: same gain as the mix
    for s in piece.stems.values():
        assert np.abs(s).max() > 0.01


def test_midi_matches_csv(piece):
    mid = score.read_midi(piece.paths["score_mid"])
    csv = piece.notes
    assert len(mid) == len(csv)
    a = mid.sort_values(["Start", "Pitch", "Instrument"]).reset_index(drop=True)
    b = csv.sort_values(["Start", "Pitch", "Instrument"]).reset_index(drop=True)
    assert (a["Pitch"] == b["Pitch"]).all() and (a["Instrument"] == b["Instrument"]).all()
    assert np.abs(a["Start"] - b["Start"]).max() < 1e-6
    assert np.abs(a["Duration"] - b["Duration"]).max() < 1e-6
    assert np.allclose(a["Velocity"], b["Velocity"])


def test_toy_pitches():
    toy = data.load(data.TOY)
    assert {55, 59, 71} <= set(toy.notes["Pitch"])
    assert toy.notes["Pitch"].nunique() <= 8


def test_easy_and_shared_pieces():
    easy = data.load(data.EASY)
    assert easy.is_easy and not easy.has_shared_pitches
    left = easy.notes[easy.notes.Instrument == "left"]["Pitch"]
    right = easy.notes[easy.notes.Instrument == "right"]["Pitch"]
    assert left.max() < right.min()          # disjoint registers
    shared = data.load(data.SHARED_PITCHES)
    assert shared.has_shared_pitches
    l = set(shared.notes[shared.notes.Instrument == "left"]["Pitch"])
    r = set(shared.notes[shared.notes.Instrument == "right"]["Pitch"])
    assert sorted(l & r) == shared.shared_pitches and len(l & r) >= 2


def _rises(piece, shift=0.0):
    out = []
    for hand in ("left", "right"):
        nt = piece.notes[piece.notes["Instrument"] == hand].copy()
        nt["Start"] = (nt["Start"] + shift).clip(lower=0)
        out.append(data.onset_rise(piece.stems[hand], piece.sr, nt, tolerance=0.05))
    return np.concatenate(out)


RISE = 0.3   # log10: the energy at the note's harmonics at least doubles within 50 ms


def test_every_note_starts_where_its_pitch_has_energy(piece):
    r = _rises(piece)
    assert (r >= RISE).all(), f"{piece.name}: {(r < RISE).sum()} notes without an onset, rises {np.sort(r)[:5]}"
    # the same check on the mix still finds most notes
    rm = data.onset_rise(piece.x, piece.sr, piece.notes)
    assert (rm >= RISE).mean() > 0.85


@pytest.mark.parametrize("shift", [0.1, -0.1])
def test_alignment_check_detects_a_100ms_shift(piece, shift):
    r = _rises(piece, shift)
    assert (r >= RISE).mean() < 0.75


def _sha256(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_files_match_recorded_hashes():
    recorded = json.loads((DATA / "hashes.json").read_text())["files"]
    present = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
                     if p.is_file() and p.name != "hashes.json")
    assert sorted(recorded) == present
    for rel, h in recorded.items():
        assert _sha256(DATA / rel) == h, f"data/{rel} differs from data/hashes.json; run make data"


def test_data_dir_is_small():
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total <= 10 * 1024 * 1024


def test_catalog_matches_notes(piece):
    m = data.catalog()[piece.name]
    for hand in ("left", "right"):
        p = piece.notes.loc[piece.notes.Instrument == hand, "Pitch"]
        assert m["pitch_range"][hand] == [int(p.min()), int(p.max())]
        assert m["n_notes"][hand] == len(p)


def test_readme_names_every_piece():
    text = (DATA / "README.md").read_text()
    for n in NAMES:
        assert f"`{n}`" in text
    for word in ("Chopin", "Joplin", "Mozart", "Schumann", "FluidR3_GM", "MIT", "licence"):
        assert word in text


def test_data_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("NMFEDU_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="NMFEDU_DATA"):
        data.names()


def test_onset_rise_bad_input():
    with pytest.raises(ValueError, match="x must"):
        data.onset_rise(np.zeros((2, 2)), 22050, score.empty())
    with pytest.raises(ValueError, match="sr must"):
        data.onset_rise(np.zeros(100), -1, score.empty())
    with pytest.raises(ValueError, match="notes must"):
        data.onset_rise(np.zeros(100), 22050, [1, 2])


def test_rebuild_gives_the_same_bytes(tmp_path):
    """scripts/make_data.py rebuilt into a temporary folder reproduces data/ byte for byte.

    Never skipped for missing tools: make test installs them (``make render-tools``), and a
    plain pytest run without them fails with the one line that says how to get them."""
    import shutil
    import subprocess
    import sys

    if shutil.which("fluidsynth") is None or not Path("/usr/share/sounds/sf2/FluidR3_GM.sf2").is_file():
        pytest.fail("the data rebuild check needs fluidsynth and fluid-soundfont-gm: run "
                    "'make render-tools' (make test does) or 'apt-get install fluidsynth "
                    "fluid-soundfont-gm'", pytrace=False)

    recorded = json.loads((DATA / "hashes.json").read_text())
    script = DATA.parent / "scripts" / "make_data.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    fresh = json.loads((tmp_path / "hashes.json").read_text())
    if fresh["built_with"] != recorded["built_with"]:
        pytest.skip(f"different tool versions than the recorded build: {fresh['built_with']}")
    assert fresh["files"] == recorded["files"]
