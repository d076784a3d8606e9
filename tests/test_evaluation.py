"""Tests of nmfedu.evaluation: BSS Eval table, oracle ratio mask, bad input."""
import numpy as np
import pytest

from nmfedu import evaluation as E

SR = 22050


def two_tones(L=SR // 2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(L) / SR
    a = 0.3 * np.sin(2 * np.pi * 110 * t) * np.exp(-t) + 0.01 * rng.standard_normal(L)
    b = 0.2 * np.sin(2 * np.pi * 880 * t) * (t > 0.3) + 0.01 * rng.standard_normal(L)
    return {"left": a, "right": b}


def test_perfect_and_swapped_estimates():
    refs = two_tones()
    table = E.bss_eval(refs, refs)
    assert list(table.index) == ["left", "right"] and list(table.columns) == ["SDR", "SIR", "SAR"]
    assert (table["SDR"] > 60).all()
    swapped = E.bss_eval(refs, {"left": refs["right"], "right": refs["left"]})
    assert (swapped["SDR"] < 0).all()
    as_dict = E.bss_eval(refs, refs, as_frame=False)
    assert set(as_dict["left"]) == {"SDR", "SIR", "SAR"}
    assert E.mean_sdr(as_dict) == pytest.approx(E.mean_sdr(table))


def test_oracle_ratio_mask_is_good_and_preserves_the_mixture():
    refs = two_tones()
    mix = refs["left"] + refs["right"]
    est, M = E.oracle_ratio_mask(refs, return_masks=True)
    np.testing.assert_allclose(sum(M.values()), 1.0, atol=1e-12)
    np.testing.assert_allclose(sum(est.values()), mix, atol=1e-6)
    assert all(e.shape == mix.shape for e in est.values())
    table = E.bss_eval(refs, est)
    assert (table["SDR"] > 10).all(), table
    # exponent 2 (power) beats exponent 1 (magnitude) on this pair
    est1 = E.oracle_ratio_mask(refs, mix, exponent=1)
    assert E.mean_sdr(table) > E.mean_sdr(E.bss_eval(refs, est1))


def test_bad_input():
    refs = two_tones(4000)
    with pytest.raises(ValueError, match="groups of references"):
        E.bss_eval(refs, {"left": refs["left"]})
    with pytest.raises(ValueError, match="same length"):
        E.bss_eval(refs, {"left": refs["left"], "right": np.r_[refs["right"], np.zeros(500)]})
    with pytest.raises(ValueError, match="all zeros"):
        E.bss_eval({"left": refs["left"], "right": np.zeros(4000)}, refs)
    with pytest.raises(ValueError, match="sample-rate mismatch"):
        E.bss_eval(refs, refs, sr=22050, estimates_sr=44100)
    with pytest.raises(ValueError, match="1-D"):
        E.bss_eval({"left": np.ones((2, 5))}, refs)
    with pytest.raises(ValueError, match="NaN"):
        E.bss_eval({"left": np.full(4000, np.nan), "right": refs["right"]}, refs)
    with pytest.raises(ValueError, match="same length"):
        E.oracle_ratio_mask({"a": np.ones(100), "b": np.ones(200)})
    with pytest.raises(ValueError, match="mixture"):
        E.oracle_ratio_mask(refs, mixture=np.ones(10))
    with pytest.raises(ValueError, match="non-empty dict"):
        E.oracle_ratio_mask({})


def test_tiny_length_difference_is_truncated():
    refs = two_tones(4000)
    est = {"left": np.r_[refs["left"], 0.0], "right": refs["right"]}
    assert (E.bss_eval(refs, est)["SDR"] > 60).all()
