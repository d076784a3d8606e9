"""Notebook 09's demo module and exercise solutions: the figures build, the widgets'
callbacks change what they show, and the exercise answers hold."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from nmfedu.demos import nb09 as demo  # noqa: E402
from nmfedu.exercises import nb09 as ex  # noqa: E402


def test_figures_build():
    g, nmf, nmfd = demo.drum_separations("rock_groove")
    assert nmf.W.shape[0] == 1 and nmfd.W.shape[0] == 10
    for fig in (demo.plot_templates(nmfd), demo.plot_activations(nmfd, g)):
        labelled = [ax for ax in fig.axes if ax.get_xlabel()]
        assert labelled and any("(s)" in ax.get_xlabel() or "(ms)" in ax.get_xlabel() for ax in labelled)
        plt.close(fig)


def test_wiener_widget_changes_with_alpha():
    w = demo.wiener_widget()
    before = w.png()
    w.controls["alpha"].value = 6.0
    assert w.png() != before
    r = w.data
    assert r["err_mask"] < 1e-12 and r["err_resyn"] > 1e-3
    hard = demo.reconstruct(*demo.drum_separations()[::2][::-1], alpha=8.0)
    soft = demo.reconstruct(*demo.drum_separations()[::2][::-1], alpha=0.5)
    # harder masks are closer to 0/1
    dist = lambda r: float(np.mean([np.mean(np.minimum(m, 1 - m)) for m in r["masks"].values()]))
    assert dist(hard) < dist(soft)
    w.close()


def test_mosaic_widget_run_changes_the_figure():
    m = demo.mosaic_widget()
    before = m.png()
    m.controls["continuity"].value = 0
    m.refresh()
    assert m.png() != before
    assert m.data.params["continuity"] is None
    m.close()


def test_exercise_t1_is_nmf():
    assert ex.t1_is_nmf() is True
