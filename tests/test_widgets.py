"""Tests of nmfedu.widgets, driven headless through InteractiveFigure.update / the controls."""
import matplotlib

matplotlib.use("Agg")

import base64  # noqa: E402

import ipywidgets as ipw  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nmfedu import plot, widgets  # noqa: E402
from nmfedu.demos import nb01 as demo01  # noqa: E402
from nmfedu.demos import nb02 as demo02  # noqa: E402

V = np.random.default_rng(1).random((12, 16))


class Counter:
    """A compute function that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, R, V, scale=1.0):
        self.calls += 1
        return scale * V[:, :R] @ V[:R, :] + R


def setup(fig, data):
    return plot.plot_matrix(data, ax=fig.add_subplot())[2]


def make(**kwargs):
    compute = kwargs.pop("compute", Counter())
    controls = kwargs.pop("controls", {"R": widgets.rank_slider(3, max=8)})
    fw = widgets.InteractiveFigure(compute, plot.update_image, controls, setup=setup,
                                   fixed=dict(V=V), figsize=(4, 3), dpi=50, **kwargs)
    return fw, compute


def shown_png(fw):
    (out,) = fw.output.outputs
    return base64.b64decode(out["data"]["image/png"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_initial_figure_is_rendered_at_construction():
    fw, compute = make()
    assert compute.calls == 1
    assert shown_png(fw).startswith(b"\x89PNG")
    assert fw.png() == shown_png(fw)
    assert "computed in" in fw.status.value


def test_update_changes_the_figure_data_and_picture():
    fw, _ = make()
    before_array = fw.handles.get_array().copy()
    before_png = shown_png(fw)
    data = fw.update(R=5)
    np.testing.assert_allclose(fw.handles.get_array(), data)
    assert not np.allclose(fw.handles.get_array(), before_array)
    assert shown_png(fw) != before_png
    assert fw.controls["R"].value == 5
    assert set(fw.timing) == {"compute", "draw", "render", "total", "cached"}


def test_moving_a_control_recomputes():
    fw, compute = make()
    fw.controls["R"].value = 4
    assert compute.calls == 2
    np.testing.assert_allclose(fw.data, compute(4, V))


def test_cache_makes_moving_back_free():
    fw, compute = make()
    first = shown_png(fw)
    fw.update(R=5)
    fw.update(R=3)
    assert compute.calls == 2
    assert fw.timing["cached"] is True
    assert shown_png(fw) == first
    assert fw.cache_info() == dict(hits=1, misses=2, size=2, maxsize=32)


def test_cache_is_bounded_and_can_be_disabled():
    fw, compute = make(cache_size=2)
    for R in (4, 5, 3):  # 3 was evicted by 4 and 5
        fw.update(R=R)
    assert compute.calls == 4
    fw, compute = make(cache_size=0)
    fw.update(R=4)
    fw.update(R=3)
    assert compute.calls == 3


def test_fixed_inputs_are_passed_but_not_keys():
    compute = Counter()
    fw = widgets.InteractiveFigure(compute, plot.update_image, {"R": widgets.rank_slider(2)},
                                   setup=setup, prepare=lambda: dict(V=V, scale=2.0),
                                   figsize=(3, 2), dpi=40)
    np.testing.assert_allclose(fw.data, 2.0 * V[:, :2] @ V[:2, :] + 2)
    assert fw.prepare_time >= 0


def test_run_button_mode_waits_for_run():
    fw, compute = make(run_button=True)
    assert compute.calls == 1  # the initial figure
    before = shown_png(fw)
    fw.controls["R"].value = 6
    assert compute.calls == 1
    assert shown_png(fw) == before
    assert "Run" in fw.status.value
    fw.run.click()
    assert compute.calls == 2
    assert shown_png(fw) != before
    assert fw.controls["R"].value == 6


def test_run_button_without_initial_figure():
    fw, compute = make(run_button=True, initial=False)
    assert compute.calls == 0 and fw.data is None
    assert "Run" in fw.output.outputs[0]["data"]["text/plain"]
    fw.run.click()
    assert compute.calls == 1
    assert shown_png(fw).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="run_button"):
        make(initial=False)


def test_css_classes():
    controls = {"R": widgets.rank_slider(3), **widgets.constraint_toggles(),
                "beta": widgets.dropdown(["frobenius", "kl"], description="Loss")}

    def compute(R, templates, activations, onsets, beta, V):
        return V * R

    fw = widgets.InteractiveFigure(compute, plot.update_image, controls, setup=setup,
                                   fixed=dict(V=V), run_button=True, figsize=(3, 2), dpi=40)
    assert (widgets.FIGURE_CLASS, widgets.CONTROL_CLASS, widgets.RUN_CLASS) == \
        ("nmfedu-figure", "nmfedu-control", "nmfedu-run")
    for control in fw.controls.values():
        assert "nmfedu-control" in control._dom_classes
    assert "nmfedu-run" in fw.run._dom_classes
    assert "nmfedu-figure" in fw.output._dom_classes


def test_costly_controls_update_on_release():
    fw, _ = make(controls={"R": ipw.IntSlider(value=3, min=1, max=5)})
    assert fw.controls["R"].continuous_update is False


def test_output_area_has_a_fixed_height():
    fw, _ = make()
    assert fw.output.layout.height == f"{3 * 50 + 8}px"


def test_errors_go_to_the_status_line_and_update_raises():
    def compute(R, V):
        if R == 7:
            raise ValueError("R = 7 is unlucky")
        return V * R

    fw, _ = make(compute=compute)
    good = shown_png(fw)
    fw.controls["R"].value = 7  # as from the browser: no exception escapes
    assert "unlucky" in fw.status.value
    assert shown_png(fw) == good
    with pytest.raises(ValueError, match="unlucky"):
        fw.update(R=7)
    with pytest.raises(ValueError, match="unknown control"):
        fw.update(rank=2)


def test_redraw_mode_without_setup():
    def draw(fig, data):
        plot.plot_matrix(data, ax=fig.add_subplot())

    fw = widgets.InteractiveFigure(Counter(), draw, {"R": widgets.rank_slider(2)},
                                   fixed=dict(V=V), figsize=(3, 2), dpi=40)
    first = shown_png(fw)
    fw.update(R=4)
    assert shown_png(fw) != first
    assert len(fw.figure.axes) == 2  # cleared, not stacked


def test_no_stray_pyplot_figures():
    def leaky_setup(fig, data):
        plt.figure()  # a careless setup
        return setup(fig, data)

    before = plt.get_fignums()
    widgets.InteractiveFigure(Counter(), plot.update_image, {"R": widgets.rank_slider(2)},
                              setup=leaky_setup, fixed=dict(V=V), figsize=(3, 2), dpi=40)
    assert plt.get_fignums() == before


def test_progress_is_offered_to_compute():
    seen = []

    def compute(R, V, progress):
        progress(0.5, "half")
        seen.append(True)
        return V * R

    fw, _ = make(compute=compute)
    assert seen and "computed in" in fw.status.value


def test_repr_is_deterministic_with_static_fallback():
    fw, _ = make(title="Rank")
    bundle = fw._repr_mimebundle_()
    assert bundle["text/plain"] == "<InteractiveFigure 'Rank': controls R>"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")


def test_callback_is_exposed():
    fw, compute = make()
    fw.controls["R"].unobserve_all()
    fw.controls["R"].value = 2
    fw.callback()
    assert compute.calls == 2


def test_control_helpers():
    it = widgets.iterations_slider(100)
    assert it.options[:4] == (1, 2, 5, 10) and it.value == 100
    lr = widgets.learning_rate_slider(1e-3)
    assert isinstance(lr, ipw.FloatLogSlider) and lr.value == pytest.approx(1e-3)
    assert widgets.seed_slider().value == 0
    assert widgets.pitch_tolerance_slider().description.endswith("(semitones)")
    assert widgets.onset_tolerance_slider().description.endswith("(s)")
    assert widgets.offset_tolerance_slider().value == 0.5
    assert widgets.compression_slider(10).value == pytest.approx(10)
    assert set(widgets.constraint_toggles()) == {"templates", "activations", "onsets"}
    with pytest.raises(ValueError, match="iterations_slider"):
        widgets.iterations_slider(7)
    with pytest.raises(ValueError, match="learning rate"):
        widgets.learning_rate_slider(0)
    with pytest.raises(ValueError, match="Rank R"):
        widgets.rank_slider(0)
    with pytest.raises(ValueError, match="dropdown"):
        widgets.dropdown(["a"], "b")


def test_builder_rejects_bad_arguments():
    with pytest.raises(ValueError, match="control 'R'"):
        widgets.InteractiveFigure(Counter(), plot.update_image, {"R": 3})
    with pytest.raises(ValueError, match="both controls and fixed"):
        widgets.InteractiveFigure(Counter(), plot.update_image, {"V": widgets.rank_slider()},
                                  fixed=dict(V=V))


def test_decomposition_figure_draws_factors_and_loss():
    import nmfedu

    Vd = np.random.default_rng(2).random((20, 30))
    fw = widgets.decomposition_figure(
        lambda R, n_iter, V: nmfedu.nmf(V, R, n_iter=n_iter, tol=0, seed=0),
        {"R": widgets.rank_slider(3), "n_iter": widgets.iterations_slider(20)}, Vd,
        sr=None, loss=True, figsize=(6, 3), dpi=40)
    assert set(fw.handles) == {"W", "H", "V", "WH", "loss"}
    result = fw.update(R=5, n_iter=50)
    np.testing.assert_allclose(fw.handles["W"].get_array(), result.W)
    np.testing.assert_allclose(fw.handles["WH"].get_array(), result.W @ result.H)
    assert len(fw.handles["loss"]["loss"].get_ydata()) == len(result.loss)
    # V and WH keep one colour scale after updates
    assert fw.handles["V"].get_clim() == fw.handles["WH"].get_clim()


def test_decomposition_figure_accepts_tuples_and_rejects_others():
    Vd = np.random.default_rng(3).random((10, 12))
    fw = widgets.decomposition_figure(lambda R, V: (V[:, :R], V[:R, :]),
                                      {"R": widgets.rank_slider(2)}, Vd, sr=None, WH=False,
                                      figsize=(5, 3), dpi=40)
    assert "WH" not in fw.handles
    with pytest.raises(ValueError, match="compute must return"):
        widgets.decomposition_figure(lambda R, V: V, {"R": widgets.rank_slider(2)}, Vd, sr=None)


def _toy_gd_problem():
    t = demo01.toy_problem()
    return t["V"], t["W"], t["H0"]


def test_gradient_descent_figure_marks_negatives_and_projects():
    Vg, Wg, H0 = _toy_gd_problem()
    fw = demo01.gradient_descent_figure(Vg, Wg, H0, gamma=0.3, n_iter=100,
                                        reference={"best": 0.1, "best ≥ 0": 0.11}, dpi=40)
    assert (fw.data["H"] < 0).any()
    assert len(fw.handles["marks"].get_offsets()) == int((fw.data["H"] < 0).sum())
    fw.update(project=True)
    assert (fw.data["H"] >= 0).all() and len(fw.handles["marks"].get_offsets()) == 0
    fw.update(gamma=1.0, project=False, n_iter=1000)  # diverges; must not raise
    assert "Loss" in fw.handles["axL"].get_title()
    with pytest.raises(ValueError, match="gamma"):
        demo01.gradient_descent_figure(Vg, Wg, H0, gamma=0.25)


def test_nmf_figure_labels_templates_with_pitches():
    import pandas as pd

    sr, hop = 22050, 512
    notes = pd.DataFrame({"Start": [0.0, 1.0], "Duration": [0.9, 0.9], "Pitch": [55, 67],
                          "Velocity": [80, 80], "Instrument": ["x", "x"]})
    n = int(2.0 * sr / hop)
    H = np.zeros((2, n))
    H[0, : n // 2 - 2] = 1.0
    H[1, n // 2 + 1:] = 1.0
    Vn = np.random.default_rng(0).random((30, 2)) @ H + 1e-3
    fw = demo02.nmf_figure(Vn, R=2, n_iter=50, max_rank=4, sr=sr, notes=notes, dpi=40)
    assert sorted(fw.data["labels"]) == ["≈ G3 (55)", "≈ G4 (67)"]
    ticks = [t.get_text() for t in fw.handles["axes"]["H"].get_yticklabels()]
    assert ticks == fw.data["labels"]
    fw.update(R=3)
    assert fw.handles["images"]["W"].get_array().shape == (30, 3)
    assert "‖V‖²" in fw.handles["axes"]["WH"].get_title()
    toy = demo02.nmf_figure(Vn, R=2, n_iter=10, sr=None, dpi=40)
    assert toy.handles["axes"]["W"].get_ylabel() == "Frequency bin k (index)"
