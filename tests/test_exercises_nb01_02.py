"""The exercise solutions of notebooks 01 and 02 run headless and say what their text claims."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from nmfedu.exercises import nb01, nb02, show  # noqa: E402


@pytest.fixture(scope="module")
def toy():
    """The toy problem of notebooks 01 and 02 (two harmonic tones an octave apart)."""
    from nmfedu.demos.nb01 import toy_problem
    t = toy_problem()
    V, W, H0 = t["V"], t["W"], t["H0"]
    return V, W, H0


@pytest.fixture(scope="module")
def piano():
    from nmfedu import data, spectrogram

    piece = data.load(data.TOY)
    return spectrogram.magnitude(piece.x), piece.notes


def test_show_hides_the_solutions_until_the_flag_is_set(capsys, toy):
    assert show(nb01.gradient_W_derivation, False, *toy) is None
    assert show(nb02.zero_in_H0, False, *toy) is None
    out = capsys.readouterr().out
    assert "nb01.gradient_W_derivation" in out and "nb02.zero_in_H0" in out


def test_gradient_W_derivation_matches_library_and_finite_differences(capsys, toy):
    out = nb01.gradient_W_derivation(*toy)
    assert out["matches_library"] and out["max_error"] < 1e-8
    text = capsys.readouterr().out
    assert "2 (W H Hᵀ − V Hᵀ)" in text and "Chain rule" in text


def test_largest_stable_learning_rate_separates_convergence_from_divergence(toy):
    out = nb01.largest_stable_learning_rate(*toy, n_iter=200)
    V, W, _ = toy
    assert out["gamma_max"] == pytest.approx(2 / np.linalg.eigvalsh(W.T @ W).max())
    assert out["gamma_best"] < out["gamma_max"]
    assert out["loss_below"] < 1.0  # converged (initial loss is about 14)
    assert out["loss_above"] > 1e6  # diverged


def test_projected_gradient_descent_is_nonnegative_and_not_below_plain(toy):
    out = nb01.projected_gradient_descent(*toy)
    assert out["negative_projected"] == 0 and out["negative_plain"] > 0
    assert out["loss_projected"] >= out["loss_plain"]
    assert out["loss_projected"] == pytest.approx(out["loss_nonnegative_optimum"], rel=1e-3)


def test_multiplicative_W_update_is_the_adaptive_gradient_step(toy):
    out = nb02.multiplicative_W_update(*toy)
    assert out["matches_library"] and out["max_difference"] < 1e-12


def test_zero_in_H0_stays_zero_only_under_multiplicative_updates(toy):
    out = nb02.zero_in_H0(*toy)
    assert np.all(out["after_mu"] == 0.0)
    assert np.any(out["after_gd"] != 0.0)


def test_the_score_itself_follows_its_own_pitches(piano):
    from nmfedu.constraints import activation_constraints
    from nmfedu.spectrogram import HOP_LENGTH, SR

    V, notes = piano
    pitches = sorted(int(p) for p in notes["Pitch"].unique())
    roll = activation_constraints(notes, pitches, V.shape[1], frame_res=HOP_LENGTH / SR,
                                  onset_tol=0.0, offset_tol=0.0)
    columns, sim = nb02.pitch_similarity(roll, notes)
    assert columns == pitches
    assert np.allclose(np.diag(sim), 1.0) and np.all(sim <= 1.0)
    assert nb02.template_pitches(roll[::-1], notes) == [(p, pytest.approx(1.0)) for p in pitches[::-1]]


def test_rank_too_small_or_large_reports_missing_and_doubled_pitches(piano):
    V, notes = piano
    out = nb02.rank_too_small_or_large(V, notes, ranks=(3, 8), n_iter=60)
    assert set(out) == {3, 8}
    assert out[8]["relative_loss"] < out[3]["relative_loss"]
    assert len(out[3]["top"]) == 3 and len(out[8]["top"]) == 8
    assert len(out[3]["missing"]) >= 2  # three templates cannot follow five pitches


# --------------------------------------------------------------------------- demos (widgets)
def test_notebook_toy_cell_builds_the_same_matrices_as_toy_problem(toy):
    """The visible toy cell of notebooks 01 and 02 and nmfedu.demos.nb01.toy_problem agree."""
    import json
    from pathlib import Path

    from nmfedu.demos import nb01 as demo

    ref = demo.toy_problem()
    V, W, H0 = toy
    assert np.array_equal(ref["V"], V) and np.array_equal(ref["W"], W) and np.array_equal(ref["H0"], H0)
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for name in ("01_gradient.ipynb", "02_multiplicative_update.ipynb"):
        path = root / name
        if not path.exists():
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        source = next("".join(c["source"]) for c in cells
                      if c["cell_type"] == "code" and "W_true = np.zeros" in "".join(c["source"]))
        scope = {"np": np}
        exec(source, scope)  # noqa: S102 - the notebook's own data cell
        for key in ("V", "W", "H0"):
            assert np.array_equal(scope[key], ref[key]), f"{name}: {key} differs from toy_problem()"


def test_gradient_descent_widget_updates_headless():
    from nmfedu.demos import nb01 as demo

    fw = demo.gradient_descent_widget(reference={"best H (any sign)": 0.107, "best H ≥ 0": 0.111})
    try:
        data = fw.update(gamma=0.75, n_iter=200)
        assert data["loss"][-1] > data["loss"][0]  # diverges
        data = fw.update(gamma=0.3, project=True)
        assert np.all(data["H"] >= 0)
        assert fw.png()
    finally:
        fw.close()


def test_nmf_widgets_update_headless(piano):
    from nmfedu.demos import nb02 as demo

    V, notes = piano
    for fw, change in ((demo.toy_nmf_widget(), dict(R=4, seed=3)),
                       (demo.piano_nmf_widget(V, notes, n_iter=20), dict(R=3))):
        try:
            data = fw.update(**change)
            assert data["W"].shape[1] == change["R"]
            assert fw.png()
        finally:
            fw.close()
