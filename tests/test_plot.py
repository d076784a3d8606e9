"""Tests of nmfedu.plot: every helper labels its axes with units and updates in place."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402

from nmfedu import plot  # noqa: E402
from nmfedu.spectrogram import HOP_LENGTH, N_FFT, SR  # noqa: E402

UNITS = ("(s)", "(Hz)", "(index)", "(pitch)", "(MIDI)")

RNG = np.random.default_rng(0)
K, N, R = 1025, 40, 3
V = RNG.random((K, N))
W = RNG.random((K, R))
H = RNG.random((R, N))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _has_unit(label):
    return any(u in label for u in UNITS)


def _assert_labelled(ax):
    assert ax.get_xlabel() and _has_unit(ax.get_xlabel()), ax.get_xlabel()
    assert ax.get_ylabel() and _has_unit(ax.get_ylabel()), ax.get_ylabel()


@pytest.mark.parametrize("kind, X, xlabel, ylabel", [
    ("V", V, "Time (s)", "Frequency (Hz)"),
    ("WH", W @ H, "Time (s)", "Frequency (Hz)"),
    ("mask", np.clip(V, 0, 1), "Time (s)", "Frequency (Hz)"),
    ("W", W, "Template r (index)", "Frequency (Hz)"),
    ("H", H, "Time (s)", "Template r (index)"),
    ("matrix", RNG.random((4, 5)), "Column (index)", "Row (index)"),
])
def test_plot_matrix_labels_units_and_colorbar(kind, X, xlabel, ylabel):
    fig, ax, im = plot.plot_matrix(X, kind)
    assert ax.get_xlabel() == xlabel and ax.get_ylabel() == ylabel
    _assert_labelled(ax)
    assert len(fig.axes) == 2  # the matrix and its colour bar
    assert fig.axes[1].get_ylabel()  # colour bar label
    np.testing.assert_allclose(im.get_array(), X)


def test_plot_matrix_physical_extent_follows_stft_conventions():
    _, ax, im = plot.plot_matrix(V, "V")
    left, right, bottom, top = im.get_extent()
    dt, df = HOP_LENGTH / SR, SR / N_FFT
    assert left == pytest.approx(-dt / 2) and right == pytest.approx((N - 0.5) * dt)
    assert bottom == pytest.approx(-df / 2) and top == pytest.approx((K - 0.5) * df)


def test_toy_axes_without_sample_rate():
    _, ax, _ = plot.plot_matrix(RNG.random((6, 8)), "V", sr=None)
    assert ax.get_xlabel() == "Time frame n (index)"
    assert ax.get_ylabel() == "Frequency bin k (index)"


def test_template_pitch_labels_on_W_and_H():
    _, axW, _ = plot.plot_matrix(W, "W", labels=[55, 59, 62])
    assert [t.get_text() for t in axW.get_xticklabels()] == ["G3 (55)", "B3 (59)", "D4 (62)"]
    assert axW.get_xlabel() == "Template (pitch)"
    _, axH, _ = plot.plot_matrix(H, "H", labels=["a", "b", "c"])
    assert [t.get_text() for t in axH.get_yticklabels()] == ["a", "b", "c"]


def test_labels_must_match_the_number_of_templates():
    with pytest.raises(ValueError, match="labels"):
        plot.plot_matrix(W, "W", labels=[55, 59])


def _label_gaps_pt(ax, which):
    """Distances (points) between neighbouring tick labels, after drawing."""
    ax.figure.canvas.draw()
    labels = ax.get_xticklabels() if which == "x" else ax.get_yticklabels()
    boxes = [t.get_window_extent() for t in labels if t.get_text()]
    centre = [(b.x0 + b.x1) / 2 if which == "x" else (b.y0 + b.y1) / 2 for b in boxes]
    extent = [b.width if which == "x" else b.height for b in boxes]
    scale = 72.0 / ax.figure.dpi
    return [scale * (abs(c2 - c1) - (e1 + e2) / 2)
            for c1, c2, e1, e2 in zip(centre, centre[1:], extent, extent[1:])]


def test_many_templates_get_thinned_ticks_that_do_not_overlap():
    _, ax, _ = plot.plot_matrix(RNG.random((K, 88)), "W", labels=list(range(21, 109)))
    shown = len(ax.get_xticks())
    assert 1 < shown < 88
    assert shown + len(ax.get_xticks(minor=True)) == 88  # every template keeps a tick
    assert min(_label_gaps_pt(ax, "x")) >= 0
    assert min(t.get_fontsize() for t in ax.get_xticklabels()) >= 8


def test_grouped_templates_get_dividers_and_group_names():
    labels = pd.DataFrame({"pitch": [40, 45, 52, 60, 64, 67], "kind": ["pitch"] * 6,
                           "group": ["left"] * 3 + ["right"] * 3})
    assert plot.template_groups(labels) == [(0, 3, "left"), (3, 6, "right")]
    fig, ax, im = plot.plot_matrix(RNG.random((6, 50)), "H", labels=labels, figsize=(8, 4))
    assert [t.get_text() for t in ax.get_yticklabels()] == [plot.pitch_label(p) for p in labels["pitch"]]
    dividers = [line for line in ax.lines if line.get_ydata()[0] == 2.5]
    assert len(dividers) == 1
    names = [t.get_text() for sec in ax.child_axes for t in sec.get_yticklabels()]
    assert names == ["left", "right"]
    assert min(_label_gaps_pt(ax, "y")) >= 0


def test_every_row_of_a_tall_activation_figure_is_labelled():
    labels = pd.DataFrame({"pitch": list(range(40, 58)) + list(range(60, 78)), "kind": ["pitch"] * 36,
                           "group": ["left"] * 18 + ["right"] * 18})
    fig, axes, _ = plot.plot_matrices({"a": RNG.random((36, 80))}, "H", labels=labels, figsize=(6, 6.5))
    ax = axes["a"]
    assert len(ax.get_yticks()) == 36
    assert min(_label_gaps_pt(ax, "y")) >= 0


def test_asymmetric_signed_colours_show_small_negatives():
    X = np.array([[-0.2, 3.0], [1.0, 0.0]])
    _, _, im = plot.plot_matrix(X, "H", signed="asymmetric")
    assert im.get_cmap().name == plot.SIGNED_CMAP
    assert im.norm(0.0) == pytest.approx(0.5)           # centred on 0
    assert im.norm(-0.2) == pytest.approx(0.0)          # the minimum gets the full blue
    assert im.norm(3.0) == pytest.approx(1.0)
    plot.update_image(im, 2 * X)
    assert im.norm(-0.4) == pytest.approx(0.0) and im.norm(0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="signed"):
        plot.plot_matrix(X, "H", signed="both")


def test_piano_roll_pitch_labels_do_not_overlap():
    pitches = [59, 60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79, 81, 84]
    notes = pd.DataFrame({"Start": np.arange(15) * 0.5, "Duration": [0.4] * 15, "Pitch": pitches,
                          "Instrument": ["left"] * 7 + ["right"] * 8})
    fig, ax = plot.plot_piano_roll(notes, figsize=(8, 2.6))
    assert min(_label_gaps_pt(ax, "y")) >= 0
    assert len(ax.get_yticks()) + len(ax.get_yticks(minor=True)) == 15


def test_score_and_activations_span_the_whole_recording():
    Hm = (RNG.random((4, 400)) > 0.5).astype(float)
    fig, axes, im = plot.plot_score_and_activations(NOTES, Hm, labels=[55, 59, 62, 71], clim=(0, 1))
    end = (400 - 0.5) * HOP_LENGTH / SR
    assert axes["H"].get_xlim()[1] == pytest.approx(end)
    assert axes["roll"].get_xlim()[1] == pytest.approx(end)  # not the last note's end
    assert axes["roll"].get_xlabel() == "" and axes["H"].get_xlabel() == "Time (s)"


def test_log_compression_fmax_and_mask_limits():
    _, ax, im = plot.plot_matrix(V, "V", log=True, log_factor=10, fmax=2000)
    np.testing.assert_allclose(im.get_array(), np.log1p(10 * V))
    assert ax.get_ylim()[1] == 2000
    assert "log" in ax.figure.axes[1].get_ylabel()
    _, _, im = plot.plot_matrix(0.5 * np.clip(V, 0, 1), "mask")
    assert im.get_clim() == (0.0, 1.0)


def test_signed_matrix_uses_a_symmetric_diverging_map():
    X = np.array([[-2.0, 1.0], [0.5, 0.0]])
    _, _, im = plot.plot_matrix(X, annotate=True)
    assert im.get_clim() == (-2.0, 2.0)
    assert im.get_cmap().name == plot.SIGNED_CMAP
    assert len(im.axes.texts) == 4


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="kind"):
        plot.plot_matrix(V, "spectrogram")
    with pytest.raises(ValueError, match="X must be a 2-D"):
        plot.plot_matrix(np.zeros(5))
    with pytest.raises(ValueError, match="labels"):
        plot.plot_matrix(V, "V", labels=[1])


def test_given_axes_create_no_new_pyplot_figure():
    fig, ax = plt.subplots()
    before = plt.get_fignums()
    out_fig, out_ax, _ = plot.plot_matrix(V, "V", ax=ax)
    assert out_fig is fig and out_ax is ax
    assert plt.get_fignums() == before


def test_update_image_changes_data_and_follows_a_new_rank():
    _, ax, im = plot.plot_matrix(W, "W", labels=[55, 59, 62])
    W2 = RNG.random((K, 5))
    plot.update_image(im, W2)
    np.testing.assert_allclose(im.get_array(), W2)
    assert tuple(im.get_extent()[:2]) == (-0.5, 4.5)
    assert ax.get_xlim() == (-0.5, 4.5)
    assert ax.get_xlabel() == "Template r (index)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    assert im.get_clim()[1] == pytest.approx(W2.max())


def test_update_image_keeps_log_compression():
    _, _, im = plot.plot_matrix(V, "V", log=True, log_factor=5)
    plot.update_image(im, 2 * V)
    np.testing.assert_allclose(im.get_array(), np.log1p(10 * V))


def test_update_image_rejects_foreign_images():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="im must be"):
        plot.update_image(ax.imshow(V), V)


def test_plot_decomposition_layout():
    fig, axes, images = plot.plot_decomposition(V, W, H, labels=[55, 59, 62], fmax=3000, WH=True)
    assert set(axes) == {"W", "H", "V", "WH"}
    assert axes["W"].get_ylabel() == "Frequency (Hz)"
    assert axes["V"].get_xlabel() == "Time (s)"
    assert axes["H"].get_ylabel() == "Template (pitch)"
    assert [t.get_text() for t in axes["H"].get_yticklabels()] == ["G3 (55)", "B3 (59)", "D4 (62)"]
    # templates share the frequency axis with V, activations the time axis
    assert axes["W"].get_shared_y_axes().joined(axes["W"], axes["V"])
    assert axes["H"].get_shared_x_axes().joined(axes["H"], axes["V"])
    np.testing.assert_allclose(images["WH"].get_array(), W @ H)
    assert images["V"].get_clim() == images["WH"].get_clim()
    assert len(fig.axes) == 8  # four matrices, four colour bars
    fig.canvas.draw()  # lays out without error


def test_plot_decomposition_checks_shapes():
    with pytest.raises(ValueError, match="V ≈ WH"):
        plot.plot_decomposition(V, W, H[:, :-1])


def test_plot_decomposition_constraint_labels_table():
    labels = pd.DataFrame({"pitch": [55, 55, 59], "kind": ["pitch", "onset", "pitch"],
                           "group": ["left"] * 3})
    _, axes, _ = plot.plot_decomposition(V, W, H, labels=labels)
    assert [t.get_text() for t in axes["W"].get_xticklabels()] == ["G3 (55)", "G3 on", "B3 (59)"]


def test_plot_loss_log_log_and_update():
    curves = {"additive": 1 / np.arange(1, 1001), "multiplicative": 1 / np.arange(1, 1001) ** 2}
    fig, ax, lines = plot.plot_loss(curves, logx=True, xlabel="Epoch")
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "Epoch" and "Loss" in ax.get_ylabel()
    assert lines["additive"].get_xdata()[0] == 1 and lines["additive"].get_xdata()[-1] == 1000
    assert ax.get_legend() is not None
    plot.update_lines(lines, {"additive": np.ones(10)})
    assert len(lines["additive"].get_ydata()) == 10
    with pytest.raises(ValueError, match="no line named"):
        plot.update_lines(lines, {"other": np.ones(3)})


def test_plot_loss_single_array_and_xy_pairs():
    _, ax, lines = plot.plot_loss(np.linspace(1, 0.1, 20), log=False)
    assert list(lines) == ["loss"] and ax.get_yscale() == "linear"
    _, _, lines = plot.plot_loss({"a": ([0, 5, 10], [3, 2, 1])})
    assert list(lines["a"].get_xdata()) == [0, 5, 10]


NOTES = pd.DataFrame({"Start": [0.0, 0.5, 1.0, 1.0], "Duration": [0.5, 0.5, 1.0, 0.5],
                      "Pitch": [55, 59, 71, 62], "Velocity": [80] * 4,
                      "Instrument": ["left", "left", "right", "right"]})


def test_piano_roll_boxes_pitch_names_and_groups():
    fig, ax = plot.plot_piano_roll(NOTES, highlight=59)
    assert len(ax.patches) == len(NOTES)
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Pitch (MIDI)"
    assert "B3 (59)" in [t.get_text() for t in ax.get_yticklabels()]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["left", "right"]
    colours = {tuple(p.get_facecolor()[:3]) for p in ax.patches}
    assert len(colours) == 2
    alphas = sorted(p.get_alpha() for p in ax.patches)
    assert alphas[-1] > alphas[0]  # the highlighted pitch stands out


def test_piano_roll_checks_columns():
    with pytest.raises(ValueError, match="Pitch"):
        plot.plot_piano_roll(NOTES.drop(columns="Pitch"))
    with pytest.raises(ValueError, match="by="):
        plot.plot_piano_roll(NOTES, by="Hand")


def test_signals():
    x = np.sin(np.linspace(0, 100, SR))
    fig, ax, line = plot.plot_signal(x)
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Amplitude"  # dimensionless
    assert ax.get_xlim()[1] == pytest.approx((SR - 1) / SR)
    fig, axes, lines = plot.plot_signals({"mix": x, "left": 0.5 * x})
    assert axes["mix"].get_ylim() == axes["left"].get_ylim()
    assert axes["left"].get_xlabel() == "Time (s)"
    with pytest.raises(ValueError, match="mono"):
        plot.plot_signal(np.zeros((2, 3)))


def test_plot_matrices_share_colour_limits():
    fig, axes, images = plot.plot_matrices({"left": V, "right": 2 * V}, "V", share_clim=True)
    assert images["left"].get_clim() == images["right"].get_clim()
    for ax in axes.values():
        _assert_labelled(ax)


def test_pitch_names():
    assert plot.note_name(60) == "C4"
    assert plot.note_name(69) == "A4"
    assert plot.pitch_label(55) == "G3 (55)"
    assert plot.template_labels([61, "x"]) == ["C♯4 (61)", "x"]
    with pytest.raises(ValueError, match="pitch"):
        plot.note_name(128)


@given(st.integers(0, 127))
def test_note_name_octave_and_pitch_class(p):
    name = plot.note_name(p)
    assert name.endswith(str(p // 12 - 1))
    assert name[0] == "CCDDEFFGGAAB"[p % 12]


def test_helpers_do_not_show():
    # a helper must leave showing to the notebook: it only creates the figure
    fig, _, _ = plot.plot_matrix(V, "V")
    assert plt.fignum_exists(fig.number)


def test_plot_decomposition_loss_panel():
    fig, axes, images = plot.plot_decomposition(V, W, H, WH=True, loss=1 / np.arange(1, 51))
    assert axes["loss"].get_yscale() == "log" and axes["loss"].get_xlabel() == "Iteration"
    assert len(images["loss"]["loss"].get_ydata()) == 50
    # V and WH share one colour scale that update_image keeps
    plot.update_image(images["WH"], 0.5 * W @ H)
    assert images["V"].get_clim() == images["WH"].get_clim()


def test_score_and_spectrogram_share_the_time_axis():
    Vs = RNG.random((K, 100))
    fig, axes, im = plot.plot_score_and_spectrogram(NOTES, Vs, highlight=59, n_harmonics=4)
    assert axes["roll"].get_shared_x_axes().joined(axes["roll"], axes["V"])
    assert axes["V"].get_xlabel() == "Time (s)" and axes["V"].get_ylabel() == "Frequency (Hz)"
    assert axes["roll"].get_ylabel() == "Pitch (MIDI)"
    assert len(axes["V"].lines) == 4  # the partials of the one B3 note


def test_decomposition_of_a_default_separation_plots_with_its_labels():
    """separate()'s details (with attack columns that have no pitch) plot with their labels."""
    from nmfedu import data, plot as nplot, separation
    piece = data.load(data.TOY)
    d = separation.separate(piece.x, piece.sr, piece.notes, return_details=True)
    text = nplot.template_labels(d.labels)
    assert len(text) == d.W.shape[1]
    assert any("attack" in t for t in text) or "attack" not in set(d.labels["kind"])
    fig, axes, _ = nplot.plot_decomposition(d.V, d.W, d.H, labels=d.labels, fmax=2000)
    assert axes["W"].get_xlabel()
