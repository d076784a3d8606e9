"""Score-informed drum separation (nmfedu.drums), α-Wiener masks vs resynthesis
(nmfedu.reconstruction), the bundled grooves and the ``drums`` command line."""
import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import cli, drums, reconstruction as rec, score
from nmfedu.evaluation import bss_eval, mean_sdr, oracle_ratio_mask
from nmfedu.spectrogram import stft


@pytest.fixture(scope="module")
def groove():
    return drums.load_groove("rock_groove")


def test_bundled_grooves_mix_is_exact_sum():
    for name in drums.groove_names():
        g = drums.load_groove(name)
        assert set(g.stems) == {"kick", "snare", "hihat"}
        assert np.array_equal(g.x, g.stems["kick"] + g.stems["snare"] + g.stems["hihat"])
        assert set(g.notes["Instrument"]) == {"kick", "snare", "hihat"}
        assert set(g.notes["Pitch"]) <= {36, 38, 42, 46}
        v = set(g.notes["Velocity"])
        assert min(v) <= 40 and max(v) >= 110          # ghost notes and accents
        assert g.notes["Start"].max() < g.duration


def test_groove_score_is_timed_like_the_audio(groove):
    """Every hit of an instrument starts a rise of energy in its own stem."""
    hop = 64
    for inst, x in groove.stems.items():
        e = 10 * np.log10(np.convolve(x ** 2, np.ones(hop), "same")[::hop] + 1e-12)
        for t in groove.notes.loc[groove.notes.Instrument == inst, "Start"]:
            n = int(round(t * groove.sr / hop))
            assert e[n:n + 10].max() - e[max(0, n - 4):n - 1].min() > 3.0


def test_nmfd_beats_nmf_and_approaches_the_oracle(groove):
    nmfd = mean_sdr(bss_eval(groove.stems, drums.separate_drums(groove.x, groove.sr, groove.notes)))
    nmf = mean_sdr(bss_eval(groove.stems, drums.separate_drums(groove.x, groove.sr, groove.notes,
                                                                T=1, split_pitches=False)))
    oracle = mean_sdr(bss_eval(groove.stems, oracle_ratio_mask(groove.stems, groove.x)))
    assert nmfd >= nmf + 3.0
    assert nmfd >= oracle - 1.5


def test_masks_add_up_resynthesis_does_not(groove):
    d = drums.separate_drums(groove.x, groove.sr, groove.notes, n_iter=10, return_details=True)
    masked = rec.wiener(d.X, d.models, alpha=2, length=groove.x.size)
    resyn = rec.resynthesize(d.models, d.X, length=groove.x.size)
    assert rec.additivity_error(masked, groove.x) < 1e-6
    assert rec.additivity_error(resyn, groove.x) > 1e-3


def test_activations_zero_away_from_hits(groove):
    d = drums.separate_drums(groove.x, groove.sr, groove.notes, n_iter=5, return_details=True)
    assert np.all(d.H[d.H0 == 0] == 0)
    assert (d.H0 > 0).mean() < 0.2


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.floats(0.1, 6.0))
def test_alpha_masks_sum_to_one_and_match_formula(seed, alpha):
    rng = np.random.default_rng(seed)
    models = {"a": rng.random((4, 5)) + 1e-3, "b": rng.random((4, 5)) + 1e-3, "c": rng.random((4, 5)) + 1e-3}
    M = rec.alpha_masks(models, alpha)
    assert np.allclose(sum(M.values()), 1.0)
    total = sum(v ** alpha for v in models.values())
    for k in models:
        assert np.allclose(M[k], models[k] ** alpha / total)


def test_griffin_lim_resynthesis_runs():
    x = np.random.default_rng(0).standard_normal(4096)
    out = rec.resynthesize({"x": np.abs(stft(x))}, length=x.size, method="griffin_lim", n_iter=4)
    assert out["x"].shape == x.shape


@pytest.mark.parametrize("alpha", [0, -1.0, float("nan")])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        rec.alpha_masks({"a": np.ones((2, 2))}, alpha)


