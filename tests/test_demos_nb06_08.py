"""Notebooks 06, 07 and 08: their interactive figures react to their controls, and the exercise
solutions compute what the notebooks claim."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from nmfedu import nae
from nmfedu.demos import nb06 as demo06
from nmfedu.demos import nb07 as demo07
from nmfedu.exercises import nb06, nb07


@pytest.fixture(scope="module")
def toy_V():
    return demo06.toy_spectrogram()[0]


@pytest.fixture(scope="module")
def mozart():
    V, piece = demo07.piece_spectrogram()
    W_E0, W_D0, M_H, labels = nae.init_score_informed(V, piece.notes)
    return V, W_E0, W_D0, M_H, labels


def test_training_widget_run_changes_the_figure(toy_V):
    fw = demo06.training_widget(toy_V, R=3, n_epochs=20)
    before = fw.png()
    W_D_before = fw.data[0].copy()
    fw.update(R=4, n_epochs=20)
    assert fw.data[0].shape == (toy_V.shape[0], 4)
    assert fw.png() != before
    fw.update(adaptive=True)
    assert not np.array_equal(fw.data[0][:, :3], W_D_before)


def test_large_fixed_learning_rate_kills_the_network(toy_V):
    # the notebook's claim: gamma = 1e-6 projects every weight to zero, loss = ||V||^2
    W_D, H, V_hat, loss = demo06.train(toy_V, 6, 50, 1e-6)
    assert np.all(W_D == 0)
    assert loss[-1] == pytest.approx(np.sum(toy_V ** 2))


def test_dead_unit_stays_dead(toy_V):
    result = nb06.dead_unit(toy_V, n_epochs=20)
    assert result.W_E[0].sum() == 0 and result.H[0].sum() == 0
    assert result.W_E[1:].sum() > 0


def test_parameter_count():
    assert nb06.parameter_count(1025, 2900, 88) == (1025 * 88 + 88 * 2900, 2 * 1025 * 88)


def test_structured_dropout_gives_templates_meaning(mozart):
    V, _, _, M_H, labels = mozart
    pitches = list(labels["pitch"])
    with_mask = demo07.template_similarity(demo07.train(V, M_H, "multiplicative", 100, True)[0], pitches)
    without = demo07.template_similarity(demo07.train(V, M_H, "multiplicative", 100, False)[0], pitches)
    assert with_mask.mean() > 2 * without.mean()


def test_template_similarity_is_one_for_the_templates_themselves():
    from nmfedu import constraints
    pitches = [60, 64, 67]
    assert np.allclose(demo07.template_similarity(constraints.pitch_templates(pitches), pitches), 1)


def test_masked_entries_do_not_matter(mozart):
    V, W_E0, W_D0, M_H, _ = mozart
    out1, out2 = nb07.masked_entries_do_not_matter(V, W_E0, W_D0, M_H)
    assert np.array_equal(out1, out2)


def test_decoder_rule_is_a_gradient_step(mozart):
    V, W_E0, W_D0, M_H, _ = mozart
    W = W_D0 + 0.01  # no zero rows: the rule and the step are defined everywhere
    step, mult = nb07.decoder_rule_as_gradient_step(V, W_E0, W, M_H)
    assert np.allclose(step, mult, rtol=1e-10, atol=1e-12)


def test_dropout_widget_mask_toggle_changes_the_decoder(mozart):
    V, _, _, M_H, labels = mozart
    fw = demo07.dropout_widget(V, M_H, labels, n_epochs=10)
    first = fw.data[0].copy()
    fw.update(use_mask=False)
    assert not np.allclose(first, fw.data[0])


def test_comparison_widget_reuses_references_and_changes_only_the_additive_curve():
    from nmfedu.demos import nb08 as demo08
    V = demo08.widget_spectrogram()[:128, :120]
    fw = demo08.comparison_widget(V, R=4, n_epochs=20, adaptive=True)
    first = {k: v.copy() for k, v in fw.data.curves.items()}
    fw.update(adaptive=False, lr=1e-8)
    second = fw.data.curves
    assert np.array_equal(first["NMF (multiplicative)"], second["NMF (multiplicative)"])
    assert np.array_equal(first["NAE (multiplicative)"], second["NAE (multiplicative)"])
    assert not np.allclose(first["NAE (additive)"], second["NAE (additive)"])
    # all three start from the same loss (same initialisation)
    assert len({round(float(c[0]), 6) for c in second.values()}) == 1


def test_cost_per_epoch_runs():
    from nmfedu.demos import nb08 as demo08
    from nmfedu.exercises import nb08
    V = demo08.widget_spectrogram()[:128, :120]
    per_epoch = nb08.cost_per_epoch(V, R=4, n_epochs=5)
    assert set(per_epoch) == {"NAE (additive)", "NAE (multiplicative)", "NMF (multiplicative)"}
    assert all(t > 0 for t in per_epoch.values())
