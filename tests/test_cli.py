"""Tests of ``python -m nmfedu separate`` (run in a subprocess on small generated audio)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf


SR = 22050
ROOT = Path(__file__).resolve().parents[1]


def tone(pitch, dur, sr=SR):
    t = np.arange(int(dur * sr)) / sr
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    return sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, 6)) * np.exp(-t / 0.3) * 0.1


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_in")
    rows = [[0.1, 0.4, 48, 80, "left"], [0.2, 0.3, 72, 80, "right"],
            [0.6, 0.4, 43, 80, "left"], [0.7, 0.3, 76, 80, "right"]]
    notes = pd.DataFrame(rows, columns=["Start", "Duration", "Pitch", "Velocity", "Instrument"])
    x = np.zeros(int(1.2 * SR))
    for start, dur, p, _, _ in rows:
        n0 = int(start * SR)
        s = tone(p, dur)
        x[n0:n0 + s.size] += s
    sf.write(d / "mix.wav", x, SR, subtype="FLOAT")
    sf.write(d / "stereo.wav", np.stack([x, x], axis=1), SR, subtype="FLOAT")
    sf.write(d / "mix44.wav", x, 44100, subtype="FLOAT")
    (d / "broken.wav").write_bytes(b"RIFF not really a wave file")
    notes.to_csv(d / "score.csv", sep=";", index=False)
    bad = "Start;Duration;Pitch;Velocity;Instrument\n0.1;0.4;48;80;left\n0.2;oops;72;80;right\n"
    (d / "bad.csv").write_text(bad)
    late = pd.concat([notes, pd.DataFrame([[1.0, 2.0, 60, 80, "right"]], columns=notes.columns)])
    late.to_csv(d / "late.csv", sep=";", index=False)
    return d, x


def run(*args, cwd=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "nmfedu", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def one_error_line(proc):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("nmfedu: error: "), proc.stderr
    return lines[0]


def test_separate_writes_one_wav_per_group_and_a_report(inputs, tmp_path):
    d, x = inputs
    out = tmp_path / "out"
    proc = run("separate", d / "mix.wav", d / "score.csv", "--out", out, "--n-iter", "30")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["left.wav", "report.json", "right.wav"]
    left, sr = sf.read(out / "left.wav")
    right, _ = sf.read(out / "right.wav")
    assert sr == SR and left.shape == x.shape
    np.testing.assert_allclose(left + right, x, atol=1e-6)
    report = json.loads((out / "report.json").read_text())
    assert report["groups"] == {"left": "left.wav", "right": "right.wav"}
    assert report["parameters"]["n_iter"] == 30 and report["parameters"]["by"] == "Instrument"
    assert report["final_loss"] > 0 and report["durations"]["audio_s"] == pytest.approx(1.2)
    assert report["durations"]["total_s"] > 0

    # a second run refuses to overwrite, before computing, and leaves the files alone
    before = (out / "left.wav").read_bytes()
    proc = run("separate", d / "mix.wav", d / "score.csv", "--out", out)
    assert "--force" in one_error_line(proc) and (out / "left.wav").read_bytes() == before
    proc = run("separate", d / "mix.wav", d / "score.csv", "--out", out, "--force", "--n-iter", "5")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "report.json").read_text())["parameters"]["n_iter"] == 5
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_midi_score(inputs, tmp_path):
    from nmfedu import score

    d, x = inputs
    score.write_midi(score.read(d / "score.csv"), tmp_path / "score.mid")
    proc = run("separate", d / "mix.wav", tmp_path / "score.mid", "--out", tmp_path / "o",
               "--n-iter", "5")
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "o").iterdir()} == {"left.wav", "right.wav", "report.json"}


def test_stereo_is_mixed_down_and_late_notes_warned(inputs, tmp_path):
    d, x = inputs
    proc = run("separate", d / "stereo.wav", d / "late.csv", "--out", tmp_path / "o", "--n-iter", "5")
    assert proc.returncode == 0, proc.stderr
    assert "mixed down" in proc.stderr and "nmfedu: warning:" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("mix, score, extra, match", [
    ("missing.wav", "score.csv", [], "no such audio file"),
    ("broken.wav", "score.csv", [], "cannot read"),
    ("mix.wav", "missing.csv", [], "no such score file"),
    ("mix.wav", "bad.csv", [], "Duration"),
    ("mix.wav", "score.csv", ["--by", "Hand"], "--by 'Hand'"),
    ("mix44.wav", "score.csv", ["--sr", "22050"], "sample-rate mismatch"),
    ("mix.wav", "score.csv", ["--n-iter", "0"], "--n-iter"),
    ("mix.wav", "mix.wav", [], "SCORE"),
])
def test_bad_input_is_one_line_and_exit_2(inputs, tmp_path, mix, score, extra, match):
    d, _ = inputs
    proc = run("separate", d / mix, d / score, "--out", tmp_path / "o", *extra)
    assert match in one_error_line(proc)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_usage_errors():
    assert run("separate").returncode == 2
    assert run().returncode == 2


def test_interrupted_write_leaves_no_partial_files(inputs, tmp_path, monkeypatch):
    """A failure while writing (simulated in-process) leaves neither output nor temp files."""
    import soundfile

    from nmfedu import cli

    d, _ = inputs
    calls = []
    real_write = soundfile.write

    def failing_write(path, *a, **k):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(path, *a, **k)

    monkeypatch.setattr(soundfile, "write", failing_write)
    out = tmp_path / "o"
    status = cli.main(["separate", str(d / "mix.wav"), str(d / "score.csv"), "--out", str(out),
                       "--n-iter", "5"])
    assert status != 0 and len(calls) == 2
    assert list(out.iterdir()) == []


def test_cli_defaults_are_the_library_defaults():
    """Every field of SeparationConfig has a flag, and no flags give nmfedu.separate's DEFAULTS."""
    import dataclasses

    from nmfedu.cli import build_parser, config_from_args
    from nmfedu.separation import DEFAULTS

    parser = build_parser()
    args = parser.parse_args(["separate", "mix.wav", "score.csv", "--out", "d"])
    assert config_from_args(args) == DEFAULTS
    sub = parser._subparsers._group_actions[0].choices["separate"]
    flags = {o for a in sub._actions for o in a.option_strings}
    for f in dataclasses.fields(DEFAULTS):
        assert "--" + f.name.replace("_", "-") in flags, f.name


def test_cli_flags_reach_every_setting():
    """Flags change the configuration: booleans, 'off' for the optional refinements, choices."""
    from nmfedu.cli import build_parser, config_from_args

    args = build_parser().parse_args(
        ["separate", "m.wav", "s.csv", "--out", "d", "--no-onset-templates", "--decay-after", "off",
         "--attack-guard", "0.2", "--beta", "kl", "--compression", "log", "--factorization", "nae",
         "--dtype", "float64", "--mask-exponent", "1.5"])
    cfg = config_from_args(args)
    assert (cfg.onset_templates, cfg.decay_after, cfg.attack_guard, cfg.beta, cfg.compression,
            cfg.factorization, cfg.dtype, cfg.mask_exponent) == \
        (False, None, 0.2, "kl", "log", "nae", "float64", 1.5)