def test_bad_drum_scores(groove):
    x, sr = groove.x, groove.sr
    with pytest.raises(ValueError, match="no hits"):
        drums.separate_drums(x, sr, groove.notes.iloc[:0])
    bad = groove.notes.copy(); bad.loc[0, "Pitch"] = 60
    with pytest.raises(ValueError, match="unknown instrument: Pitch 60"):
        drums.separate_drums(x, sr, bad)
    with pytest.raises(ValueError, match="unknown instrument 'hihat'"):
        drums.separate_drums(x, sr, groove.notes, instruments=["kick", "snare"])
    with pytest.raises(ValueError, match="T must be an integer >= 1"):
        drums.separate_drums(x, sr, groove.notes, T=0)
    with pytest.raises(ValueError, match="alpha must be"):
        drums.separate_drums(x, sr, groove.notes, alpha=0)


def test_hits_past_the_end_warn_and_clip(groove):
    late = pd.concat([groove.notes, pd.DataFrame({"Start": [groove.duration + 1.0], "Duration": [0.1],
                                                  "Pitch": [36], "Velocity": [90],
                                                  "Instrument": ["kick"]})], ignore_index=True)
    with pytest.warns(UserWarning, match="after the end of the audio"):
        out = drums.separate_drums(groove.x, groove.sr, late, n_iter=2)
    assert sorted(out) == ["hihat", "kick", "snare"]


# ----------------------------------------------------------------------------- CLI
def _files(groove, tmp_path):
    g = drums._catalog()["grooves"]["rock_groove"]
    from nmfedu.data import data_dir

    d = data_dir() / "grooves" / "rock_groove"
    return str(d / g["files"]["mix"]), str(d / g["files"]["score_csv"])


def test_cli_drums_writes_stems_and_refuses_overwrite(groove, tmp_path, capsys):
    mix, csv = _files(groove, tmp_path)
    out = tmp_path / "out"
    assert cli.main(["drums", mix, csv, "--out", str(out), "--n-iter", "3"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["hihat.wav", "kick.wav", "report.json", "snare.wav"]
    report = json.loads((out / "report.json").read_text())
    assert report["command"] == "drums" and report["parameters"]["n_iter"] == 3
    import soundfile as sf

    total = sum(sf.read(str(out / f"{i}.wav"))[0] for i in ("kick", "snare", "hihat"))
    assert np.max(np.abs(total - groove.x)) < 1e-4          # masks: stems add up (float32 files)
    capsys.readouterr()
    assert cli.main(["drums", mix, csv, "--out", str(out), "--n-iter", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to overwrite" in err[0]
    assert cli.main(["drums", mix, csv, "--out", str(out), "--n-iter", "3", "--force"]) == 0
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("args,message", [
    (["--T", "0"], "--T must be an integer >= 1"),
    (["--alpha", "0"], "--alpha must be > 0"),
])
def test_cli_drums_bad_options(groove, tmp_path, capsys, args, message):
    mix, csv = _files(groove, tmp_path)
    assert cli.main(["drums", mix, csv, "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o").exists()


def test_cli_drums_bad_score(groove, tmp_path, capsys):
    mix, _ = _files(groove, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("Start;Duration;Pitch;Velocity;Instrument\n0.5;0.1;61;90;cowbell\n")
    assert cli.main(["drums", mix, str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown instrument" in err[0]
    assert not (tmp_path / "o").exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("Start;Duration;Pitch;Velocity;Instrument\n")
    assert cli.main(["drums", mix, str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no hits" in capsys.readouterr().err


def test_cli_drums_module_entry_point(groove, tmp_path):
    mix, csv = _files(groove, tmp_path)
    r = subprocess.run([sys.executable, "-m", "nmfedu", "drums", mix, csv, "--out",
                        str(tmp_path / "o"), "--alpha", "-1"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_labels_with_slashes_and_unsplit_components(groove):
    notes = groove.notes.assign(Instrument=groove.notes.Instrument.replace({"hihat": "hi/hat"}))
    d = drums.separate_drums(groove.x, groove.sr, notes, n_iter=2, return_details=True)
    assert sorted(d.signals) == ["hi/hat", "kick", "snare"]
    assert d.owner.count("hi/hat") == 2                      # closed and open hi-hat
    d1 = drums.separate_drums(groove.x, groove.sr, notes, n_iter=2, split_pitches=False,
                              return_details=True)
    assert d1.components == d1.owner and len(d1.components) == 3


def test_application_modules_import_no_plotting():
    code = ("import sys, nmfedu.nmfd, nmfedu.mosaic, nmfedu.reconstruction, nmfedu.drums; "
            "print([m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
