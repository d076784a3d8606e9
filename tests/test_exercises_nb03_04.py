"""The exercise solutions of notebooks 03 and 04 run and say what their text claims.

Notebook 04's solutions run on a short excerpt of the default piece (``seconds=``) to stay fast.
"""
from __future__ import annotations

import math

import matplotlib
import pytest

matplotlib.use("Agg")

from nmfedu.demos import nb03 as demo03  # noqa: E402
from nmfedu.demos import nb04 as demo04  # noqa: E402
from nmfedu.exercises import nb03, nb04, show  # noqa: E402

SECONDS = 6.0  # excerpt for the notebook 04 solutions


def test_show_hides_solution_until_flag_is_set(capsys):
    assert show(nb03.zeros_stay_zero, False) is None
    out = capsys.readouterr().out
    assert "SHOW_SOLUTIONS = True" in out and "nb03.zeros_stay_zero" in out


def test_zeros_stay_zero_under_multiplicative_updates_not_gradient_steps(capsys):
    out = nb03.zeros_stay_zero(n_iter=10)
    assert out["zeros_before"] > out["size"] // 2  # harmonic templates are mostly zeros
    assert out["zeros_mu"] >= out["zeros_before"]  # every zero kept
    assert out["zeros_gd"] < out["zeros_before"]  # additive step fills some zeros
    assert "zeros in W(0)" in capsys.readouterr().out


def test_synchronisation_error_tolerance_repairs_late_score():
    out = nb03.synchronisation_error(n_iter=30)
    in_sync, late_tight, late_loose = out.values()
    assert late_tight > in_sync
    assert late_loose < late_tight


def test_onset_templates_explain_energy_near_onsets_only():
    out = nb03.onset_share(n_iter=30)
    assert 0 < out["near_onsets"] <= 1
    assert out["elsewhere"] < out["near_onsets"]


@pytest.mark.parametrize("solution", [nb04.mask_exponent, nb04.with_onset_templates,
                                      nb04.register_split])
def test_nb04_solutions_run_on_an_excerpt(solution, capsys):
    out = solution(seconds=SECONDS)
    values = [v for v in out.values() if isinstance(v, float)]
    assert values and all(math.isfinite(v) for v in values)
    assert "SDR" in capsys.readouterr().out


def test_mask_exponent_changes_sdr_by_little(capsys):
    out = nb04.mask_exponent(exponents=(1.0, 8.0), seconds=SECONDS)
    assert abs(out[1.0] - out[8.0]) < 2.0
    assert "mean SIR changes by +" in capsys.readouterr().out  # harder mask, less interference


def test_widgets_update_headless():
    fw = demo03.constraint_widget()
    data = fw.update(onsets=False)
    assert data["W"].shape[1] == 10 and not data["H"][5:].any()  # switched-off onset rows stay 0
    fw.close()
    fw = demo04.editing_widget()
    before = fw.player.value
    data = fw.update(gain_left=-12.0)
    assert fw.player.value != before and data["Y"].shape == data["mask"].shape
    fw.close()


def test_library_defaults_compares_both_models_with_the_oracle(capsys):
    out = nb04.library_defaults(names=["mozart_sonata"], seconds=SECONDS)
    row = out["mozart_sonata"]
    assert set(row) == {"lecture", "defaults", "oracle"}
    assert row["oracle"] > max(row["lecture"], row["defaults"]) - 1.0
